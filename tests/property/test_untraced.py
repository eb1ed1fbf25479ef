"""An untraced sweep sees what a traced one sees: tracing is observation, never behaviour."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st

from simnet import run_script
from simnet.testing import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fleet import container_ip, fleet_script  # noqa: E402

HOSTS, CONTAINERS = 2, 2
NAMES = [f"c{h}x{c}" for h in range(HOSTS) for c in range(CONTAINERS)] + ["h0", "h1"]
ADDRS = [container_ip(h, c) for h in range(HOSTS) for c in range(CONTAINERS)] + ["192.168.0.1", "10.9.9.9"]

rule_lines = st.builds(
    lambda host, chain, proto, port, target: (
        f"ip netns exec h{host} iptables -I {chain} -p {proto} --dport {port} -j {target}"),
    st.integers(0, HOSTS - 1), st.sampled_from(["FORWARD", "INPUT", "OUTPUT"]), st.sampled_from(["tcp", "udp"]),
    st.sampled_from([22, 53, 80]), st.sampled_from(["DROP", "REJECT", "ACCEPT"]))
probes = st.tuples(st.sampled_from(NAMES), st.sampled_from(ADDRS), st.sampled_from(["icmp", "tcp", "udp"]),
                   st.sampled_from([22, 53, 80]))


def _observed(result) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    return (result.outcome, result.errno, result.icmp, result.received)


@settings(max_examples=25, deadline=None)
@given(st.lists(rule_lines, max_size=4), st.lists(probes, min_size=1, max_size=8))
def test_untraced_probes_have_the_traced_outcomes(rules: list[str], sweep: list[tuple[str, str, str, int]]) -> None:
    script = fleet_script(HOSTS, CONTAINERS) + "\n".join(rules) + "\n"
    traced = run_script(script).world
    untraced = run_script(script).world
    with untraced.untraced():
        quiet = [probe(untraced, s, d, proto=p, port=None if p == "icmp" else port) for s, d, p, port in sweep]
        assert all(r.traces == () for r in quiet)
        # memory bounded per probe: only the last probe's packets are held
        assert len(untraced.tracer._open) <= 16
    loud = [probe(traced, s, d, proto=p, port=None if p == "icmp" else port) for s, d, p, port in sweep]
    assert all(r.traces for r in loud)
    assert [_observed(r) for r in quiet] == [_observed(r) for r in loud]
    # and the worlds end in the same state: the same rule counters
    for name in ("h0", "h1"):
        q, t = untraced.netns(name).ruleset.tables, traced.netns(name).ruleset.tables
        for table in t:
            for chain, ch in t[table].chains.items():
                other = q[table].chains[chain]
                assert [(e.counters.packets, e.counters.bytes) for e in ch.entries] == \
                    [(e.counters.packets, e.counters.bytes) for e in other.entries]
                assert ch.policy_counters.packets == other.policy_counters.packets


def test_a_traced_probe_collects_only_its_own_traces() -> None:
    world = run_script(fleet_script(1, 2)).world
    first = probe(world, "c0x0", container_ip(0, 1))
    second = probe(world, "c0x0", container_ip(0, 1))
    assert first.outcome == second.outcome == "reply"
    assert second.traces and min(t.id for t in second.traces) > max(t.id for t in first.traces)
    assert world.tracer.ids_since(second.traces[0].id) == [t.id for t in second.traces]
