"""Docker's iptables programming, era by era, issued as the daemon issues it.

Every add goes through ``iptables -C`` first and then ``-I`` or ``-A``, the
way libnetwork's ``ProgramRule``/``Rule.Insert``/``Rule.Append`` do, so rules
the user added before or after the daemon keep the positions a real host
gives them.  The order of operations follows docker-rules.md: §2.1 (1.9),
§3.1 (20.10-27.x), §4.2 (28.x), §5.1 (29.x).

This module is the simulated counterpart of moby's ``firewaller``: the
daemon calls :meth:`Firewaller.new_network`, :meth:`add_endpoint` and
:meth:`add_ports`; the golden tests call it directly, as moby's
``TestIptabler`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
import re
from typing import TYPE_CHECKING, Callable, Sequence

from simnet.docker.era import ERAS, Era
from simnet.netfilter.iptables import IptablesError, iptables

if TYPE_CHECKING:
    from simnet.netns import NetNamespace



def shell_word(word: str) -> str:
    """``word`` quoted for sh only when it needs it (``!`` in argument position does not)."""
    if word and re.fullmatch(r"[A-Za-z0-9_@%+=:,./!-]+", word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


@dataclass(frozen=True, slots=True, kw_only=True)
class NetConfig:
    """What the firewaller needs to know about one bridge network."""

    bridge: str
    subnet: IPv4Network
    icc: bool = True
    masq: bool = True
    internal: bool = False
    gateway_mode: str = "nat"
    """``com.docker.network.bridge.gateway_mode_ipv4``: nat, nat-unprotected or routed."""
    host_ipv4: IPv4Address | None = None
    """``com.docker.network.host_ipv4``: SNAT to this address instead of MASQUERADE."""
    trusted: tuple[str, ...] = ()
    """``com.docker.network.bridge.trusted_host_interfaces`` (28.2+): host interfaces treated as the
    bridge itself by the direct-access filter."""


def _u16(text: str) -> int:
    """``strconv.ParseUint(text, 10, 16)``: digits only, at most 65535, however many digits."""
    if not re.fullmatch(r"[0-9]+", text) or len(text.lstrip("0")) > 5 or int(text) > 65535:
        raise ValueError(text)
    return int(text)


def _parse_port_range(text: str) -> tuple[int, int]:
    """go-connections ``ParsePortRange``: ``N`` or ``N-M`` (0 allowed), M >= N."""
    if "-" not in text:
        start = _u16(text)
        return start, start
    parts = text.split("-")
    start, end = _u16(parts[0]), _u16(parts[1])
    if end < start:
        raise ValueError(text)
    return start, end


@dataclass(frozen=True, slots=True, kw_only=True)
class PortBinding:
    """One ``-p [[HOSTIP:][HOSTPORT]:]PORT[/PROTO]`` mapping.

    ``host_ip`` None: no address given (the network's ``host_binding_ipv4``, else all addresses);
    ``host_port`` 0: the daemon picks one (from ``host_port``..``host_port_end`` when a range was
    given, else from the ephemeral range).
    """

    proto: str
    host_ip: IPv4Address | None
    host_port: int
    container_port: int
    host_port_end: int = 0
    """The end of a host port range to pick from (``-p 8000-8010:80``), else 0."""

    @classmethod
    def parse_spec(cls, spec: str) -> list["PortBinding"]:
        """``docker run -p SPEC`` as go-connections' ``ParsePortSpec`` reads it: ranges expand to one
        binding per container port; the error text is the CLI's (``invalid containerPort: X``)."""
        body = spec
        parts = body.split(":")
        container = parts[-1]
        if len(parts) == 1:
            ip, host = "", ""
        elif len(parts) == 2:
            ip, host = "", parts[0]
        else:
            ip, host = ":".join(parts[:-2]), parts[-2]
        container, _, proto = container.partition("/")
        proto = proto or "tcp"
        if ip.startswith("["):
            if not ip.endswith("]"):
                raise ValueError(f"invalid IP address {ip}: address {ip}:: missing ']' in address")
            ip = ip[1:-1]
        if ip:
            try:
                host_ip: IPv4Address | None = IPv4Address(ip)
            except ValueError:
                if re.fullmatch(r"[0-9a-fA-F:.]+", ip) and ":" in ip:
                    raise ValueError(f"IPv6 host address {ip}: simnet models IPv4 only (publish on an IPv4 "
                                     "address, or on none for all)") from None
                raise ValueError(f"invalid IP address: {ip}") from None
        else:
            host_ip = None
        if not container:
            raise ValueError(f"no port specified: {spec}<empty>")
        try:
            cstart, cend = _parse_port_range(container)
        except ValueError:
            raise ValueError(f"invalid containerPort: {container}") from None
        hstart = hend = 0
        if host:
            try:
                hstart, hend = _parse_port_range(host)
            except ValueError:
                raise ValueError(f"invalid hostPort: {host}") from None
        if host and cend - cstart != hend - hstart and cend != cstart:
            raise ValueError(f"invalid ranges specified for container and host Ports: {container} and {host}")
        if proto.lower() not in ("tcp", "udp", "sctp"):
            raise ValueError(f"invalid proto: {proto}")
        proto = proto.lower()
        out = []
        for i in range(cend - cstart + 1):
            if cstart == cend and hstart != hend:  # one container port, a host range to pick from
                out.append(cls(proto=proto, host_ip=host_ip, host_port=hstart, container_port=cstart,
                               host_port_end=hend))
            else:
                out.append(cls(proto=proto, host_ip=host_ip, host_port=hstart + i if host else 0,
                               container_port=cstart + i))
        return out

    @classmethod
    def parse(cls, spec: str) -> "PortBinding":
        """The first binding of ``spec`` (see :meth:`parse_spec`)."""
        return cls.parse_spec(spec)[0]

    @property
    def all_addresses(self) -> bool:
        """No host address, or the unspecified one (``0.0.0.0``): every address of the host."""
        return self.host_ip is None or self.host_ip.is_unspecified

    @property
    def hostconfig_port(self) -> str:
        """``HostPort`` as ``HostConfig.PortBindings`` keeps it: empty, N or N-M."""
        if self.host_port_end and self.host_port_end != self.host_port:
            return f"{self.host_port}-{self.host_port_end}"
        return str(self.host_port) if self.host_port else ""

    def __str__(self) -> str:
        ip = f"{self.host_ip}:" if self.host_ip else ""
        return f"{ip}{self.host_port}:{self.container_port}/{self.proto}"


@dataclass(slots=True)
class Firewaller:
    """The bridge driver's iptables side, for one era, in one host namespace."""

    ns: "NetNamespace"
    era: Era = Era.V29
    """The era (an ``--era`` word is accepted and made an :class:`Era`)."""
    hairpin: bool = False
    """``--userland-proxy=false``."""
    direct_routing: bool = False
    """``--allow-direct-routing`` (28.2+): no direct-access filter."""
    raw_disabled: bool = False
    """``DOCKER_INSECURE_NO_IPTABLES_RAW=1`` (28.1+): no raw-table rules at all."""
    log: list[str] = field(default_factory=list)
    """Every iptables command that changed something, in order."""
    owned: dict[str, list[tuple[str, str, tuple[str, ...]]]] = field(default_factory=dict)
    """Per network (bridge name), the rules its creation added, for ``docker network rm``."""
    _recording: list[tuple[str, str, tuple[str, ...]]] | None = None
    sink: "Callable[[str], None] | None" = None
    """Called with every successful command as a shell line (the daemon records them for export)."""

    def __post_init__(self) -> None:
        if self.era not in ERAS:
            raise ValueError(f"unknown Docker era {self.era!r}; choose one of {', '.join(ERAS)}")
        self.era = Era(self.era)

    # -- iptables primitives --------------------------------------------------------
    def _run(self, argv: list[str]) -> str:
        argv = ["0.0.0.0/0" if a == "0/0" else a for a in argv]
        out = iptables(self.ns.ruleset, argv)
        self.log.append("iptables " + " ".join(argv))
        if self.sink is not None:
            self.sink("iptables " + " ".join(shell_word(a) for a in argv))
        return out

    def _exists(self, table: str, chain: str, spec: list[str]) -> bool:
        spec = ["0.0.0.0/0" if a == "0/0" else a for a in spec]
        try:
            iptables(self.ns.ruleset, ["-t", table, "-C", chain, *spec])
            return True
        except IptablesError:
            return False

    def _chain_exists(self, table: str, chain: str) -> bool:
        try:
            iptables(self.ns.ruleset, ["-t", table, "-S", chain])
            return True
        except IptablesError:
            return False

    def new_chain(self, table: str, chain: str) -> None:
        if not self._chain_exists(table, chain):
            self._run(["-t", table, "-N", chain])

    def append(self, table: str, chain: str, *spec: str) -> None:
        if not self._exists(table, chain, list(spec)):
            self._run(["-t", table, "-A", chain, *spec])
            if self._recording is not None:
                self._recording.append((table, chain, spec))

    def insert(self, table: str, chain: str, *spec: str) -> None:
        if not self._exists(table, chain, list(spec)):
            self._run(["-t", table, "-I", chain, *spec])
            if self._recording is not None:
                self._recording.append((table, chain, spec))

    def delete(self, table: str, chain: str, *spec: str) -> None:
        if self._exists(table, chain, list(spec)):
            self._run(["-t", table, "-D", chain, *spec])

    def ensure_jump(self, chain: str, target: str) -> None:
        """``EnsureJumpRule``: delete the jump, then insert it at the top."""
        self.delete("filter", chain, "-j", target)
        self._run(["-t", "filter", "-I", chain, "-j", target])

    def remove_chain(self, table: str, chain: str) -> None:
        """``RemoveExistingChain``: flush, then delete; ``-X`` fails silently if referenced."""
        if not self._chain_exists(table, chain):
            return
        self._run(["-t", table, "-F", chain])
        try:
            self._run(["-t", table, "-X", chain])
        except IptablesError:
            self.log.pop() if self.log and self.log[-1].endswith(f"-X {chain}") else None

    def _nat_jumps(self, *, delete: bool) -> None:
        pre = ("-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER")
        out_lo = ("!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER")
        if delete:
            self.delete("nat", "PREROUTING", *pre)
            self.delete("nat", "OUTPUT", *pre)
            self.delete("nat", "OUTPUT", *out_lo)
            return
        self.append("nat", "PREROUTING", *pre)
        self.append("nat", "OUTPUT", *(pre if self.hairpin else out_lo))

    # -- daemon start -------------------------------------------------------------------
    def init(self) -> None:
        """Driver initialisation (``configure`` / ``NewIptabler``)."""
        if self.era is Era.V1_9:
            self._nat_jumps(delete=True)
            self.remove_chain("nat", "DOCKER")
            self.new_chain("nat", "DOCKER")
            self.new_chain("filter", "DOCKER")
            return
        if self.era is Era.V27:
            self.delete("filter", "FORWARD", "-j", "DOCKER-ISOLATION")
            self._nat_jumps(delete=True)
            self.remove_chain("nat", "DOCKER")
            for ch in ("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-ISOLATION"):
                self.remove_chain("filter", ch)
            self.new_chain("nat", "DOCKER")
            for ch in ("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2"):
                self.new_chain("filter", ch)
            self.append("filter", "DOCKER-ISOLATION-STAGE-1", "-j", "RETURN")
            self.append("filter", "DOCKER-ISOLATION-STAGE-2", "-j", "RETURN")
            return
        # 28.x and 29.x: internal/iptabler NewIptabler
        self.delete("filter", "FORWARD", "-j", "DOCKER-ISOLATION")
        self._nat_jumps(delete=True)
        self.remove_chain("nat", "DOCKER")
        for ch in ("DOCKER-FORWARD", "DOCKER-BRIDGE", "DOCKER", "DOCKER-CT", "DOCKER-INTERNAL",
                   "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-ISOLATION"):
            self.remove_chain("filter", ch)
        self.new_chain("nat", "DOCKER")
        middle = "DOCKER-ISOLATION-STAGE-1" if self.era is Era.V28 else "DOCKER-INTERNAL"
        chains = ["DOCKER", "DOCKER-FORWARD", "DOCKER-BRIDGE", "DOCKER-CT", middle]
        if self.era is Era.V28:
            chains.append("DOCKER-ISOLATION-STAGE-2")
        for ch in chains:
            self.new_chain("filter", ch)
        self._nat_jumps(delete=False)
        self.ensure_jump("FORWARD", "DOCKER-FORWARD")
        self.ensure_jump("DOCKER-FORWARD", "DOCKER-BRIDGE")
        self.ensure_jump("DOCKER-FORWARD", middle)
        self.ensure_jump("DOCKER-FORWARD", "DOCKER-CT")

    def user_chain(self) -> None:
        """The controller's DOCKER-USER chain (17.06+); 28.2.2+ adds no RETURN rule."""
        if self.era is Era.V1_9:
            return
        self.new_chain("filter", "DOCKER-USER")
        if self.era is Era.V27:
            self.append("filter", "DOCKER-USER", "-j", "RETURN")
        self.ensure_jump("FORWARD", "DOCKER-USER")

    # -- networks -------------------------------------------------------------------------
    def _nat_target(self, net: NetConfig) -> tuple[str, ...]:
        if net.host_ipv4 is not None and self.era.at_least(Era.V28):
            return ("-j", "SNAT", "--to-source", str(net.host_ipv4))
        return ("-j", "MASQUERADE")

    def new_network(self, net: NetConfig, others: Sequence[NetConfig] = ()) -> None:
        """The network's rules, in the era's order; ``others``: the existing networks (1.9 isolation)."""
        self._recording = self.owned.setdefault(net.bridge, [])
        try:
            self._new_network(net, others)
        finally:
            self._recording = None

    def del_network(self, net: NetConfig) -> None:
        """``docker network rm``: delete exactly the rules the network's creation added."""
        for table, chain, spec in reversed(self.owned.pop(net.bridge, [])):
            if self._chain_exists(table, chain):
                self.delete(table, chain, *spec)

    def _new_network(self, net: NetConfig, others: Sequence[NetConfig]) -> None:
        br, sub = net.bridge, str(net.subnet)
        if self.era is Era.V1_9:
            if net.masq:
                self.insert("nat", "POSTROUTING", "-s", sub, "!", "-o", br, "-j", "MASQUERADE")
            if self.hairpin:
                self.insert("nat", "POSTROUTING", "-m", "addrtype", "--src-type", "LOCAL", "-o", br, "-j", "MASQUERADE")
            if net.icc:
                self.delete("filter", "FORWARD", "-i", br, "-o", br, "-j", "DROP")
                self.insert("filter", "FORWARD", "-i", br, "-o", br, "-j", "ACCEPT")
            else:
                self.delete("filter", "FORWARD", "-i", br, "-o", br, "-j", "ACCEPT")
                self.append("filter", "FORWARD", "-i", br, "-o", br, "-j", "DROP")
            self.insert("filter", "FORWARD", "-i", br, "!", "-o", br, "-j", "ACCEPT")
            self.insert("filter", "FORWARD", "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                        "-j", "ACCEPT")
            self._recording, rec = None, self._recording
            self._nat_jumps(delete=False)
            self._recording = rec
            self.insert("filter", "FORWARD", "-o", br, "-j", "DOCKER")
            for o in others:
                self.insert("filter", "FORWARD", "-s", sub, "-d", str(o.subnet), "-j", "DROP")
                self.insert("filter", "FORWARD", "-s", str(o.subnet), "-d", sub, "-j", "DROP")
            return
        if self.era is Era.V27:
            if net.internal:
                self.insert("filter", "DOCKER-ISOLATION-STAGE-1", "-i", br, "!", "-d", sub, "-j", "DROP")
                self.insert("filter", "DOCKER-ISOLATION-STAGE-1", "-o", br, "!", "-s", sub, "-j", "DROP")
                self._icc27(net)
                self.ensure_jump("FORWARD", "DOCKER-ISOLATION-STAGE-1")
                return
            if net.masq:
                self.insert("nat", "POSTROUTING", "-s", sub, "!", "-o", br, *self._nat_target(net))
                if not self.hairpin:
                    self.insert("nat", "DOCKER", "-i", br, "-j", "RETURN")
            if self.hairpin:
                self.insert("nat", "POSTROUTING", "-m", "addrtype", "--src-type", "LOCAL", "-o", br, "-j", "MASQUERADE")
            self._icc27(net)
            self.insert("filter", "FORWARD", "-i", br, "!", "-o", br, "-j", "ACCEPT")
            self._recording, rec = None, self._recording
            self._nat_jumps(delete=False)
            self._recording = rec
            self.insert("filter", "FORWARD", "-o", br, "-j", "DOCKER")
            self.insert("filter", "FORWARD", "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                        "-j", "ACCEPT")
            self.ensure_jump("FORWARD", "DOCKER-ISOLATION-STAGE-1")
            self.insert("filter", "DOCKER-ISOLATION-STAGE-1", "-i", br, "!", "-o", br,
                        "-j", "DOCKER-ISOLATION-STAGE-2")
            self.insert("filter", "DOCKER-ISOLATION-STAGE-2", "-o", br, "-j", "DROP")
            return
        # 28.x / 29.x
        if net.internal:
            chain = "DOCKER-INTERNAL" if self.era is Era.V29 else "DOCKER-ISOLATION-STAGE-1"
            self.insert("filter", chain, "-i", br, "!", "-d", sub, "-j", "DROP")
            self.insert("filter", chain, "-o", br, "!", "-s", sub, "-j", "DROP")
            self.append("filter", "DOCKER-FORWARD", "-i", br, "-o", br, "-j", "ACCEPT" if net.icc else "DROP")
            return
        nat_mode = net.gateway_mode in ("nat", "nat-unprotected")
        if net.masq and nat_mode:
            self.insert("nat", "POSTROUTING", "-s", sub, "!", "-o", br, *self._nat_target(net))
        if self.era is Era.V28 and net.masq and not self.hairpin:
            self.insert("nat", "DOCKER", "-i", br, "-j", "RETURN")
        if self.hairpin:
            self.insert("nat", "POSTROUTING", "-m", "addrtype", "--src-type", "LOCAL", "-o", br,
                        *self._nat_target(net))
        if not net.icc:
            self.append("filter", "DOCKER-FORWARD", "-i", br, "-o", br, "-j", "DROP")
            self.append("filter", "DOCKER-FORWARD", "-i", br, "!", "-o", br, "-j", "ACCEPT")
        else:
            self.append("filter", "DOCKER-FORWARD", "-i", br, "-j", "ACCEPT")
        if net.gateway_mode == "routed":
            self.append("filter", "DOCKER", "-o", br, "-p", "icmp", "-j", "ACCEPT")
        self.append("filter", "DOCKER", "!", "-i", br, "-o", br, "-j",
                    "ACCEPT" if net.gateway_mode == "nat-unprotected" else "DROP")
        self.append("filter", "DOCKER-CT", "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                    "-j", "ACCEPT")
        self.append("filter", "DOCKER-BRIDGE", "-o", br, "-j", "DOCKER")
        if self.era is Era.V28:
            if net.gateway_mode == "routed":
                self.insert("filter", "DOCKER-ISOLATION-STAGE-1", "-o", br, "-j", "RETURN")
                self.insert("filter", "DOCKER-ISOLATION-STAGE-1", "-i", br, "-m", "conntrack", "--ctstate",
                            "RELATED,ESTABLISHED", "-j", "ACCEPT")
            self.append("filter", "DOCKER-ISOLATION-STAGE-1", "-i", br, "!", "-o", br,
                        "-j", "DOCKER-ISOLATION-STAGE-2")
            self.insert("filter", "DOCKER-ISOLATION-STAGE-2", "-o", br, "-j", "DROP")

    def _icc27(self, net: NetConfig) -> None:
        br = net.bridge
        if net.icc:
            self.insert("filter", "FORWARD", "-i", br, "-o", br, "-j", "ACCEPT")
        else:
            self.append("filter", "FORWARD", "-i", br, "-o", br, "-j", "DROP")

    # -- endpoints and ports --------------------------------------------------------------
    def add_endpoint(self, net: NetConfig, addr: IPv4Address) -> None:
        """28+: ``filterDirectAccess``, the raw-table DROP for direct access (after an ACCEPT per
        trusted host interface); none with direct routing allowed or raw rules disabled."""
        if self.era.at_least(Era.V28) and net.gateway_mode == "nat" and not net.internal \
                and not self.direct_routing and not self.raw_disabled:
            for ifname in net.trusted:
                self.append("raw", "PREROUTING", "-d", f"{addr}/32", "-i", ifname, "-j", "ACCEPT")
            self.append("raw", "PREROUTING", "-d", f"{addr}/32", "!", "-i", net.bridge, "-j", "DROP")

    def add_ports(self, net: NetConfig, addr: IPv4Address, bindings: list[PortBinding], *,
                  nat: bool = True) -> None:
        """Per-port rules; ``nat=False``: a routed-mode mapping (no DNAT, as the daemon's portmapper
        does for ``gateway_mode_ipv4=routed``; moby's iptabler test always asks for NAT)."""
        br = net.bridge
        for b in bindings:
            hip = "0/0" if b.all_addresses else f"{b.host_ip}/32"
            p, hp, cp = b.proto, str(b.host_port), str(b.container_port)
            in_br = () if self.hairpin else ("!", "-i", br)
            dnat = (*in_br, "-p", p, "-d", hip, "--dport", hp, "-j", "DNAT", "--to-destination", f"{addr}:{cp}")
            accept = ("!", "-i", br, "-o", br, "-p", p, "-d", str(addr), "--dport", cp, "-j", "ACCEPT")
            selfmasq = ("-p", p, "-s", str(addr), "-d", str(addr), "--dport", cp, "-j", "MASQUERADE")
            if self.era.before(Era.V28):
                self.append("nat", "DOCKER", *dnat)
                self.append("filter", "DOCKER", *accept)
                self.append("nat", "POSTROUTING", *selfmasq)
                continue
            if b.host_ip is not None and b.host_ip.is_loopback and not self.raw_disabled:
                self.append("raw", "PREROUTING", "-d", hip, "!", "-i", "lo", "-p", p, "-m", p, "--dport", hp,
                            "-j", "DROP")
            if nat:
                self.append("nat", "DOCKER", *dnat)
            if self.hairpin and nat:
                self.append("nat", "POSTROUTING", *selfmasq)
            if net.gateway_mode != "nat-unprotected":
                self.insert("filter", "DOCKER", *accept)

    def del_ports(self, net: NetConfig, addr: IPv4Address, bindings: list[PortBinding]) -> None:
        """Undo :meth:`add_ports` (``docker stop``)."""
        br = net.bridge
        for b in bindings:
            hip = "0/0" if b.all_addresses else f"{b.host_ip}/32"
            p, hp, cp = b.proto, str(b.host_port), str(b.container_port)
            in_br = () if self.hairpin else ("!", "-i", br)
            self.delete("nat", "DOCKER", *in_br, "-p", p, "-d", hip, "--dport", hp, "-j", "DNAT",
                        "--to-destination", f"{addr}:{cp}")
            self.delete("filter", "DOCKER", "!", "-i", br, "-o", br, "-p", p, "-d", str(addr), "--dport", cp,
                        "-j", "ACCEPT")
            self.delete("nat", "POSTROUTING", "-p", p, "-s", str(addr), "-d", str(addr), "--dport", cp,
                        "-j", "MASQUERADE")
            if b.host_ip is not None and b.host_ip.is_loopback:
                self.delete("raw", "PREROUTING", "-d", hip, "!", "-i", "lo", "-p", p, "-m", p, "--dport", hp,
                            "-j", "DROP")

    def del_endpoint(self, net: NetConfig, addr: IPv4Address) -> None:
        for ifname in net.trusted:
            self.delete("raw", "PREROUTING", "-d", f"{addr}/32", "-i", ifname, "-j", "ACCEPT")
        self.delete("raw", "PREROUTING", "-d", f"{addr}/32", "!", "-i", net.bridge, "-j", "DROP")

