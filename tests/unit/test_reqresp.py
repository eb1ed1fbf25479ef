"""Echo services that answer (socat, ncat) and nc reading the answer, in simnet alone."""

from __future__ import annotations

import pytest

from simnet.packet import Tcp, TcpFlags, Udp
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

TWO = """\
ip netns add c
ip netns add s
ip -n c link add eth0 type veth peer name eth0 netns s
ip -n c addr add 10.9.0.2/24 dev eth0
ip -n s addr add 10.9.0.1/24 dev eth0
ip -n c link set eth0 up
ip -n s link set eth0 up
"""


def probes(script: str) -> list[dict]:
    return [p.to_json() for p in run_script(TWO + script).probes]


@pytest.mark.parametrize("service", [
    "socat UDP-LISTEN:7,fork EXEC:cat",
    "socat udp-l:7,fork,reuseaddr system:cat",
    "socat -d -d UDP4-LISTEN:7,fork,bind=10.9.0.1 EXEC:/bin/cat",
    "socat UDP-LISTEN:7,fork PIPE",
    "socat EXEC:cat UDP-LISTEN:7,fork",
    "ncat -l -k -u -p 7 --exec /bin/cat",
    "ncat -luk 7 -e cat",
    "ncat --listen --udp --keep-open 10.9.0.1 7 --sh-exec=cat",
])
def test_udp_echo_services_answer_and_nc_prints_it(service: str) -> None:
    r = run_script(TWO + f"ip netns exec s {service} &\necho hi | ip netns exec c nc -u -w 1 10.9.0.1 7\n")
    (p,) = [p.to_json() for p in r.probes]
    assert p["outcome"] == "delivered" and p["received"]["src"] == "10.9.0.2"
    assert p["reply"] == {"ns": "s", "src": "10.9.0.1", "sport": 7, "bytes": 3, "data": "hi\n"}
    assert [o["stdout"] for o in r.outputs] == ["hi\n"]
    # the answer is a packet caused by the request, sent by the service
    answer = [t for t in r.probes[0].result.traces if t.origin == "s" and isinstance(t.packet.l4, Udp)]
    assert len(answer) == 1 and answer[0].caused_by is not None


@pytest.mark.parametrize("service", [
    "socat TCP-LISTEN:8,fork,reuseaddr EXEC:cat", "socat tcp-l:8,fork PIPE", "ncat -l -k -p 8 --exec /bin/cat"])
def test_tcp_echo_services_answer_after_the_handshake(service: str) -> None:
    r = run_script(TWO + f"ip netns exec s {service} &\necho hello | ip netns exec c nc -w 1 10.9.0.1 8\n")
    (p,) = [p.to_json() for p in r.probes]
    assert p["outcome"] == "connected" and p["reply"]["data"] == "hello\n" and p["reply"]["sport"] == 8
    F = TcpFlags
    sent = [(t.origin, t.packet.l4.flags, len(t.packet.payload)) for t in r.probes[0].result.traces
            if isinstance(t.packet.l4, Tcp)]
    assert sent == [("c", F.SYN, 0), ("s", F.SYN | F.ACK, 0), ("c", F.ACK, 0), ("c", F.PSH | F.ACK, 6),
                    ("s", F.ACK, 0), ("s", F.PSH | F.ACK, 6), ("c", F.ACK, 0), ("c", F.RST | F.ACK, 0)]


def test_listeners_that_only_read_do_not_answer() -> None:
    for service in ("socat UDP-LISTEN:7,fork STDOUT", "socat -u UDP-LISTEN:7,fork EXEC:cat", "ncat -l -k -u -p 7",
                    "nc -u -l 7"):
        (p,) = probes(f"ip netns exec s {service} &\necho hi | ip netns exec c nc -u -w 1 10.9.0.1 7\n")
        assert p["outcome"] == "delivered" and p["reply"] is None, service


def test_without_fork_udp_serves_its_first_sender_only() -> None:
    """socat connects its UDP socket to the first sender: another port finds no socket (port unreachable)."""
    ps = probes("ip netns exec s socat UDP-LISTEN:7 EXEC:cat &\n"
                "echo a | ip netns exec c nc -u -w 1 -p 4000 10.9.0.1 7\n"
                "echo b | ip netns exec c nc -u -w 1 -p 4000 10.9.0.1 7\n"
                "echo c | ip netns exec c nc -u -w 1 -p 4001 10.9.0.1 7\n")
    assert [p["reply"]["data"] if p["reply"] else None for p in ps] == ["a\n", "b\n", None]
    assert ps[2]["outcome"] == "unreachable" and ps[2]["errno"] == "ECONNREFUSED"


def test_without_fork_tcp_serves_one_connection() -> None:
    ps = probes("ip netns exec s socat TCP-LISTEN:8 EXEC:cat &\n"
                "echo a | ip netns exec c nc -w 1 10.9.0.1 8\n"
                "echo b | ip netns exec c nc -w 1 10.9.0.1 8\n")
    assert [(p["outcome"], p["reply"]["data"] if p["reply"] else None) for p in ps] == [
        ("connected", "a\n"), ("refused", None)]


def test_the_answer_is_un_dnatted_on_its_way_back() -> None:
    ps = probes("ip netns exec s iptables -t nat -A PREROUTING -p udp --dport 53 -j REDIRECT --to-ports 7\n"
                "ip netns exec s socat UDP-LISTEN:7,fork EXEC:cat &\n"
                "echo q | ip netns exec c nc -u -w 1 10.9.0.1 53\n")
    assert ps[0]["reply"]["sport"] == 53 and ps[0]["reply"]["src"] == "10.9.0.1"
    assert ps[0]["received"]["sport"] is not None


def test_a_reply_firewalled_on_the_way_back_is_not_printed() -> None:
    r = run_script(TWO + "ip netns exec c iptables -A INPUT -p udp --sport 7 -j DROP\n"
                         "ip netns exec s socat UDP-LISTEN:7,fork EXEC:cat &\n"
                         "echo hi | ip netns exec c nc -u -w 1 10.9.0.1 7\n")
    p = r.probes[0].to_json()
    assert p["outcome"] == "delivered" and p["reply"] is None and r.outputs == []
    assert {"table": "filter", "chain": "INPUT", "rule": 1, "packets": 1, "bytes": 31} in p["counters"]["c"]


@pytest.mark.parametrize("line, message", [
    ("socat FOO:1 EXEC:cat &", 'socat E unknown device/address "FOO"'),
    ("socat UDP-LISTEN:abc EXEC:cat &", 'socat E cannot resolve service "abc/17"'),
    ("socat TCP-LISTEN:abc EXEC:cat &", 'socat E cannot resolve service "abc/6"'),
    ("socat UDP-LISTEN:7,frk EXEC:cat &", 'socat E parseopts_table(): unknown option "frk"'),
    ("socat UDP-LISTEN:7 &", "socat E exactly 2 addresses required (there are 1)"),
    ("socat UDP-LISTEN EXEC:cat &", "socat E UDP-LISTEN: wrong number of parameters (0 instead of 1)"),
    ("socat UDP-LISTEN:7,fork EXEC:'tr a-z A-Z' &", "runs cat as its program"),
    ("socat UDP-LISTEN:7,fork EXEC:cat", "must run in the background"),
    ("ncat -l -p 99999 &", "Ncat: Invalid source port 99999. QUITTING."),
    ("ncat -l -u -k -p abc &", 'Ncat: Invalid source port number "abc". QUITTING.'),
    ("ncat -l -k -p 7 --exec &", "ncat: option '--exec' requires an argument"),
    ("ncat -l -k -p 7 --exec /bin/sh &", "runs cat as --exec"),
])
def test_bad_service_lines_are_refused_as_the_tools_word_them(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script(TWO + "ip netns exec s " + line + "\n")
    assert message in e.value.reason and e.value.line == 8
