"""explain() names where a failed probe's packet stopped, from the typed trace steps."""

from __future__ import annotations

import pytest

from simnet.explain import explain
from simnet.script.interpreter import run_script

ROUTER = """\
ip netns add a
ip netns add r
ip netns add c
ip -n a link add eth0 type veth peer name ra netns r
ip -n r link add rc type veth peer name eth0 netns c
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n r addr add 10.0.0.254/24 dev ra
ip -n r addr add 10.0.1.254/24 dev rc
ip -n c addr add 10.0.1.2/24 dev eth0
ip -n a link set eth0 up
ip -n r link set ra up
ip -n r link set rc up
ip -n c link set eth0 up
ip -n a route add default via 10.0.0.254
"""
FWD = "ip netns exec r sysctl -qw net.ipv4.ip_forward=1\n"


@pytest.mark.parametrize("extra, kind, netns, words", [
    ("", "forwarding-off", "r", "net.ipv4.ip_forward is 0"),
    (FWD, "reply-lost", "c", "has no route to 10.0.0.1"),
    (FWD + "ip -n c route add default via 10.0.1.254\nip netns exec r iptables -A FORWARD -p icmp -j DROP\n",
     "rule-drop", "r", "filter FORWARD rule 1: -A FORWARD -p icmp -j DROP"),
    (FWD + "ip -n c route add default via 10.0.1.254\nip netns exec r iptables -P FORWARD DROP\n",
     "policy-drop", "r", "chain policy DROP"),
    (FWD + "ip -n c route add default via 10.0.1.254\n"
           "ip netns exec r iptables -A FORWARD -i rc -j DROP\n", "reply-lost", "r", "rule 1: -A FORWARD -i rc -j DROP"),
])
def test_where_the_packet_stopped(extra: str, kind: str, netns: str, words: str) -> None:
    report = run_script(ROUTER + extra + "ip netns exec a ping -c 1 10.0.1.2\n")
    [d] = explain(report)
    assert (d.kind, d.netns) == (kind, netns)
    assert words in d.reason


def test_arp_unanswered_and_no_route() -> None:
    report = run_script(ROUTER + FWD + "ip netns exec a ping -c 1 10.0.0.99\nip netns exec a ping -c 1 10.5.0.1\n")
    arp, noroute = explain(report)
    assert arp.kind == "neigh-failed" and "ARP for 10.0.0.99 on dev eth0" in arp.reason
    assert noroute.kind == "no-route" and noroute.netns == "r" and "no route to 10.5.0.1" in noroute.reason


def test_address_elsewhere_is_named() -> None:
    """The same 10.0.1.2 on a namespace the packet never reached is pointed out."""
    text = ROUTER + "ip netns add x\nip -n x link add d0 type bridge\nip -n x addr add 10.0.1.2/24 dev d0\n"
    [d] = explain(run_script(text + "ip netns exec a ping -c 1 10.0.1.2\n"))
    assert d.elsewhere == ("c", "x")
    assert "10.0.1.2 is assigned in netns c, x, which this packet did not reach" in str(d)


def test_passing_probes_and_line_filter() -> None:
    report = run_script(ROUTER + "ip netns exec a ping -c 1 10.0.0.254\nip netns exec a ping -c 1 10.0.1.2\n")
    assert [d.line for d in explain(report, failed_only=True)] == [16]
    assert explain(report, line=15, failed_only=True) == []
    assert explain(report.probes[0].result, failed_only=True) == []


def test_an_address_that_exists_only_on_another_host_is_named() -> None:
    """Two hosts with the same container subnet: the address lives on the other host's bridge."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "scenarios" / "cross-host-same-subnet.sh").read_text()
    [d] = explain(run_script(text, filename="cross-host-same-subnet.sh"), line=47)
    assert d.kind == "neigh-failed" or "ARP" in d.reason
    assert d.elsewhere == ("c2",)
