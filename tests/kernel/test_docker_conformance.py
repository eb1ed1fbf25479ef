"""Every Docker scenario, exported to plain ip/iptables, agrees with the real kernel.

``simnet.docker.export.export_scenario`` rewrites each ``scenarios/docker/*.sh`` into the
commands the simulated daemon issued; the kernel runner runs that, and
``simnet.conformance.compare`` must find no difference in outcome, ICMP, errno, receiver or
rule counters (packets and bytes) against the simulator's run of the *original* script.  Probes
that reached a container through docker-proxy (a userland process the runner cannot start) are
skipped one by one, with the reason; conntrack is not compared, since a skipped probe's
connection stays in the simulator's table only.  Docker's embedded DNS runs on the kernel as the
runner's stand-in (``simnet-embedded-dns``: libnetwork's answers, forwarding from the host's
namespace), so DNS probes are compared byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.docker.export import export_scenario
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from tests.kernel.machine import missing_link_kinds, skip_reason

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios" / "docker").glob("*.sh")) + sorted(
    p for p in (ROOT / "scenarios" / "exercises").glob("*.sh") if "dockerd" in p.read_text())

pytestmark = pytest.mark.kernel


def _strip(probe: dict) -> dict:
    return {k: v for k, v in probe.items() if k != "conntrack"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_docker_scenario_agrees_with_the_kernel(path: Path, tmp_path: Path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if lacking := missing_link_kinds(path.read_text()):
        pytest.skip(f"this kernel's build lacks the link kind(s) {', '.join(lacking)}")
    from simnet.conformance import compare, run_on_kernel

    sim = run_script(path.read_text(), filename=str(path)).to_json()
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"])
    exported = export_scenario(path)
    script = tmp_path / path.name
    script.write_text(exported.text)
    try:
        kernel = run_on_kernel(str(script))
    except ScriptError as e:  # e.g. dig/dnsmasq/file commands before the runner learnt them
        if any(w in str(e) for w in ("the kernel runner does not run", "would run in the machine's own namespace",
                                     "may run in the background")):
            pytest.skip(f"the kernel runner cannot run this scenario yet: {e}")
        raise
    ker = [dict(_strip(p), line=exported.original_line(p["line"]))
           for p in kernel["probes"] if exported.original_line(p["line"]) not in exported.skips]
    sims = [_strip(p) for p in sim["probes"] if p["line"] not in exported.skips]
    assert not compare({"probes": sims}, {"probes": ker}), "\n".join(compare({"probes": sims}, {"probes": ker}))


def test_export_keeps_probe_lines_and_marks_proxy_probes() -> None:
    path = ROOT / "scenarios" / "docker" / "published-port-reachability.sh"
    if not path.exists():
        pytest.skip("scenario missing")
    exported = export_scenario(path)
    assert "docker " not in "\n".join(l for l in exported.text.splitlines() if not l.startswith("#"))
    assert exported.skips and all("docker-proxy" in why for why in exported.skips.values())
    sim = run_script(path)
    assert {p.line for p in sim.probes} == set(exported.line_map.values())
