"""Issue 15: Docker's MTU options on the kernel, through the export.

``dockerd --mtu 1400`` and ``docker network create -o com.docker.network.driver.mtu=1450`` are
modelled from libnetwork's bridge driver (the MTU on the bridge and on both ends of each
container's veth pair).  scenarios/docker/mtu-networks.sh is exported to the ``ip link set ... mtu``
commands the daemon issued and run on Linux 6.18: every device's MTU as ``ip link show`` prints it
(on the host and in the containers), and every probe (DF pings at and one byte over each MTU,
a fragmented ping through the MASQUERADE, a 20000-byte upload into the published port with its
segment size) agree on outcome, errno, counters (packets and bytes), conntrack and transfer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simnet.docker.export import export_scenario
from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "docker" / "mtu-networks.sh"
LINK = re.compile(r"^\d+: (\S+?)(?:@\S+)?: <([^>]*)> mtu (\d+)(?: .*?master (\S+))?", re.M)


def _links(text: str) -> list[tuple[str, str, int, str | None]]:
    """(name, flags, mtu, master) of every device ``ip link show`` lists (not indexes or MACs)."""
    return sorted((m[1], m[2], int(m[3]), m[4] or None) for m in LINK.finditer(text))


def test_docker_mtu_options_agree_with_the_kernel(tmp_path: Path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    sim = run_script(SCENARIO.read_text(), filename=str(SCENARIO)).to_json()
    assert all(p["expect"]["ok"] for p in sim["probes"])
    exported = export_scenario(SCENARIO)
    assert not exported.skips
    assert re.search(r"^ip -n h1 link set veth\w+ mtu 1450$", exported.text, re.M)
    assert re.search(r"^ip -n h1-b link set eth0 mtu 1450$", exported.text, re.M)
    script = tmp_path / SCENARIO.name
    script.write_text(exported.text)
    kernel = run_on_kernel(str(script))
    back = exported.original_line
    ker_probes = [dict(p, line=back(p["line"])) for p in kernel["probes"]]
    differences = compare({"probes": sim["probes"]}, {"probes": ker_probes})
    assert not differences, "\n".join(differences)
    assert [p["errno"] for p in ker_probes] == [None, "EMSGSIZE", None, "EMSGSIZE", "EMSGSIZE", None, None]
    upload = ker_probes[-1]["transfer"]
    assert upload["received"] == 20000 and upload["complete"]

    def shown(report: dict, command: str) -> str:
        return next(o["stdout"] for o in report["outputs"] if o["command"].endswith(command))
    sim_out = {o["line"]: o["stdout"] for o in sim["outputs"]}
    host = _links(shown(kernel, "ip netns exec h1 ip link show"))
    assert host == _links(sim_out[22])
    mtus = {name: mtu for name, _, mtu, _ in host}
    assert mtus["docker0"] == 1400 and mtus["eth0"] == 1500
    assert sorted(m for n, m in mtus.items() if n.startswith("br-")) == [1450]
    assert sorted(m for n, m in mtus.items() if n.startswith("veth")) == [1400, 1450, 1450]
    for line, name, mtu in ((23, "h1-a", 1400), (24, "h1-b", 1450)):
        links = _links(shown(kernel, f"ip netns exec {name} ip link show eth0"))
        assert links == _links(sim_out[line]) == [("eth0", "BROADCAST,MULTICAST,UP,LOWER_UP", mtu, None)]
