"""Request and response on the kernel: echo services (socat, ncat) answer, nc prints the answer,
and simnet's replies, counters and conntrack entries agree with Linux's.

The runner starts the script's own socat/ncat (installed by .ci/run; the tests skip without them)
and its nc helpers read what comes back, so the kernel judges the reply's packets: netfilter on
both sides, conntrack (UDP stays unassured after one exchange) and NAT undone on the way back.
"""

from __future__ import annotations

import shutil

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

TWO = """\
ip netns add rc
ip netns add rs
ip -n rc link add eth0 type veth peer name eth0 netns rs
ip -n rc addr add 10.9.0.2/24 dev eth0
ip -n rs addr add 10.9.0.1/24 dev eth0
ip -n rc link set eth0 up
ip -n rs link set eth0 up
ip -n rc link set lo up
ip -n rs link set lo up
"""

FLAGS = """\
ip netns exec rs iptables -A INPUT -p tcp --tcp-flags ALL SYN
ip netns exec rs iptables -A INPUT -p tcp --tcp-flags ALL ACK
ip netns exec rs iptables -A INPUT -p tcp --tcp-flags ALL PSH,ACK
ip netns exec rs iptables -A INPUT -p tcp --tcp-flags ALL RST,ACK
ip netns exec rs iptables -A INPUT -p udp -m conntrack --ctstate NEW,ESTABLISHED
ip netns exec rc iptables -A INPUT -p tcp --tcp-flags ALL SYN,ACK
ip netns exec rc iptables -A INPUT -p tcp --tcp-flags ALL ACK
ip netns exec rc iptables -A INPUT -p tcp --tcp-flags ALL PSH,ACK
ip netns exec rc iptables -A INPUT -p udp
"""

ECHO = TWO + FLAGS + """\
ip netns exec rs socat UDP-LISTEN:7,fork EXEC:cat &
ip netns exec rs socat TCP-LISTEN:8,fork,reuseaddr EXEC:cat &
ip netns exec rs ncat -l -k -u -p 9 --exec /bin/cat &
ip netns exec rs ncat -l -k -p 10 -e /bin/cat &
echo hi | ip netns exec rc nc -u -w 1 10.9.0.1 7
# expect: delivered from 10.9.0.2
echo hi | ip netns exec rc nc -w 1 10.9.0.1 8
# expect: connected from 10.9.0.2
echo hello | ip netns exec rc nc -u -w 1 10.9.0.1 9
echo hello | ip netns exec rc nc -w 1 10.9.0.1 10
ip netns exec rs iptables -vnxL INPUT
ip netns exec rc iptables -vnxL INPUT
"""

NAT = """\
ip netns add rc
ip netns add rr
ip netns add rs
ip -n rc link add eth0 type veth peer name c0 netns rr
ip -n rs link add eth0 type veth peer name s0 netns rr
ip -n rc addr add 10.1.0.2/24 dev eth0
ip -n rr addr add 10.1.0.1/24 dev c0
ip -n rr addr add 10.2.0.1/24 dev s0
ip -n rs addr add 10.2.0.2/24 dev eth0
ip -n rc link set eth0 up
ip -n rr link set c0 up
ip -n rr link set s0 up
ip -n rs link set eth0 up
ip -n rc route add default via 10.1.0.1
ip -n rs route add default via 10.2.0.1
ip netns exec rr sysctl -w net.ipv4.ip_forward=1
ip netns exec rr iptables -t nat -A PREROUTING -d 10.3.0.100 -p udp --dport 53 -j DNAT --to-destination 10.2.0.2:5353
ip netns exec rr iptables -t nat -A PREROUTING -d 10.3.0.100 -p tcp --dport 80 -j DNAT --to-destination 10.2.0.2:8080
ip netns exec rr iptables -t nat -A POSTROUTING -o s0 -j MASQUERADE
ip netns exec rr iptables -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
ip netns exec rr iptables -A FORWARD -m conntrack --ctstate NEW -j ACCEPT
ip netns exec rs socat UDP-LISTEN:5353,fork EXEC:cat &
ip netns exec rs socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat &
echo query | ip netns exec rc nc -u -w 1 -p 40000 10.3.0.100 53
# expect: delivered from 10.2.0.1
echo get | ip netns exec rc nc -w 1 10.3.0.100 80
# expect: connected from 10.2.0.1
sleep 3
echo again | ip netns exec rc nc -u -w 1 -p 40000 10.3.0.100 53
# expect: delivered from 10.2.0.1
ip netns exec rr iptables -vnxL FORWARD
"""

SECONDARY = TWO + """\
ip -n rs addr add 10.9.0.100/24 dev eth0
ip netns exec rs iptables -A INPUT -p icmp
ip netns exec rc iptables -A INPUT -p udp
ip netns exec rs socat UDP-LISTEN:7,fork EXEC:cat &
echo hi | ip netns exec rc nc -u -w 1 10.9.0.100 7
# expect: delivered from 10.9.0.2
ip netns exec rs iptables -vnxL INPUT
ip netns exec rc iptables -vnxL INPUT
"""


def both(script: str) -> tuple[dict, dict]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    for tool in ("socat", "ncat"):
        if tool in script and shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (apt-get install {tool}; .ci/run installs it)")
    from simnet.conformance import run_on_kernel

    return run_script(script, filename="reqresp.sh").to_json(), run_on_kernel(script, filename="reqresp.sh")


def agree(sim: dict, kernel: dict) -> dict[int, dict]:
    from simnet.conformance import compare

    differences = compare(sim, kernel)
    assert not differences, "\n".join(differences)
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"] + kernel["probes"])
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}  # (the runner does not record sysctl -w's echo)
    assert {o["line"]: o["stdout"] for o in sim["outputs"] if o["line"] in printed} == printed
    assert all(p["line"] in printed for p in sim["probes"] if p["reply"])
    for s, k in zip(sim["probes"], kernel["probes"]):
        assert s["reply"] == k["reply"], s["line"]
    return {p["line"]: p for p in kernel["probes"]}


def test_socat_and_ncat_echo_services_answer_as_on_the_kernel() -> None:
    sim, kernel = both(ECHO)
    probes = agree(sim, kernel)
    replies = [(line, p["reply"]["src"], p["reply"]["sport"], p["reply"]["data"]) for line, p in probes.items()]
    assert replies == [(23, "10.9.0.1", 7, "hi\n"), (25, "10.9.0.1", 8, "hi\n"), (27, "10.9.0.1", 9, "hello\n"),
                       (28, "10.9.0.1", 10, "hello\n")]
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    assert printed[23] == "hi\n" and printed[28] == "hello\n"
    # per TCP connection the server saw SYN, 2 ACKs, the 55-byte data and the client's RST,ACK
    assert "    4      208            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp flags:0x3F/0x10" \
        in printed[29]
    # one exchange leaves a UDP entry replied but not ASSURED
    assert any(e.startswith("udp") and "ASSURED" not in e for e in probes[23]["conntrack"]["rs"])


def test_replies_come_back_through_dnat_and_masquerade_and_udp_becomes_assured() -> None:
    sim, kernel = both(NAT)
    probes = agree(sim, kernel)
    # the client saw the answers come from the address it asked (conntrack undid the DNAT)
    assert probes[24]["reply"]["src"] == "10.3.0.100" and probes[24]["reply"]["sport"] == 53
    assert probes[26]["reply"]["src"] == "10.3.0.100" and probes[26]["reply"]["sport"] == 80
    assert probes[24]["reply"]["ns"] == "rs" and probes[24]["received"]["src"] == "10.2.0.1"
    assert probes[24]["reply"]["data"] == "query\n" and probes[26]["reply"]["data"] == "get\n"
    udp = [e for e in probes[24]["conntrack"]["rr"] if e.startswith("udp")]
    assert udp and "ASSURED" not in udp[0]
    # traffic both ways, then a packet more than 2 s after the first: ASSURED
    udp = [e for e in probes[29]["conntrack"]["rr"] if e.startswith("udp")]
    assert udp and "[ASSURED]" in udp[0]


def test_an_answer_from_another_address_is_refused_by_the_connected_client() -> None:
    """socat's socket, bound to 0.0.0.0 and connected to the client, answers from the route's
    source 10.9.0.1, not the 10.9.0.100 asked: nc's connected socket does not take it (port
    unreachable back), so nc prints nothing."""
    sim, kernel = both(SECONDARY)
    probes = agree(sim, kernel)
    assert probes[14]["reply"] is None and probes[14]["received"]["src"] == "10.9.0.2"
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    assert printed[17].splitlines()[2].split()[0] == "1"  # the answer reached the client's INPUT
    assert printed[16].splitlines()[2].split()[0] == "1"  # its port unreachable reached the server
