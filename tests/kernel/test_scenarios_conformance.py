"""Every scenario in scenarios/ runs through simnet and through the real kernel, and they must agree.

Compared per probe by :func:`simnet.conformance.compare`: the outcome, the ICMP type/code and sender, the
errno, which namespace and source address the receiving application saw, every rule and policy
packet counter that moved in every namespace, and the conntrack entries of every namespace after
the probe (ephemeral source ports, each side's free choice, blanked).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import missing_link_kinds, missing_programs, skip_reason

ROOT = Path(__file__).resolve().parents[2]
# scenarios/docker/ and every script that starts dockerd hold docker lines the kernel runner refuses:
# test_docker_conformance.py exports them first
SCENARIOS = sorted(p for p in (ROOT / "scenarios").rglob("*.sh")
                   if "docker" not in p.relative_to(ROOT / "scenarios").parts[:-1]
                   and "dockerd" not in p.read_text())

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_scenario_agrees_with_the_kernel(path: Path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if lacking := missing_link_kinds(path.read_text()):
        pytest.skip(f"this kernel's build lacks the link kind(s) {', '.join(lacking)}")
    if lacking := missing_programs(path.read_text()):
        pytest.skip(f"not installed: {', '.join(lacking)} (.ci/run installs them)")
    from simnet.conformance import compare, run_on_kernel

    sim = run_script(path.read_text(), filename=str(path)).to_json()
    kernel = run_on_kernel(str(path))
    assert sorted(p["line"] for p in sim["probes"]) == sorted(p["line"] for p in kernel["probes"])
    # counters and conntrack are compared only when both sides report them: require that they do
    assert all("counters" in p and "conntrack" in p for p in sim["probes"] + kernel["probes"])
    differences = compare(sim, kernel)
    assert not differences, "\n".join(differences)
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"])
    assert all(p["expect"] is None or p["expect"]["ok"] for p in kernel["probes"])
