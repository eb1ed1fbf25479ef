"""Public Hypothesis strategies for simnet values.

Importable without pytest.  Every strategy takes keyword-only bounds and
validates them eagerly, raising :class:`hypothesis.errors.InvalidArgument`.

Sections: netfilter (rules and rulesets); addresses and packets; routes;
worlds (whole topologies of namespaces, veths, bridges, addresses and routes);
Docker hosts (a daemon with networks and containers, as the script that sets them up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from simnet.netfilter.targets import EXTENSION_TARGETS

__all__ = ["matches", "targets", "rules", "chains", "rulesets", "mac_addresses", "ports", "ipv4_addresses",
           "packets", "routes", "routing_tables", "worlds", "docker_hosts", "DockerHost", "DockerNetwork",
           "DockerContainer"]


# =========================================================================== netfilter

_IFACES = st.sampled_from(["eth0", "eth1", "docker0", "br-1a2b", "veth+", "lo", "wg0", "eth+"])
_PORT = st.integers(0, 65535)


@st.composite
def _port_range(draw: st.DrawFn) -> str:
    lo = draw(_PORT)
    if draw(st.booleans()):
        return str(lo)
    hi = draw(st.integers(lo, 65535))
    return f"{lo}:{hi}"


def _bang(draw: st.DrawFn) -> str:
    return "! " if draw(st.booleans()) else ""


@st.composite
def _ip(draw: st.DrawFn) -> str:
    return str(draw(st.ip_addresses(v=4)))


@st.composite
def _net(draw: st.DrawFn) -> str:
    addr = draw(st.ip_addresses(v=4))
    return f"{addr}/{draw(st.integers(1, 32))}"


def _text() -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\'), min_size=1,
                   max_size=30).filter(lambda s: s.strip() == s)


# Each entry: (needed -p, strategy of the option text after "-m NAME").
def _module_options() -> dict[str, tuple[str | None, st.SearchStrategy[str]]]:
    @st.composite
    def tcp(draw: st.DrawFn) -> str:
        parts = []
        if draw(st.booleans()):
            parts.append(f"{_bang(draw)}--sport {draw(_port_range())}")
        if draw(st.booleans()) or not parts:
            parts.append(f"{_bang(draw)}--dport {draw(_port_range())}")
        if draw(st.booleans()):
            flags = st.sampled_from(["SYN", "ACK", "FIN,SYN,RST,ACK", "SYN,RST", "NONE", "FIN,SYN,RST,PSH,ACK,URG"])
            parts.append(f"{_bang(draw)}--tcp-flags {draw(flags)} {draw(flags)}")
        return " ".join(parts)

    @st.composite
    def udp(draw: st.DrawFn) -> str:
        return f"{_bang(draw)}--dport {draw(_port_range())}"

    @st.composite
    def icmp(draw: st.DrawFn) -> str:
        t = draw(st.sampled_from(["any", "8", "0", "3/3", "3", "11/0", "echo-request", "port-unreachable"]))
        return f"{_bang(draw)}--icmp-type {t}"

    states = st.lists(st.sampled_from(["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"]),
                      min_size=1, max_size=4, unique=True).map(",".join)

    @st.composite
    def conntrack(draw: st.DrawFn) -> str:
        parts = [f"{_bang(draw)}--ctstate {draw(states)}"]
        if draw(st.booleans()):
            parts.append(f"{_bang(draw)}--ctorigdst {draw(_net())}")
        if draw(st.booleans()):
            parts.append(f"--ctdir {draw(st.sampled_from(['ORIGINAL', 'REPLY']))}")
        return " ".join(parts)

    addrtypes = st.lists(st.sampled_from(["LOCAL", "UNICAST", "BROADCAST", "MULTICAST", "BLACKHOLE"]),
                         min_size=1, max_size=3, unique=True).map(",".join)

    @st.composite
    def addrtype(draw: st.DrawFn) -> str:
        return f"{_bang(draw)}--{draw(st.sampled_from(['src', 'dst']))}-type {draw(addrtypes)}"

    @st.composite
    def multiport(draw: st.DrawFn) -> str:
        ports = draw(st.lists(_port_range(), min_size=1, max_size=7))
        return f"{_bang(draw)}--{draw(st.sampled_from(['dports', 'sports', 'ports']))} {','.join(ports)}"

    @st.composite
    def mark(draw: st.DrawFn) -> str:
        v = draw(st.integers(0, 2**32 - 1))
        m = draw(st.one_of(st.just(""), st.integers(0, 2**32 - 1).map(lambda x: f"/0x{x:x}")))
        return f"{_bang(draw)}--mark 0x{v:x}{m}"

    @st.composite
    def physdev(draw: st.DrawFn) -> str:
        return f"{_bang(draw)}--physdev-in {draw(_IFACES)} {_bang(draw)}--physdev-is-bridged"

    @st.composite
    def statistic(draw: st.DrawFn) -> str:
        if draw(st.booleans()):
            return f"--mode random {_bang(draw)}--probability {draw(st.floats(0, 1)):.11f}"
        every = draw(st.integers(1, 100))
        return f"--mode nth {_bang(draw)}--every {every} --packet {draw(st.integers(0, every - 1))}"

    @st.composite
    def limit(draw: st.DrawFn) -> str:
        n = draw(st.integers(1, 1000))
        unit = draw(st.sampled_from(["second", "minute", "hour", "day"]))
        return f"--limit {n}/{unit} --limit-burst {draw(st.integers(1, 100))}"

    @st.composite
    def recent(draw: st.DrawFn) -> str:
        cmd = draw(st.sampled_from(["--set", "--rcheck", "--update", "--remove"]))
        extra = f" --seconds {draw(st.integers(1, 3600))}" if cmd in ("--rcheck", "--update") else ""
        return f"{_bang(draw)}{cmd}{extra} --name {draw(st.sampled_from(['DEFAULT', 'ssh', 'x1']))}"

    @st.composite
    def iprange(draw: st.DrawFn) -> str:
        a, b = sorted([draw(st.ip_addresses(v=4)), draw(st.ip_addresses(v=4))])
        return f"{_bang(draw)}--src-range {a}-{b}"

    return {
        "tcp": ("tcp", tcp()),
        "udp": ("udp", udp()),
        "icmp": ("icmp", icmp()),
        "conntrack": (None, conntrack()),
        "state": (None, states.map(lambda s: f"--state {s}")),
        "addrtype": (None, addrtype()),
        "multiport": ("tcp", multiport()),
        "comment": (None, _text().map(lambda s: f'--comment "{s}"')),
        "mark": (None, mark()),
        "connmark": (None, mark()),
        "physdev": (None, physdev()),
        "iprange": (None, iprange()),
        "mac": (None, st.integers(0, 2**48 - 1).map(lambda m: "--mac-source " + ":".join(
            f"{(m >> s) & 0xFF:02x}" for s in range(40, -1, -8)))),
        "statistic": (None, statistic()),
        "set": (None, st.sampled_from(["src", "dst", "src,dst"]).map(lambda d: f"--match-set kube-set {d}")),
        "limit": (None, limit()),
        "recent": (None, recent()),
        "length": (None, _port_range().map(lambda r: f"--length {r}")),
        "ttl": (None, st.integers(0, 255).map(lambda t: f"--ttl-gt {t}")),
        "tos": (None, st.integers(0, 255).map(lambda t: f"--tos 0x{t:02x}/0xff")),
        "dscp": (None, st.integers(0, 63).map(lambda d: f"--dscp {d}")),
        "pkttype": (None, st.sampled_from(["unicast", "broadcast", "multicast"]).map(lambda p: f"--pkt-type {p}")),
        "owner": (None, st.integers(0, 65535).map(lambda u: f"--uid-owner {u}")),
    }


_MODULES = _module_options()


def _check_names(modules: tuple[str, ...] | None) -> tuple[str, ...]:
    if modules is None:
        return tuple(_MODULES)
    unknown = [m for m in modules if m not in _MODULES]
    if unknown:
        raise InvalidArgument(f"modules={modules!r} names unknown match modules {unknown}; "
                              f"choose from {sorted(_MODULES)}")
    if not modules:
        raise InvalidArgument("modules=() leaves nothing to generate")
    return tuple(modules)


@st.composite
def _match_spec(draw: st.DrawFn, names: tuple[str, ...]) -> tuple[str | None, str]:
    name = draw(st.sampled_from(names))
    proto, opts = _MODULES[name]
    return proto, f"-m {name} {draw(opts)}"


def matches(*, modules: tuple[str, ...] | None = None) -> st.SearchStrategy:
    """Match objects (with the ``-p`` they need already satisfied by :func:`rules`)."""
    names = _check_names(modules)
    from simnet.netfilter.rule import Rule

    def build(spec: tuple[str | None, str]) -> object:
        proto, text = spec
        return Rule.parse(f"-p {proto} {text}" if proto else text).matches[0]

    return _match_spec(names).map(build)


def _target_spec(table: str) -> st.SearchStrategy[tuple[str | None, str]]:
    common: list[st.SearchStrategy[tuple[str | None, str]]] = [
              st.just((None, "-j ACCEPT")), st.just((None, "-j RETURN")),
              _text().map(lambda p: (None, f'-j LOG --log-prefix "{p[:29]}"')),
              st.integers(0, 7).map(lambda lv: (None, f"-j LOG --log-level {lv}")),
              st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)).map(
                  lambda vm: (None, f"-j MARK --set-xmark 0x{vm[0]:x}/0x{vm[1]:x}")),
              st.sampled_from(["--save-mark", "--restore-mark"]).map(lambda m: (None, f"-j CONNMARK {m}")),
              st.integers(1, 65535).map(lambda g: (None, f"-j NFLOG --nflog-group {g}"))]
    if table != "nat":
        common.append(st.just((None, "-j DROP")))
    if table == "filter":
        common.append(st.sampled_from(["icmp-port-unreachable", "icmp-host-prohibited", "icmp-net-unreachable"]).map(
            lambda w: (None, f"-j REJECT --reject-with {w}")))
        common.append(st.just(("tcp", "-j REJECT --reject-with tcp-reset")))
    if table == "nat":
        common += [
            st.tuples(_ip(), _PORT).map(lambda a: ("tcp", f"-j DNAT --to-destination {a[0]}:{a[1]}")),
            _ip().map(lambda a: (None, f"-j SNAT --to-source {a}")),
            st.just((None, "-j MASQUERADE")),
            _PORT.map(lambda p: ("udp", f"-j MASQUERADE --to-ports {p} --random-fully")),
            _PORT.map(lambda p: ("tcp", f"-j REDIRECT --to-ports {p}")),
        ]
    if table == "raw":
        from simnet.netfilter.targets import CT_EVENTS

        zone = st.tuples(st.sampled_from(["--zone", "--zone-orig", "--zone-reply"]),
                         st.one_of(st.integers(0, 65535).map(str), st.just("mark"))).map(" ".join)
        events = st.lists(st.sampled_from(CT_EVENTS), min_size=1, unique=True).map(
            lambda e: f"--ctevents {','.join(e)}")
        ct = st.lists(st.one_of(st.just("--notrack"), zone, events, st.just("--expevents new")), max_size=3,
                      unique_by=lambda o: o.split()[0].split("-zone")[0]).map(" ".join)
        common += [st.just((None, "-j NOTRACK")), ct.map(lambda o: (None, f"-j CT {o}".rstrip())),
                   st.just((None, "-j TRACE"))]
    if table == "mangle":
        common += [st.just(("tcp", "-m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu")),
                   st.integers(0, 63).map(lambda d: (None, f"-j DSCP --set-dscp {d}"))]
    return st.one_of(common)


def targets(*, table: str = "filter") -> st.SearchStrategy:
    """Target objects valid in ``table`` (no jumps: those need chains, see :func:`rules`)."""
    if table not in ("filter", "nat", "mangle", "raw"):
        raise InvalidArgument(f"{table=} is not one of filter, nat, mangle, raw")
    from simnet.netfilter.rule import Rule

    return _target_spec(table).map(lambda s: Rule.parse(f"-p {s[0]} {s[1]}" if s[0] else s[1]).target)


@st.composite
def _rule_text(draw: st.DrawFn, table: str, jump_to: tuple[str, ...], max_matches: int) -> str:
    parts: list[str] = []
    protos: set[str] = set()
    specs = draw(st.lists(_match_spec(tuple(_MODULES)), max_size=max_matches))
    tproto, ttext = draw(_target_spec(table)) if not jump_to or draw(st.booleans()) else (None, "")
    if not ttext:
        ttext = f"-{draw(st.sampled_from(['j', 'g']))} {draw(st.sampled_from(jump_to))}"
    for proto, _ in specs + [(tproto, "")]:
        if proto:
            protos.add(proto)
    if len(protos) > 1:
        specs = [s for s in specs if s[0] in (None, tproto)] if tproto else [s for s in specs if s[0] is None]
        protos = {tproto} if tproto else set()
    if draw(st.booleans()):
        parts.append(f"{_bang(draw)}-s {draw(_net())}")
    if draw(st.booleans()):
        parts.append(f"{_bang(draw)}-d {draw(_net())}")
    if draw(st.booleans()):
        parts.append(f"{_bang(draw)}-i {draw(_IFACES)}")
    if protos:
        parts.append(f"-p {protos.pop()}")
    elif draw(st.booleans()):
        parts.append(f"{_bang(draw)}-p {draw(st.sampled_from(['tcp', 'udp', 'icmp', 'gre', '47', 'sctp']))}")
    parts.extend(s for _, s in specs)
    parts.append(ttext)
    return " ".join(parts)


def rules(*, table: str = "filter", jump_to: tuple[str, ...] = (), max_matches: int = 3) -> st.SearchStrategy:
    """Valid canonical :class:`~simnet.netfilter.rule.Rule` values (they round-trip)."""
    if table not in ("filter", "nat", "mangle", "raw"):
        raise InvalidArgument(f"{table=} is not one of filter, nat, mangle, raw")
    if not 0 <= max_matches <= 8:
        raise InvalidArgument(f"{max_matches=} must be between 0 and 8")
    from simnet.netfilter.rule import Rule

    return _rule_text(table, tuple(jump_to), max_matches).map(Rule.parse)


_CHAIN_NAMES = st.from_regex(r"\A[A-Z][A-Z0-9_-]{0,27}\Z", fullmatch=True).filter(
    lambda n: n not in ("ACCEPT", "DROP", "RETURN", "QUEUE", "INPUT", "OUTPUT", "FORWARD", "PREROUTING",
                        "POSTROUTING") and n not in EXTENSION_TARGETS)


def chains(*, min_size: int = 0, max_size: int = 5) -> st.SearchStrategy[list[str]]:
    """Lists of distinct valid user-chain names."""
    if not 0 <= min_size <= max_size:
        raise InvalidArgument(f"need 0 <= {min_size=} <= {max_size=}")
    return st.lists(_CHAIN_NAMES, min_size=min_size, max_size=max_size, unique=True)


@st.composite
def rulesets(draw: st.DrawFn, *, tables: tuple[str, ...] = ("filter", "nat"), max_chains: int = 4,
             max_rules: int = 6) -> object:
    """A :class:`~simnet.netfilter.ruleset.Ruleset` whose user chains jump only "downwards"
    (to chains later in a random order), so it never loops and the kernel would accept it."""
    if not set(tables) <= {"filter", "nat", "mangle", "raw"}:
        raise InvalidArgument(f"{tables=} may only name filter, nat, mangle, raw")
    from simnet.netfilter.ruleset import BUILTIN_CHAINS, Ruleset, RulesetError, Table

    rs = Ruleset()
    for tname in tables:
        t = rs.table(tname)
        names = draw(chains(max_size=max_chains))
        for name in names:
            t.new_chain(name)
        for i, name in enumerate(list(BUILTIN_CHAINS[Table(tname)]) + names):
            below = tuple(names[max(0, i - len(BUILTIN_CHAINS[Table(tname)]) + 1):])
            for r in draw(st.lists(rules(table=tname, jump_to=below), max_size=max_rules)):
                if (name in ("INPUT", "PREROUTING") and r.out_iface) or (
                        name in ("OUTPUT", "POSTROUTING") and r.in_iface):
                    continue
                try:
                    t.append(name, r)
                except RulesetError:  # e.g. -m tcp under an inverted -p: the kernel refuses it too
                    continue
        if tname != "nat" and draw(st.booleans()):
            t.set_policy(BUILTIN_CHAINS[Table(tname)][0], "DROP")
    return rs


# =========================================================================== addresses and packets

from ipaddress import IPv4Address, IPv4Network  # noqa: E402

from simnet.addresses import IPProto, MacAddress, Port  # noqa: E402
from simnet.packet import Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, Udp  # noqa: E402

st.register_type_strategy(Port, st.integers(1, 65535).map(Port))


def mac_addresses(*, unicast: bool = True) -> st.SearchStrategy[MacAddress]:
    """MAC addresses; by default locally administered unicast, as the kernel's random ones."""
    raw = st.integers(0, 2**48 - 1)
    if unicast:
        raw = raw.map(lambda n: (n & ~(1 << 40)) | (1 << 41))
    return raw.map(MacAddress)


def ports(*, min_port: int = 1, max_port: int = 65535) -> st.SearchStrategy[int]:
    if not 0 <= min_port <= max_port <= 65535:
        raise InvalidArgument(f"need 0 <= min_port <= max_port <= 65535, got {min_port=} {max_port=}")
    return st.integers(min_port, max_port)


def ipv4_addresses(*, network: str | IPv4Network = "0.0.0.0/0") -> st.SearchStrategy[IPv4Address]:
    try:
        net = IPv4Network(network)
    except ValueError:
        raise InvalidArgument(f"{network=} is not an IPv4 network") from None
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(IPv4Address)


def packets(*, src: str | IPv4Network = "10.0.0.0/8", dst: str | IPv4Network = "10.0.0.0/8",
            protos: tuple[str, ...] = ("tcp", "udp", "icmp")) -> st.SearchStrategy[Packet]:
    """IPv4 datagrams (no Ethernet header): TCP with any flags, UDP, ICMP echo requests/replies."""
    unknown = set(protos) - {"tcp", "udp", "icmp"}
    if not protos or unknown:
        raise InvalidArgument(f"protos must be a non-empty subset of tcp/udp/icmp, got {protos!r}")

    @st.composite
    def build(draw: st.DrawFn) -> Packet:
        proto = draw(st.sampled_from(protos))
        ip = IPv4(src=draw(ipv4_addresses(network=src)), dst=draw(ipv4_addresses(network=dst)),
                  proto=IPProto[proto.upper()], ttl=draw(st.integers(1, 64)))
        if proto == "tcp":
            l4: Tcp | Udp | Icmp = Tcp(sport=draw(ports()), dport=draw(ports()),
                                       flags=TcpFlags(draw(st.integers(0, 255))))
        elif proto == "udp":
            l4 = Udp(sport=draw(ports()), dport=draw(ports()))
        else:
            l4 = Icmp(type=draw(st.sampled_from([IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY])),
                      id=draw(st.integers(0, 0xFFFF)), seq=draw(st.integers(0, 0xFFFF)))
        return Packet(ip=ip, l4=l4)

    return build()


# =========================================================================== routes

from simnet.routing import Route, RouteTable, RouteType  # noqa: E402


def routes(*, devs: tuple[str, ...] = ("eth0", "eth1"), table: int = RouteTable.MAIN,
           types: tuple[RouteType, ...] = tuple(RouteType)[:1] + (RouteType.BLACKHOLE, RouteType.UNREACHABLE,
                                                                   RouteType.PROHIBIT)) -> st.SearchStrategy[Route]:
    """Route values as ``ip route`` would hold them (unicast via a device, or a reject type)."""
    if not devs:
        raise InvalidArgument("devs must name at least one device")

    @st.composite
    def build(draw: st.DrawFn) -> Route:
        net = IPv4Network((draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 32))), strict=False)
        kind = draw(st.sampled_from(types))
        metric = draw(st.sampled_from([0, 0, 10, 100]))
        if kind is RouteType.UNICAST:
            via = draw(st.none() | ipv4_addresses(network="10.0.0.0/8"))
            return Route(dst=net, dev=draw(st.sampled_from(devs)), via=via, metric=metric, table=table)
        return Route(dst=net, type=kind, metric=metric, table=table)

    return build()


def routing_tables(*, max_size: int = 20, **kwargs: Any) -> st.SearchStrategy[list[Route]]:
    if max_size < 0:
        raise InvalidArgument(f"{max_size=} must be >= 0")
    return st.lists(routes(**kwargs), max_size=max_size)


# =========================================================================== worlds


@st.composite
def _world(draw: st.DrawFn, min_netns: int, max_netns: int, subnets: int, bridge: bool) -> "object":
    from ipaddress import IPv4Interface

    from simnet.world import World

    w = World(seed=draw(st.integers(0, 2**16)))
    names = [f"n{i}" for i in range(draw(st.integers(min_netns, max_netns)))]
    for name in names:
        ns = w.add_netns(name)
        ns.set_up("lo", True)
        if draw(st.booleans()):
            ns.sysctls.set("net.ipv4.ip_forward", "1")
    bridge_ns = draw(st.sampled_from(names)) if bridge else None
    if bridge_ns is not None:
        w[bridge_ns].link_add("br0", "bridge")
        w[bridge_ns].set_up("br0", True)
    links = draw(st.lists(st.tuples(st.integers(0, len(names) - 1), st.integers(0, len(names) - 1),
                                    st.integers(0, subnets - 1), st.booleans()), min_size=1, max_size=2 * len(names)))
    for k, (i, j, subnet, to_bridge) in enumerate(links):
        a, b = w[names[i]], w[names[j]]
        ea, eb = f"e{k}a", f"e{k}b"
        a.link_add(ea, "veth", peer=eb, peer_netns=b)
        a.set_up(ea, True)
        b.set_up(eb, True)
        if to_bridge and bridge_ns == names[i]:
            a.set_master(ea, "br0")
            if not any(x.dev == "br0" for x in a.addrs):
                a.addr_add("br0", IPv4Interface(f"10.{subnet}.0.254/24"))
        else:
            a.addr_add(ea, IPv4Interface(f"10.{subnet}.0.{2 * k + 1}/24"))
        b.addr_add(eb, IPv4Interface(f"10.{subnet}.0.{2 * k + 2}/24"))
        if draw(st.booleans()):
            try:
                b.route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=IPv4Address(f"10.{subnet}.0.{2 * k + 1}")))
            except OSError:
                pass  # the gateway is not on-link (it sits behind the bridge): like `ip route add`, refused
    return w


def worlds(*, min_netns: int = 2, max_netns: int = 6, subnets: int = 4, bridge: bool = True) -> st.SearchStrategy:
    """Random small worlds: namespaces joined by veths (and one bridge), addressed from
    10.<subnet>.0.0/24, some forwarding, some with default routes.  Names are n0, n1, ...;
    the bridge (if any) is br0 in one of them.
    """
    if not 1 <= min_netns <= max_netns:
        raise InvalidArgument(f"need 1 <= min_netns <= max_netns, got {min_netns=} {max_netns=}")
    if not 1 <= subnets <= 256:
        raise InvalidArgument(f"{subnets=} must be in 1..256")
    return _world(min_netns, max_netns, subnets, bridge)


# =========================================================================== Docker hosts

#: Images with what their default process listens on (simnet.docker.images.IMAGES), listeners first
#: so that shrinking ends on one that answers.
DOCKER_IMAGES: dict[str, int | None] = {"nginx": 80, "redis": 6379, "registry:2": 5000, "httpd": 80,
                                        "busybox": None}
#: Daemon options drawn (dockerd's flags as a script gives them).
DOCKERD_OPTIONS = ("--userland-proxy=false", "--icc=false", "--ip-masq=false", "--iptables=false")


@dataclass(frozen=True, slots=True)
class DockerNetwork:
    """``docker network create --subnet SUBNET [--internal] [-o ...enable_icc=false] NAME``."""

    name: str
    subnet: str
    internal: bool = False
    icc: bool = True

    def command(self) -> str:
        words = ["docker network create", f"--subnet {self.subnet}"]
        if self.internal:
            words.append("--internal")
        if not self.icc:
            words.append("-o com.docker.network.bridge.enable_icc=false")
        return " ".join(words + [self.name])


@dataclass(frozen=True, slots=True)
class DockerContainer:
    """``docker run -d --name NAME [--network NET] [-p SPEC ...] [--restart R] IMAGE``."""

    name: str
    image: str
    network: str = "bridge"
    publish: tuple[str, ...] = ()
    restart: str = "no"

    def command(self) -> str:
        words = ["docker run -d", f"--name {self.name}"]
        if self.network != "bridge":
            words.append(f"--network {self.network}")
        words += [f"-p {p}" for p in self.publish]
        if self.restart != "no":
            words.append(f"--restart {self.restart}")
        return " ".join(words + [self.image])


@dataclass(frozen=True, slots=True)
class DockerHost:
    """A Docker host on a LAN with one outside machine, as a script.

    ``host`` (``eth0`` = ``host_addr``/24) and ``outside`` (``outside_addr``) share a veth
    link; the host runs ``dockerd`` of ``era`` with ``options``, then ``firewall`` (lines;
    a bare ``iptables ...`` runs in the host), then creates ``networks`` and runs
    ``containers``. :meth:`script` is the text, :meth:`build` runs it.
    """

    era: str = "29"
    options: tuple[str, ...] = ()
    networks: tuple[DockerNetwork, ...] = ()
    containers: tuple[DockerContainer, ...] = ()
    host: str = "host"
    outside: str = "outside"
    host_addr: str = "203.0.113.10"
    outside_addr: str = "203.0.113.20"

    def script(self, *, firewall: str = "", before_docker: str = "") -> str:
        """The set-up script; ``before_docker`` lines run in the host before the daemon starts
        (a host service such as ``nc -l -k -p 22 &``), ``firewall`` lines right after it."""
        h, o = self.host, self.outside
        lines = [f"ip netns add {h}", f"ip netns add {o}", f"ip -n {h} link set lo up", f"ip -n {o} link set lo up",
                 f"ip -n {h} link add eth0 type veth peer name eth0 netns {o}",
                 f"ip -n {h} addr add {self.host_addr}/24 dev eth0", f"ip -n {o} addr add {self.outside_addr}/24 dev eth0",
                 f"ip -n {h} link set eth0 up", f"ip -n {o} link set eth0 up"]
        lines += [self._in_host(x) for x in before_docker.splitlines() if x.strip()]
        lines.append(f"ip netns exec {h} dockerd --era {self.era}{''.join(' ' + o for o in self.options)} &")
        lines += [self._in_host(x) for x in firewall.splitlines() if x.strip()]
        lines += [f"ip netns exec {h} {n.command()}" for n in self.networks]
        lines += [f"ip netns exec {h} {c.command()}" for c in self.containers]
        return "\n".join(lines) + "\n"

    def _in_host(self, line: str) -> str:
        line = line.strip()
        return line if line.startswith(("ip ", "#")) else f"ip netns exec {self.host} {line}"

    def build(self, *, firewall: str = "", before_docker: str = "") -> "object":
        """Run :meth:`script`: the :class:`~simnet.script.interpreter.Report` (its ``world``)."""
        from simnet.script.interpreter import run_script

        return run_script(self.script(firewall=firewall, before_docker=before_docker), filename="<docker host>")


@st.composite
def _docker_container(draw: st.DrawFn, networks: int, host_ports: tuple[int, ...]) -> DockerContainer:
    image = draw(st.sampled_from(list(DOCKER_IMAGES)), label="image")
    network = draw(st.integers(-1, networks - 1), label="network")  # -1: the default bridge
    publish = []
    for proto, port, other, cport, local in draw(st.lists(
            st.tuples(st.sampled_from(["tcp", "tcp", "tcp", "tcp", "udp"]), st.sampled_from(host_ports),
                      st.booleans(), st.sampled_from(host_ports), st.booleans()), max_size=2), label="publish"):
        own = DOCKER_IMAGES[image]
        target = cport if other or own is None else own
        publish.append(f"{'127.0.0.1:' if local else ''}{port}:{target}{'/udp' if proto == 'udp' else ''}")
    restart = draw(st.sampled_from(["no", "always", "unless-stopped"]), label="restart")
    return DockerContainer(name="", image=image, network="bridge" if network < 0 else f"net{network}",
                           publish=tuple(publish), restart=restart)


@st.composite
def _docker_host(draw: st.DrawFn, eras: tuple[str, ...], max_networks: int, max_containers: int,
                 host_ports: tuple[int, ...], options: bool) -> DockerHost:
    era = draw(st.sampled_from(eras), label="era")
    opts = tuple(o for o in DOCKERD_OPTIONS if options and draw(st.booleans(), label=o))
    nets = tuple(DockerNetwork(name=f"net{i}", subnet=f"10.10.{i}.0/24", internal=internal, icc=not no_icc)
                 for i, (internal, no_icc) in enumerate(draw(st.lists(st.tuples(st.booleans(), st.booleans()),
                                                                       max_size=max_networks), label="networks")))
    drawn = draw(st.lists(_docker_container(len(nets), host_ports), max_size=max_containers),
                 label="containers")
    taken: set[tuple[str, str]] = set()
    containers = []
    for i, c in enumerate(drawn):
        # the daemon refuses a host port published twice ("port is already allocated"): keep the first
        publish = []
        for spec in c.publish:
            key = (spec.split(":")[-2], "udp" if spec.endswith("/udp") else "tcp")
            if key not in taken:
                taken.add(key)
                publish.append(spec)
        containers.append(DockerContainer(name=f"c{i}", image=c.image, network=c.network, publish=tuple(publish),
                                          restart=c.restart))
    return DockerHost(era=era, options=opts, networks=nets, containers=tuple(containers))


def docker_hosts(*, eras: tuple[str, ...] = ("29", "28", "27"), max_networks: int = 2, max_containers: int = 3,
                 host_ports: tuple[int, ...] = (22, 80, 443, 2222, 8080), options: bool = True
                 ) -> st.SearchStrategy[DockerHost]:
    """Random Docker hosts (:class:`DockerHost`): an era, daemon options (``--userland-proxy=false``,
    ``--icc=false``, ``--ip-masq=false``, ``--iptables=false``), up to ``max_networks`` user
    networks (internal or not, ICC or not) and up to ``max_containers`` containers of images
    that listen (nginx, redis, registry, httpd) or not (busybox), on the default bridge or a user
    network, each publishing up to two ports (``[127.0.0.1:]HOST:CONTAINER[/udp]``, host ports from
    ``host_ports``, never one taken twice), with a restart policy.

    Shrinks towards the first era, no options, no networks, fewer containers, nginx publishing
    its own port 80.
    """
    if not eras or any(e not in ("1.9", "27", "28", "29") for e in eras):
        raise InvalidArgument(f"eras must name Docker eras among 1.9, 27, 28, 29, got {eras!r}")
    if not 0 <= max_networks <= 200 or not 0 <= max_containers <= 50:
        raise InvalidArgument(f"need 0 <= max_networks <= 200 and 0 <= max_containers <= 50, got "
                              f"{max_networks=} {max_containers=}")
    if not host_ports or any(not 0 < p < 65536 for p in host_ports):
        raise InvalidArgument(f"host_ports must be TCP/UDP ports, got {host_ports!r}")
    return _docker_host(tuple(eras), max_networks, max_containers, tuple(host_ports), options)
