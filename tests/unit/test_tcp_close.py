"""How nc and curl connections end (issue #15): FIN, the server's FIN, the last ACK, TIME_WAIT.

Every number here was seen on Linux 6.18 in unshare -n namespaces first (netcat-openbsd 1.219,
socat, ncat, curl 7.88.1, python3 -m http.server; tests/kernel/test_tcp_close_kernel.py compares
the same worlds with the kernel): the client closes first (nc after -w idle, nc -z at once), the
server program closes on EOF with one FIN,ACK, the client's last ACK leaves it in TIME-WAIT for
60 s and a router's conntrack in TIME_WAIT (120 s); http.server closes first after its answer.
Writes are cut at the current MSS (tcp_current_mss), PSH on the last segment of each write.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.packet import Tcp, TcpFlags
from simnet.script.interpreter import run_script
from simnet.tcp_output import segments

F = TcpFlags

ROUTED = """\
ip netns add tc
ip netns add tr
ip netns add ts
ip -n tc link add eth0 type veth peer name c0 netns tr
ip -n ts link add eth0 type veth peer name s0 netns tr
ip -n tc addr add 10.1.0.2/24 dev eth0
ip -n tr addr add 10.1.0.1/24 dev c0
ip -n tr addr add 10.2.0.1/24 dev s0
ip -n ts addr add 10.2.0.2/24 dev eth0
ip -n tc link set eth0 up
ip -n tr link set c0 up
ip -n tr link set s0 up
ip -n ts link set eth0 up
ip -n tc route add default via 10.1.0.1
ip -n ts route add default via 10.2.0.1
ip netns exec tr sysctl -w net.ipv4.ip_forward=1
ip netns exec tr iptables -A FORWARD -m conntrack --ctstate INVALID
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL FIN,ACK
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags RST RST
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL ACK
"""


def _segments(report, index: int = 0) -> list[tuple[str, TcpFlags, int]]:  # type: ignore[no-untyped-def]
    """(namespace that sent it, flags, payload length) of each TCP segment of a probe, in order."""
    traces = sorted(report.probes[index].result.traces, key=lambda t: (t.time, t.id))
    return [(t.origin, t.packet.l4.flags, len(t.packet.payload)) for t in traces if isinstance(t.packet.l4, Tcp)]


def _out(report, command: str) -> str:  # type: ignore[no-untyped-def]
    return next(o["stdout"] for o in reversed(report.outputs) if o["command"].endswith(command))


def test_nc_closes_first_the_listener_answers_and_the_client_waits_in_time_wait() -> None:
    r = run_script(ROUTED + "ip netns exec ts nc -l -k -p 80 &\n"
                   "echo hi | ip netns exec tc nc -w 1 -p 40001 10.2.0.2 80\n"
                   "ip netns exec tr iptables -vnxL FORWARD\nip netns exec tr conntrack -L\n"
                   "ip netns exec tc ss -tan\nip netns exec ts ss -tan\n")
    assert _segments(r) == [("tc", F.SYN, 0), ("ts", F.SYN | F.ACK, 0), ("tc", F.ACK, 0), ("tc", F.PSH | F.ACK, 3),
                            ("ts", F.ACK, 0), ("tc", F.FIN | F.ACK, 0), ("ts", F.FIN | F.ACK, 0), ("tc", F.ACK, 0)]
    rows = [line.split()[:2] for line in _out(r, "iptables -vnxL FORWARD").splitlines()[3:]]
    assert rows == [["2", "104"], ["0", "0"], ["3", "156"]]  # FIN,ACK both ways, no RST, 3 bare ACKs
    assert _out(r, "conntrack -L").startswith("tcp      6 119 TIME_WAIT src=10.1.0.2 dst=10.2.0.2 sport=40001 dport=80")
    assert "[ASSURED]" in _out(r, "conntrack -L")
    assert _out(r, "tc ss -tan").splitlines()[1] == \
        "TIME-WAIT 0      0           10.1.0.2:40001     10.2.0.2:80         "
    assert "TIME-WAIT" not in _out(r, "ts ss -tan")


def test_nc_z_closes_without_data_and_time_wait_ends_after_60_seconds() -> None:
    r = run_script(ROUTED + "ip netns exec ts nc -l -k -p 80 &\nip netns exec tc nc -z -w 1 10.2.0.2 80\n"
                   "ip netns exec tc ss -tan\nip netns exec tc ss -tn\nsleep 59\nip netns exec tc ss -tan\n"
                   "sleep 2\nip netns exec tc ss -tan\n")
    assert [f for _, f, _ in _segments(r)] == [F.SYN, F.SYN | F.ACK, F.ACK, F.FIN | F.ACK, F.FIN | F.ACK, F.ACK]
    outs = [o["stdout"] for o in r.outputs if "ss -t" in o["command"]]
    assert "TIME-WAIT" in outs[0] and "TIME-WAIT" in outs[2]
    assert outs[1] == "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"  # ss's default filter
    assert "TIME-WAIT" not in outs[3]


def test_http_server_closes_first_and_its_side_waits_in_time_wait() -> None:
    r = run_script(ROUTED + "head -c 3000 /dev/zero > /tmp/f\n"
                   "ip netns exec ts python3 -m http.server --directory /tmp 80 &\n"
                   "ip netns exec tc curl -s -o /dev/null http://10.2.0.2/f\n"
                   "ip netns exec tr conntrack -L\nip netns exec ts ss -tan\nip netns exec tc ss -tan\n")
    closing = [(ns, f) for ns, f, n in _segments(r) if f & (F.FIN | F.RST) or (not n and f == F.ACK)][-3:]
    assert closing == [("ts", F.FIN | F.ACK), ("tc", F.FIN | F.ACK), ("ts", F.ACK)]
    assert "TIME_WAIT" in _out(r, "conntrack -L")
    assert "TIME-WAIT 0      0           10.2.0.2:80" in _out(r, "ts ss -tan")
    assert "TIME-WAIT" not in _out(r, "tc ss -tan")


def test_a_stalled_upload_is_aborted_and_conntrack_ends_close() -> None:
    """The upload stalls (a 1000-byte hop, its ICMP dropped): nc would close with a FIN behind the
    hole, whose fate depends on timers outliving the probe; simnet and the kernel runner abort."""
    r = run_script(ROUTED + "ip -n tr link set s0 mtu 1000\nip netns exec tr iptables -I OUTPUT -p icmp -j DROP\n"
                   "ip netns exec ts nc -l -k -p 80 &\n"
                   "head -c 3000 /dev/zero | ip netns exec tc nc -w 1 10.2.0.2 80\n# expect: connected stalled\n"
                   "ip netns exec tr conntrack -L\n")
    assert r.probes[0].result.transfer is not None and not r.probes[0].result.transfer.complete
    assert " CLOSE " in _out(r, "conntrack -L")
    assert _segments(r)[-1] == ("tc", F.RST | F.ACK, 0)


def test_echo_text_is_cut_at_the_peers_mss_psh_on_the_last() -> None:
    """A server behind a 600-byte MTU advertises MSS 560: with timestamps 548 bytes a segment."""
    r = run_script(ROUTED + "ip -n ts link set eth0 mtu 600\nip -n tr link set s0 mtu 600\n"
                   "ip netns exec ts socat TCP-LISTEN:7,fork EXEC:cat &\n"
                   f"echo {'a' * 1200} | ip netns exec tc nc -w 1 10.2.0.2 7\n")
    data = [(ns, f, n) for ns, f, n in _segments(r) if n]
    assert data[:3] == [("tc", F.ACK, 548), ("tc", F.ACK, 548), ("tc", F.PSH | F.ACK, 105)]
    assert all(n <= 548 for _, _, n in data) and sum(n for ns, _, n in data if ns == "ts") == 1201
    assert r.probes[0].result.reply is not None and r.probes[0].result.reply.data == b"a" * 1200 + b"\n"


def test_segments_cut_a_write_in_order() -> None:
    assert segments(b"abcdefg", 3) == [b"abc", b"def", b"g"] and segments(b"", 3) == []


@settings(max_examples=15, deadline=None)
@given(size=st.integers(min_value=1, max_value=4000), mtu=st.integers(min_value=576, max_value=1500))
def test_any_echo_arrives_whole_in_ceil_size_over_mss_segments_and_closes(size: int, mtu: int) -> None:
    """For any payload and server MTU: the echo comes back whole, the client's write leaves in
    ceil(size / mss) segments of at most mss (the server's MSS, MTU - 40, less 12 for timestamps),
    and the close leaves the client in TIME-WAIT and the router's entry in TIME_WAIT."""
    text = "b" * (size - 1)  # echo adds the newline
    r = run_script(ROUTED + f"ip -n ts link set eth0 mtu {mtu}\nip -n tr link set s0 mtu {mtu}\n"
                   "ip netns exec ts socat TCP-LISTEN:7,fork EXEC:cat &\n"
                   f"echo {text} | ip netns exec tc nc -w 1 -p 40009 10.2.0.2 7\n"
                   "ip netns exec tr conntrack -L\nip netns exec tc ss -tan\n")
    mss = mtu - 40 - 12
    sent = [n for ns, _, n in _segments(r) if ns == "tc" and n]
    assert sum(sent) == size and len(sent) == math.ceil(size / mss) and max(sent) <= mss
    reply = r.probes[0].result.reply
    assert reply is not None and reply.data == (text + "\n").encode()
    assert " TIME_WAIT " in _out(r, "conntrack -L") and "10.1.0.2:40009" in _out(r, "ss -tan")
    assert _segments(r)[-3:] == [("tc", F.FIN | F.ACK, 0), ("ts", F.FIN | F.ACK, 0), ("tc", F.ACK, 0)]
