"""Hypothesis properties of routing, addresses and the packet walk."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from hypothesis import given, strategies as st

from simnet.probe import ping, tcp_connect
from simnet.routing import Route, RouteTable, RouteType, lookup_table
from simnet.trace import Disposition, Received
from simnet.world import World

networks = st.builds(
    lambda addr, plen: IPv4Network((addr, plen), strict=False),
    st.integers(0, 2**32 - 1), st.integers(0, 32),
)
routes = st.builds(lambda net, metric, i: Route(dst=net, dev=f"d{i}", metric=metric),
                   networks, st.integers(0, 3), st.integers(0, 5))


@given(st.lists(routes, max_size=30), st.integers(0, 2**32 - 1))
def test_longest_prefix_match_agrees_with_brute_force(table: list[Route], dst_int: int) -> None:
    dst = IPv4Address(dst_int)
    chosen = lookup_table(table, dst)
    covering = [r for r in table if dst in r.dst]
    if not covering:
        assert chosen is None
        return
    best_len = max(r.dst.prefixlen for r in covering)
    best_metric = min(r.metric for r in covering if r.dst.prefixlen == best_len)
    expected = next(r for r in covering if r.dst.prefixlen == best_len and r.metric == best_metric)
    assert chosen is expected


addr_ops = st.lists(st.tuples(st.booleans(), st.integers(0, 2), st.sampled_from([8, 16, 24, 30, 32]),
                              st.booleans()), max_size=25)


@given(addr_ops)
def test_addr_add_and_del_keep_local_and_connected_routes_consistent(ops: list[tuple[bool, int, int, bool]]) -> None:
    w = World()
    ns = w.add_netns("n")
    ns.link_add("v0", "veth", peer="v1")
    ns.set_up("v1", True)
    for add, host, plen, toggle in ops:
        iface = IPv4Interface(f"10.{host}.{host}.{host + 1}/{plen}")
        try:
            if add:
                ns.addr_add("v0", iface)
            else:
                ns.addr_del("v0", iface)
        except OSError:
            pass
        if toggle:
            ns.set_up("v0", not ns.devices["v0"].admin_up)
    up = ns.devices["v0"].admin_up
    addrs = [a for a in ns.addrs if a.dev == "v0"]
    local = {r.dst.network_address for r in ns.fib.routes(RouteTable.LOCAL)
             if r.type is RouteType.LOCAL and r.dev == "v0"}
    assert local == {a.address for a in addrs}
    connected = {(r.dst, r.src) for r in ns.fib.routes(RouteTable.MAIN) if r.dev == "v0"}
    expected = {(a.interface.network, a.address) for a in addrs
                if up and not a.secondary and a.interface.network.prefixlen < 32}
    assert connected == expected


@st.composite
def topologies(draw: st.DrawFn) -> tuple[World, list[str]]:
    """2-6 namespaces joined by veths and maybe a bridge, with addresses, routes, ip_forward."""
    w = World(seed=draw(st.integers(0, 100)))
    n = draw(st.integers(2, 6))
    names = [f"n{i}" for i in range(n)]
    for name in names:
        ns = w.add_netns(name)
        ns.set_up("lo", True)
        if draw(st.booleans()):
            ns.sysctls.set("net.ipv4.ip_forward", "1")
    bridge_ns = draw(st.sampled_from(names))
    w[bridge_ns].link_add("br0", "bridge")
    w[bridge_ns].set_up("br0", True)
    links = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, 3),
                                    st.booleans()), min_size=1, max_size=8))
    for k, (i, j, subnet, to_bridge) in enumerate(links):
        a, b = w[names[i]], w[names[j]]
        ea, eb = f"e{k}a", f"e{k}b"
        a.link_add(ea, "veth", peer=eb, peer_netns=b)
        a.set_up(ea, True)
        b.set_up(eb, True)
        if to_bridge and a is w[bridge_ns]:
            a.set_master(ea, "br0")
        else:
            a.addr_add(ea, IPv4Interface(f"10.{subnet}.0.{2 * k + 1}/24"))
        b.addr_add(eb, IPv4Interface(f"10.{subnet}.0.{2 * k + 2}/24"))
        if draw(st.booleans()):
            try:
                b.route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=IPv4Address(f"10.{subnet}.0.{2 * k + 1}")))
            except OSError:
                pass
    return w, names


@given(topologies(), st.integers(0, 3), st.integers(1, 16), st.booleans())
def test_every_walk_ends_once_and_never_revisits(topo: tuple[World, list[str]], subnet: int, host: int,
                                                 use_tcp: bool) -> None:
    w, names = topo
    dst = IPv4Address(f"10.{subnet}.0.{host}")
    result = (tcp_connect(w, names[0], dst, 80) if use_tcp else ping(w, names[0], dst, count=2, timeout=2))
    assert result.outcome in {"reply", "unreachable", "ttl-exceeded", "timeout", "connected", "refused", "error"}
    w.run(until=w.now + 10)
    for tid in w.tracer.ids_since(1):
        trace = w.tracer.trace(tid)
        assert trace.disposition is not Disposition.IN_FLIGHT
        seen = [(s.netns, s.dev, s.packet) for s in trace.steps if isinstance(s, Received)]
        assert len(seen) == len(set(seen))
