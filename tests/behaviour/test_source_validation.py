"""fib_validate_source as Linux 6.18 runs it (each script checked with simnet kernel-run: the
outcomes and counters asserted here agree).

With rp_filter off the kernel only refuses one of the namespace's own addresses as a source;
with rp_filter on, or once the namespace has had a user-added local route or an ``ip rule``,
it looks the source up in the FIB instead. A namespace that deleted its loopback routes and
routes 127.0.0.1 to a neighbour (the CVE-2020-8558 attacker) then accepts answers from
127.0.0.1, which the quick check refuses because 127.0.0.1 is still lo's address.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.routing import fib_validate_source
from simnet.link import LinkKind
from simnet.netfilter.context import AddrType
from simnet.packet import IPv4, Packet
from simnet.routing import FibRule, RouteTable
from simnet.script.interpreter import run_script
from simnet.skb import Skb
from simnet.world import World

# "a" sends 127.0.0.1 to "b", whose eth0 accepts and answers a loopback destination
# (route_localnet); the answer comes back to a from 127.0.0.1.
LOOPBACK_VIA_NEIGHBOUR = """\
ip netns add a
ip netns add b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n a route del local 127.0.0.1 dev lo table local
ip -n a route del local 127.0.0.0/8 dev lo table local
ip -n a route add 127.0.0.1/32 via 10.0.0.2
ip netns exec b sysctl -w net.ipv4.conf.eth0.route_localnet=1
ip netns exec a sysctl -w net.ipv4.conf.eth0.route_localnet=1
"""
PING = "ip netns exec a ping -c 1 -W 1 127.0.0.1\n"


def _outcomes(script: str) -> list[str]:
    return [p["outcome"] for p in run_script(LOOPBACK_VIA_NEIGHBOUR + script).to_json()["probes"]]


def test_rp_filter_off_refuses_an_own_address_even_without_its_local_route() -> None:
    assert _outcomes(PING) == ["timeout"]


def test_rp_filter_strict_or_loose_looks_the_source_up_and_accepts_it() -> None:
    script = (PING + "ip netns exec a sysctl -w net.ipv4.conf.eth0.rp_filter=1\n" + PING
              + "ip netns exec a sysctl -w net.ipv4.conf.eth0.rp_filter=2\n" + PING)
    assert _outcomes(script) == ["timeout", "reply", "reply"]


def test_accept_local_accepts_it_on_the_quick_path() -> None:
    assert _outcomes("ip netns exec a sysctl -w net.ipv4.conf.eth0.accept_local=1\n" + PING) == ["reply"]


def test_an_ip_rule_switches_to_the_fib_check_for_good() -> None:
    script = ("ip -n a rule add from all lookup main pref 100\n" + PING
              + "ip -n a rule del pref 100\n" + PING)
    assert _outcomes(script) == ["reply", "reply"]


def test_a_user_added_local_route_switches_to_the_fib_check_for_good() -> None:
    script = ("ip -n a route add local 10.9.9.9 dev lo\n" + PING
              + "ip -n a route del local 10.9.9.9 dev lo\n" + PING)
    assert _outcomes(script) == ["reply", "reply"]


def test_a_source_whose_route_is_broadcast_is_refused_by_the_fib_check_only() -> None:
    script = """\
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n a addr add 192.168.5.255/32 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n b link add br0 type bridge
ip -n b addr add 192.168.5.1/24 dev br0
ip -n b link set br0 up
ip netns exec b iptables -A INPUT -s 192.168.5.255
ip netns exec a ping -c 1 -W 1 -I 192.168.5.255 10.0.0.2
ip netns exec b sysctl -w net.ipv4.conf.eth0.rp_filter=2
ip netns exec a ping -c 1 -W 1 -I 192.168.5.255 10.0.0.2
"""
    quick, full = run_script(script).to_json()["probes"]

    def input_hits(p: dict) -> int:
        return sum(c["packets"] for c in p["counters"].get("b", []) if (c["chain"], c["rule"]) == ("INPUT", 1))
    assert (quick["received"]["ns"], input_hits(quick)) == ("b", 1)
    assert (full["received"], input_hits(full)) == (None, 0)


@settings(max_examples=60, deadline=None)
@given(addrs=st.lists(st.tuples(st.integers(1, 254), st.integers(8, 30)), min_size=1, max_size=4),
       pick=st.integers(0, 10), other=st.integers(0, 2**32 - 1), rule=st.booleans())
def test_with_every_local_route_in_place_the_fib_check_refuses_what_the_quick_check_does(
        addrs: list[tuple[int, int]], pick: int, other: int, rule: bool) -> None:
    """rp_filter off: the quick check (own addresses) and the full one (local routes) agree on
    any source that is not a broadcast address, as long as no local route was deleted."""
    world = World()
    ns = world.add_netns("r")
    ns.link_add("eth0", LinkKind.DUMMY)
    ns.set_up("eth0", True)
    for i, (host, plen) in enumerate(addrs):
        ns.addr_add("eth0", IPv4Interface(f"10.{i}.0.{host}/{plen}"))
    own = [a.address for a in ns.addrs]
    src = own[pick % len(own)] if pick < 5 else IPv4Address(other)
    if src.is_multicast or src.is_loopback or ns.addr_type(src) not in (AddrType.UNICAST, AddrType.LOCAL):
        return
    skb = Skb(packet=Packet(ip=IPv4(src=src, dst=own[0], proto=1)), indev="eth0")
    dev = ns.devices["eth0"]
    quick = fib_validate_source(ns, skb, dev)
    if rule:
        ns.fib.add_rule(FibRule(priority=100, table=RouteTable.MAIN))
    else:
        ns.fib.custom_local_routes = True
    assert fib_validate_source(ns, skb, dev) == quick == (src not in own)


def test_the_way_back_is_looked_up_without_the_packet_mark_unless_src_valid_mark() -> None:
    """b reaches 10.0.0.1 by eth1 in main, by eth0 in the table fwmark 1 selects, and marks what
    eth0 receives: strict rp_filter accepts the echo request only once src_valid_mark is on."""
    script = """\
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 address 02:00:00:00:00:02
ip -n b link set eth0 up
ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent
ip -n b link add eth1 type bridge
ip -n b addr add 10.1.0.1/24 dev eth1
ip -n b link set eth1 up
ip -n b route add 10.0.0.1/32 dev eth1
ip -n b route add 10.0.0.0/24 dev eth0 table 100
ip -n b rule add fwmark 1 lookup 100 pref 100
ip netns exec b iptables -t mangle -A PREROUTING -i eth0 -j MARK --set-mark 1
ip netns exec b iptables -A INPUT -s 10.0.0.1
ip netns exec b sysctl -w net.ipv4.conf.eth0.rp_filter=1
ip netns exec a ping -c 1 -W 1 10.0.0.2
ip netns exec b sysctl -w net.ipv4.conf.eth0.src_valid_mark=1
ip netns exec a ping -c 1 -W 1 10.0.0.2
"""
    unmarked, marked = run_script(script).to_json()["probes"]
    assert unmarked["received"] is None and marked["received"]["src"] == "10.0.0.1"
    assert not [c for c in unmarked["counters"].get("b", []) if c["chain"] == "INPUT"]


def test_an_arp_request_is_answered_only_if_its_sender_passes_the_source_check() -> None:
    """arp_process routes the target from the sender first: b's strict rp_filter finds the way
    back to 10.0.0.1 on eth1, so a's ARP requests go unanswered and b learns nothing; loose mode
    answers the next request and a's queued echo request goes out after all (Linux 6.18: the
    second ping's window sees both requests, raw PREROUTING 2)."""
    script = """\
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n b link add eth1 type bridge
ip -n b addr add 10.1.0.1/24 dev eth1
ip -n b link set eth1 up
ip -n b route add 10.0.0.1/32 dev eth1
ip netns exec b iptables -t raw -A PREROUTING -s 10.0.0.1
ip netns exec b sysctl -w net.ipv4.conf.eth0.rp_filter=1
ip netns exec a ping -c 1 -W 1 10.0.0.2
ip -n b neigh show dev eth0
ip netns exec b sysctl -w net.ipv4.conf.eth0.rp_filter=2
ip netns exec a ping -c 1 -W 1 10.0.0.2
"""
    report = run_script(script).to_json()
    strict, loose = report["probes"]

    def raw_hits(p: dict) -> int:
        return sum(c["packets"] for c in p["counters"].get("b", []) if (c["chain"], c["rule"]) == ("PREROUTING", 1))
    assert (strict["outcome"], raw_hits(strict)) == ("timeout", 0)
    assert not "".join(o["stdout"] for o in report["outputs"] if "neigh show" in o["command"]).strip()
    assert raw_hits(loose) == 2
