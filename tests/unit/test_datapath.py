"""The packet walk of the simulated kernel, on the topologies issue 2 lists."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from simnet.link import Scope
from simnet.probe import ping, tcp_connect, udp_send
from simnet.routing import Route, RouteType
from simnet.trace import BridgeDecision, Disposition, RouteLookup
from simnet.world import World
from tests.conftest import pair


def bridged(world: World, n: int = 3) -> None:
    """A namespace 'host' with bridge br0 and n containers c1..cn on 10.0.0.0/24."""
    host = world.add_netns("host")
    host.set_up("lo", True)
    host.link_add("br0", "bridge")
    host.set_up("br0", True)
    host.addr_add("br0", IPv4Interface("10.0.0.1/24"))
    for i in range(1, n + 1):
        c = world.add_netns(f"c{i}")
        c.set_up("lo", True)
        host.link_add(f"veth{i}", "veth", peer="eth0", peer_netns=c)
        host.set_master(f"veth{i}", "br0")
        host.set_up(f"veth{i}", True)
        c.addr_add("eth0", IPv4Interface(f"10.0.0.{i + 1}/24"))
        c.set_up("eth0", True)
        c.route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=IPv4Address("10.0.0.1")))


def test_two_namespaces_over_a_veth_ping_each_other(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    result = ping(world, "a", "10.0.0.2")
    assert result.outcome == "reply"
    assert result.received is not None and result.received.ns == "b"
    assert result.received.src == IPv4Address("10.0.0.1")
    assert [str(e.state) for e in world["a"].neigh.entries()] == ["REACHABLE"]
    assert [str(e.state) for e in world["b"].neigh.entries()] == ["STALE"]


def test_bridge_floods_the_first_frame_then_forwards_by_fdb(world: World) -> None:
    bridged(world)
    first = ping(world, "c1", "10.0.0.3")
    assert first.outcome == "reply"
    arp_request = next(t for t in first.traces if "Request who-has 10.0.0.3" in str(t.packet))
    floods = [s for s in arp_request.steps if isinstance(s, BridgeDecision)]
    assert floods[0].action == "flood" and set(floods[0].ports) == {"veth2", "veth3", "br0"}
    fdb = {str(e.mac): e.port for e in world["host"].fdbs["br0"].entries() if not e.local}
    assert fdb[str(world["c1"].devices["eth0"].lladdr)] == "veth1"
    second = ping(world, "c1", "10.0.0.3")
    echo = next(t for t in second.traces if "echo request" in str(t.packet))
    decisions = [s for s in echo.steps if isinstance(s, BridgeDecision)]
    assert [(d.action, d.ports) for d in decisions] == [("forward", ("veth2",))]


def test_container_with_eth0_down_cannot_send(world: World) -> None:
    pair(world, "c", "h", "172.17.0.2/16", "172.17.0.1/16")
    world["c"].set_up("eth0", False)
    result = ping(world, "c", "172.17.0.1")
    assert result.outcome == "error" and result.errno == "ENETUNREACH"
    # the connected route went away with the link, as `ip link set eth0 down` does
    assert not [r for r in world["c"].fib.routes() if r.dev == "eth0"]


def test_peer_down_means_no_carrier_and_the_frame_is_lost(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].set_up("eth0", False)
    result = ping(world, "a", "10.0.0.2")
    assert result.outcome == "timeout"
    assert world["a"].devices["eth0"].operstate == "LOWERLAYERDOWN"
    assert any(t.disposition is Disposition.LINK_DOWN for t in result.traces)


def test_wrong_netmask_one_side_has_no_route_back(world: World) -> None:
    # a has 10.0.1.1/24, b has 10.0.0.2/16: a has no route to 10.0.0.2
    pair(world, "a", "b", "10.0.1.1/24", "10.0.0.2/16")
    result = ping(world, "a", "10.0.0.2")
    assert result.outcome == "error" and result.errno == "ENETUNREACH"
    # b thinks a is on-link: a answers its ARP (arp_ignore 0) but cannot route the echo reply
    back = ping(world, "b", "10.0.1.1")
    assert back.outcome == "timeout"
    assert back.received is not None and back.received.ns == "a"
    reply = next(t for t in back.traces if "echo reply" in str(t.packet))
    assert reply.disposition is Disposition.NO_ROUTE


def router_world(world: World, forward: bool) -> None:
    pair(world, "a", "r", "10.1.0.2/24", "10.1.0.1/24", dev_b="eth0")
    pair(world, "b", "r", "10.2.0.2/24", "10.2.0.1/24", dev_b="eth1")
    world["a"].route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=IPv4Address("10.1.0.1")))
    world["b"].route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=IPv4Address("10.2.0.1")))
    world["r"].sysctls.set("net.ipv4.ip_forward", "1" if forward else "0")


def test_router_with_forwarding_off_drops_silently(world: World) -> None:
    router_world(world, forward=False)
    result = ping(world, "a", "10.2.0.2")
    assert result.outcome == "timeout" and result.icmp is None
    echo = result.traces[0]
    assert echo.disposition is Disposition.NOT_FOR_US
    assert "ip_forward is 0" in echo.steps[-1].text()


def test_router_with_forwarding_on_forwards_and_decrements_ttl(world: World) -> None:
    router_world(world, forward=True)
    result = ping(world, "a", "10.2.0.2")
    assert result.outcome == "reply"
    assert result.received is not None and result.received.src == IPv4Address("10.1.0.2")
    arrived = [s for s in result.traces[0].steps if s.netns == "b" and s.kind == "received"]
    assert arrived[0].packet.ip.ttl == 63  # type: ignore[attr-defined]


def test_routing_loop_ends_in_time_exceeded_from_the_router(world: World) -> None:
    router_world(world, forward=True)
    # r sends 10.9.0.0/16 back to a's side gateway b... build a loop r <-> b
    world["b"].sysctls.set("net.ipv4.ip_forward", "1")
    world["r"].route_add(Route(dst=IPv4Network("10.9.0.0/16"), via=IPv4Address("10.2.0.2")))
    world["b"].route_add(Route(dst=IPv4Network("10.9.0.0/16"), via=IPv4Address("10.2.0.1")))
    result = ping(world, "a", "10.9.0.1")
    assert result.outcome == "ttl-exceeded"
    assert result.icmp is not None and result.icmp.type == 11
    assert result.icmp.src in (IPv4Address("10.2.0.1"), IPv4Address("10.2.0.2"), IPv4Address("10.1.0.1"))


@pytest.mark.parametrize(("kind", "outcome", "icmp"), [
    (RouteType.BLACKHOLE, "timeout", None),
    (RouteType.UNREACHABLE, "unreachable", (3, 1)),
    (RouteType.PROHIBIT, "unreachable", (3, 13)),
])
def test_route_types_on_a_router(world: World, kind: RouteType, outcome: str, icmp: tuple[int, int] | None) -> None:
    router_world(world, forward=True)
    world["r"].route_add(Route(dst=IPv4Network("10.7.0.0/16"), type=kind))
    result = ping(world, "a", "10.7.0.1")
    assert result.outcome == outcome
    assert (result.icmp.type, result.icmp.code) if result.icmp else None == icmp


@pytest.mark.parametrize(("kind", "errno"), [
    (RouteType.BLACKHOLE, "EINVAL"), (RouteType.UNREACHABLE, "EHOSTUNREACH"), (RouteType.PROHIBIT, "EACCES"),
])
def test_route_types_on_the_sending_host_fail_the_socket(world: World, kind: RouteType, errno: str) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["a"].route_add(Route(dst=IPv4Network("10.7.0.0/16"), type=kind))
    result = ping(world, "a", "10.7.0.1")
    assert (result.outcome, result.errno) == ("error", errno)


def test_arp_nobody_answers_gives_host_unreachable_from_own_address(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    result = ping(world, "a", "10.0.0.9", count=4)
    assert result.outcome == "unreachable"
    assert result.icmp is not None
    assert (result.icmp.type, result.icmp.code, result.icmp.src) == (3, 1, IPv4Address("10.0.0.1"))
    assert world["a"].neigh.get(IPv4Address("10.0.0.9"), "eth0").state.value == "FAILED"  # type: ignore[union-attr]


def test_arp_failure_is_not_reported_before_three_requests(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    assert ping(world, "a", "10.0.0.9", count=1, timeout=1).outcome == "timeout"


def test_tcp_to_closed_port_is_refused_and_to_listener_connects(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    assert tcp_connect(world, "a", "10.0.0.2", 80).outcome == "refused"
    world["b"].sockets.listen("tcp", 80)
    result = tcp_connect(world, "a", "10.0.0.2", 80, sport=40000)
    assert result.outcome == "connected"
    assert result.received is not None
    assert (result.received.ns, result.received.src, result.received.sport) == ("b", IPv4Address("10.0.0.1"), 40000)


def test_udp_to_closed_port_gets_port_unreachable_and_to_listener_is_delivered(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    closed = udp_send(world, "a", "10.0.0.2", 53)
    assert closed.outcome == "unreachable" and closed.icmp is not None
    assert (closed.icmp.type, closed.icmp.code) == (3, 3)
    world["b"].sockets.listen("udp", 53)
    assert udp_send(world, "a", "10.0.0.2", 53).outcome == "delivered"


def test_hairpin_off_drops_frames_back_out_of_their_port(world: World) -> None:
    bridged(world, n=1)
    host = world["host"]
    # pretend c1's own MAC sits behind veth1 and send a frame to it from veth1: drop
    result = ping(world, "c1", "10.0.0.1")
    assert result.outcome == "reply"
    assert host.devices["veth1"].hairpin is False


def test_source_address_selection_prefers_route_src(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["a"].addr_add("eth0", IPv4Interface("10.0.0.5/24"))
    world["a"].route_add(Route(dst=IPv4Network("10.0.0.2/32"), dev="eth0", src=IPv4Address("10.0.0.5"),
                               scope=Scope.LINK))
    result = ping(world, "a", "10.0.0.2")
    assert result.received is not None and result.received.src == IPv4Address("10.0.0.5")
    steps = [s for s in result.traces[0].steps if isinstance(s, RouteLookup)]
    assert steps[0].route == "10.0.0.2 dev eth0 scope link src 10.0.0.5"


def test_runs_are_deterministic() -> None:
    def run() -> list[str]:
        w = World(seed=3)
        bridged(w)
        r = ping(w, "c1", "10.0.0.3")
        return [s.text() for t in r.traces for s in t.steps]
    assert run() == run()
