"""Public Hypothesis strategies for simnet values.

Importable without pytest.  Every strategy takes keyword-only bounds and
validates them eagerly, raising :class:`hypothesis.errors.InvalidArgument`.

Sections: netfilter (rules and rulesets).  Packets, routes and worlds
strategies live in their own sections below as they are added.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = ["matches", "targets", "rules", "chains", "rulesets"]


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
    common = [st.just((None, "-j ACCEPT")), st.just((None, "-j RETURN")),
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
        common += [st.just((None, "-j NOTRACK")), st.just((None, "-j CT --notrack")),
                   st.integers(0, 65535).map(lambda z: (None, f"-j CT --zone {z}")), st.just((None, "-j TRACE"))]
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
                        "POSTROUTING"))


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
