"""How long each probe runs the clock: as long as its tool runs (what conntrack ageing sees).

Measured with the real tools in a namespace (Linux 6.18, OpenBSD nc): ``nc -z -w W`` to a port
whose SYN is dropped exits after W s; ``echo x | nc -u -w W`` exits after W s when the datagram
drew no error, but at once on an ICMP error (its recv on the connected socket fails); ``ping``
exits at the reply. Conntrack entries age by this clock (a CLOSE entry lives 10 s), so a probe
that ran the clock too little or too much made simnet's entries outlive or predecease the
kernel's in a long scenario (scenarios/bugs/firewall-reload-deletes-docker-chains.sh).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simnet.netfilter.iptables import iptables
from simnet.probe import ping, tcp_connect, udp_send
from simnet.world import World
from tests.conftest import pair


def _world() -> World:
    world = World(seed=7)
    pair(world, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    world["b"].sockets.listen("tcp", 80)
    world["b"].sockets.listen("udp", 53)
    for rule in ("-A INPUT -p tcp --dport 81 -j DROP", "-A INPUT -p udp --dport 82 -j DROP",
                 "-A INPUT -m conntrack --ctstate NEW -j ACCEPT"):
        iptables(world["b"].ruleset, rule.split())
    ping(world, "a", "10.0.0.2")  # neighbours resolved: no ARP timer left pending
    return world


def _elapsed(world: World, probe, *args, **kw) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    start = world.now
    outcome = probe(world, "a", "10.0.0.2", *args, **kw).outcome
    return outcome, round(world.now - start, 6)


@given(st.integers(min_value=1, max_value=5))
def test_each_probe_runs_the_clock_as_long_as_its_tool(wait: int) -> None:
    world = _world()
    assert _elapsed(world, tcp_connect, 81, timeout=wait) == ("timeout", wait)
    assert _elapsed(world, tcp_connect, 80, timeout=wait) == ("connected", 0)
    assert _elapsed(world, tcp_connect, 79, timeout=wait) == ("refused", 0)
    assert _elapsed(world, udp_send, 53, timeout=wait) == ("delivered", wait)
    assert _elapsed(world, udp_send, 82, timeout=wait) == ("lost", wait)
    assert _elapsed(world, udp_send, 9, timeout=wait) == ("unreachable", 0)
    assert _elapsed(world, ping, timeout=wait) == ("reply", 0)


def test_timed_out_connects_age_a_close_entry_out() -> None:
    # the server's CLOSE entry (10 s) is gone after eleven 1 s timeouts, as on the kernel
    world = _world()
    assert tcp_connect(world, "a", "10.0.0.2", 80).outcome == "connected"
    closed = [c for c in world["b"].conntrack if c.tcp_state == "CLOSE"]
    assert len(closed) == 1
    for _ in range(11):
        tcp_connect(world, "a", "10.0.0.2", 81)
    assert not [c for c in world["b"].conntrack if c.tcp_state == "CLOSE"]


def test_refused_datagrams_do_not_age_a_close_entry() -> None:
    # each port unreachable ends nc at once: ten of them take no time
    world = _world()
    tcp_connect(world, "a", "10.0.0.2", 80)
    for _ in range(10):
        assert udp_send(world, "a", "10.0.0.2", 9).outcome == "unreachable"
    assert [c for c in world["b"].conntrack if c.tcp_state == "CLOSE"]
