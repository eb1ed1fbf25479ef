"""glibc's A and AAAA queries on the kernel: one conntrack entry, and which state the second finds.

getaddrinfo(AF_UNSPEC) sends the A and the AAAA query back to back from one socket (sendmmsg), so
both have the same 5-tuple.  On the server's host the first is NEW; the second is ESTABLISHED if
the server's answer to the first passed conntrack before it arrived, else NEW again (the entry has
seen no reply yet).  simnet's servers answer within the query's delivery, so the second query is
always ESTABLISHED.  On Linux 6.18 it is a race: 100 pings by name gave 79 x (1 NEW, 1 ESTABLISHED)
and 21 x (2 NEW) at load 12 on 2 CPUs (20-run batches: 19/1, 15/5, 11/9: the busier the machine,
the more both-NEW).  simnet models the majority; scenarios whose counters would show the race
(scenarios/dns/input-drop-blocks-dnsmasq.sh) ping by address.  This test reports the distribution
and fails only if the kernel shows an ordering other than these two, or never simnet's.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import missing_programs, skip_reason

pytestmark = pytest.mark.kernel

RUNS = 20
SCRIPT = """\
ip netns add host
ip netns add client
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host link set lo up
ip -n client link set lo up
ip -n host link set eth0 up
ip -n client link set eth0 up
ip -n host addr add 192.168.50.1/24 dev eth0
ip -n client addr add 192.168.50.20/24 dev eth0
mkdir -p /etc/netns/client
printf "nameserver 192.168.50.1\\noptions timeout:1 attempts:1\\n" > /etc/netns/client/resolv.conf
ip netns exec host dnsmasq -k --listen-address=192.168.50.1 --bind-interfaces --no-resolv --no-hosts --address=/gateway.lab/192.168.50.1 &
ip netns exec host iptables -A INPUT -p udp --dport 53 -m conntrack --ctstate NEW
ip netns exec host iptables -A INPUT -p udp --dport 53 -m conntrack --ctstate ESTABLISHED
ip netns exec host iptables -A INPUT -p udp --dport 53 -m conntrack --ctstate RELATED,INVALID,UNTRACKED
""" + "ip netns exec client ping -c 1 -W 1 gateway.lab\n" * RUNS


def _orderings(report: dict) -> Counter[tuple[int, int, int]]:
    """(NEW, ESTABLISHED, other) queries the host's INPUT counted, per ping by name."""
    seen: Counter[tuple[int, int, int]] = Counter()
    for p in report["probes"]:
        assert p["outcome"] == "reply", p
        rows = {r["rule"]: r["packets"] for r in p["counters"].get("host", [])
                if r["table"] == "filter" and r["chain"] == "INPUT"}
        seen[(rows.get(1, 0), rows.get(2, 0), rows.get(3, 0))] += 1
    return seen


def test_a_and_aaaa_race_is_reported(record_property: Callable[[str, object], None]) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if lacking := missing_programs(SCRIPT):
        pytest.skip(f"not installed: {', '.join(lacking)}")
    from simnet.conformance import run_on_kernel

    sim = _orderings(run_script(SCRIPT).to_json())
    assert sim == Counter({(1, 1, 0): RUNS})  # simnet: the answer passes before the AAAA query
    kernel = _orderings(run_on_kernel(SCRIPT))
    share = f"{kernel[(1, 1, 0)]}/{RUNS} x (1 NEW, 1 ESTABLISHED), {kernel[(2, 0, 0)]}/{RUNS} x (2 NEW), " \
            f"load {os.getloadavg()[0]:.1f}"
    record_property("a_aaaa_orderings", share)
    warnings.warn(f"A/AAAA on the kernel: {share}", stacklevel=1)  # shown in pytest's summary
    assert set(kernel) <= {(1, 1, 0), (2, 0, 0)}, f"an ordering simnet does not know: {dict(kernel)}"
    assert kernel[(1, 1, 0)] > 0, f"the kernel never showed simnet's ordering: {share}"
