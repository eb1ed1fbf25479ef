"""TCP's timers on both ends of a handshake that does not complete.

The client: SYN retransmissions (tcp_retransmit_timer, linear for the first
``tcp_syn_linear_timeouts``). The server: the request sock's SYN-ACK retransmissions
(reqsk_timer_handler), answered again for a retransmitted SYN (tcp_check_req), and dropped
after ``tcp_synack_retries`` timeouts or as soon as a retransmission cannot be sent.
The timelines below were read off Linux 6.18 in namespaces (iptables counters polled every
few milliseconds); ``tests/kernel`` checks them against the kernel where they are not a race.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.netfilter.iptables import iptables
from simnet.probe import tcp_connect
from simnet.world import World
from tests.conftest import pair


def _world(*rules: tuple[str, str]) -> World:
    world = World(seed=7)
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].sockets.listen("tcp", 80)
    for ns, rule in rules:
        iptables(world[ns].ruleset, rule.split())
    return world


def _packets(world: World, ns: str, chain: str, rule: int = 1) -> int:
    return world[ns].ruleset.table("filter").chains[chain].entries[rule - 1].counters.packets


def _synack_times(world: World) -> list[float]:
    """When each SYN-ACK was sent (from the traces: caused by a SYN or by the timer)."""
    return [t.time for t in world.tracer.all() if "Flags [S.]" in str(t.packet)]


def test_synack_dropped_in_output_is_retried_once_then_the_request_is_dropped() -> None:
    # the first SYN-ACK's EPERM is ignored; the timer's retransmission fails too, and a failed
    # retransmission drops the request (seen: 2 SYN-ACKs, no more within 60 s)
    world = _world(("b", "-A OUTPUT -p tcp --sport 80 -j DROP"))
    assert tcp_connect(world, "a", "10.0.0.2", 80, timeout=1).outcome == "timeout"
    assert _packets(world, "b", "OUTPUT") == 1 and world["b"].sockets.requests
    world.run(until=world.now + 100)
    assert _packets(world, "b", "OUTPUT") == 2
    assert not world["b"].sockets.requests


def test_synack_lost_on_the_way_is_retransmitted_tcp_synack_retries_times() -> None:
    world = _world(("a", "-A INPUT -p tcp --sport 80 -j DROP"))
    start = world.now
    tcp_connect(world, "a", "10.0.0.2", 80, timeout=1)
    world.run(until=start + 62.5)
    assert world["b"].sockets.requests  # the last timeout runs from 31 s to 63 s
    world.run(until=start + 100)
    assert not world["b"].sockets.requests
    assert [round(t - start) for t in _synack_times(world)] == [0, 1, 3, 7, 15, 31]
    assert _packets(world, "a", "INPUT") == 6


def test_retransmitted_syn_is_answered_again_and_pushes_the_timer_out() -> None:
    world = _world(("a", "-A INPUT -p tcp --sport 80 -j DROP"))
    iptables(world["b"].ruleset, "-A INPUT -p tcp --dport 80".split())
    start = world.now
    assert tcp_connect(world, "a", "10.0.0.2", 80, timeout=3).outcome == "timeout"
    assert _packets(world, "b", "INPUT") == 3  # SYNs at 0, 1, 2 (linear timeouts)
    # every SYN-ACK reaches a and is dropped there; a retransmitted SYN is answered at once
    times = [round(t - start, 3) for t in _synack_times(world)]
    assert times[0] == 0 and 1 in times and 2 in times


def test_client_syn_retransmissions_are_linear_then_exponential() -> None:
    world = _world(("b", "-A INPUT -p tcp --dport 80 -j DROP"))
    assert tcp_connect(world, "a", "10.0.0.2", 80, timeout=5).outcome == "timeout"
    assert _packets(world, "b", "INPUT") == 5  # 0, 1, 2, 3, 4
    world = _world(("b", "-A INPUT -p tcp --dport 80 -j DROP"))
    world["a"].sysctls.set("net.ipv4.tcp_syn_linear_timeouts", 0)
    tcp_connect(world, "a", "10.0.0.2", 80, timeout=5)
    assert _packets(world, "b", "INPUT") == 3  # 0, 1, 3 (before Linux 6.5)


def test_a_closed_listener_stops_the_retransmissions() -> None:
    world = _world(("a", "-A INPUT -p tcp --sport 80 -j DROP"))
    tcp_connect(world, "a", "10.0.0.2", 80, timeout=1)
    for lst in world["b"].sockets.listeners:
        lst.open = False
    world.run(until=world.now + 100)
    assert _packets(world, "a", "INPUT") == 1
    assert not world["b"].sockets.requests


def test_the_final_ack_turns_the_request_into_an_accepted_connection() -> None:
    world = _world()
    result = tcp_connect(world, "a", "10.0.0.2", 80, timeout=1)
    assert result.outcome == "connected" and result.received is not None
    assert not world["b"].sockets.requests
    world.run(until=world.now + 100)
    assert len(_synack_times(world)) == 1


@settings(max_examples=25, deadline=None)
@given(retries=st.integers(0, 6), linear=st.integers(0, 4), timeout=st.integers(1, 5))
def test_retransmission_counts_follow_the_sysctls(retries: int, linear: int, timeout: int) -> None:
    """A SYN-ACK lost downstream: a request's timer sends it at most ``retries`` more times, and
    every SYN (1 s apart, beyond the 500 ms rate limit) is answered; with a single SYN that is
    exactly ``retries + 1`` SYN-ACKs. The request is gone at most ``2 ** (retries + 1) - 1`` s
    after the last SYN. The client sends one SYN per RTO."""
    world = _world(("a", "-A INPUT -p tcp --sport 80 -j DROP"))
    iptables(world["b"].ruleset, "-A INPUT -p tcp --dport 80".split())
    world["b"].sysctls.set("net.ipv4.tcp_synack_retries", retries)
    world["a"].sysctls.set("net.ipv4.tcp_syn_linear_timeouts", linear)
    start = world.now
    tcp_connect(world, "a", "10.0.0.2", 80, timeout=timeout)
    syns = _packets(world, "b", "INPUT")
    expected_syns, when, n = 0, 0, 0
    while when < timeout:
        expected_syns += 1
        when += 1 if n <= linear else 2 ** (n - linear)
        n += 1
    assert syns == expected_syns
    world.run(until=start + timeout + 2 ** (retries + 2))
    assert not world["b"].sockets.requests
    sent = _synack_times(world)
    assert _packets(world, "a", "INPUT") == len(sent)
    if syns == 1:
        assert len(sent) == retries + 1
    else:  # each SYN (1 s apart) is answered at once; a SYN that finds its request expired
        # opens a new one, with ``retries`` retransmissions of its own
        assert syns <= len(sent) <= syns * (retries + 1)


def test_a_syn_dropped_in_output_is_retransmitted_not_an_error() -> None:
    # tcp_connect ignores tcp_transmit_skb's EPERM (seen: connect times out, 3 SYNs in 2.8 s)
    world = _world(("a", "-A OUTPUT -p tcp --dport 80 -j DROP"))
    result = tcp_connect(world, "a", "10.0.0.2", 80, timeout=3)
    assert (result.outcome, result.errno) == ("timeout", None)
    assert _packets(world, "a", "OUTPUT") == 3


def test_a_syn_rejected_in_output_is_refused_at_once() -> None:
    # the REJECT's port-unreachable (from this host, to this host) reaches the socket: ECONNREFUSED
    world = _world(("a", "-A OUTPUT -p tcp --dport 80 -j REJECT"))
    result = tcp_connect(world, "a", "10.0.0.2", 80, timeout=3)
    assert (result.outcome, result.errno) == ("refused", "ECONNREFUSED")
    assert result.icmp is not None and (result.icmp.type, result.icmp.code) == (3, 3)
    assert _packets(world, "a", "OUTPUT") == 1
