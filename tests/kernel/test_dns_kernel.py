"""DNS against the real kernel and the real tools (dnsmasq 2.90, dig 9.18, glibc 2.36).

The scenarios in scenarios/dns/ run in test_scenarios_conformance.py; here, the forms a scenario
does not cover, each compared on outcomes, every counter's packets and bytes, conntrack and the
tools' output lines (:func:`simnet.conformance.compare`)."""

from __future__ import annotations

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import missing_programs, skip_reason

pytestmark = pytest.mark.kernel

LAB = """\
ip netns add a
ip netns add b
ip -n a link add va type veth peer name vb netns b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link set va up
ip -n b link set vb up
ip -n a addr add 10.0.0.1/24 dev va
ip -n b addr add 10.0.0.2/24 dev vb
ip -n a addr add 127.0.0.2/8 dev lo
mkdir -p /etc/netns/b
printf "nameserver 10.0.0.1\\noptions timeout:1 attempts:2\\n" > /etc/netns/b/resolv.conf
ip netns exec a iptables -A INPUT -p udp --dport 53
ip netns exec a iptables -A OUTPUT -p udp --sport 53
ip netns exec a iptables -A OUTPUT -p udp --dport 53
"""

CASES = {
    "rcodes": LAB + """\
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --address=/web/10.0.0.1 --address=/gone/ --local=/lab/ --host-record=up.lab,10.0.0.9 &
ip netns exec b dig @10.0.0.1 web
ip netns exec b dig @10.0.0.1 gone
ip netns exec b dig @10.0.0.1 up.lab AAAA
ip netns exec b dig @10.0.0.1 nothing
ip netns exec b dig @10.0.0.1 x.web +short
ip netns exec b dig @10.0.0.1 -p 5353 web +time=1 +tries=1
ip netns exec b host gone 10.0.0.1
ip netns exec b nslookup web 10.0.0.1
ip netns exec b getent hosts nope.lab
""",
    "forwarding": LAB + """\
ip netns exec a dnsmasq -k --listen-address=127.0.0.2 --bind-interfaces --no-resolv --no-hosts --host-record=hr,10.1.1.2 --address=/gone/ &
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --server=127.0.0.2 --min-port=32768 --max-port=60999 &
ip netns exec b dig @10.0.0.1 hr
ip netns exec b dig @10.0.0.1 gone +short
ip netns exec b ping -c 1 hr
""",
    "hosts file and search": LAB + """\
printf "127.0.0.1 localhost\\n10.0.0.1 gw gateway\\n" > /etc/netns/b/hosts
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --address=/lab/10.0.0.1 &
ip netns exec b getent hosts gateway
ip netns exec b ping -c 1 gw
ip netns exec b ping -c 1 web.lab
ip netns exec b nc -z -w 1 nothing.invalid 80
""",
    # dnsmasq reads the hosts file its ip netns exec shows it, and --addn-hosts files
    "dnsmasq's hosts files": LAB + """\
mkdir -p /etc/netns/a
printf "127.0.0.1 localhost\\n10.0.0.7 printer printer.lab\\n" > /etc/netns/a/hosts
printf "10.0.0.8 scanner\\n" > /tmp/extra.hosts
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --addn-hosts=/tmp/extra.hosts &
ip netns exec b dig @10.0.0.1 printer.lab +short
ip netns exec b dig @10.0.0.1 scanner
ip netns exec b host printer 10.0.0.1
ip netns exec b ping -c 1 localhost
""",
    # --cname chains: dig's sections, getent's canonical name and aliases, host/nslookup asking the
    # canonical name next
    "cname": LAB + """\
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --host-record=db,10.0.0.6 --cname=www,db --cname=alias2,www &
ip netns exec b dig @10.0.0.1 www
ip netns exec b dig @10.0.0.1 alias2 +short
ip netns exec b dig @10.0.0.1 www AAAA
ip netns exec b getent hosts alias2
ip netns exec b host www 10.0.0.1
ip netns exec b nslookup www 10.0.0.1
ip netns exec b ping -c 1 alias2
""",
    # AAAA-only names: dig and getent show them, ping/nc cannot connect (IPv6 is off), host stops
    # after the failed A question
    "ipv6 only": LAB + """\
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --host-record=six,fd00::6 &
ip netns exec b dig @10.0.0.1 six AAAA
ip netns exec b getent hosts six
ip netns exec b ping -c 1 six
ip netns exec b nc -z -w 1 six 80
ip netns exec b host six 10.0.0.1
""",
    # dig's display options
    "dig +[no]sections": LAB + """\
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --host-record=db,10.0.0.6 --cname=www,db &
ip netns exec b dig @10.0.0.1 www +noall +answer
ip netns exec b dig @10.0.0.1 www +nocmd
ip netns exec b dig @10.0.0.1 www +nocomments
ip netns exec b dig @10.0.0.1 www +noall +comments
ip netns exec b dig @10.0.0.1 www +noquestion +nostats
ip netns exec b dig @10.0.0.1 www +noall +answer +stats
ip netns exec b dig @10.0.0.1 www +noall
ip netns exec b dig @10.0.0.9 www +noall +answer +time=1 +tries=1
""",
    # reverse lookups: dig -x, getent hosts ADDR (files, then PTR), host ADDR, nslookup ADDR
    "ptr": LAB + """\
printf "127.0.0.1 localhost\\n" > /etc/netns/b/hosts
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --host-record=db,10.0.0.6 --address=/web/10.0.0.5 &
ip netns exec b dig @10.0.0.1 -x 10.0.0.6
ip netns exec b dig @10.0.0.1 -x 10.0.0.5 +short
ip netns exec b getent hosts 10.0.0.6
ip netns exec b getent hosts 10.0.0.7
ip netns exec b getent hosts 127.0.0.1
ip netns exec b host 10.0.0.6 10.0.0.1
ip netns exec b host 10.0.0.7 10.0.0.1
ip netns exec b nslookup 10.0.0.6 10.0.0.1
ip netns exec b nslookup 10.0.0.7 10.0.0.1
""",
    # dig @NAME: the server looked up with getaddrinfo first (files, then A+AAAA)
    "dig @name": LAB + """\
printf "127.0.0.1 localhost\\n10.0.0.1 ns1\\n" > /etc/netns/b/hosts
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --host-record=web,10.0.0.5 --host-record=ns2,10.0.0.1 --address=/gone/ &
ip netns exec b dig @ns1 web
ip netns exec b dig @ns2 web +short
ip netns exec b dig @gone web
""",
    # glibc's res_search: "search ." (systemd-resolved's stub file) asks a dotted name twice and a
    # bare one once; search domains first for a bare name, a REFUSED stops the list, the last
    # error decides (Name or service not known / Temporary failure); edns0 adds an OPT record
    "search, ndots and edns0": """\
ip netns add a
ip -n a link set lo up
mkdir -p /etc/netns/a
printf 'nameserver 127.0.0.1\\noptions edns0 trust-ad\\nsearch .\\n' > /etc/netns/a/resolv.conf
ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --address=/web/10.0.0.1 --address=/gone/ --local=/lab/ &
ip netns exec a iptables -A OUTPUT -p udp --dport 53
ip netns exec a iptables -A OUTPUT -p udp --sport 53
ip netns exec a getent hosts web
ip netns exec a ping -c 1 gone
ip netns exec a ping -c 1 x.lab
printf 'nameserver 127.0.0.1\\nsearch lab corp\\n' > /etc/netns/a/resolv.conf
ip netns exec a ping -c 1 gone
ip netns exec a ping -c 1 x.y
""",
    "dig +tcp": LAB + """\
ip netns exec a iptables -A INPUT -p tcp --dport 53 --tcp-flags ALL SYN
ip netns exec a iptables -A INPUT -p tcp --dport 53 --tcp-flags ALL ACK
ip netns exec a iptables -A INPUT -p tcp --dport 53 --tcp-flags ALL PSH,ACK
ip netns exec a iptables -A INPUT -p tcp --dport 53 --tcp-flags ALL FIN,ACK
ip netns exec a iptables -A OUTPUT -p tcp --sport 53 --tcp-flags ALL SYN,ACK
ip netns exec a iptables -A OUTPUT -p tcp --sport 53 --tcp-flags ALL ACK
ip netns exec a iptables -A OUTPUT -p tcp --sport 53 --tcp-flags ALL PSH,ACK
ip netns exec a iptables -A OUTPUT -p tcp --sport 53 --tcp-flags ALL FIN,ACK
ip netns exec a iptables -A INPUT -p tcp --dport 54 -j DROP
ip netns exec a iptables -t nat -A PREROUTING -p tcp --dport 5300 -j REDIRECT --to-ports 53
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --address=/web/10.0.0.1 --address=/gone/ &
ip netns exec b dig +tcp @10.0.0.1 web
ip netns exec b dig +vc @10.0.0.1 gone
ip netns exec b dig +tcp @10.0.0.1 -p 5300 web +short
ip netns exec b dig +tcp @10.0.0.1 -p 55 web
ip netns exec b dig +tcp @10.0.0.1 -p 54 web +time=2 +tries=1
""",
    # dnsmasq relays a TCP query over TCP: its own connection to the upstream, opened with a Fast
    # Open cookie request (64-byte SYN), the query riding on the handshake's ACK, closed with FIN
    # once the answer is read (the flags' counters on lo, conntrack ending in TIME_WAIT)
    "dig +tcp forwarded": LAB + """\
ip netns exec a iptables -A OUTPUT -o lo -p tcp --dport 53 --tcp-flags ALL SYN
ip netns exec a iptables -A OUTPUT -o lo -p tcp --dport 53 --tcp-flags ALL ACK
ip netns exec a iptables -A OUTPUT -o lo -p tcp --dport 53 --tcp-flags ALL PSH,ACK
ip netns exec a iptables -A OUTPUT -o lo -p tcp --dport 53 --tcp-flags ALL FIN,ACK
ip netns exec a iptables -A OUTPUT -o lo -p tcp --sport 53 --tcp-flags ALL SYN,ACK
ip netns exec a iptables -A OUTPUT -o lo -p tcp --sport 53 --tcp-flags ALL ACK
ip netns exec a iptables -A OUTPUT -o lo -p tcp --sport 53 --tcp-flags ALL PSH,ACK
ip netns exec a iptables -A OUTPUT -o lo -p tcp --sport 53 --tcp-flags ALL FIN,ACK
ip netns exec a iptables -A OUTPUT -o va -p tcp --sport 53 --tcp-flags ALL PSH,ACK
ip netns exec a iptables -A INPUT -i lo -p tcp -m conntrack --ctstate NEW
ip netns exec a dnsmasq -k --listen-address=127.0.0.2 --bind-interfaces --no-resolv --no-hosts --host-record=hr,10.1.1.2 --address=/gone/ &
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --server=127.0.0.2 --min-port=32768 --max-port=60999 &
ip netns exec b dig +tcp @10.0.0.1 hr
ip netns exec b dig +tcp @10.0.0.1 gone +short
ip netns exec b dig +tcp @10.0.0.1 nope
ip netns exec a conntrack -L -p tcp --dport 53 -d 127.0.0.2
""",
    # host -T and nslookup -vc: every question over its own TCP connection (answers, NXDOMAIN,
    # REFUSED relayed from the upstream, refused and timed-out connections); reverse and other
    # types through a forwarding dnsmasq: PTR answered by the upstream's --host-record, MX, TXT
    # and SRV forwarded (REFUSED relayed) or NODATA/NXDOMAIN under --local
    "host -T, nslookup -vc and other types": LAB + """\
ip netns exec a iptables -A INPUT -p tcp --dport 54 -j DROP
ip netns exec a dnsmasq -k --listen-address=127.0.0.2 --bind-interfaces --no-resolv --no-hosts --host-record=hr,10.1.1.2 --address=/gone/ &
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --server=127.0.0.2 --host-record=db,10.0.0.6 --address=/web/10.0.0.5 --local=/lab/ --host-record=x.lab,10.0.0.9 &
ip netns exec b host -T db
ip netns exec b host -T gone 10.0.0.1
ip netns exec b host -T hr 10.0.0.1
ip netns exec b nslookup -vc db
ip netns exec b nslookup -vc hr 10.0.0.1
ip netns exec b nslookup -vc gone 10.0.0.1
ip netns exec b host -T 10.0.0.6
ip netns exec b nslookup -vc 10.1.1.2
ip netns exec b nslookup 10.1.1.2
ip netns exec b host 10.1.1.2
ip netns exec b dig -x 10.1.1.2
ip netns exec b dig web MX
ip netns exec b dig db TXT +short
ip netns exec b dig x.lab SRV
ip netns exec b dig y.lab MX
ip netns exec b dig hr MX +tcp
ip netns exec b dig nope TXT
ip netns exec b host -T db 10.0.0.2
ip netns exec b nslookup -vc db 10.0.0.2
""",
    # the A question answered, AAAA (and host's MX) never: the b side drops dnsmasq's short NODATA
    # replies; host prints its A line, then each later question's failure and goes on, nslookup
    # its A answer then the AAAA failure (9.18)
    "A answered, AAAA unanswered": """\
ip netns add a
ip netns add b
ip -n a link add va type veth peer name vb netns b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link set va up
ip -n b link set vb up
ip -n a addr add 10.0.0.1/24 dev va
ip -n b addr add 10.0.0.2/24 dev vb
mkdir -p /etc/netns/b
printf "nameserver 10.0.0.1\\noptions timeout:1 attempts:2\\n" > /etc/netns/b/resolv.conf
ip netns exec a iptables -A INPUT -p udp --dport 53
ip netns exec a iptables -A OUTPUT -p udp --sport 53
ip netns exec b iptables -A INPUT -p udp --sport 53 -m length --length 0:60 -j DROP
ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv --no-hosts --host-record=db,10.0.0.6 --address=/web/10.0.0.5 &
ip netns exec b host web 10.0.0.1
ip netns exec b host db
ip netns exec b nslookup db 10.0.0.1
ip netns exec b nslookup web
""",
}


@pytest.mark.parametrize("name", CASES)
def test_dns_agrees_with_the_kernel(name: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if lacking := missing_programs(CASES[name]):
        pytest.skip(f"not installed: {', '.join(lacking)}")
    from simnet.conformance import compare, run_on_kernel

    sim = run_script(CASES[name]).to_json()
    kernel = run_on_kernel(CASES[name])
    assert [p["outcome"] for p in sim["probes"]] == [p["outcome"] for p in kernel["probes"]]
    differences = compare(sim, kernel)
    assert not differences, "\n".join(differences)
    assert any(o["stdout"] for o in kernel["outputs"])


def test_drawn_records_agree_with_the_kernel() -> None:
    """Hypothesis draws a dnsmasq's records (--address and --host-record) and the names asked (dig,
    getent, ping); the kernel and simnet agree on everything compare() looks at."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if lacking := missing_programs("dnsmasq dig \n"):
        pytest.skip(f"not installed: {', '.join(lacking)}")
    from ipaddress import IPv4Address

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from simnet.conformance import compare, run_on_kernel

    label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
    names = st.lists(label, min_size=1, max_size=2).map(".".join).filter(
        lambda n: n.upper() not in {"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "ANY", "IN"})
    addrs = st.integers(0x0A000001, 0x0A0000FE).map(IPv4Address)

    # no shrinking: each example is a kernel run of a few seconds (the failure prints its script)
    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate], database=None)
    @given(st.dictionaries(names, addrs, min_size=1, max_size=3), st.dictionaries(names, addrs, max_size=2),
           st.lists(names, min_size=1, max_size=3), st.sampled_from(["dig", "getent", "ping"]))
    def agree(records: dict[str, IPv4Address], domains: dict[str, IPv4Address], others: list[str],
              tool: str) -> None:
        opts = " ".join([*(f"--host-record={n},{a}" for n, a in records.items()),
                         *(f"--address=/{d}/{a}" for d, a in domains.items())])
        ask = {"dig": "dig @10.0.0.1 {} +short", "getent": "getent hosts {}", "ping": "ping -c 1 -W 1 {}"}[tool]
        script = LAB + f"ip netns exec a dnsmasq -k --listen-address=10.0.0.1 --bind-interfaces --no-resolv " \
                       f"--no-hosts {opts} &\n" + "".join(f"ip netns exec b {ask.format(n)}\n"
                                                          for n in [*records, *others])
        sim = run_script(script).to_json()
        kernel = run_on_kernel(script)
        differences = compare(sim, kernel)
        assert not differences, script + "\n".join(differences)

    agree()
