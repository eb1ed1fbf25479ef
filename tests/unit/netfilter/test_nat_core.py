"""Issue #13's NAT-core behaviours, each seen on Linux 6.18 first (the worlds are kept in
tests/kernel/regressions/, where the kernel run checks them too)."""

from __future__ import annotations

from pathlib import Path

from simnet.script.interpreter import run_script

REGRESSIONS = Path(__file__).parents[2] / "kernel" / "regressions"


def _probes(name: str) -> list[dict]:
    return run_script((REGRESSIONS / name).read_text()).to_json()["probes"]


def _count(probe: dict, ns: str, table: str, chain: str, rule: int) -> int:
    return sum(c["packets"] for c in probe["counters"].get(ns, [])
               if (c["table"], c["chain"], c["rule"]) == (table, chain, rule))


def test_masqueraded_flow_moved_to_another_device_is_dropped_then_remasqueraded() -> None:
    first, moved, again = _probes("masquerade-route-moves-under-a-flow.sh")
    assert first["outcome"] == "delivered" and first["received"]["src"] == "10.1.0.1"
    # nf_nat_oif_changed: dropped at POSTROUTING, the entry deleted, nat not consulted
    assert moved["outcome"] == "lost" and moved["conntrack"] == {}
    assert _count(moved, "mr", "nat", "POSTROUTING", 1) == 0
    assert again["outcome"] == "delivered" and again["received"]["src"] == "10.2.0.1"
    assert again["conntrack"]["mr"] == ["udp 17 src=10.0.0.2 dst=10.9.9.9 sport=4000 dport=7 [UNREPLIED] "
                                        "src=10.9.9.9 dst=10.2.0.1 sport=7 dport=4000"]


def test_masquerade_without_a_route_change_keeps_the_flow() -> None:
    text = (REGRESSIONS / "masquerade-route-moves-under-a-flow.sh").read_text()
    text = text.replace("ip -n mr route replace 10.9.9.9 via 10.2.0.2\n", "")
    probes = run_script(text).to_json()["probes"]
    assert [p["outcome"] for p in probes] == ["delivered"] * 3
    assert {p["received"]["src"] for p in probes} == {"10.1.0.1"}


def test_connection_confirmed_before_the_nat_table_runs_its_chains_unmapped() -> None:
    before, old1, old2, fresh = _probes("connection-tracked-before-the-nat-table.sh")
    assert before["received"] == {"ns": "ps", "src": "10.0.0.2", "sport": 4000}
    for p in (old1, old2):  # counted on every unreplied packet, never mapped
        assert p["received"] == {"ns": "ps", "src": "10.0.0.2", "sport": 4000}
        assert _count(p, "pr", "nat", "PREROUTING", 1) == 1
        assert _count(p, "pr", "nat", "POSTROUTING", 1) == 1
    assert fresh["received"] == {"ns": "ps", "src": "10.1.0.1", "sport": 5000}


def test_connection_confirmed_before_the_nat_table_says_why_in_the_trace() -> None:
    report = run_script((REGRESSIONS / "connection-tracked-before-the-nat-table.sh").read_text())
    notes = [s.message for s in report.probes[1].result.traces[0].steps if type(s).__name__ == "Note"]
    assert [n.split(":")[0] for n in notes] == ["DNAT", "SNAT"]
    assert all("confirmed before the nat table existed" in n for n in notes)
    dropped = [s.reason for s in report.probes[1 + 1].result.traces[0].steps if type(s).__name__ == "Dropped"]
    assert dropped == []


def test_moved_masquerade_trace_names_the_devices() -> None:
    report = run_script((REGRESSIONS / "masquerade-route-moves-under-a-flow.sh").read_text())
    dropped = [s.reason for s in report.probes[1].result.traces[0].steps if type(s).__name__ == "Dropped"]
    assert dropped == ["nat: the masqueraded connection now leaves by eth2, not eth1: its entry is deleted "
                       "(nf_nat_oif_changed)"]


def test_unroutable_output_dnat_is_dropped_inside_the_nat_hook() -> None:
    report = run_script((REGRESSIONS / "output-dnat-unroutable-dropped-in-the-nat-hook.sh").read_text())
    tcp, udp, plain = report.to_json()["probes"]
    for p in (tcp, udp):  # mangle OUTPUT (-150) and nat OUTPUT (-100) count it, filter OUTPUT (0) never
        assert _count(p, "ra", "mangle", "OUTPUT", 0) == 1 and _count(p, "ra", "filter", "OUTPUT", 0) == 0
    assert tcp["outcome"] == "timeout" and _count(tcp, "ra", "nat", "OUTPUT", 1) == 1
    assert udp["outcome"] == "error" and udp["errno"] == "EINVAL" and _count(udp, "ra", "nat", "OUTPUT", 2) == 1
    assert plain["outcome"] == "connected" and _count(plain, "ra", "filter", "OUTPUT", 1) >= 1
    steps = report.probes[0].result.traces[0].steps
    dropped = [s for s in steps if type(s).__name__ == "Dropped"]
    assert [d.reason for d in dropped] == ["nat OUTPUT: re-route after DNAT to 10.0.0.2 failed: Invalid argument "
                                           "(ip_route_me_harder)"]
    assert not any(type(s).__name__ == "RuleHit" and s.table == "filter" for s in steps)
