"""Time as both sides pass it: a CLOSE entry (10 s) is gone, or not, at the same point of a script.

A connected ``nc -z`` leaves a conntrack entry in CLOSE for 10 s. Each script then lets time pass
one way (a sleep, probes that time out, datagrams delivered or refused) and lists conntrack with a
last probe; simnet and the kernel must agree on whether the entry is still there. Every timeline
keeps 2 s or more from the boundary on the kernel's side (its commands and helpers add time).
Before the fix, the runner cut ``sleep`` to 5 s and ended a UDP probe at delivery, while simnet's
clock stood still during a timed-out connect and ran 1 s for a refused datagram.
"""

from __future__ import annotations

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SETUP = """\
ip netns add a
ip netns add b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip netns exec b iptables -A INPUT -p tcp --dport 81 -j DROP
ip netns exec b iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT
ip netns exec b nc -l -k -p 80 &
ip netns exec b nc -u -l -k -p 53 &
ip netns exec a nc -z -w 1 10.0.0.2 80
"""

CLOSE = "tcp 6 CLOSE src=10.0.0.1 dst=10.0.0.2"
LAST = "ip netns exec a ping -c 1 -W 1 10.0.0.2\n"

#: name -> (what passes time, whether the CLOSE entry is still there at the last probe)
CASES = {
    "sleep-12": ("sleep 12\n", False),
    "sleep-7": ("sleep 7\n", True),
    "16-timed-out-connects": ("ip netns exec a nc -z -w 1 10.0.0.2 81\n" * 16, False),
    "12-delivered-datagrams": ("echo x | ip netns exec a nc -u -w 1 10.0.0.2 53\n" * 12, False),
    "12-refused-datagrams": ("echo x | ip netns exec a nc -u -w 1 10.0.0.2 9\n" * 12, True),
}


def _close_entries(report: dict) -> int:
    last = report["probes"][-1]
    return sum(e.startswith(CLOSE) for e in last["conntrack"].get("b", []))


@pytest.mark.parametrize("name", sorted(CASES))
def test_time_passes_alike(name: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    passing, alive = CASES[name]
    text = SETUP + passing + LAST
    sim = run_script(text, filename=f"{name}.sh").to_json()
    kernel = run_on_kernel(text, filename=f"{name}.sh")
    assert _close_entries(sim) == _close_entries(kernel) == int(alive)


def test_the_simulated_timelines() -> None:
    """The same cases in simnet alone (no root needed): the entry's fate in each."""
    for name, (passing, alive) in CASES.items():
        report = run_script(SETUP + passing + LAST, filename=f"{name}.sh").to_json()
        assert _close_entries(report) == int(alive), name
