"""A bridge's address and MTU follow its ports (br_stp_recalculate_bridge_id, br_mtu_auto_adjust).

simnet updates them from the joining port alone when a port joins a bridge that has ports (the
build of a large world adds a hundred ports to one bridge); any sequence of joins, leaves,
address and MTU changes, renames and deletions must leave them what a recomputation over every
port gives: the least port address unless one was set on the bridge, the least port MTU (1500
without ports) unless one was set on it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.errors import SimnetError
from simnet.link import LinkKind
from simnet.world import World

BRIDGES = ["br0", "br1"]
PORTS = ["v0", "v1", "v2", "v3", "d0", "d1"]
macs = st.integers(1, 40).map(lambda n: f"02:00:00:00:00:{n:02x}")
ops = st.one_of(
    st.tuples(st.just("master"), st.sampled_from(PORTS), st.sampled_from([*BRIDGES, None])),
    st.tuples(st.just("address"), st.sampled_from(PORTS + BRIDGES), macs),
    st.tuples(st.just("mtu"), st.sampled_from(PORTS + BRIDGES), st.sampled_from([1280, 1400, 1450, 1500, 9000])),
    st.tuples(st.just("del"), st.sampled_from(PORTS)),
    st.tuples(st.just("add"), st.sampled_from(PORTS)),
    st.tuples(st.just("rename"), st.sampled_from(PORTS), st.sampled_from(PORTS)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ops, min_size=5, max_size=60))
def test_bridge_address_and_mtu_follow_the_ports(program: list[tuple[object, ...]]) -> None:
    world = World(seed=3)
    ns = world.add_netns("a")
    for br in BRIDGES:
        ns.link_add(br, LinkKind.BRIDGE)
    for name in PORTS:
        ns.link_add(name, LinkKind.VETH if name.startswith("v") else LinkKind.DUMMY,
                    **({"peer": "p" + name} if name.startswith("v") else {}))
    for op in program:
        try:
            if op[0] == "master":
                ns.set_master(str(op[1]), op[2])  # type: ignore[arg-type]
            elif op[0] == "address":
                ns.set_address(str(op[1]), str(op[2]))
            elif op[0] == "mtu":
                ns.set_mtu(str(op[1]), int(op[2]))  # type: ignore[call-overload]
            elif op[0] == "del":
                ns.link_del(str(op[1]))
            elif op[0] == "add":
                ns.link_add(str(op[1]), LinkKind.DUMMY)
            else:
                ns.set_name(str(op[1]), str(op[2]))
        except SimnetError:
            pass
        for br in BRIDGES:
            dev = ns.devices[br]
            ports = [ns.devices[p] for p in dev.ports]
            if ports and not dev.mac_set:
                assert dev.lladdr == min(p.lladdr for p in ports), (op, br)
            if not dev.mtu_set:
                assert dev.mtu == min((p.mtu for p in ports), default=1500), (op, br)
            if ports:  # the bridge's own address is a permanent entry of its fdb
                entry = ns.fdbs[br].lookup(dev.lladdr, world.now)
                assert entry is not None and entry.local and entry.port == br, (op, br)
