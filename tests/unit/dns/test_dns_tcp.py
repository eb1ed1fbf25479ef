"""DNS over TCP (dig +tcp/+vc): the length-prefixed query over a connection closed with FIN, dnsmasq and
Docker's embedded resolver answering on their TCP sockets; segments, sizes and words as Linux 6.18 and
dig 9.18.49 showed them (10 segments per query: SYN, SYN-ACK, ACK, query, ACK, answer, ACK, FIN,
FIN-ACK, ACK)."""

from __future__ import annotations

import pytest

from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from simnet.tools.dnsutils import stable_dig_lines

LAB = """\
ip netns add a
ip -n a link set lo up
ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --no-resolv --no-hosts --address=/db/10.0.0.5 --address=/gone/ --bind-interfaces &
"""
FLAGS = ("ALL SYN", "ALL SYN,ACK", "ALL ACK", "ALL PSH,ACK", "ALL FIN,ACK", "RST RST")
RULES = "".join(f"ip netns exec a iptables -A OUTPUT -p tcp {d} --tcp-flags {f}\n"
                for d in ("--dport 53", "--sport 53") for f in FLAGS)


def _out(report, line: int) -> str:  # type: ignore[no-untyped-def]
    return "".join(o["stdout"] for o in report.outputs if o["line"] == line)


def test_dig_tcp_prints_as_9_18_and_counts_the_kernels_segments() -> None:
    r = run_script(LAB + RULES + "ip netns exec a dig +tcp @127.0.0.1 db\n")
    j = r.to_json()
    assert r.ok and j["probes"][0]["outcome"] == "reply" and j["probes"][0]["proto"] == "tcp"
    lines = stable_dig_lines(_out(r, 16))
    assert lines[1] == "; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> +tcp @127.0.0.1 db"
    assert "db.\t\t\t0\tIN\tA\t10.0.0.5" in lines
    assert ";; SERVER: 127.0.0.1#53(127.0.0.1) (TCP)" in lines and ";; MSG SIZE  rcvd: 47" in lines
    counts = {c["rule"]: (c["packets"], c["bytes"]) for c in r.probes[0].counters["a"]
              if c["chain"] == "OUTPUT" and c["rule"] and c["packets"]}
    # client: SYN 60, 3 pure ACKs, query 2+43 bytes, FIN; server: SYN-ACK, ACK, answer 2+47, FIN (6.18)
    assert counts == {1: (1, 60), 3: (3, 156), 4: (1, 97), 5: (1, 52),
                      8: (1, 60), 9: (1, 52), 10: (1, 101), 11: (1, 52)}


def test_dig_vc_nxdomain_short_and_notcp() -> None:
    r = run_script(LAB + "ip netns exec a dig +vc @127.0.0.1 gone\nip netns exec a dig +tcp @127.0.0.1 db +short\n"
                   "ip netns exec a dig +tcp +notcp @127.0.0.1 db\n")
    assert "status: NXDOMAIN" in _out(r, 4) and "(TCP)" in _out(r, 4)
    assert _out(r, 5) == "10.0.0.5\n"
    assert "(UDP)" in _out(r, 6)
    assert [p["proto"] for p in r.to_json()["probes"]] == ["tcp", "tcp", "udp"]


def test_refused_and_timed_out_words_per_try() -> None:
    r = run_script(LAB + "ip netns exec a iptables -A INPUT -p tcp --dport 54 -j DROP\n"
                   "ip netns exec a dig +tcp @127.0.0.1 -p 55 db\n"
                   "ip netns exec a dig +tcp @127.0.0.1 -p 54 db +time=2 +tries=1\n")
    assert _out(r, 5) == (";; Connection to 127.0.0.1#55(127.0.0.1) for db failed: connection refused.\n"
                          ";; no servers could be reached\n") * 3
    assert _out(r, 6) == (";; Connection to 127.0.0.1#54(127.0.0.1) for db failed: timed out.\n"
                          ";; no servers could be reached\n")
    assert [p["outcome"] for p in r.to_json()["probes"]] == ["refused", "timeout"]
    drop = next(c for c in r.probes[1].counters["a"] if c["chain"] == "INPUT" and c["rule"] == 1)
    assert drop["packets"] == 2  # SYN at 0 s and its retransmission at 1 s, within +time=2 (6.18)


def test_resolv_conf_attempts_are_digs_tries() -> None:
    r = run_script(LAB + "mkdir -p /etc/netns/a\nprintf 'nameserver 127.0.0.1\\noptions attempts:2\\n' > "
                   "/etc/netns/a/resolv.conf\nip netns exec a dig +tcp -p 55 db\n")
    assert _out(r, 6).count("connection refused") == 2


def test_a_client_can_break_tcp_dns_with_a_rule() -> None:
    r = run_script(LAB + "ip netns exec a iptables -A OUTPUT -p tcp --dport 53 -j REJECT --reject-with tcp-reset\n"
                   "ip netns exec a dig +tcp @127.0.0.1 db +tries=1\nip netns exec a dig @127.0.0.1 db +short\n")
    assert "connection refused" in _out(r, 5)
    assert _out(r, 6) == "10.0.0.5\n"  # UDP is untouched


def test_bad_dig_option_still_refused() -> None:
    with pytest.raises(ScriptError):
        run_script(LAB + "ip netns exec a dig +tcpx @127.0.0.1 db\n")


FORWARDER = """\
ip netns add a
ip -n a link set lo up
ip -n a addr add 127.0.0.2/8 dev lo
ip -n a addr add 127.0.0.3/8 dev lo
ip netns exec a dnsmasq -k --listen-address=127.0.0.2 --bind-interfaces --no-resolv --no-hosts --host-record=hr,10.1.1.2 &
ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --server=127.0.0.2 &
"""
UPSTREAM_RULES = "".join(f"ip netns exec a iptables -A OUTPUT -p tcp -d 127.0.0.2 {d} --tcp-flags {f}\n"
                         for d in ("--dport 53",) for f in FLAGS) + "".join(
    f"ip netns exec a iptables -A OUTPUT -p tcp -s 127.0.0.2 --sport 53 --tcp-flags {f}\n" for f in FLAGS)


def test_dnsmasq_forwards_a_tcp_query_over_its_own_tcp_connection() -> None:
    """The upstream leg as 6.18 counted it: a 64-byte SYN (Fast Open cookie request), the query
    with the handshake's ACK, no ACK of its own for the answer, FIN,ACK, the last ACK; the
    upstream's SYN-ACK, ACK, answer, FIN,ACK; the client gets the upstream's answer."""
    r = run_script(FORWARDER + UPSTREAM_RULES + "ip netns exec a iptables -A INPUT -m conntrack --ctstate NEW\n"
                   "ip netns exec a dig +tcp @127.0.0.1 hr\nip netns exec a conntrack -L -p tcp -d 127.0.0.2\n")
    j = r.to_json()
    assert j["probes"][0]["outcome"] == "reply"
    out = _out(r, 20)
    assert "hr.\t\t\t0\tIN\tA\t10.1.1.2" in out and ";; MSG SIZE  rcvd: 47" in out
    counts = {c["rule"]: (c["packets"], c["bytes"]) for c in r.probes[0].counters["a"]
              if c["chain"] == "OUTPUT" and c["rule"] and c["packets"]}
    # forwarder -> upstream: SYN 64, ACK (the last), query 2+43, FIN; upstream: SYN-ACK, ACK, answer, FIN
    assert counts == {1: (1, 64), 3: (1, 52), 4: (1, 97), 5: (1, 52),
                      8: (1, 60), 9: (1, 52), 10: (1, 101), 11: (1, 52)}
    assert "TIME_WAIT src=127.0.0.1 dst=127.0.0.2" in _out(r, 21)


def test_udp_asks_every_upstream_until_one_answered_tcp_asks_the_first_in_order() -> None:
    """As dnsmasq 2.90 did on 6.18 with --server=REFUSING --server=GOOD: the first UDP query goes
    to both and the good answer wins; the next goes to the good one alone (its REFUSED relayed);
    over TCP the first on the command line is asked and its REFUSED relayed."""
    rules = "".join(f"ip netns exec a iptables -A OUTPUT -p udp -d {a} --dport 53\n" for a in ("127.0.0.2", "127.0.0.3"))
    r = run_script(FORWARDER.replace("--server=127.0.0.2", "--server=127.0.0.3 --server=127.0.0.2") + rules
                   + "ip netns exec a dnsmasq -k --listen-address=127.0.0.3 --bind-interfaces --no-resolv --no-hosts &\n"
                   "ip netns exec a dig @127.0.0.1 hr +short\n"
                   "ip netns exec a dig @127.0.0.1 nothing +short\n"
                   "ip netns exec a dig +tcp @127.0.0.1 hr +short\n")
    asked = [{c["rule"]: c["packets"] for c in p.counters["a"] if c["chain"] == "OUTPUT" and c["rule"] in (1, 2)}
             for p in r.probes]
    assert (asked[0].get(1, 0), asked[0].get(2, 0)) == (1, 1) and (asked[1].get(1, 0), asked[1].get(2, 0)) == (1, 0)
    assert _out(r, 10) == "10.1.1.2\n" and _out(r, 11) == "" and _out(r, 12) == ""
    assert [p["outcome"] for p in r.to_json()["probes"]] == ["reply"] * 3


def test_a_dropped_upstream_leaves_the_tcp_client_without_an_answer() -> None:
    r = run_script(FORWARDER + "ip netns exec a iptables -A OUTPUT -p tcp -d 127.0.0.2 -j DROP\n"
                   "ip netns exec a dig +tcp @127.0.0.1 hr +time=2 +tries=1\n")
    assert _out(r, 8) == (";; Connection to 127.0.0.1#53(127.0.0.1) for hr failed: timed out.\n"
                          ";; no servers could be reached\n")
