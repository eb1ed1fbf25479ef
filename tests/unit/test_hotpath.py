"""Issue #16's per-probe cost: what the fast paths must keep (outcomes, counters, traces) and what
they must drop (steps nobody records, traces nobody asked to keep).  Speed itself is measured in
benchmarks/hotpath.py, never here."""

from __future__ import annotations

import pickle
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from simnet import World, run_script
from simnet.packet import Icmp, IcmpType, IPv4, Packet, Tcp
from simnet.probe import ping, tcp_connect

QUICKSTART = (Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.sh").read_text()


def test_an_untraced_ping_builds_no_trace_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import simnet.arp
    import simnet.datapath
    import simnet.netfilter.engine

    world = run_script(QUICKSTART).world
    ping(world, "a", "10.0.1.2")  # ARP warm

    def refuse(**_: object) -> None:
        raise AssertionError("a step was built while nothing records")

    for module, name in ((simnet.datapath, "Received"), (simnet.datapath, "Transmitted"),
                         (simnet.datapath, "RouteLookup"), (simnet.arp, "NeighbourLookup"),
                         (simnet.netfilter.engine, "HookEntered"), (simnet.netfilter.engine, "RuleHit")):
        monkeypatch.setattr(module, name, refuse)
    with world.untraced():
        result = ping(world, "a", "10.0.1.2")
    assert result.outcome == "reply" and result.traces == ()
    # the FORWARD rule was still evaluated and its chain policy counted both packets
    policy = world.netns("r").ruleset.tables["filter"].chains["FORWARD"].policy_counters
    assert policy.packets >= 2


def test_untraced_counters_equal_traced_counters() -> None:
    traced, untraced = run_script(QUICKSTART).world, run_script(QUICKSTART).world
    with untraced.untraced():
        quiet = [ping(untraced, "a", "10.0.1.2").outcome for _ in range(3)] + \
                [tcp_connect(untraced, "b", "10.0.1.2", 8080).outcome]
    loud = [ping(traced, "a", "10.0.1.2").outcome for _ in range(3)] + [tcp_connect(traced, "b", "10.0.1.2", 8080).outcome]
    assert quiet == loud == ["reply", "reply", "reply", "timeout"]
    forward = [(e.counters.packets, e.counters.bytes) for e in
               traced.netns("r").ruleset.tables["filter"].chains["FORWARD"].entries]
    assert forward == [(e.counters.packets, e.counters.bytes) for e in
                       untraced.netns("r").ruleset.tables["filter"].chains["FORWARD"].entries]
    assert forward[0][0] >= 1  # b's SYN was dropped by FORWARD#1 and counted in both worlds


def test_a_traced_sweep_that_keeps_no_history_holds_only_the_last_probe() -> None:
    world = run_script(QUICKSTART, world=World(keep_traces=False)).world
    results = [ping(world, "a", "10.0.1.2") for _ in range(50)]
    last = results[-1]
    assert last.outcome == "reply" and last.traces
    assert sorted(world.tracer._open) == sorted(t.id for t in last.traces)
    kept = run_script(QUICKSTART).world
    for _ in range(50):
        ping(kept, "a", "10.0.1.2")
    assert len(kept.tracer._open) > 50 * len(last.traces) // 2  # the default keeps them all


def test_cached_hashes_agree_with_values_and_are_not_pickled() -> None:
    def echo(ttl: int) -> Packet:
        return Packet(ip=IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.1.2"), proto=1, ttl=ttl),
                      l4=Icmp(type=IcmpType.ECHO_REQUEST, id=7, seq=1), payload=bytes(56))

    a, b = echo(64), echo(64)
    assert hash(a) == hash(b) and a == b and {a, b} == {a}
    assert a.with_ip(ttl=63) != a and a.with_ip(ttl=63) == echo(63) and hash(a.with_ip(ttl=63)) == hash(echo(63))
    assert a.with_ip(ttl=63).length == a.length == 84
    copy = pickle.loads(pickle.dumps(a))
    assert copy == a and copy._hash is None and copy.ip is not None and copy.ip._hash is None
    seg = Tcp(sport=1, dport=80)
    assert hash(seg) == hash(Tcp(sport=1, dport=80)) and seg != Tcp(sport=1, dport=81)


def test_evolve_resets_nothing_it_should_keep_and_names_unknown_fields() -> None:
    p = Packet(ip=IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), proto=6), l4=Tcp(sport=1, dport=2))
    assert p.evolve(payload=b"xy").length == p.length + 2  # a new payload: the length is computed again
    with pytest.raises(TypeError, match="bogus"):
        p.evolve(bogus=1)
