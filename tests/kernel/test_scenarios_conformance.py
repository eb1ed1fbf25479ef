"""Every scenario in scenarios/ runs through simnet and through the real kernel, and they must agree.

Compared per probe: the outcome, the ICMP type/code, the errno, and which namespace and source
address the receiving application saw.  (Rule counters and conntrack entries are reported by
`simnet.kernel.compare` too; see the README for the state of that comparison.)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from simnet.script.interpreter import run_script

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.sh"))

pytestmark = pytest.mark.kernel


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "iptables", "iptables-restore", "unshare", "conntrack"):
        if shutil.which(tool) is None:
            return f"needs {tool} (apt-get install iproute2 iptables conntrack util-linux)"
    return None


def _seen(probe: dict) -> tuple:
    received = probe.get("received") or {}
    icmp = probe.get("icmp") or {}
    return (probe["outcome"], received.get("ns"), received.get("src"), icmp.get("type"), icmp.get("code"),
            probe.get("errno"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_scenario_agrees_with_the_kernel(path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.kernel import run_on_kernel

    sim = run_script(path.read_text(), filename=str(path)).to_json()
    kernel = run_on_kernel(str(path))
    sim_probes = {p["line"]: p for p in sim["probes"]}
    ker_probes = {p["line"]: p for p in kernel["probes"]}
    assert sorted(sim_probes) == sorted(ker_probes)
    differences = [f"line {line} `{sim_probes[line]['command']}`: simulator {_seen(sim_probes[line])}, "
                   f"kernel {_seen(ker_probes[line])}"
                   for line in sorted(sim_probes) if _seen(sim_probes[line]) != _seen(ker_probes[line])]
    assert not differences, "\n".join(differences)
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"])
