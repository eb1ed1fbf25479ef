"""TCP's retransmission timers against the kernel: SYN-ACKs and SYNs counted over time.

Each script makes one handshake fail, waits a few seconds and prints ``iptables-save -c``; the
packet counters of every rule must be the same in simnet and on the kernel. The timelines are
chosen so that no kernel timer fires near a measurement (the probe gives up at 0.8 s, the
listing comes about 1 s after the last retransmission and 2 s before the next): these are the
cases where the kernel itself is deterministic (a retransmitted SYN racing the request's own
timer is not; see test_differential_fuzz.py).
"""

from __future__ import annotations

import re

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
ip netns exec b nc -l -k 80 &
"""

CASES = {
    # the SYN-ACK is lost on the way (dropped by the client): sent at 0, 1 and 3 s (then 7 s)
    "synack-lost-downstream": """\
ip netns exec a iptables -A INPUT -p tcp --sport 80 -j DROP
ip netns exec a nc -z -w 1 10.0.0.2 80
sleep 4
ip netns exec a iptables-save -c
""",
    # tcp_synack_retries=1: sent at 0 and 1 s, the request is gone at 3 s
    "synack-retries-1": """\
ip netns exec b sysctl -w net.ipv4.tcp_synack_retries=1
ip netns exec a iptables -A INPUT -p tcp --sport 80 -j DROP
ip netns exec a nc -z -w 1 10.0.0.2 80
sleep 4
ip netns exec a iptables-save -c
""",
    # the SYN-ACK is dropped in the server's own OUTPUT: the timer's retransmission fails too,
    # and a failed retransmission gives the request up (2 SYN-ACKs, none at 3 s)
    "synack-dropped-in-output": """\
ip netns exec b iptables -A OUTPUT -p tcp --sport 80 -j DROP
ip netns exec a nc -z -w 1 10.0.0.2 80
sleep 4
ip netns exec b iptables-save -c
""",
    # the client's SYNs: linear timeouts first (0, 1, 2, 3, 4 s within -w 5)
    "syn-linear-timeouts": """\
ip netns exec b iptables -A INPUT -p tcp --dport 80 -j DROP
ip netns exec a nc -z -w 5 10.0.0.2 80
ip netns exec b iptables-save -c
""",
    # ... and exponential ones without them (0, 1, 3 s; the next would be at 7 s)
    "syn-exponential-timeouts": """\
ip netns exec a sysctl -w net.ipv4.tcp_syn_linear_timeouts=0
ip netns exec b iptables -A INPUT -p tcp --dport 80 -j DROP
ip netns exec a nc -z -w 5 10.0.0.2 80
ip netns exec b iptables-save -c
""",
}


def _rule_packets(report: dict) -> dict[tuple[int, str], int]:
    """(script line, rule) -> packets, from every printed ``iptables-save -c``."""
    out = {}
    for o in report["outputs"]:
        for m in re.finditer(r"^\[(\d+):\d+\] (-A .*)$", o["stdout"], re.M):
            out[(o["line"], m[2])] = int(m[1])
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_retransmissions_counted_as_the_kernel_counts_them(name: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    text = SETUP + CASES[name]
    sim = _rule_packets(run_script(text, filename=f"{name}.sh").to_json())
    kernel = _rule_packets(run_on_kernel(text, filename=f"{name}.sh"))
    assert sim and sim == kernel


def test_the_simulated_counts_are_the_kernel_timelines() -> None:
    """The numbers the kernel gave (Linux 6.18), kept here so simnet is held to them without root."""
    expected = {"synack-lost-downstream": 3, "synack-retries-1": 2, "synack-dropped-in-output": 2,
                "syn-linear-timeouts": 5, "syn-exponential-timeouts": 3}
    for name, packets in expected.items():
        got = _rule_packets(run_script(SETUP + CASES[name], filename=f"{name}.sh").to_json())
        assert list(got.values()) == [packets], name
