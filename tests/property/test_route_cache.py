"""The per-namespace route cache answers what an uncached FIB lookup answers, after any change.

``NetNamespace.lookup`` and ``addr_type`` remember their answers in ``Fib.cache``; every change
of a route, a rule, an address or a device's state clears it.  Random sequences of ``ip``
commands (some failing, as they would on the kernel) interleaved with lookups must give, at
every step, the answers of a FIB walked afresh, and probes the outcomes of a world whose cache
is cleared before every lookup.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import example, given, settings, strategies as st

from simnet import run_script
from simnet.script.expect import ScriptError
from simnet.netfilter.context import AddrType
from simnet.probe import ping
from simnet.routing import RouteType

BASE = """\
ip netns add a
ip netns add r
ip -n r link add d0 type dummy
ip -n r link add d1 type dummy
ip -n r link add v0 type veth peer name eth0 netns a
ip -n r addr add 10.0.0.1/24 dev v0
ip -n r link set v0 up
ip -n r link set d0 up
ip -n a addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n a route add default via 10.0.0.1
"""

DEVS = ["d0", "d1", "v0"]
NETS = ["10.0.0.0/24", "10.1.0.0/16", "10.1.2.0/24", "192.168.1.0/24", "default", "10.9.9.9/32"]
ADDRS = ["10.1.2.3/24", "10.1.0.1/16", "192.168.1.1/24", "10.9.9.9/32", "10.0.0.1/24"]

commands = st.one_of(
    st.builds(lambda dev, up: f"ip -n r link set {dev} {'up' if up else 'down'}", st.sampled_from(DEVS), st.booleans()),
    st.builds(lambda dev, a: f"ip -n r addr add {a} dev {dev}", st.sampled_from(DEVS), st.sampled_from(ADDRS)),
    st.builds(lambda dev, a: f"ip -n r addr del {a} dev {dev}", st.sampled_from(DEVS), st.sampled_from(ADDRS)),
    st.builds(lambda net, dev, metric: f"ip -n r route add {net} dev {dev} metric {metric}",
              st.sampled_from(NETS), st.sampled_from(DEVS), st.sampled_from([0, 5, 10])),
    st.builds(lambda net, gw: f"ip -n r route replace {net} via {gw}", st.sampled_from(NETS),
              st.sampled_from(["10.0.0.2", "10.1.2.9", "192.168.1.7"])),
    st.builds(lambda net: f"ip -n r route del {net}", st.sampled_from(NETS)),
    st.builds(lambda net, prio: f"ip -n r rule add to {net} table 100 priority {prio}",
              st.sampled_from(["10.1.0.0/16", "192.168.1.0/24"]), st.sampled_from([10, 20])),
    st.builds(lambda prio: f"ip -n r rule del priority {prio}", st.sampled_from([10, 20])),
    st.builds(lambda net, dev: f"ip -n r route add {net} dev {dev} table 100",
              st.sampled_from(["10.1.0.0/16", "default", "192.168.1.0/24"]), st.sampled_from(["d0", "v0"])),
    st.builds(lambda old, new: f"ip -n r link set {old} name {new}", st.sampled_from(["d1", "dx"]),
              st.sampled_from(["dx", "d1"])),
    st.builds(lambda dev: f"ip -n r link del {dev}", st.sampled_from(["d1", "dx"])),
)
DSTS = [IPv4Address(a) for a in ("10.0.0.2", "10.1.2.3", "10.1.9.9", "192.168.1.7", "10.9.9.9", "8.8.8.8",
                                 "10.0.0.1", "127.0.0.1", "10.0.0.255", "224.0.0.1")]


@settings(max_examples=80, deadline=None)
@given(st.lists(commands, min_size=1, max_size=12))
@example(["ip -n r rule add to 10.1.0.0/16 table 100 priority 10", "ip -n r route add 10.1.0.0/16 dev d0 table 100",
          "ip -n r rule del priority 10"])
@example(["ip -n r route add 10.1.0.0/16 dev d1", "ip -n r link set d1 up", "ip -n r link set d1 down"])
def test_cached_lookups_equal_uncached_after_random_changes(lines: list[str]) -> None:
    world = run_script(BASE).world
    r = world.netns("r")
    for line in lines:
        try:
            run_script(f"{line}\n", world=world)
        except ScriptError:
            pass  # refused, as the kernel refuses it: the world is unchanged
        for dst in DSTS:  # every destination after every change: the cache holds them all
            for kw in ({}, {"iif": "v0", "src": IPv4Address("10.0.0.2")}, {"oif": "d0"}):
                cached_first = r.lookup(dst, **kw)  # type: ignore[arg-type]
                cached_again = r.lookup(dst, **kw)  # type: ignore[arg-type]
                fresh = r.fib.lookup(dst, usable=r.route_usable, **kw)  # type: ignore[arg-type]
                assert cached_first == cached_again == fresh, (line, dst, kw)
            for dev in (None, "v0"):  # inet_addr_type's answer from the local table, walked afresh
                local = r._local_table_match(dst, dev)
                want = {RouteType.LOCAL: AddrType.LOCAL, RouteType.BROADCAST: AddrType.BROADCAST}.get(
                    local.type, AddrType.UNICAST) if local is not None else AddrType.UNICAST
                if dst.is_multicast:
                    want = AddrType.MULTICAST
                assert r.addr_type(dst, dev) == r.addr_type(dst, dev) == want, (line, dst, dev)


@settings(max_examples=25, deadline=None)
@given(st.lists(commands, min_size=1, max_size=8), st.lists(st.sampled_from(["10.0.0.1", "10.1.2.3", "10.9.9.9",
                                                                           "192.168.1.1"]), min_size=1, max_size=4))
def test_probes_see_the_same_outcome_with_and_without_the_cache(lines: list[str], targets: list[str]) -> None:
    cached, cold = run_script(BASE).world, run_script(BASE).world
    for line in lines:
        for world in (cached, cold):
            try:
                run_script(f"{line}\n", world=world)
            except ScriptError:
                pass
    for target in targets:
        warm = ping(cached, "a", target, timeout=0.2)
        for ns in cold.namespaces.values():
            ns.fib.cache.clear()
        fresh = ping(cold, "a", target, timeout=0.2)
        assert (warm.outcome, warm.icmp, warm.errno) == (fresh.outcome, fresh.icmp, fresh.errno), target
