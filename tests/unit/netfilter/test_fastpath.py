"""Examples for the indexed fast evaluator (the property test covers random rulesets)."""

from __future__ import annotations

import random
from ipaddress import IPv4Address

from simnet.netfilter.context import AddrType, MatchContext
from simnet.netfilter.evaluate import evaluate_chain
from simnet.netfilter.fastpath import compile_chain, fast_evaluate_chain
from simnet.netfilter.hooks import Hook
from simnet.netfilter.rule import Rule
from simnet.netfilter.ruleset import Ruleset, TableState
from simnet.packet import Arp, ArpOp, IPv4, Packet, Tcp, Udp
from simnet.addresses import MacAddress
from simnet.skb import Skb
from simnet.world import World


def ctx() -> MatchContext:
    return MatchContext(hook=Hook.PRE_ROUTING, addr_type=lambda a, d: AddrType.UNICAST, rng=random.Random(1))


def syn(dst: str, dport: int = 80, *, indev: str | None = "eth0", udp: bool = False) -> Skb:
    l4 = Udp(sport=1234, dport=dport) if udp else Tcp(sport=40000, dport=dport)
    pkt = Packet(ip=IPv4(src=IPv4Address("192.168.1.5"), dst=IPv4Address(dst), proto=17 if udp else 6), l4=l4)
    return Skb(packet=pkt, indev=indev)


def nat(*lines: str) -> TableState:
    t = Ruleset().table("nat")
    for line in lines:
        words = line.split(None, 2)
        if words[0] == "-N":
            t.new_chain(words[1])
        else:
            t.append(words[1], Rule.parse(words[2]))
    return t


def trace(result) -> list[tuple[str, int, str]]:
    return [(h.chain, h.index, h.verdict) for h in result.hits]


def both(t: TableState, chain: str, skb: Skb):
    ref = evaluate_chain(t, chain, skb, ctx())
    fast = fast_evaluate_chain(t, chain, skb, ctx())
    assert fast == ref
    return fast


def services(n: int) -> TableState:
    lines = ["-N KUBE-SERVICES", "-N KUBE-MARK-MASQ", "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
             "-A PREROUTING -j KUBE-SERVICES"]
    for i in range(n):
        lines += [f"-N SVC{i}", f"-A SVC{i} -j KUBE-MARK-MASQ",
                  f"-A SVC{i} -p tcp -m tcp -j DNAT --to-destination 10.244.0.{i % 250 + 1}:8080",
                  f"-A KUBE-SERVICES -d 10.96.{i // 250}.{i % 250}/32 -p tcp -m comment --comment \"s{i}\" "
                  f"-m tcp --dport 80 -j SVC{i}"]
    return nat(*lines)


def test_first_and_last_service_name_the_same_rules_as_linear() -> None:
    t = services(300)
    first = both(t, "PREROUTING", syn("10.96.0.0"))
    assert trace(first) == [("PREROUTING", 1, "jump"), ("KUBE-SERVICES", 1, "jump"), ("SVC0", 1, "jump"),
                            ("KUBE-MARK-MASQ", 1, "continue"), ("SVC0", 2, "DNAT")]
    assert first.skb.mark == 0x4000
    last = both(t, "PREROUTING", syn("10.96.1.49"))
    assert ("KUBE-SERVICES", 300, "jump") in trace(last)
    miss = both(t, "PREROUTING", syn("10.96.1.49", 81))
    assert trace(miss) == [("PREROUTING", 1, "jump"), ("PREROUTING", 0, "ACCEPT")]


def test_buckets() -> None:
    t = nat("-A PREROUTING -d 10.0.0.1/32 -j ACCEPT", "-A PREROUTING -d 10.0.0.0/8 -j ACCEPT",
            "-A PREROUTING ! -d 10.0.0.1/32 -j ACCEPT", "-A PREROUTING -p udp -m udp --dport 53 -j ACCEPT",
            "-A PREROUTING -p tcp -m tcp --dport 1:100 -j ACCEPT", "-A PREROUTING -i eth0 -j ACCEPT",
            "-A PREROUTING -i veth+ -j ACCEPT",
            "-A PREROUTING -p tcp -m statistic --mode nth --every 2 --packet 0 -m tcp --dport 80 -j ACCEPT")
    cc = compile_chain(t.chains["PREROUTING"].entries)
    assert dict(cc.prefixes) == {0xFFFFFFFF: {0x0A000001: [0]}, 0xFF000000: {0x0A000000: [1]}}
    assert cc.by_dport == {(Udp, 53): [3]}
    assert cc.by_proto == {6: [4, 7]}
    assert cc.by_iface == {"eth0": [5]}
    assert cc.residual == [2, 6]
    assert cc.candidates(0x0A000001, (Tcp, 80), 6, "eth0") == [0, 1, 2, 4, 5, 6, 7]
    assert cc.candidates(0xC0A80101, (Udp, 53), 17, "eth1") == [2, 3, 6]


def test_stateful_match_ahead_of_dport_still_runs() -> None:
    """``-m statistic --mode nth`` counts every packet that reaches it, even when the later dport fails."""
    t = nat("-A PREROUTING -p tcp -m statistic --mode nth --every 2 --packet 0 -m tcp --dport 80 -j DNAT "
            "--to-destination 10.0.0.9")
    c_ref, c_fast = ctx(), ctx()
    for port in (81, 80, 81, 80, 80):
        ref = evaluate_chain(t, "PREROUTING", syn("10.1.1.1", port), c_ref)
        fast = fast_evaluate_chain(t, "PREROUTING", syn("10.1.1.1", port), c_fast)
        assert fast == ref
    assert c_fast.state == c_ref.state


def test_return_from_goto_chain_reaches_the_policy() -> None:
    """ipt_do_table: RETURN with an empty stack is the base chain's underflow (its policy)."""
    t = nat("-N G", "-A G -j RETURN", "-A PREROUTING -g G", "-A PREROUTING -j DNAT --to-destination 10.0.0.9",
            "-A PREROUTING -j DNAT --to-destination 10.0.0.8")
    t.set_policy("PREROUTING", "DROP")
    assert trace(both(t, "PREROUTING", syn("10.1.1.1"))) == [("PREROUTING", 1, "goto"), ("G", 1, "RETURN"),
                                                            ("PREROUTING", 0, "DROP")]


def test_non_ip_packet_takes_the_policy() -> None:
    t = nat("-A PREROUTING -j DNAT --to-destination 10.0.0.9")
    mac = MacAddress(1)
    arp = Skb(packet=Packet(arp=Arp(op=ArpOp.REQUEST, sha=mac, spa=IPv4Address("10.0.0.1"), tha=mac,
                                    tpa=IPv4Address("10.0.0.2"))))
    assert trace(both(t, "PREROUTING", arp)) == [("PREROUTING", 0, "ACCEPT")]


def test_recompiles_after_a_change() -> None:
    t = nat("-A PREROUTING -d 10.0.0.1/32 -j DNAT --to-destination 10.0.0.9")
    assert both(t, "PREROUTING", syn("10.0.0.1")).verdict == "DNAT"
    t.insert("PREROUTING", Rule.parse("-d 10.0.0.1/32 -j ACCEPT"))
    assert trace(both(t, "PREROUTING", syn("10.0.0.1"))) == [("PREROUTING", 1, "ACCEPT")]
    t.replace("PREROUTING", 1, Rule.parse("-p tcp -m tcp --dport 80 -j RETURN"))
    assert trace(both(t, "PREROUTING", syn("10.0.0.1"))) == [("PREROUTING", 1, "RETURN"), ("PREROUTING", 0, "ACCEPT")]
    t.flush("PREROUTING")
    assert trace(both(t, "PREROUTING", syn("10.0.0.1"))) == [("PREROUTING", 0, "ACCEPT")]


def test_namespaces_use_the_fast_path_by_default() -> None:
    ns = World(seed=1).add_netns("a")
    assert ns.evaluator is fast_evaluate_chain
