"""Match modules decide packets as the kernel's xt_* match functions do."""

import random
from ipaddress import IPv4Address as A

from simnet.netfilter.context import AddrType, MatchContext
from simnet.netfilter.hooks import Hook
from simnet.netfilter.rule import Rule
from simnet.packet import IPv4, Icmp, Packet, Tcp, TcpFlags, Udp
from simnet.skb import PktType, Skb


def ctx(**kw):
    return MatchContext(hook=Hook.LOCAL_IN, addr_type=lambda ip, dev: AddrType.LOCAL if str(ip) == "10.0.0.1"
                        else AddrType.UNICAST, **kw)


def tcp(sport=1234, dport=80, flags=TcpFlags.SYN, src="10.0.0.2", dst="10.0.0.1", **skb):
    pkt = Packet(ip=IPv4(src=A(src), dst=A(dst), proto=6), l4=Tcp(sport=sport, dport=dport, flags=flags))
    return Skb(packet=pkt, **skb)


def m(spec):
    return Rule.parse(spec).matches[0]


def test_tcp_ports_flags_and_inversion():
    c = ctx()
    assert m("-p tcp --dport 80").matches(tcp(), c)
    assert not m("-p tcp ! --dport 80").matches(tcp(), c)
    assert m("-p tcp --sport 1000:2000").matches(tcp(), c)
    assert m("-p tcp --syn").matches(tcp(), c)
    assert not m("-p tcp --syn").matches(tcp(flags=TcpFlags.SYN | TcpFlags.ACK), c)


def test_udp_and_icmp():
    c = ctx()
    u = Skb(packet=Packet(ip=IPv4(src=A("1.1.1.1"), dst=A("2.2.2.2"), proto=17), l4=Udp(sport=5, dport=53)))
    assert m("-p udp --dport 53").matches(u, c)
    assert not m("-p tcp --dport 53").matches(u, c)
    i = Skb(packet=Packet(ip=IPv4(src=A("1.1.1.1"), dst=A("2.2.2.2"), proto=1), l4=Icmp(type=3, code=3)))
    assert m("-p icmp --icmp-type port-unreachable").matches(i, c)
    assert m("-p icmp --icmp-type 3").matches(i, c)
    assert not m("-p icmp --icmp-type 3/1").matches(i, c)
    assert m("-p icmp --icmp-type any").matches(i, c)


def test_addrtype_and_multiport_and_mark():
    c = ctx()
    assert m("-m addrtype --dst-type LOCAL").matches(tcp(), c)
    assert not m("-m addrtype ! --dst-type LOCAL").matches(tcp(), c)
    assert m("-p tcp -m multiport --dports 22,80:90").matches(tcp(dport=85), c)
    assert m("-m mark --mark 0x1/0x1").matches(tcp(mark=3), c)
    assert not m("-m mark --mark 0x1").matches(tcp(mark=3), c)


def test_physdev_only_for_bridged_frames():
    c = ctx()
    mt = m("-m physdev --physdev-in veth+ --physdev-is-bridged")
    assert not mt.matches(tcp(), c)
    assert mt.matches(tcp(bridged=True, physindev="veth1", physoutdev="veth2"), c)
    assert m("-m physdev ! --physdev-is-bridged").matches(tcp(), c)


def test_statistic_nth_counts_per_rule_and_random_can_be_forced():
    c = ctx()
    nth = m("-m statistic --mode nth --every 3 --packet 0")
    assert [nth.matches(tcp(), c) for _ in range(6)] == [False, False, True, False, False, True]
    rnd = m("-m statistic --mode random --probability 0.5")
    assert str(rnd) == "-m statistic --mode random --probability 0.50000000000"
    forced = ctx(forced={id(rnd): True})
    assert all(rnd.matches(tcp(), forced) for _ in range(20))
    c2 = ctx(rng=random.Random(1))
    hits = sum(rnd.matches(tcp(), c2) for _ in range(1000))
    assert 400 < hits < 600


def test_limit_token_bucket_in_simulated_time():
    c = ctx()
    lim = m("-m limit --limit 1/sec --limit-burst 2")
    assert [lim.matches(tcp(), c) for _ in range(3)] == [True, True, False]
    c.now = 1.0
    assert lim.matches(tcp(), c)
    assert not lim.matches(tcp(), c)


def test_recent_set_then_rcheck_with_hitcount():
    c = ctx()
    setter = m("-m recent --set --name ssh")
    check = m("-m recent --rcheck --seconds 60 --hitcount 2 --name ssh")
    assert not check.matches(tcp(), c)
    setter.matches(tcp(), c)
    assert not check.matches(tcp(), c)
    c.now = 1
    setter.matches(tcp(), c)
    assert check.matches(tcp(), c)
    c.now = 100
    assert not check.matches(tcp(), c)


def test_pkttype_length_ttl_owner():
    c = ctx()
    assert m("-m pkttype --pkt-type broadcast").matches(tcp(pkt_type=PktType.BROADCAST), c)
    assert m("-m length --length 40").matches(tcp(), c)
    assert m("-m ttl --ttl-gt 5").matches(tcp(), c)
    assert not m("-m owner --uid-owner 0").matches(tcp(), c)
    assert m("-m owner ! --uid-owner 0").matches(tcp(), c)


def test_set_match_asks_the_ipset():
    from simnet.netfilter.ipset import IpSet
    s = IpSet(name="s", type="hash:ip")
    s.add("10.0.0.2")
    c = ctx(ipsets={"s": s})
    assert m("-m set --match-set s src").matches(tcp(), c)
    assert not m("-m set --match-set s dst").matches(tcp(), c)
    assert not m("-m set --match-set missing src").matches(tcp(), c)


def test_options_declared_as_data_give_the_parser_its_tables_and_iptables_words() -> None:
    """A module's OPTION_TABLE (flag, field, type, invert, mandatory, aliases) is what the rule
    parser looks options up in, and the generic builder words errors as xtables does."""
    import pytest

    from simnet.errors import RuleSyntaxError
    from simnet.netfilter.matches import CommentMatch, MarkMatch, TcpMatch, UdpMatch

    assert TcpMatch.OPTIONS == {"--sport": 1, "--dport": 1, "--tcp-flags": 2, "--syn": 0, "--tcp-option": 1}
    assert UdpMatch.ALIASES == {"--source-port": "--sport", "--destination-port": "--dport"}
    assert str(Rule.parse("-p udp --destination-port 53 ! --sport 1:2")) == "-p udp -m udp ! --sport 1:2 --dport 53"
    assert MarkMatch.build({"--mark": (True, ("0x4000/0x4000",))}, None) == MarkMatch(
        value=0x4000, mask=0x4000, invert=True)
    for opts, message in (({"--comment": (True, ("x",))}, 'comment: option "--comment" cannot be inverted.'),
                          ({}, 'comment: option "--comment" must be specified'),
                          ({"--comment": (False, ("x" * 256,))}, 'comment: option "--comment" value too long')):
        with pytest.raises(RuleSyntaxError) as e:
            CommentMatch.build(opts, None)
        assert str(e.value) == message


def test_every_match_module_declares_its_options_as_data() -> None:
    """Each match module (but physdev and time, another engineer's this session) declares an
    OPTION_TABLE, and the parser's OPTIONS/ALIASES are derived from it, never written by hand."""
    from simnet.netfilter import matches as M

    classes = list(M.MATCH_MODULES.values())  # the files load on first use: ask the registry, not vars(M)
    assert len(classes) >= 25
    for cls in classes:
        if cls.module in ("physdev", "time"):
            continue
        table = cls.__dict__.get("OPTION_TABLE")
        assert table, cls.__name__
        assert cls.OPTIONS == {o.flag: o.arity for o in table}, cls.__name__
        assert cls.ALIASES == {a: o.flag for o in table for a in o.aliases}, cls.__name__


def test_generic_builder_reads_the_converted_modules_as_iptables_does() -> None:
    """Modules now read by the generic builder: each option's field, its ! and the words of a
    refused ! or a bad value, as before the conversion (libxt_* wording)."""
    import pytest
    from ipaddress import IPv4Address

    from simnet.errors import RuleSyntaxError
    from simnet.netfilter.conntrack import CtDir, CtStatus
    from simnet.netfilter.matches import (ConntrackMatch, IcmpMatch, LimitMatch, RecentMatch, RpfilterMatch,
                                          StateMatch)

    assert m("-p icmp -m icmp ! --icmp-type port-unreachable") == IcmpMatch(type=3, code_min=3, code_max=3,
                                                                           invert=True)
    assert m("-p icmp -m icmp --icmp-type 8") == IcmpMatch(type=8)
    assert m("-p icmp -m icmp") == IcmpMatch(type=0xFF)
    assert m("-m rpfilter --loose --invert") == RpfilterMatch(loose=True, invert=True)
    assert m("-m recent --rcheck --seconds 60 --rdest --mask 255.255.0.0") == RecentMatch(
        command="rcheck", seconds=60, side="rdest", mask=IPv4Address("255.255.0.0"))
    ct = m("-m conntrack --ctstatus ASSURED,SEEN_REPLY ! --ctorigdstport 80 --ctdir REPLY")
    assert ct == ConntrackMatch(ctstatus=CtStatus.ASSURED | CtStatus.SEEN_REPLY, origdstport=(80, 80),
                                origdstport_invert=True, ctdir=CtDir.REPLY)
    assert str(Rule.parse("-m state ! --state NEW")) == "-m state ! --state NEW"
    assert isinstance(m("-m limit --limit 5/sec --limit-burst 10"), LimitMatch)
    for rule, message in (("-m limit ! --limit 5/sec", 'limit: option "--limit" cannot be inverted.'),
                          ("-m recent --set ! --rdest", 'recent: option "--rdest" cannot be inverted.'),
                          ("-m recent --set --reap", "recent: --reap requires --seconds"),
                          ("-m recent --rcheck --mask bad", 'recent: bad mask "bad"'),
                          ("-m state", 'state: option "--state" must be specified'),
                          ("-m rpfilter ! --loose", 'rpfilter: option "--loose" cannot be inverted.'),
                          ("-m conntrack --ctproto 0", "conntrack: rule would never match protocol"),
                          # the other options are read before --ctdir's ! is refused
                          ("-m conntrack --ctstate BOGUS ! --ctdir REPLY", 'Bad ctstate "BOGUS"')):
        with pytest.raises(RuleSyntaxError) as e:
            Rule.parse(rule)
        assert str(e.value) == message
    assert StateMatch.OPTIONS == {"--state": 1}
