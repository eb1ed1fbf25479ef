"""Conntrack zones, as a property over the differential fuzzer's random worlds.

A zone only keys the conntrack table: when the raw table puts every packet of every namespace in
one zone N for both directions (``-j CT --zone N`` first in PREROUTING and OUTPUT), every lookup
that found an entry in the default zone finds it in zone N, so every outcome, ICMP answer,
receiver, rule counter and entry is the same as with a plain ``-j CT`` there (the same template,
zone 0: conntrack switched on alike, and a later NOTRACK ignored alike); only ``conntrack -L``
adds ``zone=N``.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simnet.script.interpreter import run_script
from tests.kernel.test_differential_fuzz import World, worlds


def _with_ct(world: World, target: str) -> str:
    """The world's script with ``-j TARGET`` on top of every namespace's raw PREROUTING and OUTPUT."""
    names = [ln.split()[3] for ln in world.lines if ln.startswith("ip netns add ")]
    first = next(i for i, ln in enumerate(world.lines)
                 if " iptables " in ln or " nc " in ln or " ping " in ln)
    ct = [f"ip netns exec {ns} iptables -t raw -A {chain} -j {target}" for ns in names
          for chain in ("PREROUTING", "OUTPUT")]
    return "\n".join(world.lines[:first] + ct + world.lines[first:]) + "\n"


def _comparable(report: dict, zone: int) -> list[dict]:
    """Each probe's outcome, ICMP, errno, receiver, counters and entries, without ``zone=N``."""
    strip = re.compile(rf" zone={zone}\b")
    return [{"outcome": p["outcome"], "icmp": p["icmp"], "errno": p["errno"], "received": p["received"],
             "counters": p["counters"],
             "conntrack": {ns: [strip.sub("", e) for e in entries] for ns, entries in p["conntrack"].items()}}
            for p in report["probes"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(worlds("z"), st.integers(1, 65535))
def test_one_zone_for_all_traffic_is_the_default_zone_renamed(world: World, zone: int) -> None:
    plain = run_script(_with_ct(world, "CT")).to_json()
    zoned = run_script(_with_ct(world, f"CT --zone {zone}")).to_json()
    assert _comparable(zoned, zone) == _comparable(plain, zone)
    listed = [e for p in zoned["probes"] for entries in p["conntrack"].values() for e in entries]
    assert all(e.endswith(f" zone={zone}") for e in listed)
