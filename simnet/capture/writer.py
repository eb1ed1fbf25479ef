"""Writing a capture as a simnet script in the real tools' syntax, deterministically.

The root namespace becomes a named namespace (``host`` unless told otherwise; left out when it
holds nothing but ``lo``), so the script runs as it is in ``simnet run`` and in
``simnet kernel-run``, which only works inside namespaces a script creates.  Per namespace, in
this order: ``ip netns add``; global sysctls and ``conf.{all,default}`` (before any device, which
copies ``default``); devices (veth pairs once, from the namespace listed first, paired by peer
index and ``link-netnsid``; VXLAN devices after their lower device), with their MAC addresses, so
ARP and ``ip link`` read the same; per-device sysctls; MTUs, bridge ports, hairpin, learning,
flood; links up; addresses (primary first); routes; policy rules; neighbours; VXLAN FDB entries;
ipsets; the iptables ruleset as an ``iptables-restore`` heredoc; with listeners, stand-in ``nc -l``.

What simnet cannot model is said twice, in a :class:`~simnet.capture.model.Note` and as a comment
in the script; a device of a kind simnet lacks (tun, macvlan, wireguard, bond, a physical NIC) is
replaced by a dummy device with its addresses, marked as a stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Protocol

from simnet.capture import sysctl as keys
from simnet.capture.model import Addr, Capture, FibRule, Link, Namespace, Note, Route
from simnet.sysctl import Sysctls

__all__ = ["Rewrite", "Script", "write_script"]

MODELLED_KINDS = frozenset({"loopback", "veth", "bridge", "vxlan", "dummy"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Script:
    """The script text and everything said about what it could not take over."""

    text: str
    notes: tuple[Note, ...]


class Rewrite(Protocol):
    """How the writer spells captured values: as they are, or redacted (:class:`simnet.capture.redact.Redactor`)."""

    def ns(self, name: str) -> str: ...
    def dev(self, name: str) -> str: ...
    def ip(self, addr: IPv4Address) -> IPv4Address: ...
    def net(self, net: IPv4Network) -> IPv4Network: ...
    def iface(self, iface: IPv4Interface) -> IPv4Interface: ...
    def broadcast(self, brd: IPv4Address, iface: IPv4Interface) -> IPv4Address: ...
    def mac(self, mac: str) -> str: ...
    def text(self, text: str) -> str: ...
    def ruleset(self, text: str) -> str: ...
    def ipsets(self, text: str) -> str: ...
    def host(self, name: str) -> str: ...
    def reserve(self, addrs: list[IPv4Address]) -> None: ...


class _Identity:
    """No redaction: every value as captured."""

    def ns(self, name: str) -> str:
        return name

    def dev(self, name: str) -> str:
        return name

    def ip(self, addr: IPv4Address) -> IPv4Address:
        return addr

    def net(self, net: IPv4Network) -> IPv4Network:
        return net

    def iface(self, iface: IPv4Interface) -> IPv4Interface:
        return iface

    def mac(self, mac: str) -> str:
        return mac

    def text(self, text: str) -> str:
        return text

    def ruleset(self, text: str) -> str:
        return text

    def ipsets(self, text: str) -> str:
        return text

    def host(self, name: str) -> str:
        return name

    def broadcast(self, brd: IPv4Address, iface: IPv4Interface) -> IPv4Address:
        return brd

    def reserve(self, addrs: list[IPv4Address]) -> None:
        pass


def write_script(cap: Capture, *, redactor: Rewrite | None = None) -> Script:
    """Turn a capture into a simnet script (``redactor``: a :class:`simnet.capture.redact.Redactor`)."""
    r = redactor or _Identity()
    w = _Writer(cap, r)
    return w.write()


class _Writer:
    def __init__(self, cap: Capture, r: Rewrite) -> None:
        self.cap = cap
        self.r = r
        self.notes: list[Note] = list(cap.notes)
        self.lines: list[str] = []
        self.notes_said: set[str] = set()
        spaces = list(cap.namespaces)
        if spaces and spaces[0].name == cap.root and _pristine(spaces[0]) and len(spaces) > 1:
            spaces = spaces[1:]
        self.spaces = spaces
        self.names = {ns.name: self.r.ns(ns.name) for ns in spaces}
        self.r.reserve([a.interface.ip for ns in spaces for a in ns.addrs]
                       + [r.dst.network_address for ns in spaces for r in ns.routes])

    # -- helpers --------------------------------------------------------------------------

    def note(self, ns: str | None, what: str) -> str:
        self.notes.append(Note(netns=ns, what=what))
        return what

    def ipn(self, ns: Namespace) -> str:
        return f"ip -n {self.names[ns.name]}"

    def exec(self, ns: Namespace) -> str:
        return f"ip netns exec {self.names[ns.name]}"

    def dev(self, name: str) -> str:
        return self.r.dev(name)

    # -- the script ----------------------------------------------------------------------

    def write(self) -> Script:
        pairs, unpaired = self.pair_veths()
        body: list[str] = []
        self.lines = body
        for ns in self.spaces:
            body.append(f"ip netns add {self.names[ns.name]}")
        self.scratch: dict[str, tuple[list[str], Sysctls]] = {}
        for ns in self.spaces:
            # global keys and all/default, before any device exists (a new device copies default)
            devices = ["lo"]
            scratch = Sysctls(_live(devices))
            self.scratch[ns.name] = (devices, scratch)
            writes: list[str] = []
            for key in [*keys.GLOBAL_KEYS, *(f"net.ipv4.conf.{s}.{k}" for s in ("all", "default")
                                              for k in keys.CONF_KEYS)]:
                self.sysctl_write(scratch, dict(ns.sysctls), key, writes, ns)
            if writes:
                body.append(f"{self.exec(ns)} sysctl -q -w " + " ".join(writes))
        body += ["", "# devices, in each namespace in the order the host numbered them"]
        created: set[tuple[str, str]] = set()
        for ns, l in self.creation_order(pairs):
            self.create(ns, l, {x.name: x for x in ns.links}, pairs, unpaired, created)
        for ns in self.spaces:
            self.section(ns)
        head = [f"# simnet capture of host {self.r.host(self.cap.host)}, kernel {self.cap.kernel}, "
                f"at {self.cap.time}",
                "# namespaces: " + ", ".join(self.names[ns.name] + (" (the root namespace)" if ns.name == self.cap.root
                                                                   else "") for ns in self.spaces)]
        said = []
        for n in self.notes:
            where = self.names.get(n.netns or "", n.netns) if n.netns else None
            said.append(f"#   {where + ': ' if where else ''}{'skipped: ' if n.skipped else ''}{self.r.text(n.what)}")
        for n in getattr(self.r, "notes", ()):
            if n not in self.notes_said:
                self.notes_said.add(n)
                self.notes.append(Note(netns=None, what=n))
                said.append(f"#   {n}")
        if said:
            head.append("# not taken over (also said on stderr):")
            head += said
        return Script(text="\n".join(head + [""] + body) + "\n", notes=tuple(self.notes))

    def pair_veths(self) -> tuple[dict[tuple[str, str], tuple[str, str]], set[tuple[str, str]]]:
        """(ns, dev) → (peer ns, peer dev) for every veth whose other end was captured."""
        by_index = {(ns.name, l.ifindex): l for ns in self.spaces for l in ns.links}
        names = {ns.name for ns in self.spaces}
        pairs: dict[tuple[str, str], tuple[str, str]] = {}
        for ns in self.spaces:
            nsid_names = dict(ns.nsids)
            for l in ns.links:
                if l.kind != "veth":
                    continue
                same = dict(l.options).get("link")
                if l.peer_nsid is None:
                    if same is not None:
                        pairs[(ns.name, l.name)] = (ns.name, same)
                    continue
                target = nsid_names.get(l.peer_nsid)
                if target in names:
                    cands = [target]
                else:
                    # an unnamed namespace (the root one, a container's): the one whose device at
                    # peer_index is a veth pointing back at this device's index
                    cands = [m.name for m in self.spaces if m.name != ns.name
                             and (p := by_index.get((m.name, l.peer_index or 0))) is not None
                             and p.kind == "veth" and p.peer_index == l.ifindex and p.peer_nsid is not None]
                found = by_index.get((cands[0], l.peer_index)) if len(cands) == 1 and l.peer_index is not None else None
                if found is not None:
                    pairs[(ns.name, l.name)] = (cands[0], found.name)
        unpaired = {(ns.name, l.name) for ns in self.spaces for l in ns.links
                    if l.kind == "veth" and (ns.name, l.name) not in pairs}
        # keep only pairs both ends agree on
        pairs = {k: v for k, v in pairs.items() if pairs.get(v) == k}
        unpaired |= {(ns.name, l.name) for ns in self.spaces for l in ns.links
                     if l.kind == "veth" and (ns.name, l.name) not in pairs}
        return pairs, unpaired

    def creation_order(self, pairs: dict[tuple[str, str], tuple[str, str]]) -> list[tuple[Namespace, Link]]:
        """Every device once, so that each namespace numbers its devices in the host's order where it can:
        a veth pair is created when both ends are next in their namespaces; a VXLAN device after its
        lower device."""
        pending = {ns.name: [l for l in ns.links if l.kind != "loopback"] for ns in self.spaces}
        spaces = {ns.name: ns for ns in self.spaces}
        order: list[tuple[Namespace, Link]] = []
        done: set[tuple[str, str]] = set()

        def ready(ns: str, l: Link, strict: bool) -> bool:
            if l.vxlan is not None and l.vxlan.dev is not None and any(
                    x.name == l.vxlan.dev for x in pending[ns]):
                return False
            peer = pairs.get((ns, l.name))
            if peer is None or peer[0] == ns or not strict:
                return True
            first = pending[peer[0]][0] if pending[peer[0]] else None
            return first is not None and first.name == peer[1]

        while any(pending.values()):
            for strict in (True, False):
                pick = next(((ns, ls[0]) for ns, ls in pending.items() if ls and ready(ns, ls[0], strict)), None)
                if pick is None:
                    pick = next(((ns, l) for ns, ls in pending.items() for l in ls if ready(ns, l, strict)), None)
                if pick is not None:
                    break
            if pick is None:  # a VXLAN device whose lower device is itself waiting: take it anyway
                pick = next((ns, ls[0]) for ns, ls in pending.items() if ls)
            ns, l = pick
            for key in [(ns, l.name), pairs.get((ns, l.name))]:
                if key is not None and key not in done:
                    done.add(key)
                    pending[key[0]] = [x for x in pending[key[0]] if x.name != key[1]]
            order.append((spaces[ns], l))
        return order

    def section(self, ns: Namespace) -> None:
        out = self.lines
        name = self.names[ns.name]
        out += ["", f"# ---- {name}" + (" (the root namespace)" if ns.name == self.cap.root else "")]
        devices, scratch = self.scratch[ns.name]
        captured = dict(ns.sysctls)
        links = {l.name: l for l in ns.links}
        devices += [l.name for l in ns.links if l.kind != "loopback"]
        for d in devices[1:]:
            scratch.add_device(d)
        writes: list[str] = []
        for d in devices:
            for k in keys.CONF_KEYS:
                self.sysctl_write(scratch, captured, f"net.ipv4.conf.{d.replace('.', '/')}.{k}", writes, ns, dev=d)
            for k in keys.UNMODELLED_CONF:
                for scope in ("all", d.replace(".", "/")):
                    v = captured.get(f"net.ipv4.conf.{scope}.{k}")
                    if v not in (None, "0") and (scope != "all" or d == "lo"):
                        self.comment(self.note(ns.name, f"net.ipv4.conf.{scope}.{k} = {v}: not modelled"))
        if writes:
            out.append(f"{self.exec(ns)} sysctl -q -w " + " ".join(writes))
        if "net.bridge.bridge-nf-call-iptables" not in captured and any(l.kind == "bridge" for l in ns.links) \
                and ns.sysctls:
            self.comment("br_netfilter is not loaded on the host: bridged traffic skips iptables")
            out.append(f"{self.exec(ns)} sysctl -q -w net.bridge.bridge-nf-call-iptables=0")
        self.link_settings(ns)
        for a in _address_order(ns):
            if a.dev == "lo" and a.interface == IPv4Interface("127.0.0.1/8"):
                continue
            words = [f"{self.ipn(ns)} addr add {self.r.iface(a.interface)}"]
            if a.broadcast is not None:
                words.append(f"brd {self.r.broadcast(a.broadcast, a.interface)}")
            if a.scope not in ("global", "universe"):
                words.append(f"scope {a.scope}")
            words.append(f"dev {self.dev(a.dev)}")
            out.append(" ".join(words))
        for group in _alias_groups(ns.routes):
            # the links are up when the addresses come, so each address adds its prefix route
            # then and there (fib_add_ifaddr): a route captured before the kernel's own in its
            # alias list is prepended (last first), one after it appended
            made = next((i for i, r in enumerate(group) if r.protocol == "kernel"), 0)
            for i, route in [*reversed(list(enumerate(group))[:made]), *list(enumerate(group))[made:]]:
                self.route(ns, route, verb="prepend" if i < made else "append" if i else "add")
        self.rules(ns)
        for n in ns.neighbours:
            if n.lladdr is None:
                continue
            out.append(f"{self.ipn(ns)} neigh add {self.r.ip(n.dst)} lladdr {self.r.mac(n.lladdr)} "
                       f"dev {self.dev(n.dev)} nud {n.state.lower()}")
        for f in ns.fdb:
            link = links.get(f.dev)
            if f.master:
                self.comment(self.note(ns.name, f"bridge fdb {f.mac} dev {f.dev} master static: a static "
                                                f"bridge FDB entry (not modelled)"))
                continue
            if link is None or link.vxlan is None or f.dst is None:
                continue
            if f.mac == "00:00:00:00:00:00" and f.dst == link.vxlan.remote:
                continue  # made by `remote` itself
            out.append(f"{self.exec(ns)} bridge fdb append {self.r.mac(f.mac)} dev {self.dev(f.dev)} "
                       f"dst {self.r.ip(f.dst)}")
        self.netfilter(ns)
        self.listeners(ns)
        if ns.vlans:
            self.comment(self.note(ns.name, "bridge port VLANs (not modelled): " + "; ".join(ns.vlans)))
        if ns.ipv6:
            said = ", ".join(ns.ipv6) if isinstance(self.r, _Identity) else f"{len(ns.ipv6)} of them"
            self.comment(self.note(ns.name, f"IPv6 state (not modelled): {said}"))

    def comment(self, text: str) -> None:
        self.lines.append(f"# {self.r.text(text)}")

    def sysctl_write(self, scratch: "Sysctls", captured: dict[str, str], key: str, writes: list[str], ns: Namespace,
                     dev: str | None = None) -> None:
        if key not in captured:
            return
        try:
            now = scratch.get(key)
        except Exception:
            return
        want = captured[key]
        if " ".join(str(now).split()) == want:
            return
        try:
            scratch.set(key, want)
        except Exception as e:
            self.comment(self.note(ns.name, f"{key} = {want}: simnet refuses it ({e})"))
            return
        if dev is not None:
            key = key.replace(f".{dev.replace('.', '/')}.", f".{self.dev(dev).replace('.', '/')}.")
        writes.append(f"{key}={want}" if " " not in want else f"{key}='{want}'")

    def create(self, ns: Namespace, l: Link, links: dict[str, Link], pairs: dict[tuple[str, str], tuple[str, str]],
               unpaired: set[tuple[str, str]], created: set[tuple[str, str]]) -> None:
        out = self.lines
        if (ns.name, l.name) in created:
            return
        created.add((ns.name, l.name))
        mac = self.r.mac(l.mac)
        dev = self.dev(l.name)
        if l.kind == "veth" and (ns.name, l.name) in pairs:
            pns, pdev = pairs[(ns.name, l.name)]
            created.add((pns, pdev))
            other = next(n for n in self.spaces if n.name == pns)
            peer = next(x for x in other.links if x.name == pdev)
            where = "" if pns == ns.name else f" netns {self.names[pns]}"
            if pns == ns.name and l.ifindex < peer.ifindex:
                # veth_newlink registers the peer first: it takes the lower index of the two
                l, peer = peer, l
                mac, dev, pdev = self.r.mac(l.mac), self.dev(l.name), peer.name
            out.append(f"{self.ipn(ns)} link add {dev} address {mac} type veth peer name {self.dev(pdev)} "
                       f"address {self.r.mac(peer.mac)}{where}")
            return
        if l.kind == "bridge":
            for k, v in l.options:
                self.comment(self.note(ns.name, f"{l.name}: bridge {k} {v} (not modelled; the bridge acts as with "
                                                f"{k} 0)"))
            out.append(f"{self.ipn(ns)} link add {dev} address {mac} type bridge")
            return
        if l.kind == "vxlan" and l.vxlan is not None:
            vx = l.vxlan
            words = [f"{self.ipn(ns)} link add {dev} address {mac} type vxlan id {vx.vni}"]
            if vx.group is not None:
                self.comment(self.note(ns.name, f"{l.name}: VXLAN multicast group {vx.group} (not modelled)"))
            if vx.remote is not None:
                words.append(f"remote {self.r.ip(vx.remote)}")
            if vx.local is not None:
                words.append(f"local {self.r.ip(vx.local)}")
            if vx.dev is not None:
                words.append(f"dev {self.dev(vx.dev)}")
            words.append(f"dstport {vx.dstport}")
            if vx.srcport != (0, 0):
                words.append(f"srcport {vx.srcport[0]} {vx.srcport[1]}")
            if vx.ttl is None:
                words.append("ttl inherit")
            elif vx.ttl:
                words.append(f"ttl {vx.ttl}")
            if not vx.learning:
                words.append("nolearning")
            out.append(" ".join(words))
            return
        if l.kind == "dummy":
            out.append(f"{self.ipn(ns)} link add {dev} address {mac} type dummy")
            return
        if l.kind == "veth":
            why = f"{l.name}: a veth whose peer is in a namespace not captured"
        elif l.kind == "":
            why = f"{l.name}: a physical device (nothing lies beyond it here)"
        else:
            why = f"{l.name}: a {l.kind} device (not modelled)"
        self.comment(self.note(ns.name, why) + ": a dummy device stands in")
        out.append(f"{self.ipn(ns)} link add {dev} address {mac} type dummy")

    def link_settings(self, ns: Namespace) -> None:
        out = self.lines
        links = {l.name: l for l in ns.links}
        for l in ns.links:
            if l.kind in ("loopback", "bridge", "vxlan"):
                continue
            if l.mtu != 1500:
                out.append(f"{self.ipn(ns)} link set {self.dev(l.name)} mtu {l.mtu}")
        for l in ns.links:
            if l.kind == "vxlan" and l.vxlan is not None:
                lower = links.get(l.vxlan.dev or "")
                auto = (lower.mtu - 50) if lower is not None else 1450
                if l.mtu != auto:
                    out.append(f"{self.ipn(ns)} link set {self.dev(l.name)} mtu {l.mtu}")
        for l in ns.links:
            if l.master is not None:
                out.append(f"{self.ipn(ns)} link set {self.dev(l.name)} master {self.dev(l.master)}")
                opts = ["hairpin on"] if l.hairpin else []
                opts += ["learning off"] if not l.learning else []
                opts += ["flood off"] if not l.flood else []
                if opts:
                    out.append(f"{self.ipn(ns)} link set {self.dev(l.name)} type bridge_slave {' '.join(opts)}")
        for l in ns.links:
            if l.kind == "bridge":
                ports = [p.mtu for p in ns.links if p.master == l.name]
                auto = min(ports) if ports else 1500
                if l.mtu != auto:
                    out.append(f"{self.ipn(ns)} link set {self.dev(l.name)} mtu {l.mtu}")
        for l in ns.links:
            if l.up:
                out.append(f"{self.ipn(ns)} link set {self.dev(l.name)} up")

    def route(self, ns: Namespace, route: Route, *, verb: str = "add") -> None:
        if route.protocol == "kernel":
            return  # made by the kernel for an address
        text = _route_words(route, self.r)
        if route.unmodelled is not None:
            self.comment(self.note(ns.name, f"route {route.dst} table {route.table}: {route.unmodelled} "
                                            "(not modelled; left out)"))
            return
        self.lines.append(f"{self.ipn(ns)} route {verb} {text}")

    def rules(self, ns: Namespace) -> None:
        present = {(r.priority, r.table) for r in ns.rules if r.is_default}
        for prio, table in sorted(_DEFAULTS):
            if (prio, table) not in present:
                self.lines.append(f"{self.ipn(ns)} rule del pref {prio}")
        for rule in ns.rules:
            if rule.is_default:
                continue
            if rule.unmodelled is not None:
                self.comment(self.note(ns.name, f"ip rule pref {rule.priority}: {rule.unmodelled} (not modelled; "
                                                "left out)"))
                continue
            self.lines.append(f"{self.ipn(ns)} rule add {_rule_words(rule, self.r)}")

    def netfilter(self, ns: Namespace) -> None:
        from simnet.capture.netfilter import parse_ipset_save, parse_iptables_save

        from simnet.errors import SimnetError
        from simnet.netfilter.ipset import IpSet, ipset
        from simnet.netfilter.ruleset import Ruleset
        from simnet.netfilter.syntax import apply_restore

        if ns.ipsets:
            sets: dict[str, IpSet] = {}
            unknown: set[str] = set()
            for line in self.r.ipsets(parse_ipset_save(ns.ipsets)).splitlines():
                words = line.split()
                try:
                    if len(words) > 1 and words[1] in unknown:
                        raise SimnetError("its set is not modelled")
                    ipset(sets, words)
                except (SimnetError, ValueError) as e:
                    if words[:1] == ["create"] and len(words) > 1:
                        unknown.add(words[1])
                    why = str(e).splitlines()[0] if str(e) else type(e).__name__
                    if words[:1] == ["create"]:
                        self.note(ns.name, f"ipset {line}: {why} (left out)")
                    self.lines.append(f"# {self.r.text(f'not modelled ({why}): ipset {line}')}")
                    continue
                self.lines.append(f"{self.exec(ns)} ipset {line}")
        if not ns.iptables:
            return
        counters = any(line.startswith("[") for line in ns.iptables.splitlines())
        restore = parse_iptables_save(ns.iptables, counters=counters)
        for what in restore.left_out:
            self.note(ns.name, f"iptables rule left out: {what}")
        text = self.r.ruleset(restore.text)
        if not text.strip():
            return
        try:
            apply_restore(Ruleset(), text, counters=counters)
        except (SimnetError, ValueError) as e:
            self.comment(self.note(ns.name, f"simnet's iptables-restore refuses this ruleset: {e}"))
        self.lines.append(f"{self.exec(ns)} iptables-restore{' -c' if counters else ''} <<'RULES'")
        self.lines += text.rstrip("\n").splitlines()
        self.lines.append("RULES")

    def listeners(self, ns: Namespace) -> None:
        vxlan_ports = {l.vxlan.dstport for l in ns.links if l.vxlan is not None}
        for s in ns.listeners:
            if s.proto == "udp" and s.addr is None and s.port in vxlan_ports:
                continue  # the kernel's own VXLAN socket
            src = f" -s {self.r.ip(s.addr)}" if s.addr is not None else ""
            udp = " -u" if s.proto == "udp" else ""
            keep = " -k" if s.proto == "tcp" else ""
            self.lines.append(f"{self.exec(ns)} nc{udp} -l{keep}{src} -p {s.port} &")


_DEFAULTS = frozenset({(0, "local"), (32766, "main"), (32767, "default")})


def _route_words(route: Route, r: Rewrite) -> str:
    words = []
    if route.type != "unicast":
        words.append(route.type)
    words.append("default" if route.dst.prefixlen == 0 else str(r.net(route.dst)))
    if route.via is not None:
        words.append(f"via {r.ip(route.via)}")
    if route.dev is not None and route.type not in ("blackhole", "unreachable", "prohibit", "throw"):
        words.append(f"dev {r.dev(route.dev)}")
    if route.protocol not in ("boot",):
        words.append(f"proto {route.protocol}")
    default_scope = ("host" if route.type == "local" else "link" if route.type == "broadcast"
                     or (route.type == "unicast" and route.via is None) else "global")
    if (route.scope or "global") != default_scope:
        words.append(f"scope {route.scope or 'global'}")
    if route.prefsrc is not None:
        words.append(f"src {r.ip(route.prefsrc)}")
    if route.metric:
        words.append(f"metric {route.metric}")
    if route.onlink:
        words.append("onlink")
    if route.table != "main":
        words.append(f"table {route.table}")
    return " ".join(words)


def _rule_words(rule: FibRule, r: Rewrite) -> str:
    words = []
    if rule.src is not None:
        words.append(f"from {r.net(rule.src) if rule.src.prefixlen < 32 else r.ip(rule.src.network_address)}")
    if rule.dst is not None:
        words.append(f"to {r.net(rule.dst) if rule.dst.prefixlen < 32 else r.ip(rule.dst.network_address)}")
    if rule.iif is not None:
        words.append(f"iif {r.dev(rule.iif)}")
    if rule.oif is not None:
        words.append(f"oif {r.dev(rule.oif)}")
    if rule.fwmark is not None:
        mask = rule.fwmask
        words.append(f"fwmark {rule.fwmark:#x}" + (f"/{mask:#x}" if mask is not None and mask != 0xFFFFFFFF else ""))
    words.append(f"lookup {rule.table} pref {rule.priority}")
    return " ".join(words)


def _live(names: list[str]) -> Callable[[], list[str]]:
    """The namespace's device names as they grow (a scratch Sysctls asks for them)."""
    return lambda: names


def _pristine(ns: Namespace) -> bool:
    """Only ``lo`` and nothing configured: the root namespace of a sandbox, left out of the script."""
    if any(l.kind != "loopback" for l in ns.links):
        return False
    if any(not (a.dev == "lo" and a.interface == IPv4Interface("127.0.0.1/8")) for a in ns.addrs):
        return False
    if any(r.protocol != "kernel" for r in ns.routes) or any(not r.is_default for r in ns.rules):
        return False
    if len(ns.rules) not in (0, 3) or ns.neighbours or ns.listeners or ns.fdb:
        return False
    if ns.iptables and any(line.startswith("-A") for line in ns.iptables.splitlines()):
        return False
    return not (ns.ipsets and ns.ipsets.strip())


def _alias_groups(routes: tuple[Route, ...]) -> list[list[Route]]:
    """Routes by (table, prefix, metric), each group in the kernel's alias order (the order
    ``ip route show`` lists them, which its lookup reads), groups in order of first appearance."""
    groups: dict[tuple[str, IPv4Network, int, bool], list[Route]] = {}
    for r in routes:
        local = r.type in ("local", "broadcast")  # iproute2's default table for these is local
        groups.setdefault((r.table, r.dst, r.metric or 0, local), []).append(r)
    return list(groups.values())


def _address_order(ns: Namespace) -> list[Addr]:
    """The addresses in the captured order, except where two devices' prefix routes share a
    (prefix, metric): there the address whose route the kernel listed first comes first, as its
    route was made first. Each device keeps its own addresses' order (primaries first)."""
    makers: dict[tuple[str, IPv4Network], list[str]] = {}
    for r in ns.routes:
        if r.protocol == "kernel" and r.type == "unicast" and r.dev is not None:
            makers.setdefault((r.table, r.dst), []).append(r.dev)
    before: dict[int, list[Addr]] = {}  # what must be placed before an address
    for a in ns.addrs:
        mine = [x for x in ns.addrs if x.dev == a.dev]
        before[id(a)] = mine[:mine.index(a)]
        devs = makers.get(("main", a.interface.network), [])
        if len(devs) > 1 and a.dev in devs:
            for d in devs[:devs.index(a.dev)]:
                before[id(a)] += [x for x in ns.addrs if x.dev == d and x.interface.network == a.interface.network]
    out: list[Addr] = []
    placed: set[int] = set()

    def place(a: Addr, busy: frozenset[int]) -> None:
        if id(a) in placed or id(a) in busy:  # busy: contradictory orders, keep the captured one
            return
        for b in before[id(a)]:
            place(b, busy | {id(a)})
        if id(a) not in placed:
            placed.add(id(a))
            out.append(a)

    for a in ns.addrs:
        place(a, frozenset())
    return out
