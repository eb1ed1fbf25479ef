"""Packets to a broadcast address are delivered locally, as Linux 6.18 does (checked with
simnet kernel-run: outcomes, receivers and counters agree).

ip_route_input_slow sends a broadcast destination to brd_input: INPUT runs (its counters move and
conntrack confirms an entry there), then each protocol decides: TCP ignores it without a RST,
UDP gives it to a socket on the port but never answers port unreachable, ICMP ignores an echo
request under icmp_echo_ignore_broadcasts (default 1) and answers it otherwise from the address of
the route back. A raw socket sees an echo request before ICMP ignores it, so the ping is reported
as received (icmp_echo_ignore_all too).
"""

from __future__ import annotations

from simnet.script.interpreter import run_script

ROUTER = """\
ip netns add a
ip netns add r
ip -n a link add eth0 type veth peer name eth0 netns r
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n r addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n r link set eth0 up
ip -n r link add br0 type bridge
ip -n r addr add 172.20.0.1/16 dev br0
ip -n r link set br0 up
ip -n a route add 172.20.0.0/16 via 10.0.0.2
ip netns exec r iptables -A INPUT -d 172.20.255.255 -m conntrack --ctstate NEW
"""


def _run(script: str) -> list[dict]:
    return run_script(ROUTER + script).to_json()["probes"]


def _input_hits(probe: dict) -> int:
    return sum(c["packets"] for c in probe["counters"].get("r", []) if (c["chain"], c["rule"]) == ("INPUT", 1))


def test_a_syn_to_a_broadcast_address_passes_input_and_gets_no_rst() -> None:
    for listener in ("", "ip netns exec r nc -l -k -p 80 &\n"):
        (probe,) = _run(listener + "ip netns exec a nc -z -w 1 172.20.255.255 80\n")
        assert probe["outcome"] == "timeout" and probe["received"] is None
        assert _input_hits(probe) == 1
        assert [e.split()[2] for e in probe["conntrack"]["r"]] == ["SYN_SENT"]


def test_udp_to_a_broadcast_address_reaches_a_socket_and_never_port_unreachable() -> None:
    lost, delivered = _run("echo x | ip netns exec a nc -u -w 1 172.20.255.255 53\n"
                           "ip netns exec r nc -u -l -k -p 53 &\n"
                           "echo x | ip netns exec a nc -u -w 1 172.20.255.255 53\n")
    assert (lost["outcome"], lost["icmp"], _input_hits(lost)) == ("lost", None, 1)
    assert delivered["outcome"] == "delivered" and delivered["received"]["src"] == "10.0.0.1"


def test_echo_to_a_broadcast_address_is_ignored_unless_asked_and_answered_from_the_route_back() -> None:
    ignored, answered = _run("ip netns exec a ping -c 1 -W 1 172.20.255.255\n"
                             "ip netns exec r sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=0\n"
                             "ip netns exec a ping -c 1 -W 1 172.20.255.255\n")
    assert ignored["outcome"] == "timeout" and _input_hits(ignored) == 1
    assert ignored["received"] == {"ns": "r", "src": "10.0.0.1", "sport": None}
    assert answered["outcome"] == "reply" and answered["icmp"]["from"] == "10.0.0.2"


def test_an_echo_request_ignored_by_icmp_echo_ignore_all_was_still_received() -> None:
    (probe,) = _run("ip netns exec r sysctl -w net.ipv4.icmp_echo_ignore_all=1\n"
                    "ip netns exec a ping -c 1 -W 1 10.0.0.2\n")
    assert probe["outcome"] == "timeout"
    assert probe["received"] == {"ns": "r", "src": "10.0.0.1", "sport": None}


def test_a_broadcast_from_one_of_our_own_addresses_is_a_martian() -> None:
    (probe,) = _run("ip -n a addr add 172.20.0.1/32 dev eth0\n"
                    "ip netns exec a ping -c 1 -W 1 -I 172.20.0.1 172.20.255.255\n")
    assert probe["outcome"] == "timeout" and probe["received"] is None
    assert _input_hits(probe) == 0
