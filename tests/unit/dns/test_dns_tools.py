"""DNS in scripts: dnsmasq answering, dig/host/nslookup/getent printing as bind9-dnsutils 9.18 and
glibc 2.36 print (texts captured from Debian 12 in a namespace), names in ping/nc/curl, and the
queries' packets in counters."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from simnet.dns.message import EdnsOption, Message, QType, Question, Rcode, Record, decode, opt_record
from simnet.dns.resolver import parse_hosts, parse_resolv_conf
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from simnet.tools.dnsutils import record_line, question_line, stable_dig_lines

LAB = """\
ip netns add a
ip -n a link set lo up
ip -n a addr add 10.0.0.5/8 dev lo
ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --no-resolv --address=/web/10.0.0.5 --host-record=db,10.0.0.6 --local=/lab/ --address=/gone/ --bind-interfaces &
mkdir -p /etc/netns/a
echo nameserver 127.0.0.1 > /etc/netns/a/resolv.conf
"""


def _out(report, line: int) -> str:
    return "".join(o["stdout"] for o in report.outputs if o["line"] == line)


def _err(report, line: int) -> str:
    """What the command printed on stderr (ping/nc/curl's name-lookup failures go there)."""
    return "".join(o.get("stderr", "") for o in report.outputs if o["line"] == line)


def test_sizes_as_on_the_wire() -> None:
    """dig's query for db (cookie) is 43 bytes and dnsmasq's answer 47, as dig +qr printed them."""
    q = Message(id=1, ad=True, questions=(Question("db"),), additional=(opt_record(EdnsOption(10, bytes(8))),))
    a = Message(id=1, qr=True, aa=True, ra=True, questions=(Question("db"),),
                answers=(Record("db", QType.A, 1, 0, IPv4Address("10.0.0.6")),), additional=(opt_record(),))
    assert (len(q.encode()), len(a.encode())) == (43, 47)
    assert a.encode()[-27:-23] == b"\xc0\x0c\x00\x01"  # the answer's owner is a pointer to the question


def test_columns_as_dig_prints_them() -> None:
    assert question_line(Question("web")) == ";web.\t\t\t\tIN\tA"
    assert question_line(Question("up.lab", QType.AAAA)) == ";up.lab.\t\t\t\tIN\tAAAA"  # seen on the kernel run
    assert question_line(Question("ab.mid-size.lab")) == ";ab.mid-size.lab.\t\tIN\tA"
    assert question_line(Question("averyveryverylongname.example.lab")) == \
        ";averyveryverylongname.example.lab. IN\tA"
    assert record_line(Record("web", QType.A, 1, 0, IPv4Address("10.0.0.5"))) == "web.\t\t\t0\tIN\tA\t10.0.0.5"
    assert record_line(Record("averyveryverylongname.example.lab", QType.A, 1, 0, IPv4Address("10.0.0.6"))) == \
        "averyveryverylongname.example.lab. 0 IN\tA\t10.0.0.6"


def test_dig_answer_text() -> None:
    r = run_script(LAB + "ip netns exec a dig @127.0.0.1 web\n")
    assert stable_dig_lines(_out(r, 7)) == [
        "", "; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @127.0.0.1 web", "; (1 server found)",
        ";; global options: +cmd", ";; Got answer:",
        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: *",
        ";; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1", "",
        ";; OPT PSEUDOSECTION:", "; EDNS: version: 0, flags:; udp: 1232", ";; QUESTION SECTION:",
        ";web.\t\t\t\tIN\tA", "", ";; ANSWER SECTION:", "web.\t\t\t0\tIN\tA\t10.0.0.5", "",
        ";; SERVER: 127.0.0.1#53(127.0.0.1) (UDP)", ";; MSG SIZE  rcvd: 48", ""]
    assert r.probes[0].result.outcome == "reply"


@pytest.mark.parametrize(("name", "status", "size", "flags"), [
    ("gone", "NXDOMAIN", 33, "qr rd ra"),        # --address=/gone/
    ("nope.lab", "NXDOMAIN", 37, "qr rd ra"),    # --local=/lab/, unknown
    ("nothing", "REFUSED", 42, "qr rd ra"),      # nowhere to forward: EDE 14
    ("x.web", "NOERROR", 50, "qr aa rd ra"),     # under --address=/web/
])
def test_dnsmasq_rcodes_flags_sizes(name: str, status: str, size: int, flags: str) -> None:
    """Each as dig printed it against dnsmasq 2.90 with these options."""
    text = _out(run_script(LAB + f"ip netns exec a dig @127.0.0.1 {name}\n"), 7)
    assert f"status: {status}," in text and f";; flags: {flags};" in text and f"MSG SIZE  rcvd: {size}\n" in text
    assert ("; EDE: 14 (Not Ready)" in text) == (status == "REFUSED")


def test_dig_short_refused_port_and_timeout() -> None:
    r = run_script(LAB + "ip netns exec a dig @127.0.0.1 db +short\n"
                         "ip netns exec a dig @127.0.0.1 -p 5353 web +time=1 +tries=1\n"
                         "ip -n a link add v0 type veth peer name v1\nip -n a link set v0 up\n"
                         "ip -n a link set v1 up\nip -n a addr add 192.168.9.1/24 dev v0\n"
                         "ip netns exec a dig @192.168.9.9 web +time=1 +tries=2\n")
    assert _out(r, 7) == "10.0.0.6\n"
    assert _out(r, 8) == (";; communications error to 127.0.0.1#5353: connection refused\n\n"
                          "; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @127.0.0.1 -p 5353 web +time=1 +tries=1\n"
                          "; (1 server found)\n;; global options: +cmd\n;; no servers could be reached\n")
    assert _out(r, 13).startswith(";; communications error to 192.168.9.9#53: timed out\n" * 2)
    assert [p.result.outcome for p in r.probes] == ["reply", "refused", "timeout"]


def test_host_and_nslookup() -> None:
    r = run_script(LAB + "ip netns exec a host web 127.0.0.1\nip netns exec a nslookup gone 127.0.0.1\n"
                         "ip netns exec a host gone 127.0.0.1\nip netns exec a nslookup web 127.0.0.1\n")
    assert _out(r, 7) == ("Using domain server:\nName: 127.0.0.1\nAddress: 127.0.0.1#53\nAliases: \n\n"
                          "web has address 10.0.0.5\nHost web not found: 5(REFUSED)\nHost web not found: 5(REFUSED)\n")
    assert _out(r, 8) == "Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#53\n\n** server can't find gone: NXDOMAIN\n\n"
    assert _out(r, 9).endswith("Host gone not found: 3(NXDOMAIN)\n")
    assert _out(r, 10) == ("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#53\n\nName:\tweb\nAddress: 10.0.0.5\n"
                          "** server can't find web: REFUSED\n\n")


def test_getent_and_names_in_probes() -> None:
    r = run_script(LAB + """\
ip netns exec a getent hosts web
ip netns exec a ping -c 1 web
# expect: reply
ip netns exec a nc -z -w 1 nope.lab 80
# expect: error EAI_NONAME
ip netns exec a curl http://gone/
""")
    assert _out(r, 7) == "10.0.0.5        web\n"
    assert _err(r, 10) == 'nc: getaddrinfo for host "nope.lab" port 80: Name or service not known\n' and not _out(r, 10)
    assert _out(r, 12) == ""  # curl prints its error on stderr
    assert "".join(o.get("stderr", "") for o in r.outputs if o["line"] == 12) == (
        "curl: (6) Could not resolve host: gone\n")
    assert r.ok
    # ping web: an A and an AAAA query (21 bytes each: glibc sends no EDNS), then the echo
    sent = [t for t in r.probes[1].result.traces if "getaddrinfo" in str(t.to_json())]
    assert len(sent) == 2


def test_queries_count_in_rules_and_a_drop_blocks_them() -> None:
    r = run_script(LAB + """\
ip netns exec a iptables -A OUTPUT -p udp --dport 53
ip netns exec a iptables -A INPUT -p udp --dport 53 -s 127.0.0.1 -j DROP
ip netns exec a ping -c 1 web
# expect: error EAI_AGAIN
ip netns exec a dig @127.0.0.1 web +time=1 +tries=1
# expect: timeout
""")
    assert r.ok
    rows = r.probes[0].counters["a"]
    assert {(c["chain"], c["rule"]): (c["packets"], c["bytes"]) for c in rows if c["rule"]} == {
        ("OUTPUT", 1): (4, 196), ("INPUT", 1): (4, 196)}  # 2 attempts x (A + AAAA) x 49 bytes
    assert "no servers could be reached" in _out(r, 11)


def test_forwarding_through_a_second_dnsmasq() -> None:
    r = run_script("""\
ip netns add a
ip -n a link set lo up
ip -n a addr add 127.0.0.2/8 dev lo
ip netns exec a dnsmasq -k --listen-address=127.0.0.2 --no-resolv --host-record=hr,10.1.1.2 --address=/gone/ --bind-interfaces &
ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --no-resolv --server=127.0.0.2 --bind-interfaces &
ip netns exec a iptables -A OUTPUT -d 127.0.0.2 -p udp --dport 53
ip netns exec a dig @127.0.0.1 hr
ip netns exec a dig @127.0.0.1 gone
""")
    text = _out(r, 7)
    assert "hr.\t\t\t0\tIN\tA\t10.1.1.2" in text and "flags: qr aa rd ra;" in text and "rcvd: 47" in text
    assert "status: NXDOMAIN" in _out(r, 8)
    rows = r.probes[0].counters["a"]
    assert [(c["packets"], c["bytes"]) for c in rows if c["chain"] == "OUTPUT" and c["rule"] == 1] == [(1, 71)]


def test_bad_lines() -> None:
    with pytest.raises(ScriptError, match=r"<script>:1: dnsmasq without -k"):
        run_script("dnsmasq --port=53 &\n")
    with pytest.raises(ScriptError, match=r"dnsmasq: bad address"):
        run_script("dnsmasq -k --server=nowhere &\n")
    with pytest.raises(ScriptError, match=r"Invalid option: \+bogus"):
        run_script("dig @127.0.0.1 web +bogus\n")
    with pytest.raises(ScriptError, match=r"neither an IPv4 address nor a host name"):
        run_script("ping -c 1 'we b'\n")


def test_resolv_conf_and_hosts_parsing() -> None:
    c = parse_resolv_conf("nameserver 10.0.0.1\nnameserver ::1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
                          "nameserver 10.0.0.4\ndomain x\nsearch a b\noptions timeout:99 attempts:0 ndots:3 edns0\n")
    assert c.nameservers == tuple(IPv4Address(f"10.0.0.{i}") for i in (1, 2))  # MAXNS 3 lines, ::1 skipped
    assert (c.search, c.timeout, c.attempts, c.ndots, c.edns0) == (("a", "b"), 30, 0, 3, True)
    assert parse_resolv_conf("").servers == (IPv4Address("127.0.0.1"),)
    assert [e.names for e in parse_hosts("10.0.0.1 a b # c\n#x\nzz\n::1 localhost\n")] == [("a", "b"), ("localhost",)]


def test_decode_a_query_and_rcode() -> None:
    m = decode(Message(id=7, rcode=Rcode.SERVFAIL, questions=(Question("x", QType.AAAA),)).encode())
    assert (m.id, m.rcode, m.question) == (7, Rcode.SERVFAIL, Question("x", QType.AAAA))


def test_res_search_order_and_errors() -> None:
    """Query counts and errors as glibc 2.36 made them against dnsmasq (Linux 6.18 counters)."""
    r = run_script("""\
ip netns add a
ip -n a link set lo up
mkdir -p /etc/netns/a
printf 'nameserver 127.0.0.1\\noptions edns0 trust-ad\\nsearch .\\n' > /etc/netns/a/resolv.conf
ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --address=/web/10.0.0.1 --address=/gone/ --local=/lab/ &
ip netns exec a iptables -A OUTPUT -p udp --dport 53
ip netns exec a getent hosts web
ip netns exec a ping -c 1 gone
ip netns exec a ping -c 1 x.lab
printf 'nameserver 127.0.0.1\\nsearch lab corp\\n' > /etc/netns/a/resolv.conf
ip netns exec a ping -c 1 gone
ip netns exec a ping -c 1 x.y
""")
    sent = [next(c["packets"] for c in p.counters["a"] if c["rule"] == 1) for p in r.probes]
    assert sent == [3, 2, 4, 8, 10]
    assert [p.result.errno for p in r.probes] == [None, "EAI_NONAME", "EAI_NONAME", "EAI_NONAME", "EAI_AGAIN"]
    assert _err(r, 12) == "ping: x.y: Temporary failure in name resolution\n"


def test_a_resolver_of_ones_own_servfail() -> None:
    """The DnsServer API (what Docker's embedded resolver builds on): a SERVFAIL as the tools print it."""
    from simnet.dns import DnsServer
    from simnet.world import World

    w = World()
    a = w.add_netns("a")
    a.set_up("lo")

    def answer(q: Message, client: object) -> Message:
        return Message(id=q.id, qr=True, rd=q.rd, ra=True, rcode=Rcode.SERVFAIL, questions=q.questions,
                       additional=(opt_record(),) if q.opt is not None else ())
    DnsServer(a, answer, addresses=(IPv4Address("127.0.0.1"),), name="broken")
    r = run_script("ip netns exec a dig @127.0.0.1 web\nip netns exec a host web 127.0.0.1\n"
                   "ip netns exec a nslookup web 127.0.0.1\nip netns exec a getent hosts web\n"
                   "mkdir -p /etc/netns/a\necho nameserver 127.0.0.1 > /etc/netns/a/resolv.conf\n"
                   "ip netns exec a ping -c 1 web\n", world=w)
    assert "status: SERVFAIL," in _out(r, 1) and "flags: qr rd ra;" in _out(r, 1)
    assert _out(r, 2).endswith("Aliases: \n\nHost web not found: 2(SERVFAIL)\n")  # no more after A
    assert "** server can't find web: SERVFAIL" in _out(r, 3)
    assert _err(r, 7) == "ping: web: Temporary failure in name resolution\n"
    assert r.probes[-1].result.errno == "EAI_AGAIN"


def test_dig_reads_type_words_anywhere() -> None:
    """`dig @S a` asks the root for A (a Hypothesis draw found it on the kernel: 40-byte query)."""
    r = run_script(LAB + "ip netns exec a iptables -A INPUT -p udp --dport 53\n"
                         "ip netns exec a dig @127.0.0.1 a +short\nip netns exec a dig @127.0.0.1 MX web +short\n"
                         "ip netns exec a dig @127.0.0.1\n")
    assert [next(c["bytes"] for c in p.counters["a"] if c["rule"] == 1) for p in r.probes] == [68, 72, 68]
    assert ";.\t\t\t\tIN\tNS" in _out(r, 10)


def test_cname_chains() -> None:
    """--cname as dnsmasq 2.90 answers it and the tools print it (texts from Debian 12)."""
    r = run_script(LAB.replace("--bind-interfaces &", "--bind-interfaces --cname=www,db --cname=alias2,www &") + """\
ip netns exec a dig @127.0.0.1 alias2 +short
ip netns exec a getent hosts alias2
ip netns exec a nslookup www 127.0.0.1
ip netns exec a dig @127.0.0.1 www
""")
    assert _out(r, 7) == "www.\ndb.\n10.0.0.6\n"
    assert _out(r, 8) == "10.0.0.6        db alias2 www\n"
    assert _out(r, 9) == ("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#53\n\nwww\tcanonical name = db.\nName:\tdb\n"
                          "Address: 10.0.0.6\n** server can't find db: REFUSED\n\n")
    assert "www.\t\t\t0\tIN\tCNAME\tdb.\ndb.\t\t\t0\tIN\tA\t10.0.0.6\n" in _out(r, 10)
    assert "MSG SIZE  rcvd: 64" in _out(r, 10)  # the A record's owner points into the CNAME's data


def test_dig_display_options() -> None:
    """+noall +answer, +nocomments, +noall +comments as dig 9.18 prints them."""
    r = run_script(LAB + "ip netns exec a dig @127.0.0.1 web +noall +answer\n"
                         "ip netns exec a dig @127.0.0.1 web +nocomments +nocmd +nostats\n"
                         "ip netns exec a dig @127.0.0.1 web +noall\n")
    assert _out(r, 7) == "web.\t\t\t0\tIN\tA\t10.0.0.5\n"
    assert _out(r, 8) == ";web.\t\t\t\tIN\tA\nweb.\t\t\t0\tIN\tA\t10.0.0.5\n"
    assert _out(r, 9) == ""


def test_reverse_lookups() -> None:
    """PTR from --host-record (not --address), as dig -x, getent, host and nslookup print it (Debian 12)."""
    r = run_script(LAB + "ip netns exec a dig @127.0.0.1 -x 10.0.0.6 +short\nip netns exec a getent hosts 10.0.0.6\n"
                         "ip netns exec a nslookup 10.0.0.6 127.0.0.1\nip netns exec a nslookup 10.0.0.5 127.0.0.1\n"
                         "ip netns exec a dig @127.0.0.1 -x 10.0.0.6\n")
    assert _out(r, 7) == "db.\n"
    assert _out(r, 8) == "10.0.0.6        db\n"
    assert _out(r, 9) == "6.0.0.10.in-addr.arpa\tname = db.\n\n"
    assert _out(r, 10) == "** server can't find 5.0.0.10.in-addr.arpa: REFUSED\n\n"
    assert ";6.0.0.10.in-addr.arpa.\t\tIN\tPTR" in _out(r, 11) and "MSG SIZE  rcvd: 66" in _out(r, 11)


def test_dig_at_a_name() -> None:
    """dig @NAME looks the server up first (AI_ADDRCONFIG: A only here); an unknown one is refused in
    dig's words, with getaddrinfo's error (not found / failure)."""
    r = run_script(LAB + "echo '127.0.0.1 localhost ns1' > /etc/netns/a/hosts\n"
                         "ip netns exec a dig @ns1 web\nip netns exec a dig @gone web\n")
    assert ";; SERVER: 127.0.0.1#53(ns1) (UDP)" in _out(r, 8)
    assert _out(r, 9) == "dig: couldn't get address for 'gone': not found\n"
    assert (r.probes[1].result.outcome, r.probes[1].result.errno) == ("error", "EAI_NONAME")


def test_name_failures_of_ping_nc_curl_print_on_stderr_as_the_tools_do() -> None:
    """Words and stream as ping (iputils), nc (OpenBSD) and curl 7.88 printed them on Linux 6.18 /
    glibc 2.36 in a namespace whose resolver answered NXDOMAIN, then had no server (refused)."""
    head = ("ip netns add a\nip -n a link set lo up\nmkdir -p /etc/netns/a\n"
            "echo 'nameserver 127.0.0.1' > /etc/netns/a/resolv.conf\n")
    tools = ["ping -c 1 -W 1 {n}", "nc -z -w 1 {n} 80", "nc -u -w 1 {n} 80", "curl -sS -m 2 http://{n}/",
             "curl -s -m 2 http://{n}/"]
    for dnsmasq, name, why in [
            ("ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts "
             "--address=/gone/ &\n", "gone", "Name or service not known"),
            ("", "nothere", "Temporary failure in name resolution")]:
        r = run_script(head + dnsmasq + "".join(f"ip netns exec a {t.format(n=name)}\n" for t in tools))
        first = 5 + bool(dnsmasq)
        assert [_err(r, first + i) for i in range(len(tools))] == [
            f"ping: {name}: {why}\n", f'nc: getaddrinfo for host "{name}" port 80: {why}\n',
            f'nc: getaddrinfo for host "{name}" port 80: {why}\n', f"curl: (6) Could not resolve host: {name}\n", ""]
        assert not any(_out(r, first + i) for i in range(len(tools)))


def test_host_and_nslookup_keep_the_a_answer_when_aaaa_goes_unanswered() -> None:
    """A answered, AAAA (and host's MX) dropped on the way back: host prints its A line then each
    later question's two timeouts and summary, going on to MX; nslookup its A answer then the
    AAAA question's failure; both end as a timeout (9.18 on Linux 6.18; the kernel case
    'A answered, AAAA unanswered' in tests/kernel/test_dns_kernel.py)."""
    from tests.kernel.test_dns_kernel import CASES

    report = run_script(CASES["A answered, AAAA unanswered"])
    lost = (";; communications error to 10.0.0.1#53: timed out\n" * 2) + ";; no servers could be reached\n"
    assert _out(report, 17) == "db has address 10.0.0.6\n" + lost + lost
    assert _out(report, 18) == ("Server:\t\t10.0.0.1\nAddress:\t10.0.0.1#53\n\nName:\tdb\nAddress: 10.0.0.6\n"
                                + lost + "\n")
    assert [p["outcome"] for p in report.to_json()["probes"]] == ["timeout"] * 4
