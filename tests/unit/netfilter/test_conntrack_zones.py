"""Conntrack zones (the raw table's ``CT --zone/--zone-orig/--zone-reply/--zone mark``).

What each test asserts was first seen on Linux 6.18 (conntrack v1.4.7) in throwaway namespaces:
an entry's original tuple is keyed by its zone's id for the original direction and its reply
tuple by the id for the reply direction (a directional zone leaves the other direction in the
default zone 0); a lookup finds a tuple only where its zone gives the entry's direction the same
id (nf_ct_key_equal). ``tests/kernel/regressions/ct-zones-split-a-connection.sh`` runs a router
world of the same kind through both sides.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.netfilter.conntrack import Conn, CtDir, CtStatus, CtTuple, CtZone
from simnet.netfilter.conntrack_table import format_conn
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
ip netns exec b sysctl -q -w net.ipv4.tcp_synack_retries=0
"""


def _run(*lines: str) -> dict:
    return run_script(PAIR + "\n".join(lines) + "\n").to_json()


def _conntrack(report: dict, ns: str) -> list[str]:
    return report["probes"][-1]["conntrack"].get(ns, [])


def _counter(report: dict, ns: str, table: str, chain: str, rule: int) -> int:
    return sum(c["packets"] for p in report["probes"] for c in p["counters"].get(ns, [])
               if (c["table"], c["chain"], c["rule"]) == (table, chain, rule))


@pytest.mark.parametrize(("zone", "outcome", "words"), [
    ("--zone 5", "timeout", "[UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=* zone=5"),
    ("--zone-reply 5", "timeout", "[UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=* zone-reply=5"),
    ("--zone-orig 5", "connected", "dport=80 zone-orig=5 src=10.0.0.2"),
    ("--zone 0", "connected", "dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=* [ASSURED]"),
])
def test_a_zone_the_answer_does_not_share_splits_the_connection(zone: str, outcome: str, words: str) -> None:
    """The SYN enters zone 5 in raw PREROUTING; the SYN-ACK leaves through OUTPUT with no CT rule,
    in the default zone: where the entry's reply tuple is keyed by 5 it is not found, the SYN-ACK
    is INVALID (it cannot start a connection) and the INVALID drop rule takes it."""
    report = _run(f"ip netns exec b iptables -t raw -A PREROUTING -i eth0 -j CT {zone}",
                  "ip netns exec b iptables -A OUTPUT -m conntrack --ctstate INVALID -j DROP",
                  "ip netns exec b nc -l -k 80 &",
                  "ip netns exec a nc -z -w 1 10.0.0.2 80")
    assert report["probes"][0]["outcome"] == outcome
    assert _counter(report, "b", "filter", "OUTPUT", 1) == (1 if outcome == "timeout" else 0)
    [entry] = _conntrack(report, "b")
    flat = " ".join("dport=*" if w.startswith("dport=") and w != "dport=80" else w for w in entry.split())
    assert words in flat


@pytest.mark.parametrize(("zone", "outcome"), [("--zone 5", "error"), ("--zone-orig 5", "delivered"),
                                               ("--zone-reply 5", "error")])
def test_an_answer_without_the_zone_is_new_in_the_default_zone(zone: str, outcome: str) -> None:
    """a's datagram from port 4000 enters zone 5 at b; b's datagram back from port 53 is looked up
    in the default zone: a new connection there (dropped by OUTPUT's NEW rule: EPERM), unless the
    entry's reply tuple was keyed by the default zone (--zone-orig): then it is the reply."""
    report = _run(f"ip netns exec b iptables -t raw -A PREROUTING -i eth0 -j CT {zone}",
                  "ip netns exec b iptables -A OUTPUT -m conntrack --ctstate NEW -j DROP",
                  "ip netns exec b nc -u -l 53 &",
                  "ip netns exec a nc -u -l 4000 &",
                  "echo x | ip netns exec a nc -u -w 1 -p 4000 10.0.0.2 53",
                  "echo y | ip netns exec b nc -u -w 1 -p 53 10.0.0.1 4000")
    answer = report["probes"][1]
    assert answer["outcome"] == outcome
    [entry] = _conntrack(report, "b")  # a dropped new entry is never confirmed
    assert ("[UNREPLIED]" in entry) == (outcome == "error")


@pytest.mark.parametrize(("rules", "outcome"), [
    (["-t raw -A OUTPUT -p udp -j CT --zone 5"], "lost"),
    (["-t raw -A OUTPUT -p udp -j CT --zone-orig 5"], "unreachable"),
    (["-t raw -A OUTPUT -p udp -j CT --zone 5", "-t raw -A PREROUTING -p icmp -j CT --zone 5"], "unreachable"),
    (["-t raw -A OUTPUT -p udp -j CT --zone 5", "-t raw -A PREROUTING -p icmp -j CT --zone-reply 5"],
     "unreachable"),
    (["-t raw -A OUTPUT -p udp -j CT --zone 5", "-t raw -A PREROUTING -p icmp -j CT --zone 6"], "lost"),
])
def test_an_icmp_error_finds_its_entry_only_in_its_own_zone(rules: list[str], outcome: str) -> None:
    """nf_conntrack_inet_error looks the quoted tuple up in the error's own zone: not found, the
    error is INVALID and a's INVALID drop rule takes it (the datagram is lost, no ECONNREFUSED)."""
    report = _run(*(f"ip netns exec a iptables {r}" for r in rules),
                  "ip netns exec a iptables -A INPUT -m conntrack --ctstate INVALID -j DROP",
                  "echo x | ip netns exec a nc -u -w 1 10.0.0.2 53")
    assert report["probes"][0]["outcome"] == outcome
    assert _counter(report, "a", "filter", "INPUT", 1) == (1 if outcome == "lost" else 0)


@pytest.mark.parametrize(("zone", "outcome"), [("--zone 1", "lost"), ("--zone-reply 1", "lost"),
                                               ("--zone-orig 1", "unreachable"), ("", "unreachable")])
def test_the_udp_stacks_port_unreachable_is_looked_up_not_attached(zone: str, outcome: str) -> None:
    """__udp4_lib_rcv resets the datagram's entry (nf_reset_ct) before icmp_send, so its error is
    looked up in OUTPUT, in the default zone here: where the SNATed entry's reply tuple is keyed
    by zone 1 it is not found and not un-SNATed, and the sender's socket never hears of it (the
    same world over lo on 6.18: lost, lost, ECONNREFUSED, ECONNREFUSED)."""
    rule = [f"ip netns exec a iptables -t raw -A OUTPUT -p udp -j CT {zone}"] if zone else []
    report = _run(*rule, "ip netns exec a iptables -t nat -A POSTROUTING -p udp -j SNAT --to-source 127.0.0.9",
                  "echo x | ip netns exec a nc -u -w 1 -s 127.0.0.2 -p 4000 127.0.0.1 53")
    assert report["probes"][0]["outcome"] == outcome


def test_raw_notrack_applies_to_the_udp_stacks_port_unreachable_not_to_rejects() -> None:
    """Seen on 6.18: with ``-t raw -A OUTPUT -p icmp -j NOTRACK`` the stack's port unreachable is
    UNTRACKED (and a DNATed datagram's error is not un-DNATed: lost), while REJECT's error,
    attached to its entry by nf_ct_attach, stays RELATED."""
    report = _run("ip netns exec b iptables -t raw -A OUTPUT -p icmp -j NOTRACK",
                  "ip netns exec b iptables -A OUTPUT -m conntrack --ctstate UNTRACKED",
                  "ip netns exec b iptables -A OUTPUT -m conntrack --ctstate RELATED",
                  "ip netns exec b iptables -t nat -A PREROUTING -p udp --dport 5353 "
                  "-j DNAT --to-destination 10.0.0.2:53",
                  "ip netns exec b iptables -A INPUT -p tcp -j REJECT",
                  "echo x | ip netns exec a nc -u -w 1 10.0.0.2 53",
                  "echo x | ip netns exec a nc -u -w 1 10.0.0.2 5353",
                  "ip netns exec a nc -z -w 1 10.0.0.2 80")
    assert [p["outcome"] for p in report["probes"]] == ["unreachable", "lost", "refused"]
    untracked = [sum(c["packets"] for c in p["counters"]["b"] if (c["chain"], c["rule"]) == ("OUTPUT", r)
                     and c["table"] == "filter") for p in report["probes"] for r in (1, 2)]
    assert untracked == [1, 0, 1, 0, 0, 1]


def test_zone_mark_reads_the_mark_at_conntrack_in() -> None:
    """--zone mark takes skb->mark when conntrack-in runs (after raw, before mangle), 16 bits of it:
    a MARK after the CT rule in raw counts, one in mangle does not."""
    report = _run("ip netns exec a iptables -t raw -A OUTPUT -p icmp -j CT --zone-orig mark",
                  "ip netns exec a iptables -t raw -A OUTPUT -p icmp -j MARK --set-mark 0x10009",
                  "ip netns exec a iptables -t raw -A OUTPUT -p udp -j CT --zone mark",
                  "ip netns exec a iptables -t mangle -A OUTPUT -p udp -j MARK --set-mark 0x7",
                  "ip netns exec a ping -c 1 -W 1 10.0.0.2",
                  "echo x | ip netns exec a nc -u -w 1 10.0.0.2 53")
    assert report["probes"][0]["outcome"] == "reply"
    icmp, udp = _conntrack(report, "a")
    assert "type=8 code=0 zone-orig=9 src=10.0.0.2" in icmp
    assert "zone" not in udp


def test_the_first_ct_target_wins() -> None:
    """xt_ct_target ignores a packet that already carries a template (or is untracked): the first
    CT or NOTRACK decides, and a plain ``-j CT`` keeps a later NOTRACK from untracking."""
    rules = [("53", "CT --zone 5"), ("53", "CT --zone 6"), ("54", "CT --zone 7"), ("54", "NOTRACK"),
             ("55", "CT"), ("55", "NOTRACK"), ("56", "NOTRACK"), ("56", "CT --zone 8")]
    report = _run(*(f"ip netns exec a iptables -t raw -A OUTPUT -p udp --dport {p} -j {t}" for p, t in rules),
                  *(f"echo x | ip netns exec a nc -u -w 1 10.0.0.2 {p}" for p in ("53", "54", "55", "56")))
    entries = {e.split("dport=")[1].split()[0]: e for e in _conntrack(report, "a")}
    assert set(entries) == {"53", "54", "55"}
    assert entries["53"].endswith("zone=5") and entries["54"].endswith("zone=7") and "zone" not in entries["55"]
    assert _counter(report, "a", "raw", "OUTPUT", 2) == 1  # the ignored targets still count their packet


def test_the_template_is_new_in_the_raw_table() -> None:
    """After CT, the template's ctinfo (IP_CT_NEW) is what state matches see in raw."""
    report = _run("ip netns exec a iptables -t raw -A OUTPUT -p udp -j CT --zone 5",
                  "ip netns exec a iptables -t raw -A OUTPUT -p udp -m conntrack --ctstate NEW",
                  "ip netns exec a iptables -t raw -A OUTPUT -p udp -m state --state NEW",
                  "ip netns exec a iptables -t raw -A OUTPUT -p udp -m conntrack --ctstate INVALID",
                  "echo x | ip netns exec a nc -u -w 1 10.0.0.2 53")
    assert [_counter(report, "a", "raw", "OUTPUT", i) for i in (1, 2, 3, 4)] == [1, 1, 1, 0]


def test_conntrack_options_see_the_templates_zeroed_entry() -> None:
    """The template is an entry with zeroed tuples, CONFIRMED, mark 0, direction ORIGINAL (6.18
    counted 1 0 1 1 1 0 1 for the same rules)."""
    matches = ["--ctdir ORIGINAL", "--ctproto udp", "! --ctproto udp", "--ctstatus CONFIRMED",
               "--ctorigsrc 0.0.0.0", "--ctstate NEW --ctorigdst 10.0.0.2"]
    report = _run("ip netns exec a iptables -t raw -A OUTPUT -p udp -j CT --zone 5",
                  *(f"ip netns exec a iptables -t raw -A OUTPUT -p udp -m conntrack {m}" for m in matches),
                  "ip netns exec a iptables -t raw -A OUTPUT -p udp -m connmark --mark 0",
                  "echo x | ip netns exec a nc -u -w 1 10.0.0.2 53")
    assert [_counter(report, "a", "raw", "OUTPUT", i) for i in range(2, 9)] == [1, 0, 1, 1, 1, 0, 1]


def test_snat_picks_a_port_only_when_the_reply_tuples_share_a_zone() -> None:
    """nf_nat_used_tuple asks whether the reply tuple is taken in the new entry's zone: two flows
    from port 4000 SNATed to one address keep it in zones 1 and 2 (seen on 6.18), while with
    --zone-orig (reply tuples in the default zone) or one --zone-reply the second is remapped."""
    rules = [("127.0.0.2", "--zone 1"), ("127.0.0.3", "--zone 2"), ("127.0.0.4", "--zone-orig 3"),
             ("127.0.0.5", "--zone-orig 4"), ("127.0.0.6", "--zone-reply 5"), ("127.0.0.7", "--zone-reply 5")]
    report = _run(*(f"ip netns exec a iptables -t raw -A OUTPUT -s {s} -p udp -j CT {z}" for s, z in rules),
                  "ip netns exec a iptables -t nat -A POSTROUTING -p udp -j SNAT --to-source 127.0.0.9",
                  *(f"echo x | ip netns exec a nc -u -w 1 -s {s} -p {4000 + i // 2} 127.0.0.1 53"
                    for i, (s, _) in enumerate(rules)))
    reply_port = {e.split()[2].split("=")[1]: int(e.split("dport=")[2].split()[0]) for e in _conntrack(report, "a")}
    assert reply_port["127.0.0.2"] == reply_port["127.0.0.3"] == 4000
    assert reply_port["127.0.0.4"] == 4001 != reply_port["127.0.0.5"]
    assert reply_port["127.0.0.6"] == 4002 != reply_port["127.0.0.7"]


def test_conntrack_l_prints_zones_where_conntrack_tools_does() -> None:
    """conntrack v1.4.7: zone-orig= after the original tuple, zone-reply= after the reply tuple
    (before [ASSURED]), zone= after mark= (copied from 6.18's output)."""
    report = _run("ip netns exec b iptables -t raw -A PREROUTING -p tcp -j CT --zone-reply 7",
                  "ip netns exec b iptables -t raw -A OUTPUT -p tcp -j CT --zone-reply 7",
                  "ip netns exec b iptables -t raw -A PREROUTING -p udp -j CT --zone 11",
                  "ip netns exec b nc -l -k 80 &",
                  "ip netns exec a nc -z -w 1 -p 5000 10.0.0.2 80",
                  "echo x | ip netns exec a nc -u -w 1 -p 5001 10.0.0.2 53",
                  "ip netns exec b conntrack -L")
    assert report["probes"][0]["outcome"] == "connected"
    lines = {ln.split()[0]: ln for ln in report["outputs"][0]["stdout"].splitlines()}
    assert lines["tcp"] == ("tcp      6 9 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=80 src=10.0.0.2 "
                            "dst=10.0.0.1 sport=80 dport=5000 zone-reply=7 [ASSURED] mark=0 use=1")
    assert lines["udp"].endswith("sport=53 dport=5001 mark=0 zone=11 use=1")


def test_conntrack_zone_filters_compare_the_printed_attribute() -> None:
    """conntrack -L -w/--zone, --orig-zone, --reply-zone: the entry's zone=, zone-orig=, zone-reply=
    value, 0 where it prints none (the same script on 6.18 listed the same entries: 1, 3, 1, 3, 1, 3)."""
    report = _run(*(f"ip netns exec a iptables -t raw -A OUTPUT -p udp --dport {p} -j CT {z}" for p, z in (
                      (1000, "--zone 5"), (1001, "--zone-orig 5"), (1002, "--zone-reply 5"), (1003, ""))),
                  *(f"echo x | ip netns exec a nc -u -w 1 -p {2000 + i} 127.0.0.1 {1000 + i}" for i in range(4)),
                  *(f"ip netns exec a conntrack -L {f}" for f in ("-w 5", "--zone 0", "--orig-zone 5", "--orig-zone 0",
                                                                  "--reply-zone 5", "--reply-zone 0 -p udp")))
    listed = [sorted(int(ln.split("dport=")[1].split()[0]) for ln in o["stdout"].splitlines())
              for o in report["outputs"]]
    assert listed == [[1000], [1001, 1002, 1003], [1001], [1000, 1002, 1003], [1002], [1000, 1001, 1003]]


# -- the table itself ----------------------------------------------------------------------------

T = CtTuple(IPv4Address("127.0.0.1"), IPv4Address("127.0.0.1"), 17, 5000, 6000)
ORIG_5, REPLY_5, BOTH_5 = CtZone(5, CtZone.ORIG), CtZone(5, CtZone.REPLY), CtZone(5)


def test_zone_ids_per_direction() -> None:
    assert [z.id_for(d) for z in (ORIG_5, REPLY_5, BOTH_5) for d in CtDir] == [5, 0, 0, 5, 5, 5]
    assert CtZone(0, 3, from_mark=True).resolve(0x10009) == CtZone(9)
    assert CtZone(0, CtZone.REPLY, from_mark=True).resolve(0x2) == CtZone(2, CtZone.REPLY)


@pytest.mark.parametrize(("zone", "entries", "state"), [
    # seen on 6.18 over lo: 5000->6000 with no zone, then 6000->5000 with the zone
    ("--zone-orig 5", 1, "replied"),
    ("--zone 5", 2, "new"),
    ("--zone-reply 5", 2, "new"),
])
def test_a_reverse_packet_in_a_directional_zone(zone: str, entries: int, state: str) -> None:
    """The reverse packet's tuple is the default-zone entry's reply tuple, keyed by 0: a zone
    whose reply-direction id is 0 (--zone-orig) finds it there; --zone-reply does not (its
    reply-direction id is 5) and its new entry does not clash with the first one."""
    report = _run("ip netns exec a iptables -t raw -A OUTPUT -p udp --sport 6000 -j CT " + zone,
                  "echo x | ip netns exec a nc -u -w 1 -p 5000 127.0.0.1 6000",
                  "echo x | ip netns exec a nc -u -w 1 -p 6000 127.0.0.1 5000")
    found = _conntrack(report, "a")
    assert len(found) == entries
    first = next(e for e in found if "sport=5000 dport=6000" in e.split(" src=127.0.0.1")[1])
    assert ("[UNREPLIED]" in first) == (state == "new")


def test_listing_words_of_each_zone_kind() -> None:
    conn = Conn(id=1, orig=T, reply=T.inverted(), zone=ORIG_5, status=CtStatus.SEEN_REPLY | CtStatus.ASSURED)
    assert format_conn(conn).split()[6:] == ["zone-orig=5", "src=127.0.0.1", "dst=127.0.0.1", "sport=6000",
                                             "dport=5000", "[ASSURED]", "mark=0"]
    conn.zone = CtZone(0)
    assert "zone" not in format_conn(conn)


@settings(max_examples=30)
@given(st.integers(0, 65535), st.sampled_from((None, "orig", "reply")))
def test_a_connection_in_one_zone_both_ways_is_found_by_both_directions(zone_id: int, direction: str | None) -> None:
    """Every packet of a flow looked up in the zone its entry was made in finds it, in the
    direction it travels; a zone of both directions with id N is found by no other zone's lookup."""
    from simnet.netfilter.conntrack_table import ConntrackTable
    from simnet.world import World

    world = World(seed=1)
    table = ConntrackTable(world.add_netns("x"))
    dirs = {None: 3, "orig": CtZone.ORIG, "reply": CtZone.REPLY}[direction]
    zone = CtZone(zone_id, dirs)
    conn = Conn(id=0, orig=T, reply=T.inverted(), zone=zone)
    assert table.confirm(conn)
    assert table.lookup(T, zone) == (conn, CtDir.ORIGINAL)
    assert table.lookup(T.inverted(), zone) == (conn, CtDir.REPLY)
    other = CtZone(zone_id + 1 if zone_id < 65535 else 1)
    if direction is None and zone_id:
        assert table.lookup(T, other) is None and table.lookup(T, CtZone(0)) is None
