"""The public property-testing toolkit: strategies produce valid values, assertions explain failures."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.errors import InvalidArgument

from simnet import strategies as sst
from simnet.netfilter.rule import Rule
from simnet.routing import Route, lookup_table
from simnet.testing import ReachabilityError, assert_reachable, assert_unreachable, reachability
from simnet.world import World
from tests.conftest import pair


@given(sst.mac_addresses())
def test_mac_addresses_are_unicast_and_round_trip(mac) -> None:  # type: ignore[no-untyped-def]
    from simnet.addresses import MacAddress
    assert not mac.is_multicast and MacAddress(str(mac)) == mac


@given(sst.packets(src="10.1.0.0/16", protos=("tcp", "udp")))
def test_packets_respect_their_bounds(pkt) -> None:  # type: ignore[no-untyped-def]
    assert pkt.ip.src in __import__("ipaddress").IPv4Network("10.1.0.0/16")
    assert 1 <= pkt.sport <= 65535 and pkt.l4 is not None


@given(sst.routing_tables(), sst.ipv4_addresses())
def test_routing_tables_feed_the_lookup(table: list[Route], dst: IPv4Address) -> None:
    chosen = lookup_table(table, dst)
    assert chosen is None or dst in chosen.dst


@settings(max_examples=40)
@given(sst.worlds(max_netns=4))
def test_a_namespace_always_reaches_its_own_addresses(world: World) -> None:
    for name, ns in world.namespaces.items():
        for addr in [a.address for a in ns.addrs if a.dev != "lo"][:2]:
            assert_reachable(world, name, addr)


@settings(max_examples=40)
@given(sst.worlds(max_netns=4))
def test_a_drop_all_input_rule_isolates_a_namespace(world: World) -> None:
    target = world["n1"]
    addrs = [a.address for a in target.addrs if a.dev != "lo"]
    target.ruleset.table("filter").append("INPUT", Rule.parse("! -i lo -j DROP"))
    for addr in addrs:
        assert_unreachable(world, "n0", addr)


def test_strategies_validate_their_arguments() -> None:
    with pytest.raises(InvalidArgument):
        sst.ports(min_port=10, max_port=1)
    with pytest.raises(InvalidArgument):
        sst.ipv4_addresses(network="300.0.0.0/8")
    with pytest.raises(InvalidArgument):
        sst.worlds(min_netns=3, max_netns=2)


def test_a_failed_assertion_says_where_the_packet_stopped(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].sockets.listen("tcp", 80)
    world["b"].ruleset.table("filter").append("INPUT", Rule.parse("-p tcp --dport 80 -j DROP"))
    with pytest.raises(ReachabilityError, match="filter INPUT") as err:
        assert_reachable(world, "a", "10.0.0.2", port=80)
    assert err.value.result.outcome == "timeout"
    assert [r.outcome for r in reachability(world, ["a"], ["10.0.0.2"])] == ["reply"]


def test_seen_from_catches_masquerade(world: World) -> None:
    pair(world, "a", "r", "10.0.0.1/24", "10.0.0.254/24")
    pair(world, "b", "r", "10.1.0.2/24", "10.1.0.254/24", dev_b="eth1")
    world["a"].route_add(Route(dst=__import__("ipaddress").IPv4Network("0.0.0.0/0"), via=IPv4Address("10.0.0.254")))
    world["r"].sysctls.set("net.ipv4.ip_forward", "1")
    world["r"].ruleset.table("nat").append("POSTROUTING", Rule.parse("-o eth1 -j MASQUERADE"))
    world["b"].sockets.listen("tcp", 80)
    assert_reachable(world, "a", "10.1.0.2", port=80, seen_from="10.1.0.254")
    with pytest.raises(ReachabilityError, match="saw 10.1.0.254, not 10.0.0.1"):
        assert_reachable(world, "a", "10.1.0.2", port=80, seen_from="10.0.0.1")
