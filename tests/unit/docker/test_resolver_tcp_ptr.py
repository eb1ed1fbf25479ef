"""Docker's embedded resolver: a TCP query it cannot answer is forwarded over TCP (libnetwork's
forwardExtDNS dials with the listener's proto), PTR answers for containers on the asker's networks
(Sandbox.ResolveIP: ``NAME.NETWORK.``), MX for a known name answered NOERROR with no records."""

from __future__ import annotations

import pytest

from simnet.script.interpreter import run_script

FORWARD = """\
ip netns add h1
ip netns add lan
ip -n h1 link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns lan
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n lan addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n lan link set eth0 up
mkdir -p /etc/netns/h1
echo "nameserver 203.0.113.20" > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/git.example.com/198.51.100.7 --address=/gone.example.com/ &
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker network create --subnet 10.20.0.0/24 back
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker run -d --network front --name web --network-alias www nginx
ip netns exec h1 docker run -d --network back --name db postgres
ip netns exec h1 docker exec app dig +tcp +short git.example.com
ip netns exec h1 docker exec app dig +tcp gone.example.com
"""


def _out(report: dict, line: int) -> str:  # type: ignore[type-arg]
    return "".join(o["stdout"] for o in report["outputs"] if o["line"] == line)


@pytest.mark.parametrize("era,origin", [("27", "h1-app"), ("29", "h1")])
def test_a_tcp_query_is_forwarded_over_tcp_from_the_eras_namespace(era: str, origin: str) -> None:
    report = run_script(FORWARD.format(era=era)).to_json()
    first, second = report["probes"][-2:]
    assert first["outcome"] == "reply" and first["proto"] == "tcp"
    assert _out(report, 18) == "198.51.100.7\n"
    assert "status: NXDOMAIN" in _out(report, 19) and "(TCP)" in _out(report, 19)
    upstream = [t for t in first["trace"] if "> 203.0.113.20.53: Flags" in t["packet"]]
    # Go's net.Dial: SYN, ACK, the query, the ACK of the answer, FIN, the last ACK; from the era's namespace
    assert [t["packet"].split("Flags ")[1].split("]")[0] + "]" for t in upstream] == \
        ["[S]", "[.]", "[P.]", "[.]", "[F.]", "[.]"]
    assert {t["origin"] for t in upstream} == {origin}
    assert not any("> 203.0.113.20.53: UDP" in t["packet"] for t in first["trace"])


def test_tcp_forwarding_with_no_upstream_answering_gives_servfail() -> None:
    script = FORWARD.format(era="29").replace(
        "ip netns exec h1 docker exec app dig +tcp +short git.example.com\n",
        "ip netns exec lan iptables -A INPUT -p tcp --dport 53 -j DROP\n"
        "ip netns exec h1 docker exec app dig +tcp git.example.com\n")
    report = run_script(script).to_json()
    assert "status: SERVFAIL" in _out(report, 19)


PTR = FORWARD.format(era="29").rsplit("ip netns exec h1 docker exec app dig +tcp +short", 1)[0] + """\
ip netns exec h1 docker exec app dig -x 10.10.0.3 +short
ip netns exec h1 docker exec app dig +tcp -x 10.10.0.3 +short
ip netns exec h1 docker exec app host 10.10.0.2
ip netns exec h1 docker exec app dig -x 10.20.0.2 +short +time=1 +tries=1
ip netns exec h1 docker exec app dig www MX +noall +answer +comments
ip netns exec h1 docker exec app nslookup 10.10.0.3
"""


def test_ptr_answers_name_dot_network_only_on_the_askers_networks() -> None:
    report = run_script(PTR).to_json()
    assert _out(report, 18) == "web.front.\n"  # the container's name, not its alias
    assert _out(report, 19) == "web.front.\n"  # over TCP too
    assert _out(report, 20) == "2.0.10.10.in-addr.arpa domain name pointer app.front.\n"
    # db is on back only: the question is forwarded (the lan dnsmasq has no record: REFUSED there)
    assert "back" not in _out(report, 21)
    mx = _out(report, 22)
    assert "status: NOERROR" in mx and "ANSWER: 0" in mx
    assert "3.0.10.10.in-addr.arpa\tname = web.front." in _out(report, 23)
