"""Assertions for users' own property tests: "can A reach B?" with the reason when it cannot.

Use them with :mod:`simnet.strategies` or with worlds built from scripts::

    from simnet.testing import assert_reachable, assert_unreachable
    report = run_script(open("my-firewall.sh").read())
    assert_reachable(report.world, "client", "203.0.113.10", port=8080, seen_from="203.0.113.20")
    assert_unreachable(report.world, "client", "203.0.113.10", port=22)

A failed assertion carries :func:`simnet.explain.explain_probe`'s diagnosis: where the
packet stopped and which rule stopped it. :func:`replay_script` turns a failure (and the script
or world it happened in) into a script that ``simnet run`` replays, failing the same way, and
:func:`world_script` writes a world built through the Python API as such a script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Iterable

from simnet.probe import ProbeResult, ping, tcp_connect, udp_send

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.routing import FibRule, Route
    from simnet.world import World

__all__ = ["ReachabilityError", "assert_reachable", "assert_unreachable", "probe", "probe_command", "reachability",
           "replay_script", "world_script"]


class ReachabilityError(AssertionError):
    """A reachability assertion failed; ``result`` holds the probe and its traces, ``wanted``
    what the assertion wanted (``"reachable"`` or ``"unreachable"``), ``seen_from`` the source
    the receiver should have seen."""

    def __init__(self, message: str, result: ProbeResult, *, wanted: str = "reachable",
                 seen_from: IPv4Address | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.wanted = wanted
        self.seen_from = seen_from


def probe(world: "World", src: str, dst: str | IPv4Address, *, port: int | None = None, proto: str | None = None,
          timeout: float = 1.0) -> ProbeResult:
    """One probe: TCP connect when a port is given (UDP with proto='udp'), else ping."""
    proto = proto or ("tcp" if port is not None else "icmp")
    if proto == "icmp":
        return ping(world, src, dst, timeout=timeout)
    if port is None:
        raise ValueError(f"a {proto} probe needs a port")
    if proto == "tcp":
        return tcp_connect(world, src, dst, port, timeout=timeout)
    if proto == "udp":
        return udp_send(world, src, dst, port, timeout=timeout)
    raise ValueError(f"unknown proto {proto!r}: want icmp, tcp or udp")


def _why(world: "World", result: ProbeResult) -> str:
    from simnet.explain import explain_probe

    return explain_probe(result, world=world).text()


def assert_reachable(world: "World", src: str, dst: str | IPv4Address, *, port: int | None = None,
                     proto: str | None = None, seen_from: str | IPv4Address | None = None,
                     timeout: float = 1.0) -> ProbeResult:
    """Assert the probe succeeds (reply, connected, delivered), optionally that the receiver
    saw ``seen_from`` as the source (to catch an unwanted MASQUERADE)."""
    result = probe(world, src, dst, port=port, proto=proto, timeout=timeout)
    want = IPv4Address(seen_from) if seen_from is not None else None
    if not result.ok:
        raise ReachabilityError(f"{src} cannot reach {dst}{f':{port}' if port else ''}: {_why(world, result)}",
                                result, seen_from=want)
    if want is not None and (result.received is None or result.received.src != want):
        seen = result.received.src if result.received else "nothing"
        raise ReachabilityError(f"{src} reaches {dst}, but the receiver saw {seen}, not {seen_from}", result,
                                seen_from=want)
    return result


def assert_unreachable(world: "World", src: str, dst: str | IPv4Address, *, port: int | None = None,
                       proto: str | None = None, timeout: float = 1.0) -> ProbeResult:
    """Assert the probe fails (timeout, refused, unreachable, error...)."""
    result = probe(world, src, dst, port=port, proto=proto, timeout=timeout)
    if result.ok:
        seen = f" (received in {result.received.ns} from {result.received.src})" if result.received else ""
        raise ReachabilityError(f"{src} reaches {dst}{f':{port}' if port else ''}{seen}", result,
                                wanted="unreachable")
    return result


@dataclass(frozen=True, slots=True)
class Reach:
    src: str
    dst: IPv4Address
    outcome: str


def reachability(world: "World", sources: Iterable[str], destinations: Iterable[str | IPv4Address], *,
                 port: int | None = None, proto: str | None = None) -> list[Reach]:
    """A reachability sweep: every source against every destination, in order."""
    dests = [IPv4Address(d) for d in destinations]
    return [Reach(s, d, probe(world, s, d, port=port, proto=proto).outcome) for s in sources for d in dests]


# ----------------------------------------------------------------------------- replayable scripts

#: What a probe that was wanted to succeed should have done, by protocol.
_SUCCESS = {"icmp": "reply", "tcp": "connected", "udp": "delivered"}
#: What "unreachable" most often means when a firewall drops: the replay's expectation.
_DROPPED = {"icmp": "timeout", "tcp": "timeout", "udp": "lost"}


def probe_command(result: ProbeResult) -> str:
    """The script line that runs the same probe as ``result`` (1 s timeout, as :func:`probe` does).

    >>> from ipaddress import IPv4Address as A
    >>> probe_command(ProbeResult(outcome="connected", proto="tcp", netns="out", dst=A("10.0.0.1"), dport=22))
    'ip netns exec out nc -z -w 1 10.0.0.1 22'
    """
    if result.proto == "icmp":
        return f"ip netns exec {result.netns} ping -c 1 -W 1 {result.dst}"
    if result.proto == "tcp":
        return f"ip netns exec {result.netns} nc -z -w 1 {result.dst} {result.dport}"
    return f"echo x | ip netns exec {result.netns} nc -u -w 1 {result.dst} {result.dport}"


def replay_script(setup: "str | World", failure: ReachabilityError) -> str:
    """A script that ``simnet run`` replays to show ``failure`` again: the set-up (a script's text,
    or a world written out by :func:`world_script`), then the failing probe with an ``# expect:``
    line saying what the assertion wanted, so the run fails (exit 1) for as long as the mistake
    is there and passes once it is fixed.

    For a probe that should not have got through, the expectation is what a DROP gives
    (``timeout``, ``lost`` for UDP); a fix that REJECTs instead changes that line.
    """
    text = setup if isinstance(setup, str) else world_script(setup)
    r = failure.result
    if failure.wanted == "unreachable":
        want = _DROPPED[r.proto]
        why = (f"# wanted: {r.netns} must not reach {r.dst}{f':{r.dport}' if r.dport else ''}; "
               f"simnet saw {r.outcome}")
    else:
        want = _SUCCESS[r.proto]
        if failure.seen_from is not None:
            want += f" from {failure.seen_from}"
        why = f"# wanted: {r.netns} reaches {r.dst}{f':{r.dport}' if r.dport else ''}; simnet saw {r.outcome}"
    return f"{text.rstrip()}\n{why}\n{probe_command(r)}\n# expect: {want}\n"


def world_script(world: "World") -> str:
    """The world's configuration as a script of ``ip``/``sysctl``/``iptables-restore``/``nc -l``
    lines that ``simnet run`` (and the kernel runner) builds again: namespaces, links (veth,
    bridge, dummy) with masters, MTUs and MAC addresses set by hand, addresses, routes of every
    table, policy rules, sysctls that differ from a new namespace's, iptables tables and
    listeners. Transient state (conntrack, neighbour caches, counters) is left out.

    Raises ValueError for what a script of these forms cannot say (VXLAN devices, ipsets,
    permanent neighbours, docker-proxy listeners, deleted default policy rules): write such a
    world as the script that built it, which :func:`replay_script` also takes.
    """
    from simnet.arp import NudState
    from simnet.link import LinkKind
    from simnet.netfilter.matches.xt_set import SetMatch
    from simnet.netfilter.syntax import format_save
    from simnet.routing import DEFAULT_RULES

    out: list[str] = []
    spaces = list(world.namespaces.values())
    for ns in spaces:
        out.append(f"ip netns add {ns.name}")
    for ns in spaces:
        if ns.ipsets:
            raise ValueError(f"world_script: {ns.name} has ipsets, which these lines cannot write")
        if any(e.state is NudState.PERMANENT for e in ns.neigh._entries.values()):
            raise ValueError(f"world_script: {ns.name} has permanent neighbour entries")
        for lst in ns.sockets.listeners:
            if hasattr(lst.seen, "proxy"):
                raise ValueError(f"world_script: {ns.name} runs docker-proxy on port {lst.port}: replay the docker "
                                 "script instead")
        out += _sysctl_lines(ns, devices=False)
    done: set[int] = set()
    for ns in spaces:
        for dev in sorted(ns.devices.values(), key=lambda d: d.ifname):
            if id(dev) in done or dev.kind is LinkKind.LOOPBACK:
                continue
            done.add(id(dev))
            if dev.kind is LinkKind.VETH and dev.peer is not None:
                done.add(id(dev.peer))
                where = "" if dev.peer.netns is ns else f" netns {dev.peer.netns.name}"
                out.append(f"ip -n {ns.name} link add {dev.ifname} type veth peer name {dev.peer.ifname}{where}")
            elif dev.kind in (LinkKind.BRIDGE, LinkKind.DUMMY):
                out.append(f"ip -n {ns.name} link add {dev.ifname} type {dev.kind}")
            else:
                raise ValueError(f"world_script: {ns.name}'s {dev.ifname} is a {dev.kind} device, which these "
                                 "lines cannot write")
    for ns in spaces:
        by_name = sorted(ns.devices.values(), key=lambda d: d.ifname)
        for dev in by_name:
            if dev.mac_set:
                out.append(f"ip -n {ns.name} link set {dev.ifname} address {dev.lladdr}")
            default_mtu = 65536 if dev.kind is LinkKind.LOOPBACK else 1500
            if dev.mtu_set or dev.kind is not LinkKind.BRIDGE and dev.mtu != default_mtu:
                # a bridge's own MTU only when set by hand (else it follows its ports'): MTUs matter (#15)
                out.append(f"ip -n {ns.name} link set {dev.ifname} mtu {dev.mtu}")
            if dev.master is not None:
                out.append(f"ip -n {ns.name} link set {dev.ifname} master {dev.master}")
        for a in ns.addrs:
            if a.dev == "lo" and a.interface.ip.is_loopback:
                continue
            out.append(f"ip -n {ns.name} addr add {a.interface.with_prefixlen} dev {a.dev}")
        for dev in by_name:
            if dev.admin_up:
                out.append(f"ip -n {ns.name} link set {dev.ifname} up")
        out += _sysctl_lines(ns, devices=True)
    for ns in spaces:
        missing = [r for r in DEFAULT_RULES if r not in ns.fib.rules]
        if missing:
            raise ValueError(f"world_script: {ns.name} deleted the default rule of priority {missing[0].priority}")
        for rule in ns.fib.rules:
            if rule not in DEFAULT_RULES:
                out.append(f"ip -n {ns.name} rule add " + _rule_words(rule))
        out += _route_lines(ns)
    for ns in spaces:
        named = {m.name for state in ns.ruleset.tables.values() for chain in state.chains.values()
                 for e in chain.entries for m in e.rule.matches if isinstance(m, SetMatch)}
        if named - set(ns.ipsets):  # the kernel refuses a rule naming a missing ipset
            raise ValueError(f"world_script: {ns.name}'s rules name ipset {min(named - set(ns.ipsets))}, "
                             "which does not exist")
        saved = re.sub(r"^(:\S+ \S+) \[\d+:\d+\]$", r"\1 [0:0]", format_save(ns.ruleset), flags=re.M)
        if saved.strip():
            out.append(f"ip netns exec {ns.name} iptables-restore <<'EOF'\n{saved.rstrip()}\nEOF")
        for lst in ns.sockets.listeners:
            if lst.open and lst.encap_rcv is None:
                addr = f" -s {lst.addr}" if lst.addr is not None else ""
                udp = " -u" if lst.proto == "udp" else ""
                out.append(f"ip netns exec {ns.name} nc{udp} -l -k{addr} -p {lst.port} &")
    return "\n".join(out) + "\n"


def _sysctl_lines(ns: "NetNamespace", *, devices: bool) -> list[str]:
    """``sysctl -w`` for the keys that differ from what the replay would have.

    Global keys (``devices`` False) are written right after ``ip netns add``, so devices made
    afterwards inherit ``conf.default.*`` as they did; per-device keys once the devices exist,
    compared with a scratch namespace that got the same global lines and the same device names.
    """
    from simnet.errors import SimnetError
    from simnet.world import World

    ref = World().add_netns(ns.name)
    mine = ns.sysctls
    globals_ = ref.sysctls.keys()
    lines: list[str] = []

    def write(key: str) -> None:
        value = mine.get(key)
        if key not in ref.sysctls or value == ref.sysctls.get(key):
            return
        try:
            ref.sysctls.set(key, value)
        except SimnetError:
            return  # read-only, or derived from something else written already
        quoted = f"'{value}'" if any(c.isspace() for c in value) else value
        lines.append(f"ip netns exec {ns.name} sysctl -q -w {key}={quoted}")

    # forwarding first: writing it resets other keys (inet_forward_change turns accept_redirects
    # off), so a later value of those is written after it; then again until nothing differs
    first = sorted(globals_, key=lambda k: "forwarding" not in k and k != "net.ipv4.ip_forward")
    for _ in range(3):
        for key in first:
            write(key)
    if not devices:
        return lines
    lines.clear()
    for name in ns.devices:
        if name not in ref.devices:
            ref.link_add(name, "dummy")
    for _ in range(3):
        for key in mine.keys():
            if key not in globals_ and ".ipv6." not in key:
                write(key)
    return lines


def _route_lines(ns: "NetNamespace") -> list[str]:
    """``ip route`` lines after which the replay's tables equal ``ns``'s, aliases in order.

    The replay gets the kernel's own routes (local, broadcast, prefix) from its address and
    link-up lines; a scratch namespace given the same lines shows which, and in what order.
    Every (table, prefix, metric) is then made equal: the rest of its aliases appended after
    the kernel's, or, where the kernel's own differ (another order of link-up, one deleted),
    those deleted and all appended in ``ns``'s order: the lookup takes the first usable alias
    (fib_table_lookup), so the order is part of the world.
    """
    from simnet.errors import SimnetError
    from simnet.routing import Route
    from simnet.tools.ip import ip
    from simnet.world import World

    scratch = World()
    ref = scratch.add_netns(ns.name)
    for name in ns.devices:
        if name not in ref.devices:
            ref.link_add(name, "dummy")
    for a in ns.addrs:
        if not (a.dev == "lo" and a.interface.ip.is_loopback):
            ref.addr_add(a.dev, a.interface)
    for name in sorted(ns.devices):
        if ns.devices[name].admin_up:
            ref.set_up(name, True)
    lines: list[str] = []

    def run(verb: str, r: Route) -> None:
        words = _route_words(r)
        lines.append(f"ip -n {ns.name} route {verb} {words}")
        try:
            ip(scratch, ["route", verb, *words.split()], netns=ns.name)
        except SimnetError as e:
            raise ValueError(f"world_script: {ns.name}'s route {r} cannot be written back: {e}") from None

    def same(xs: list[Route], ys: list[Route]) -> bool:
        return len(xs) == len(ys) and all(x.same_entry(y) for x, y in zip(xs, ys))

    unwanted: list[Route] = []
    for table in sorted(set(ns.fib.tables) | set(ref.fib.tables)):
        mine = ns.fib.tables.get(table, [])
        keys = dict.fromkeys([r.key() for r in mine] + [r.key() for r in ref.fib.tables.get(table, [])])
        for key in keys:
            want = [r for r in mine if r.key() == key]
            have = [r for r in ref.fib.tables.get(table, []) if r.key() == key]
            kept = [h for h in have if any(h.same_entry(w) for w in want)]
            unwanted += [h for h in have if h not in kept]
            # the longest run of the kernel's own aliases already in want's order stays; the
            # kernel's aliases after that run are deleted, then the aliases before the run are
            # prepended (last first) and those after it appended, in want's order
            j, i = next((j, i) for j in range(len(kept), -1, -1) for i in range(len(want) - j + 1)
                        if same(want[i:i + j], kept[:j]))
            for h in kept[j:]:
                run("del", h)
            present = len(have) > len(kept) - j
            for r in reversed(want[:i]):
                run("prepend" if present else "add", r)
                present = True
            for r in want[i + j:]:
                run("append" if present else "add", r)
                present = True
    for h in unwanted:  # last: a gateway route added above may have needed it on-link
        run("del", h)
    for table in set(ns.fib.tables) | set(ref.fib.tables):
        if not same(sorted(ns.fib.tables.get(table, []), key=_alias_order),
                    sorted(ref.fib.tables.get(table, []), key=_alias_order)):
            raise ValueError(f"world_script: {ns.name}'s routing table {table} cannot be written back")
    return lines


def _alias_order(r: "Route") -> tuple[int, int, int]:
    return (int(r.dst.network_address), r.dst.prefixlen, r.metric)


def _route_words(r: "Route") -> str:
    """The ``ip route add`` words that make ``r`` (and that ``ip route del`` finds it by)."""
    from simnet.link import Scope
    from simnet.routing import RouteProto, RouteTable, RouteType

    words: list[str] = []
    if r.type is not RouteType.UNICAST:
        words.append(str(r.type))
    words.append(str(r.dst))
    if r.via is not None:
        words += ["via", str(r.via)]
    if r.dev is not None and r.type in (RouteType.UNICAST, RouteType.LOCAL, RouteType.BROADCAST):
        words += ["dev", r.dev]
    if r.proto is not RouteProto.BOOT:
        words += ["proto", str(r.proto)]
    default_scope = (Scope.HOST if r.type is RouteType.LOCAL else Scope.LINK if r.type is RouteType.BROADCAST
                     or r.type is RouteType.UNICAST and r.via is None else Scope.GLOBAL)
    if r.scope is not default_scope:
        words += ["scope", str(r.scope)]
    if r.onlink:
        words.append("onlink")
    if r.src is not None:
        words += ["src", str(r.src)]
    if r.metric:
        words += ["metric", str(r.metric)]
    if r.table != RouteTable.MAIN:
        words += ["table", RouteTable.NAMES.get(r.table, str(r.table))]
    if r.advmss:
        words += ["advmss", *(["lock"] if r.advmss_lock else []), str(r.advmss)]
    return " ".join(words)


def _rule_words(rule: "FibRule") -> str:
    from simnet.routing import RouteTable

    words = ["priority", str(rule.priority)]
    for key, word in (("src", "from"), ("dst", "to"), ("iif", "iif"), ("oif", "oif")):
        value = getattr(rule, key)
        if value is not None:
            words += [word, str(value)]
    if rule.fwmark is not None:
        words += ["fwmark", f"{rule.fwmark:#x}/{rule.fwmask:#x}"]
    words += ["table", RouteTable.NAMES.get(rule.table, str(rule.table))]
    return " ".join(words)
