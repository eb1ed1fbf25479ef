"""`ip link/addr/route` semantics of a namespace, with iproute2's errors (checked on kernel 6.18)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from simnet.errors import KernelError
from simnet.routing import Route, RouteTable, RouteType
from simnet.world import World


@pytest.fixture
def ns(world: World):  # type: ignore[no-untyped-def]
    n = world.add_netns("n")
    n.link_add("v0", "veth", peer="v1")
    return n


def test_route_without_dev_or_gateway_has_no_device(ns) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KernelError, match="RTNETLINK answers: No such device"):
        ns.route_add(Route(dst=IPv4Network("10.1.0.0/16")))


def test_route_on_a_down_device_is_refused(ns) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KernelError, match="Error: Device for nexthop is not up."):
        ns.route_add(Route(dst=IPv4Network("10.1.0.0/16"), dev="v0"))
    ns.set_up("v0", True)
    ns.route_add(Route(dst=IPv4Network("10.1.0.0/16"), dev="v0"))
    assert [str(r) for r in ns.fib.routes() if r.dev == "v0"] == ["10.1.0.0/16 dev v0"]


def test_gateway_must_be_on_link_but_may_be_our_own_address(ns) -> None:  # type: ignore[no-untyped-def]
    ns.set_up("v0", True)
    ns.addr_add("v0", IPv4Interface("10.0.0.1/24"))
    with pytest.raises(KernelError, match="Nexthop has invalid gateway"):
        ns.route_add(Route(dst=IPv4Network("10.3.0.0/16"), via=IPv4Address("10.9.0.1")))
    ns.route_add(Route(dst=IPv4Network("10.3.0.0/16"), via=IPv4Address("10.0.0.1")))
    ns.route_add(Route(dst=IPv4Network("10.4.0.0/16"), via=IPv4Address("10.0.0.9")))
    assert {str(r) for r in ns.fib.routes() if r.via} == {"10.3.0.0/16 via 10.0.0.1 dev v0",
                                                          "10.4.0.0/16 via 10.0.0.9 dev v0"}


def test_down_link_keeps_only_the_local_route(ns) -> None:  # type: ignore[no-untyped-def]
    ns.addr_add("v0", IPv4Interface("10.0.0.2/24"))
    assert [(r.type, str(r.dst)) for r in ns.fib.routes(None)] == [(RouteType.LOCAL, "10.0.0.2/32")]
    ns.set_up("v0", True)
    assert {(r.type, str(r.dst)) for r in ns.fib.routes(None)} == {
        (RouteType.UNICAST, "10.0.0.0/24"), (RouteType.LOCAL, "10.0.0.2/32"), (RouteType.BROADCAST, "10.0.0.255/32")}
    ns.set_up("v0", False)
    assert [r.table for r in ns.fib.routes(None)] == [RouteTable.LOCAL]


def test_veth_peer_moves_without_addresses_and_down(world: World, ns) -> None:  # type: ignore[no-untyped-def]
    other = world.add_netns("other")
    ns.addr_add("v1", IPv4Interface("10.0.0.3/24"))
    ns.set_up("v1", True)
    ns.set_netns("v1", other)
    assert "v1" in other.devices and "v1" not in ns.devices
    assert not other.devices["v1"].admin_up and not [a for a in other.addrs if a.dev == "v1"]
    assert ns.devices["v0"].peer is other.devices["v1"]


def test_bridge_takes_the_lowest_port_mac(world: World, ns) -> None:  # type: ignore[no-untyped-def]
    ns.link_add("br0", "bridge")
    ns.set_master("v0", "br0")
    ns.set_master("v1", "br0")
    assert ns.devices["br0"].lladdr == min(ns.devices["v0"].lladdr, ns.devices["v1"].lladdr)


@pytest.mark.parametrize("table, rule, active", [
    ("raw", "-p udp -j NOTRACK", False),
    ("raw", "-p udp -j CT --notrack", False),
    ("raw", "-p udp -j CT --zone 5", True),
    ("filter", "-m conntrack --ctstate ESTABLISHED -j ACCEPT", True),
    ("filter", "-p tcp -j ACCEPT", False),
    ("nat", "-j MASQUERADE", True),
])
def test_what_switches_conntrack_on(table: str, rule: str, active: bool) -> None:
    # xt_CT takes nf_ct_netns_get for every CT target but --notrack (NOTRACK); verified on 6.18
    from simnet.netfilter.rule import Rule
    from simnet.world import World

    ns = World(seed=1).add_netns("n")
    chain = "POSTROUTING" if table == "nat" else "OUTPUT" if table == "raw" else "INPUT"
    ns.ruleset.table(table).append(chain, Rule.parse(rule))
    assert ns.conntrack_active() is active
