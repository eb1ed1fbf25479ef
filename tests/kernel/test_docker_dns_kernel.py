"""Issue 14: the nat rules Docker's embedded DNS puts in a container, replayed on the kernel.

The export replays libnetwork's ``setupIPTable`` commands (``-N``, ``-I OUTPUT``, ``-N``,
``-I POSTROUTING``, then four ``-I`` of DNAT/SNAT) in the container's namespace; the kernel's
``iptables-save -t nat`` there must be byte-equal to the simulator's (which is the shape a real
container shows: tcp above udp in both chains, ``-m udp``/``-m tcp`` added, ``/32`` on the
addresses), per era.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.docker.export import export_scenario
from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SCRIPT = """\
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker network connect bridge app
ip netns exec h1 docker exec app iptables-save -t nat
ip netns exec h1 docker exec app iptables -t nat -S
"""


def _strip(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_embedded_dns_nat_rules_listing_agrees_with_the_kernel(era: str, tmp_path: Path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    src = tmp_path / "dns-rules.sh"
    src.write_text(SCRIPT.format(era=era))
    sim = {o["line"]: o["stdout"] for o in run_script(src.read_text()).to_json()["outputs"]}
    assert "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT" in sim[7]
    exported = export_scenario(src)
    script = tmp_path / "exported.sh"
    script.write_text(exported.text)
    kernel = run_on_kernel(str(script))
    ker = {o["command"]: o["stdout"] for o in kernel["outputs"]}
    assert _strip(ker["ip netns exec h1-app iptables-save -t nat"]) == _strip(sim[7])
    assert ker["ip netns exec h1-app iptables -t nat -S"] == sim[8]
