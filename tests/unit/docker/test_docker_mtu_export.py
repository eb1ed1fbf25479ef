"""Docker's MTU options survive the export (issue #15): the exported script sets every device's MTU
as the daemon did, and simulating it gives the same devices and the same probe results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simnet.docker.export import export_scenario
from simnet.script.interpreter import run_script

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "docker" / "mtu-networks.sh"


def _mtus(world: object, netns: str) -> dict[str, int]:
    ns = world.netns(netns)  # type: ignore[attr-defined]
    return {name: d.mtu for name, d in ns.devices.items() if name != "lo"}


def test_export_sets_each_mtu_as_the_daemon_did() -> None:
    exported = export_scenario(SCENARIO)
    sets = re.findall(r"^ip -n (\S+) link set (\S+) mtu (\d+)$", exported.text, re.M)
    assert [(ns, mtu) for ns, _, mtu in sets] == [("h1", "1400"), ("h1", "1450"), ("h1", "1400"), ("h1-a", "1400"),
                                                  ("h1", "1450"), ("h1-b", "1450"), ("h1", "1450"),
                                                  ("h1-web", "1450")]
    original, again = run_script(SCENARIO), run_script(exported.text, filename="exported.sh")
    for ns in ("h1", "h1-a", "h1-b", "h1-web"):
        assert _mtus(again.world, ns) == _mtus(original.world, ns)
    assert _mtus(original.world, "h1-b") == {"eth0": 1450}
    by_line = {p.line: p.result for p in original.probes}
    for p in again.probes:
        o = by_line[exported.original_line(p.line)]
        assert (p.result.outcome, p.result.errno) == (o.outcome, o.errno)


@pytest.mark.parametrize(("size", "outcome"), [(1422, "reply"), (1423, "error")])
def test_df_ping_in_the_user_network_meets_its_mtu(size: int, outcome: str) -> None:
    text = SCENARIO.read_text().split("\n# With DF")[0] + \
        f"\nip netns exec h1 docker exec b ping -c 1 -W 1 -M do -s {size} 10.30.0.1\n"
    probe = run_script(text).to_json()["probes"][-1]
    assert probe["outcome"] == outcome
    if outcome == "error":  # ping: "local error: message too long, mtu=1450"
        assert probe["errno"] == "EMSGSIZE" and probe["ping"]["mtu"] == 1450
