"""Netfilter in the packet path: hooks, conntrack, NAT round trips, REJECT, br_netfilter."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from simnet.netfilter.rule import Rule
from simnet.probe import ping, tcp_connect, udp_send
from simnet.routing import Route
from simnet.trace import Disposition, Logged, RuleHit, Translated
from simnet.world import World
from tests.conftest import pair


def docker_host(world: World, *, published: bool = True) -> World:
    """client --- host(eth0 203.0.113.1, docker0 172.17.0.1/16) --- c(172.17.0.2)."""
    pair(world, "client", "host", "203.0.113.2/24", "203.0.113.1/24")
    host = world["host"]
    host.link_add("docker0", "bridge")
    host.set_up("docker0", True)
    host.addr_add("docker0", IPv4Interface("172.17.0.1/16"))
    for i, name in enumerate(("c", "d"), start=2):
        c = world.add_netns(name)
        c.set_up("lo", True)
        host.link_add(f"veth{name}", "veth", peer="eth0", peer_netns=c)
        host.set_master(f"veth{name}", "docker0")
        host.set_up(f"veth{name}", True)
        c.addr_add("eth0", IPv4Interface(f"172.17.0.{i}/16"))
        c.set_up("eth0", True)
        c.route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=IPv4Address("172.17.0.1")))
    host.sysctls.set("net.ipv4.ip_forward", "1")
    nat = host.ruleset.table("nat")
    nat.new_chain("DOCKER")
    nat.append("PREROUTING", Rule.parse("-m addrtype --dst-type LOCAL -j DOCKER"))
    nat.append("OUTPUT", Rule.parse("! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"))
    nat.append("POSTROUTING", Rule.parse("-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"))
    if published:
        nat.append("DOCKER", Rule.parse(
            "! -i docker0 -p tcp -m tcp --dport 1180 -j DNAT --to-destination 172.17.0.2:5000"))
    world["c"].sockets.listen("tcp", 5000)
    return world


def hits(result: object, table: str, chain: str) -> list[int]:
    return [s.index for t in result.traces for s in t.steps  # type: ignore[attr-defined]
            if isinstance(s, RuleHit) and s.table == table and s.chain == chain]


def test_dnat_on_the_way_in_and_the_reply_is_un_dnated(world: World) -> None:
    docker_host(world)
    result = tcp_connect(world, "client", "203.0.113.1", 1180)
    assert result.outcome == "connected"
    assert result.received is not None
    assert (result.received.ns, result.received.src, result.received.dport) == ("c", IPv4Address("203.0.113.2"), 5000)
    synack = next(t for t in result.traces if "Flags [S.]" in str(t.packet))
    arrived = [s for s in synack.steps if s.netns == "client" and s.kind == "received"][0]
    assert str(arrived.packet).startswith("IP 203.0.113.1.1180 > 203.0.113.2.")  # type: ignore[attr-defined]
    # the nat table is consulted once per connection: only the SYN hit nat/DOCKER
    assert hits(result, "nat", "DOCKER") == [1]


def test_masquerade_on_the_way_out_and_the_reply_is_un_masqueraded(world: World) -> None:
    docker_host(world)
    world["client"].sockets.listen("tcp", 80)
    result = tcp_connect(world, "c", "203.0.113.2", 80, sport=45000)
    assert result.outcome == "connected"
    assert result.received is not None and result.received.src == IPv4Address("203.0.113.1")
    assert result.received.sport == 45000  # no clash: MASQUERADE keeps the port
    assert "src=172.17.0.2 dst=203.0.113.2 sport=45000 dport=80 src=203.0.113.2 dst=203.0.113.1" in \
        " ".join(world["host"].conntrack.listing())


def test_masquerade_remaps_a_clashing_source_port(world: World) -> None:
    docker_host(world)
    world["client"].sockets.listen("tcp", 80)
    first = tcp_connect(world, "c", "203.0.113.2", 80, sport=45000)
    world["client"].sockets.listen("tcp", 81) if False else None
    second = tcp_connect(world, "d", "203.0.113.2", 80, sport=45000)
    assert first.received is not None and second.received is not None
    assert second.received.sport != 45000


def test_container_to_published_port_via_host_address_hairpins_through_dnat(world: World) -> None:
    docker_host(world)
    world["host"].ruleset.table("nat").append(
        "POSTROUTING", Rule.parse("-s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j MASQUERADE"))
    world["host"].ruleset.table("nat").delete_at("DOCKER", 1)
    world["host"].ruleset.table("nat").append(
        "DOCKER", Rule.parse("-p tcp -m tcp --dport 1180 -j DNAT --to-destination 172.17.0.2:5000"))
    world["host"].devices["vethc"].hairpin = True
    result = tcp_connect(world, "c", "203.0.113.1", 1180)
    assert result.outcome == "connected"
    assert result.received is not None and result.received.src == IPv4Address("172.17.0.1")


def test_related_icmp_error_quotes_the_original_addresses(world: World) -> None:
    docker_host(world)
    world["host"].ruleset.table("filter").append(
        "FORWARD", Rule.parse("-d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j REJECT --reject-with icmp-host-prohibited"))
    result = tcp_connect(world, "client", "203.0.113.1", 1180)
    assert result.outcome == "unreachable"
    assert result.icmp is not None and (result.icmp.type, result.icmp.code) == (3, 10)
    error = next(t for t in result.traces if t.packet.l4 is not None and getattr(t.packet.l4, "type", None) == 3)
    diffs = [d for s in error.steps if isinstance(s, Translated) for d in s.diffs]
    assert any(d.field == "quoted dst" and d.new == "203.0.113.1" for d in diffs)
    assert any(d.field == "quoted dport" and d.new == "1180" for d in diffs)


def test_icmp_error_from_beyond_a_masquerade_finds_its_way_back(world: World) -> None:
    # the far end quotes the MASQUERADEd datagram; only its *inverse* is in the router's table
    # (the reply tuple), which is how nf_conntrack_inet_error looks it up
    docker_host(world)
    result = udp_send(world, "c", "203.0.113.2", 9)
    assert result.outcome == "unreachable" and result.errno == "ECONNREFUSED"
    assert result.icmp is not None and (result.icmp.type, result.icmp.code, result.icmp.src) == (
        3, 3, IPv4Address("203.0.113.2"))
    error = next(t for t in result.traces if getattr(t.packet.l4, "type", None) == 3)
    diffs = [d for s in error.steps if isinstance(s, Translated) for d in s.diffs]
    assert any(d.field == "dst" and d.new == "172.17.0.2" for d in diffs)
    assert any(d.field == "quoted src" and d.new == "172.17.0.2" for d in diffs)


def test_reject_with_tcp_reset_refuses(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].sockets.listen("tcp", 22)
    world["b"].ruleset.table("filter").append("INPUT", Rule.parse("-p tcp --dport 22 -j REJECT --reject-with tcp-reset"))
    assert tcp_connect(world, "a", "10.0.0.2", 22).outcome == "refused"


def test_input_policy_drop_counts_on_the_policy(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    flt = world["b"].ruleset.table("filter")
    flt.set_policy("INPUT", "DROP")
    result = ping(world, "a", "10.0.0.2", count=3, timeout=1)
    assert result.outcome == "timeout"
    assert flt.chains["INPUT"].policy_counters.packets == 3


def test_established_flow_survives_the_rule_meant_to_stop_it(world: World) -> None:
    """Bug 9: conntrack entries outlive rule changes; an ESTABLISHED accept keeps the flow going."""
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].sockets.listen("udp", 53)
    flt = world["b"].ruleset.table("filter")
    flt.append("INPUT", Rule.parse("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"))
    flt.append("INPUT", Rule.parse("-p udp --dport 53 -j ACCEPT"))
    flt.set_policy("INPUT", "DROP")
    assert udp_send(world, "a", "10.0.0.2", 53, sport=5353).outcome == "delivered"
    # b answers so the entry becomes ESTABLISHED, then the admin removes the port rule
    from simnet.netfilter.conntrack import CtStatus
    conn = next(iter(world["b"].conntrack))
    conn.status |= CtStatus.SEEN_REPLY
    flt.delete_at("INPUT", 2)
    assert udp_send(world, "a", "10.0.0.2", 53, sport=5353).outcome == "delivered"
    assert udp_send(world, "a", "10.0.0.2", 53, sport=5354).outcome == "lost"


@pytest.mark.parametrize(("nf_call", "outcome"), [("1", "timeout"), ("0", "reply")])
def test_icc_false_drop_works_only_with_br_netfilter(world: World, nf_call: str, outcome: str) -> None:
    """Bug 6: `-i docker0 -o docker0 -j DROP` sees bridged traffic only with bridge-nf-call-iptables=1."""
    docker_host(world)
    host = world["host"]
    host.sysctls.set("net.bridge.bridge-nf-call-iptables", nf_call)
    host.ruleset.table("filter").append("FORWARD", Rule.parse("-i docker0 -o docker0 -j DROP"))
    result = ping(world, "c", "172.17.0.3")
    assert result.outcome == outcome
    counted = host.ruleset.table("filter").chains["FORWARD"].entries[0].counters.packets
    assert counted == (1 if nf_call == "1" else 0)


def test_log_target_traces_and_continues(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].ruleset.table("filter").append("INPUT", Rule.parse('-p icmp -j LOG --log-prefix "seen: "'))
    result = ping(world, "a", "10.0.0.2")
    assert result.outcome == "reply"
    logs = [s.line for t in result.traces for s in t.steps if isinstance(s, Logged)]
    assert logs and logs[0].startswith("seen: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2")


def test_user_chain_return_and_goto(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    flt = world["b"].ruleset.table("filter")
    flt.new_chain("CHECK")
    flt.new_chain("DENY")
    flt.append("DENY", Rule.parse("-j DROP"))
    flt.append("CHECK", Rule.parse("-s 10.0.0.9/32 -j RETURN"))
    flt.append("CHECK", Rule.parse("-p icmp -g DENY"))
    flt.append("INPUT", Rule.parse("-j CHECK"))
    flt.append("INPUT", Rule.parse("-j ACCEPT"))
    result = ping(world, "a", "10.0.0.2")
    assert result.outcome == "timeout"
    trail = [(s.chain, s.index, s.verdict) for s in result.traces[0].steps if isinstance(s, RuleHit)]
    assert trail == [("INPUT", 1, "jump"), ("CHECK", 2, "goto"), ("DENY", 1, "DROP")]
    assert result.traces[0].disposition is Disposition.DROPPED


def test_conntrack_is_off_until_something_needs_it(world: World) -> None:
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].ruleset.table("filter").append("INPUT", Rule.parse("-p icmp -j ACCEPT"))
    ping(world, "a", "10.0.0.2")
    assert len(world["b"].conntrack) == 0
    world["b"].ruleset.table("filter").append("INPUT", Rule.parse("-m state --state NEW -j ACCEPT"))
    ping(world, "a", "10.0.0.2")
    assert [line.split()[0] for line in world["b"].conntrack.listing()] == ["icmp"]


def test_udp_stream_is_assured_only_after_two_seconds(world: World) -> None:
    # seen on 6.18: two request/reply exchanges at once leave "udp 29 ... " without [ASSURED];
    # one more 2.2 s later gives "udp 119 ... [ASSURED]" (nf_conntrack_udp_packet's stream_ts)
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["a"].ruleset.table("filter").append("INPUT", Rule.parse("-m conntrack --ctstate ESTABLISHED -j ACCEPT"))

    def exchange() -> list[str]:
        udp_send(world, "a", "10.0.0.2", 53, sport=5000, timeout=0.01)
        udp_send(world, "b", "10.0.0.1", 5000, sport=53, timeout=0.01)
        return world["a"].conntrack.listing()

    assert "[ASSURED]" not in exchange()[0]
    assert "[ASSURED]" not in exchange()[0]
    world.run(until=world.now + 2.2)
    assert "[ASSURED]" in exchange()[0]
    assert [c.timeout for c in world["a"].conntrack] == [120]


def test_a_target_simnet_does_not_apply_says_so_in_the_trace() -> None:
    """TTL/TOS/DSCP/CLASSIFY are parsed and counted, but the packet is unchanged: the trace says so."""
    from simnet.trace import Note

    world = World()
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    ns = world["b"]
    ns.ruleset.table("mangle").append("INPUT", Rule.parse("-p icmp -j TTL --ttl-set 9"))
    result = ping(world, "a", "10.0.0.2")
    notes = [s.message for t in result.traces for s in t.steps if isinstance(s, Note)]
    assert "TTL --ttl-set 9: simnet parses this target but does not apply it (the packet is unchanged)" in notes
    assert result.outcome == "reply"
