"""explain over random worlds and random expectations: it always says what the trace holds."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given, settings, strategies as st

from simnet import strategies as sst
from simnet.explain import explain
from simnet.netfilter.rule import Rule
from simnet.probe import ping, tcp_connect
from simnet.script.expect import OUTCOMES, Expectation, seen_from
from simnet.world import World


@settings(max_examples=30, deadline=None)
@given(sst.worlds(max_netns=4), st.booleans(), st.booleans())
def test_every_probe_is_explained_from_its_trace(world: World, tcp: bool, drop: bool) -> None:
    """The paragraph follows the first packet's hops in order, names every deciding rule it hit,
    and says 'reached' exactly when the probe got through."""
    if drop:
        world["n1"].ruleset.table("filter").append("INPUT", Rule.parse("-p tcp -j DROP" if tcp else "-j DROP"))
    targets = [a.address for ns in world.namespaces.values() for a in ns.addrs if a.dev != "lo"][:3]
    for dst in targets:
        result = tcp_connect(world, "n0", dst, 80, timeout=1) if tcp else ping(world, "n0", dst, timeout=1)
        [d] = explain(result, world=world)
        assert d.ok == result.ok and (d.kind == "reached") == result.ok
        text = d.text()
        assert text.startswith(f"{result.proto} n0 -> {dst}") and f": {result.outcome}." in text
        first = next((t for t in result.traces if t.caused_by is None and t.packet.ip is not None
                      and t.packet.ip.dst == dst), None)
        if first is None:
            assert "No packet left netns n0" in text
            continue
        assert "went " + " → ".join(ns for ns, _ in first.hops) in text
        for hit in first.rule_hits():
            if hit.verdict in ("DROP", "ACCEPT") and hit.index:
                assert f"{hit.table}/{hit.chain}#{hit.index} ({hit.rule})" in text


_ADDR = st.sampled_from(["10.0.0.1", "10.0.0.2", "192.0.2.9"])


@st.composite
def probe_dicts(draw: st.DrawFn) -> dict[str, object]:
    outcome = draw(st.sampled_from(sorted(OUTCOMES)))
    icmp = {"type": 0, "code": 0, "from": draw(_ADDR)} if outcome in ("reply", "unreachable", "ttl-exceeded") else None
    received = ({"ns": "b", "src": draw(_ADDR), "sport": draw(st.sampled_from([4000, 5000]))}
                if outcome in ("connected", "delivered") else None)
    errno = draw(st.sampled_from([None, "ECONNREFUSED", "ENETUNREACH"]))
    counters = draw(st.sampled_from([{}, {"r": [{"table": "filter", "chain": "FORWARD", "rule": 1, "packets": 1}]}]))
    return {"outcome": outcome, "icmp": icmp, "received": received, "errno": errno, "counters": counters}


@given(st.sampled_from(sorted(OUTCOMES)), st.sampled_from([None, "ENETUNREACH"]),
       st.one_of(st.none(), _ADDR), st.sampled_from([None, 4000]), st.booleans(), probe_dicts())
def test_mismatches_name_exactly_the_parts_that_fail(outcome: str, errno: str | None, src: str | None,
                                                     sport: int | None, via: bool, probe: dict) -> None:  # type: ignore[type-arg]
    exp = Expectation(outcome=outcome, errno=errno, source=None if src is None else IPv4Address(src),
                      sport=sport if src is not None else None, via=("filter", "FORWARD", 1) if via else None)
    parts = [m.split(":")[0] for m in exp.mismatches(probe)]
    seen = seen_from(probe)
    want_from = None if src is None else src + (f":{exp.sport}" if exp.sport is not None else "")
    expected = [name for name, fails in (
        ("outcome", probe["outcome"] != outcome),
        ("errno", errno is not None and probe["errno"] != errno),
        ("from", want_from is not None and (seen is None or (seen if exp.sport is not None
                                                             else seen.split(":")[0]) != want_from)),
        ("via", via and not probe["counters"])) if fails]
    assert parts == expected
    assert exp.check(probe) == (not expected)
