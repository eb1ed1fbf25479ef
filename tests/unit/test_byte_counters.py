"""iptables byte counters count what Linux 6.18 puts on the wire (issue #12.9).

Sizes measured on the kernel (``iptables -L -v -x`` in throwaway namespaces, the runner's
``iptables-save -c``): a SYN and its SYN-ACK are 60 bytes (MSS, SACK-permitted, timestamps,
window scale), the ACK and the client's abort RST|ACK 52 (timestamps), a closed port's RST 40,
an echo request 28 + ``-s`` (84 by default), a UDP datagram 28 + its data, and an ICMP error
20 + 8 + the whole offending datagram up to 576 bytes. simnet counted 40 for every TCP segment
and 56 for every ICMP error before.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from simnet.packet import ICMP_ERROR_MAX, Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, TcpOptions, Udp
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

PAIR = """\
ip netns add a
ip netns add b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
"""

#: one counting rule per TCP flag combination, in a's OUTPUT and INPUT
FLAG_RULES = """\
ip netns exec a iptables -A OUTPUT -p tcp --tcp-flags ALL SYN
ip netns exec a iptables -A OUTPUT -p tcp --tcp-flags ALL ACK
ip netns exec a iptables -A OUTPUT -p tcp --tcp-flags ALL RST,ACK
ip netns exec a iptables -A INPUT -p tcp --tcp-flags ALL SYN,ACK
ip netns exec a iptables -A INPUT -p tcp --tcp-flags ALL RST,ACK
"""


def _rows(probe: dict, ns: str = "a") -> dict[tuple[str, int], tuple[int, int]]:
    return {(c["chain"], c["rule"]): (c["packets"], c["bytes"]) for c in probe["counters"].get(ns, [])}


def _probes(script: str) -> list[dict]:
    return run_script(PAIR + script).to_json()["probes"]


def test_a_handshake_and_its_abort_count_what_linux_sends() -> None:
    (p,) = _probes(FLAG_RULES + "ip netns exec b nc -l -k -p 80 &\nip netns exec a nc -z -w 1 10.0.0.2 80\n")
    assert p["outcome"] == "connected"
    assert _rows(p) == {("OUTPUT", 1): (1, 60), ("OUTPUT", 2): (1, 52), ("OUTPUT", 3): (1, 52),
                        ("OUTPUT", 0): (3, 164), ("INPUT", 1): (1, 60), ("INPUT", 0): (1, 60)}


def test_a_closed_ports_rst_carries_no_options() -> None:
    (p,) = _probes(FLAG_RULES + "ip netns exec a nc -z -w 1 10.0.0.2 81\n")
    assert p["outcome"] == "refused"
    assert _rows(p)[("INPUT", 2)] == (1, 40) and _rows(p)[("OUTPUT", 1)] == (1, 60)


def test_options_follow_each_sides_sysctls() -> None:
    """Timestamps and window scaling off on the client: a 48-byte SYN (MSS, NOP NOP SACK-permitted),
    a SYN-ACK with only what both allow, and a 40-byte ACK and RST."""
    (p,) = _probes(FLAG_RULES + "ip netns exec a sysctl -w net.ipv4.tcp_timestamps=0 net.ipv4.tcp_window_scaling=0\n"
                   "ip netns exec b nc -l -k -p 80 &\nip netns exec a nc -z -w 1 10.0.0.2 80\n")
    rows = _rows(p)
    assert rows[("OUTPUT", 1)] == (1, 48) and rows[("INPUT", 1)] == (1, 48)
    assert rows[("OUTPUT", 2)] == (1, 40) and rows[("OUTPUT", 3)] == (1, 40)
    # the listener alone without SACK: the SYN keeps it, the SYN-ACK drops it (and timestamps stay)
    (q,) = _probes(FLAG_RULES + "ip netns exec b sysctl -w net.ipv4.tcp_sack=0\n"
                   "ip netns exec b nc -l -k -p 80 &\nip netns exec a nc -z -w 1 10.0.0.2 80\n")
    assert _rows(q)[("OUTPUT", 1)] == (1, 60) and _rows(q)[("INPUT", 1)] == (1, 60)
    assert _rows(q)[("OUTPUT", 2)] == (1, 52)


@pytest.mark.parametrize(("option", "size"), [("", 84), ("-s 0 ", 28), ("-s 200 ", 228), ("-s 1472 ", 1500)])
def test_echo_requests_and_replies_carry_ping_s_data_bytes(option: str, size: int) -> None:
    (p,) = _probes("ip netns exec a iptables -A OUTPUT -p icmp\nip netns exec a iptables -A INPUT -p icmp\n"
                   f"ip netns exec a ping -c 1 -W 1 {option}10.0.0.2\n")
    assert p["outcome"] == "reply"
    assert _rows(p)[("OUTPUT", 1)] == (1, size) and _rows(p)[("INPUT", 1)] == (1, size)


def test_ping_s_refuses_bad_numbers_as_iputils_words_them() -> None:
    with pytest.raises(ScriptError, match=r"ping: invalid argument: 'x'"):
        run_script(PAIR + "ip netns exec a ping -c 1 -s x 10.0.0.2\n")
    with pytest.raises(ScriptError, match=r"ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647"):
        run_script(PAIR + "ip netns exec a ping -c 1 -s -1 10.0.0.2\n")
    with pytest.raises(ScriptError, match=r"ping: invalid -M argument: probe"):
        run_script(PAIR + "ip netns exec a ping -c 1 -M probe 10.0.0.2\n")


def test_icmp_errors_quote_the_whole_datagram_up_to_576_bytes() -> None:
    ps = _probes("ip netns exec a iptables -A INPUT -p icmp --icmp-type port-unreachable\n"
                 "ip netns exec a iptables -A INPUT -p icmp --icmp-type host-prohibited\n"
                 "ip netns exec b iptables -A INPUT -p icmp -j REJECT --reject-with icmp-host-prohibited\n"
                 "echo hello | ip netns exec a nc -u -w 1 10.0.0.2 54\n"
                 "ip netns exec a ping -c 1 -W 1 10.0.0.2\n"
                 "ip netns exec a ping -c 1 -W 1 -s 1000 10.0.0.2\n")
    assert [p["outcome"] for p in ps] == ["unreachable"] * 3
    assert _rows(ps[0])[("INPUT", 1)] == (1, 28 + 34)      # quotes the 34-byte datagram whole
    assert _rows(ps[1])[("INPUT", 2)] == (1, 28 + 84)
    assert _rows(ps[2])[("INPUT", 2)] == (1, ICMP_ERROR_MAX)  # 1028 bytes, cut at 576


def test_udp_counts_its_data() -> None:
    (p,) = _probes("ip netns exec a iptables -A OUTPUT -p udp\nip netns exec b nc -u -l -k -p 53 &\n"
                   "echo x | ip netns exec a nc -u -w 1 10.0.0.2 53\n")
    assert p["outcome"] == "delivered" and _rows(p)[("OUTPUT", 1)] == (1, 30)


def test_the_length_match_sees_the_same_sizes() -> None:
    """``-m length`` reads the same total length: a SYN is 60, so ``--length 60`` matches it."""
    (p,) = _probes("ip netns exec b iptables -A INPUT -p tcp -m length --length 60 -j DROP\n"
                   "ip netns exec b nc -l -k -p 80 &\nip netns exec a nc -z -w 1 10.0.0.2 80\n# expect: timeout\n")
    assert p["outcome"] == "timeout" and p["expect"]["ok"]


def test_iptables_save_shows_the_bytes() -> None:
    report = run_script(PAIR + "ip netns exec b iptables -A INPUT -p tcp\nip netns exec b nc -l -k -p 80 &\n"
                        "ip netns exec a nc -z -w 1 10.0.0.2 80\nip netns exec b iptables-save -c\n")
    assert "[3:164] -A INPUT -p tcp" in report.outputs[-1]["stdout"]  # SYN 60, ACK 52, RST|ACK 52


def test_option_lengths_are_laid_out_as_linux_writes_them() -> None:
    assert TcpOptions().length == 0
    assert TcpOptions(mss=1460, sack_perm=True, timestamps=True, wscale=7).length == 20
    assert TcpOptions(mss=1460, sack_perm=True).length == 8          # MSS, NOP NOP SACK_PERM
    assert TcpOptions(mss=1460, timestamps=True).length == 16        # MSS, NOP NOP TS
    assert TcpOptions(mss=1460, wscale=7).length == 8                # MSS, NOP WS
    assert TcpOptions(timestamps=True).length == 12
    ip = IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), proto=6)
    syn = Packet(ip=ip, l4=Tcp(sport=1, dport=2, flags=TcpFlags.SYN,
                               options=TcpOptions(mss=1460, sack_perm=True, timestamps=True, wscale=7)))
    assert syn.length == 60
    assert Packet(ip=ip, l4=Udp(sport=1, dport=2), payload=b"x\n").length == 30
    assert Packet(ip=ip, l4=Icmp(type=IcmpType.DEST_UNREACH, code=3, quoted=syn)).length == 88


def test_compare_reports_a_byte_difference_when_the_packets_agree() -> None:
    from simnet.conformance import compare

    def report(nbytes: int | None) -> dict:
        row = {"table": "filter", "chain": "INPUT", "rule": 1, "packets": 1}
        if nbytes is not None:
            row["bytes"] = nbytes
        return {"probes": [{"line": 3, "command": "ip netns exec a nc -z 10.0.0.2 80", "outcome": "connected",
                            "icmp": None, "errno": None, "received": None, "counters": {"b": [row]},
                            "conntrack": {}}]}

    assert compare(report(40), report(60)) == [
        "line 3 `ip netns exec a nc -z 10.0.0.2 80`: counter b filter/INPUT#1 bytes: simulator 40, kernel 60"]
    assert compare(report(60), report(60)) == []
    assert compare(report(None), report(60)) == []  # a report from before bytes were recorded


def test_tcp_option_matches_the_kinds_each_segment_carries() -> None:
    """``--tcp-option N`` (xt_tcpudp's tcp_find_option): MSS 2, SACK_PERM 4 and window scale 3 on
    SYN and SYN-ACK only, timestamps 8 and NOP 1 on every segment of a timestamped connection."""
    (p,) = _probes("ip netns exec a iptables -A OUTPUT -p tcp --tcp-option 2\n"
                   "ip netns exec a iptables -A OUTPUT -p tcp --tcp-option 8\n"
                   "ip netns exec a iptables -A OUTPUT -p tcp ! --tcp-option 3\n"
                   "ip netns exec b nc -l -k -p 80 &\nip netns exec a nc -z -w 1 10.0.0.2 80\n")
    rows = _rows(p)
    assert (rows[("OUTPUT", 1)], rows[("OUTPUT", 2)], rows[("OUTPUT", 3)]) == ((1, 60), (3, 164), (2, 104))
