"""The real-world match modules of issue #13: parsing, refusals worded as iptables 1.8.9, iptables-save text, verdicts."""

import pathlib
from ipaddress import IPv4Address as A

import pytest

from simnet.errors import RuleSyntaxError
from simnet.netfilter.context import AddrType, MatchContext
from simnet.netfilter.hooks import Hook
from simnet.netfilter.rule import Rule
from simnet.netfilter.syntax import format_save, parse_save
from simnet.packet import IPv4, Packet, Udp
from simnet.skb import Skb


def ctx(**kw):
    return MatchContext(hook=Hook.LOCAL_IN, addr_type=lambda ip, dev: AddrType.LOCAL if str(ip) == "10.0.0.1"
                        else AddrType.UNICAST, **kw)


def udp(sport=5, dport=53, src="10.0.0.2", dst="10.0.0.1", **skb):
    return Skb(packet=Packet(ip=IPv4(src=A(src), dst=A(dst), proto=17), l4=Udp(sport=sport, dport=dport)), **skb)


def m(spec):
    return Rule.parse(spec).matches[0]


def saved(*rules, table="filter", chains=("INPUT", "FORWARD", "OUTPUT")):
    """iptables-save's text for ``rules`` restored into ``table`` (rule lines only)."""
    text = f"*{table}\n" + "".join(f":{c} ACCEPT [0:0]\n" for c in chains) + "".join(r + "\n" for r in rules) + "COMMIT\n"
    return [line for line in format_save(parse_save(text)).splitlines() if line.startswith("-A ")]


def refused(spec):
    with pytest.raises(RuleSyntaxError) as e:
        Rule.parse(spec)
    return str(e.value).strip()


# -- udp ranges with min > max (libxt_udp parses with XTTYPE_PORTRC: no order check) --------------------------------

def test_udp_range_min_above_max_loads_prints_back_and_never_matches():
    assert saved("-A INPUT -p udp -m udp --dport 60000:29 -j ACCEPT", "-A INPUT -p udp ! --sport 5:4",
                 "-A INPUT -p udp --dport 60000:", "-A INPUT -p udp --dport :29") == [
        "-A INPUT -p udp -m udp --dport 60000:29 -j ACCEPT", "-A INPUT -p udp -m udp ! --sport 5:4",
        "-A INPUT -p udp -m udp --dport 60000:65535", "-A INPUT -p udp -m udp --dport 0:29"]
    c = ctx()
    for port in (0, 29, 30, 59999, 60000, 65535):
        assert not m("-p udp --dport 60000:29").matches(udp(dport=port), c)
        assert m("-p udp ! --dport 60000:29").matches(udp(dport=port), c)


def test_udp_port_is_cut_to_16_bits_as_getaddrinfo_does():
    assert saved("-A INPUT -p udp --dport 70000") == ["-A INPUT -p udp -m udp --dport 4464"]


def test_tcp_and_multiport_refuse_min_above_max_in_their_own_words():
    assert refused("-p tcp --dport 60000:29") == "invalid portrange (min > max)"
    assert refused("-p udp -m multiport --dports 5:4") == "invalid portrange specified"
    assert refused("-p udp --dport 29abc") == 'Port "29abc" does not resolve to anything.'


# -- sctp -------------------------------------------------------------------------------------------------------------

def test_sctp_ports_and_chunk_types_print_as_iptables_save():
    assert saved("-A INPUT -p sctp --sport 80 --dport 1000:2000 --chunk-types any DATA,INIT -j ACCEPT",
                 "-A INPUT -p sctp ! --chunk-types only DATA:Be,ABORT:T,SHUTDOWN_COMPLETE:t,INIT_ACK",
                 "-A INPUT -p sctp --chunk-types ANY data:iE,data:U,abort:T", "-A INPUT -p sctp --chunk-types all none",
                 "-A INPUT -p sctp --chunk-types any I_DATA:IUbe,DATA:I,PAD", "-A INPUT -p sctp -m sctp") == [
        "-A INPUT -p sctp -m sctp --sport 80 --dport 1000:2000 --chunk-types any DATA,INIT -j ACCEPT",
        "-A INPUT -p sctp -m sctp ! --chunk-types only DATA:Be,INIT_ACK,ABORT:T,SHUTDOWN_COMPLETE:t",
        "-A INPUT -p sctp -m sctp --chunk-types any DATA:iUE,ABORT:T", "-A INPUT -p sctp -m sctp --chunk-types all NONE",
        # libxt_sctp keys flags by its table index: I_DATA's flags are kept under index 15 and never printed
        "-A INPUT -p sctp -m sctp --chunk-types any DATA:I,I_DATA,PAD", "-A INPUT -p sctp -m sctp"]
    mt = m("-p sctp --chunk-types only DATA:Be,INIT")
    assert mt.chunkmap == 0b11 and mt.flag_info == ((0, 0b10, 0b11),)


def test_sctp_refusals_are_libxt_sctps_words():
    assert refused("-p sctp --dport 5:4") == "invalid portrange (min > max)"
    assert refused("-p sctp --dport http") == "invalid port/service `http' specified"
    assert refused("-p sctp --chunk-types any DATA:X") == "Invalid flags for chunk type 0"
    assert refused("-p sctp --chunk-types some DATA") == 'Match type has to be one of "ALL", "ANY" or "ONLY"'
    assert refused("-p sctp --chunk-types any FOO") == "Unknown sctp chunk `FOO'"
    assert refused("-p sctp --chunk-types any -j ACCEPT") == "--chunk-types requires two args"
    assert refused("-p tcp --tcp-flags SYN") == "--tcp-flags requires two args."


def test_sctp_never_matches_a_simulated_packet_which_has_no_sctp_header():
    assert not m("-p sctp -m sctp").matches(udp(), ctx())
    assert not m("-p sctp ! --dport 5").matches(udp(), ctx())


# -- rpfilter -------------------------------------------------------------------------------------------------------

def test_rpfilter_saves_its_flags_in_libxt_rpfilter_order_and_only_in_raw_or_mangle_prerouting():
    assert saved("-A PREROUTING -m rpfilter --invert --accept-local --validmark --loose -j DROP",
                 "-A PREROUTING -m rpfilter --lo", table="raw", chains=("PREROUTING", "OUTPUT")) == [
        "-A PREROUTING -m rpfilter --loose --validmark --accept-local --invert -j DROP",
        "-A PREROUTING -m rpfilter --loose"]
    assert refused("-m rpfilter ! --loose") == 'rpfilter: option "--loose" cannot be inverted.'
    assert refused("-m rpfilter --loose --loose") == 'rpfilter: option "--loose" can only be used once.'
    with pytest.raises(Exception, match="RULE_APPEND failed"):
        saved("-A INPUT -m rpfilter")


def test_rpfilter_asks_the_fib_for_the_route_back_to_the_source():
    from simnet import run_script
    report = run_script(pathlib.Path(__file__).parents[2].joinpath("data", "xt", "rpfilter.sh"))
    r = report.world.netns("r")
    counts = [e.counters.packets for e in r.ruleset.tables["raw"].chains["PREROUTING"].entries]
    # strict: only 10.0.0.1 routes back by ra; loose: 10.0.1.50 routes back (by rs) too; 10.0.9.9 has no route
    assert counts == [1, 2, 2]
    assert [p.to_json()["outcome"] for p in report.probes] == ["reply", "timeout", "timeout", "reply"]


# -- policy -----------------------------------------------------------------------------------------------------------

def test_policy_prints_elements_in_libxt_policy_order_with_next_between():
    assert saved("-A FORWARD -m policy --pol ipsec --dir out --strict --reqid 5 --spi 0x10 --proto esp --mode tunnel "
                 "--tunnel-src 10.0.0.1/24 --tunnel-dst 10.0.0.2 --next ! --reqid 6 ! --proto 51 ! --mode transport",
                 "-A INPUT -m policy --dir in", "-A INPUT -m policy --dir in --pol none --reqid 1") == [
        "-A INPUT -m policy --dir in --pol ipsec", "-A INPUT -m policy --dir in --pol none",
        "-A FORWARD -m policy --dir out --pol ipsec --strict --reqid 5 --spi 0x10 --proto esp --mode tunnel "
        "--tunnel-dst 10.0.0.2 --tunnel-src 10.0.0.1/24 --next ! --reqid 6 ! --proto ah ! --mode transport"]


def test_policy_refusals_and_direction_hooks():
    assert refused("-m policy --pol none") == "policy match: neither --dir in nor --dir out specified"
    assert refused("-m policy --dir in --pol ipsec --next --reqid 1") == 'policy: option "--next" also requires "--strict".'
    assert refused("-m policy --dir in --pol ipsec --reqid 1 --reqid 2") == "policy match: double --reqid option"
    assert refused("-m policy --dir in --pol ipsec --tunnel-dst 1.2.3.4") == (
        "policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode")
    assert refused("-m policy --dir in --pol none --strict") == "policy match: policy none but --strict given"
    with pytest.raises(Exception, match="RULE_APPEND failed"):
        saved("-A INPUT -m policy --dir out --pol none")
    with pytest.raises(Exception, match="RULE_APPEND failed"):
        saved("-A OUTPUT -m policy --dir in --pol none")


def test_policy_without_ipsec_none_matches_every_packet_ipsec_none_and_the_trace_says_so():
    c = ctx()
    assert m("-m policy --dir in --pol none").matches(udp(), c)
    assert not m("-m policy --dir in --pol ipsec").matches(udp(), c)
    assert c.notes and "simnet models no IPsec" in c.notes[-1] and "--pol ipsec matches none" in c.notes[-1]
    from simnet import run_script
    report = run_script(pathlib.Path(__file__).parents[2].joinpath("data", "xt", "policy.sh"))
    assert report.probes[0].to_json()["outcome"] == "reply"
    steps = [s.text() for s in report.probes[0].result.traces[0].steps]
    assert "-m policy --dir in --pol none: simnet models no IPsec, so no packet has a policy: " \
           "--pol none matches every packet" in steps


# -- NETMAP -----------------------------------------------------------------------------------------------------------

NAT_CHAINS = ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")


def test_netmap_masks_its_network_and_prints_a_prefix_length():
    assert saved("-A PREROUTING -d 10.9.0.0/24 -j NETMAP --to 10.1.0.7/24", "-A POSTROUTING -j NETMAP --to 10.1.0.0/255.255.0.0",
                 "-A OUTPUT -j NETMAP --to 10.1.0.1", "-A INPUT -j NETMAP --to 1.2.3.0/33", table="nat", chains=NAT_CHAINS) == [
        "-A PREROUTING -d 10.9.0.0/24 -j NETMAP --to 10.1.0.0/24", "-A INPUT -j NETMAP --to 1.2.3.0/32",
        "-A OUTPUT -j NETMAP --to 10.1.0.1/32", "-A POSTROUTING -j NETMAP --to 10.1.0.0/16"]
    assert refused("-j NETMAP") == 'NETMAP: option "--to" must be specified'
    assert refused("-j NETMAP --to 1.2.3.4 --to 1.2.3.5") == 'NETMAP: option "--to" can only be used once.'
    with pytest.raises(Exception, match="RULE_APPEND failed"):
        saved("-A INPUT -j NETMAP --to 1.2.3.0/24")
    t = Rule.parse("-j NETMAP --to 10.8.0.0/16").target
    assert str(t.mapped(A("192.168.7.9")).min_ip) == "10.8.7.9"


def test_netmap_maps_destination_in_prerouting_and_source_in_postrouting_keeping_host_parts():
    from simnet import run_script
    report = run_script(pathlib.Path(__file__).parents[2].joinpath("data", "xt", "netmap.sh"))
    nc, ping, missing = (p.to_json() for p in report.probes)
    assert nc["outcome"] == "connected" and nc["received"]["src"].startswith("10.8.0.1")
    assert ping["outcome"] == "reply" and missing["outcome"] == "timeout"


# -- hashlimit --------------------------------------------------------------------------------------------------------

def test_hashlimit_prints_as_libxt_hashlimit_rev3_with_its_defaults_and_rewrites():
    assert saved("-A INPUT -m hashlimit --hashlimit 10/sec --hashlimit-name foo",
                 "-A INPUT -m hashlimit --hashlimit-above 5/min --hashlimit-burst 10 --hashlimit-mode dstport,srcip "
                 "--hashlimit-name x --hashlimit-srcmask 24 --hashlimit-htable-expire 60000 --hashlimit-htable-gcinterval 500",
                 "-A INPUT -m hashlimit ! --hashlimit-upto 3/m --hashlimit-name y",
                 "-A INPUT -m hashlimit --hashlimit-upto 512b/s --hashlimit-name b --hashlimit-burst 2mb",
                 "-A INPUT -m hashlimit --hashlimit-upto 3/min --hashlimit-name r --hashlimit-rate-match") == [
        "-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name foo",
        "-A INPUT -m hashlimit --hashlimit-above 5/min --hashlimit-burst 10 --hashlimit-mode srcip,dstport --hashlimit-name x "
        "--hashlimit-htable-gcinterval 500 --hashlimit-srcmask 24",
        "-A INPUT -m hashlimit --hashlimit-above 3/min --hashlimit-burst 5 --hashlimit-name y",
        "-A INPUT -m hashlimit --hashlimit-upto 512b/s --hashlimit-burst 2mb --hashlimit-name b",
        "-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-burst 5 --hashlimit-name r --hashlimit-htable-expire 60000 "
        "--hashlimit-rate-match --hashlimit-rate-interval 60"]
    assert refused("-m hashlimit --hashlimit-upto 10/sec") == 'hashlimit: option "--hashlimit-name" must be specified'
    assert refused("-m hashlimit --hashlimit-name foo") == "You have to specify --hashlimit"
    assert refused("-m hashlimit --hashlimit-upto 1kb/s --hashlimit-name x --hashlimit-burst 5") == (
        "burst cannot be smaller than 1024b")
    with pytest.raises(Exception, match=r"RULE_APPEND failed \(Numerical result out of range\)"):
        saved("-A INPUT -m hashlimit --hashlimit-upto 1/day --hashlimit-name d")  # credits overflow, as on the kernel


def test_hashlimit_buckets_per_group_in_simulated_time():
    mt = m("-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name t")
    c = ctx()
    assert [mt.matches(udp(src="10.0.0.2"), c) for _ in range(3)] == [True, True, False]
    assert mt.matches(udp(src="10.0.0.3"), c)  # its own group
    c.now = 1.0
    assert mt.matches(udp(src="10.0.0.2"), c) and not mt.matches(udp(src="10.0.0.2"), c)
    from simnet import run_script
    report = run_script(pathlib.Path(__file__).parents[2].joinpath("data", "xt", "hashlimit.sh"))
    assert [p.to_json()["outcome"] for p in report.probes] == ["reply", "reply", "timeout", "reply"]


# -- connlimit --------------------------------------------------------------------------------------------------------

def test_connlimit_prints_its_defaults_and_folds_inversion_into_upto_or_above():
    assert saved("-A INPUT -p tcp --syn -m connlimit --connlimit-above 2", "-A INPUT -m connlimit ! --connlimit-above 2",
                 "-A INPUT -m connlimit ! --connlimit-upto 2 --connlimit-daddr",
                 "-A INPUT -m connlimit --connlimit-above 0x10 --connlimit-mask 33") == [
        "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr",
        "-A INPUT -m connlimit --connlimit-upto 2 --connlimit-mask 32 --connlimit-saddr",
        "-A INPUT -m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-daddr",
        "-A INPUT -m connlimit --connlimit-above 16 --connlimit-mask 32 --connlimit-saddr"]
    assert refused("-m connlimit") == 'You must specify "--connlimit-above" or "--connlimit-upto".'
    assert refused("-m connlimit --connlimit-above 1 --connlimit-saddr --connlimit-daddr") == (
        'connlimit: option "--connlimit-saddr" cannot be used together with "--connlimit-daddr".')


def test_connlimit_counts_the_tracked_connections_it_has_seen_per_masked_source():
    from simnet import run_script
    report = run_script(pathlib.Path(__file__).parents[2].joinpath("data", "xt", "connlimit.sh"))
    # each ping is a connection alive in conntrack: a's third exceeds 2; c is counted apart
    assert [p.to_json()["outcome"] for p in report.probes] == ["reply", "reply", "timeout", "reply"]
    assert len(list(report.world.netns("s").conntrack)) == 3


# -- time -------------------------------------------------------------------------------------------------------------

def test_time_prints_full_times_dates_and_the_default_datestop():
    assert saved("-A INPUT -m time --timestart 8:0:5 --timestop 17:30 --weekdays Mo,Tuesday,7",
                 "-A INPUT -m time ! --monthdays 1 --datestart 2024-01-01T10",
                 "-A INPUT -m time --localtz --timestart 22:00 --timestop 06:00 --contiguous") == [
        "-A INPUT -m time --timestart 08:00:05 --timestop 17:30:00 --weekdays Mon,Tue,Sun --datestop 2038-01-19T03:14:07",
        "-A INPUT -m time --monthdays " + ",".join(str(d) for d in range(2, 32))
        + " --datestart 2024-01-01T10:00:00 --datestop 2038-01-19T03:14:07",
        "-A INPUT -m time --timestart 22:00:00 --timestop 06:00:00 --datestop 2038-01-19T03:14:07 --kerneltz --contiguous"]
    assert refused("-m time --timestart 8:61") == (
        'invalid time "61" specified, should be hh:mm[:ss] format and within the boundaries')
    assert refused("-m time --datestart 2040-01-01") == (
        'Invalid date "2040-01-01" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]')
    assert refused("-m time --weekdays 0") == "No, the week does NOT begin with Sunday."
    assert refused("-m time --contiguous") == "time: --contiguous only makes sense when stoptime is smaller than starttime"


def test_time_decides_on_the_world_clock():
    c = ctx()
    c.now = 1767225600 + 9 * 3600  # 2026-01-01T09:00:00Z, a Thursday
    assert m("-m time --timestart 08:00 --timestop 17:00 --weekdays Thu").matches(udp(), c)
    assert not m("-m time --weekdays Fri").matches(udp(), c)
    assert m("-m time --monthdays 1 --datestart 2026-01-01").matches(udp(), c)
    assert not m("-m time --datestop 2025-12-31T23:59:59").matches(udp(), c)
    night = m("-m time --timestart 22:00 --timestop 06:00 --weekdays Wed --contiguous")
    assert not night.matches(udp(), c)
    c.now = 1767225600 + 3 * 3600  # 03:00 Thursday: the night that began on Wednesday
    assert night.matches(udp(), c)
    assert not m("-m time --timestart 22:00 --timestop 06:00 --weekdays Wed").matches(udp(), c)
    from simnet import World
    assert World().epoch == 1767225600.0


# -- string -----------------------------------------------------------------------------------------------------------

def test_string_prints_printable_patterns_as_strings_and_others_as_hex():
    assert saved("-A INPUT -m string --algo kmp --string \"GET /index\" --from 40 --to 100",
                 "-A INPUT -m string --algo bm --hex-string a|42|c", "-A INPUT -m string --algo bm --hex-string |0102|",
                 "-A INPUT -m string --algo bm ! --string \"a\\\"b\" --icase") == [
        '-A INPUT -m string --string "GET /index" --algo kmp --from 40 --to 100',
        '-A INPUT -m string --string "aBc" --algo bm', '-A INPUT -m string --hex-string "|0102|" --algo bm',
        '-A INPUT -m string ! --string "a\\"b" --algo bm --icase']
    assert refused("-m string --string foo") == 'string: option "--algo" must be specified'
    assert refused("-m string --algo bm --hex-string |4|") == "Invalid hex block"
    with pytest.raises(Exception, match=r"No such file or directory"):
        saved("-A INPUT -m string --algo xx --string foo")


def test_string_searches_the_packet_from_its_ip_header_within_from_and_to():
    pkt = udp(dport=5000)
    data = Skb(packet=pkt.packet.__class__(ip=pkt.packet.ip, l4=pkt.packet.l4, payload=b"my SeCrEt\n"))
    c = ctx()
    assert m("-m string --algo bm --string secret --icase").matches(data, c)
    assert not m("-m string --algo bm --string secret").matches(data, c)
    assert m("-m string --algo kmp --string SeCrEt --from 28").matches(data, c)  # 20 (IP) + 8 (UDP): the payload
    assert not m("-m string --algo kmp --string SeCrEt --to 32").matches(data, c)  # the pattern ends at byte 36
    assert m("-m string --algo kmp --string SeCrEt --to 36").matches(data, c)
    from simnet import run_script
    report = run_script(pathlib.Path(__file__).parents[2].joinpath("data", "xt", "string.sh"))
    assert [p.to_json()["outcome"] for p in report.probes] == ["delivered", "lost"]
