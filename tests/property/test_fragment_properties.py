"""Hypothesis properties of IPv4 fragmentation, reassembly and the path MTU a sender learns."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.fragment import Reassembly, ip_fragment
from simnet.packet import Icmp, IPv4, Packet, Udp

IP = IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), proto=17)


def _datagram(data: int, udp: bool) -> Packet:
    if udp:
        return Packet(ip=IPv4(src=IP.src, dst=IP.dst, proto=17), l4=Udp(sport=1, dport=2), payload=bytes(data))
    return Packet(ip=IPv4(src=IP.src, dst=IP.dst, proto=1), l4=Icmp(type=8, id=3, seq=4), payload=bytes(data))


@settings(max_examples=200, deadline=None)
@given(data=st.integers(0, 65507), udp=st.booleans(), mtu=st.integers(68, 9000), ident=st.integers(1, 0xFFFF))
def test_fragments_fit_cover_the_datagram_and_mark_the_last(data: int, udp: bool, mtu: int, ident: int) -> None:
    whole = _datagram(data, udp)
    pieces = ip_fragment(whole, mtu, ident)
    assert all(p.length <= mtu for p in pieces)
    assert all(p.ip.frag_off % 8 == 0 and p.ip.id == ident and not p.ip.df for p in pieces)
    # contiguous, in order, exactly the datagram's data
    off = 0
    for p in pieces:
        assert p.ip.frag_off == off
        off += p.fragment.size
    assert off == whole.length - 20
    assert [p.ip.mf for p in pieces] == [True] * (len(pieces) - 1) + [False]
    # only the first carries the L4 header (ports for iptables); -f matches the others
    assert pieces[0].l4 == whole.l4 and all(p.l4 is None for p in pieces[1:])
    # fragmenting again for a smaller MTU keeps the same cover
    small = max(68, mtu // 2)
    again = [q for p in pieces for q in ip_fragment(p, small, ident)]
    assert sum(q.fragment.size for q in again) == whole.length - 20 and not again[-1].ip.mf


@settings(max_examples=200, deadline=None)
@given(data=st.integers(1, 20000), mtu=st.integers(68, 3000), order=st.randoms(use_true_random=False),
       dup=st.booleans())
def test_reassembly_in_any_order_gives_back_the_datagram(data: int, mtu: int, order, dup: bool) -> None:
    whole = _datagram(data, udp=False)
    pieces = ip_fragment(whole, mtu, 7)
    if len(pieces) < 2:
        return
    arrival = list(pieces) + ([pieces[0]] if dup else [])
    order.shuffle(arrival)
    queues = Reassembly()
    results = [queues.add(p, 0.0, "local") for p in arrival]
    done = [r for r in results if r is not None]
    # complete exactly when the last missing piece arrives; a late duplicate starts a new queue
    first_done = next(i for i, r in enumerate(results) if r is not None)
    assert len({(p.ip.frag_off) for p in arrival[:first_done + 1]}) == len(pieces)
    rebuilt, largest = done[0]
    assert rebuilt.length == whole.length and rebuilt.payload == whole.payload and rebuilt.l4 == whole.l4
    assert rebuilt.fragment is None and not rebuilt.ip.mf and rebuilt.ip.frag_off == 0
    assert largest == max(p.length for p in pieces)


ROUTER = """\
ip netns add a
ip netns add r
ip netns add b
ip -n a link add va type veth peer name ra netns r
ip -n r link add rb type veth peer name vb netns b
ip -n a addr add 10.0.1.2/24 dev va
ip -n a link set va up
ip -n a route add default via 10.0.1.1
ip -n r addr add 10.0.1.1/24 dev ra
ip -n r link set ra up
ip -n r addr add 10.0.2.1/24 dev rb
ip -n r link set rb up
ip -n b addr add 10.0.2.2/24 dev vb
ip -n b link set vb up
ip -n b route add default via 10.0.2.1
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
"""


@settings(max_examples=25, deadline=None)
@given(mtus=st.lists(st.integers(68, 1500), min_size=1, max_size=4), min_pmtu=st.sampled_from([552, 1000, 1300]))
def test_the_learnt_path_mtu_only_shrinks_and_never_below_min_pmtu(mtus: list[int], min_pmtu: int) -> None:
    """Each step the router's link shrinks to the drawn MTU (if smaller) and a DF ping as large as
    the sender's path MTU crosses or learns: the path MTU is the smallest link MTU seen, clamped
    and locked at min_pmtu below it (after which DF is no longer the question)."""
    from simnet.pmtu import PmtuDisc, route_mtu
    from simnet.probe import ping
    from simnet.script.interpreter import run_script

    world = run_script(ROUTER + f"ip netns exec a sysctl -qw net.ipv4.route.min_pmtu={min_pmtu}\n").world
    a, r, b = world.netns("a"), world.netns("r"), world.netns("b")
    current, locked = 1500, False
    for mtu in mtus:
        if mtu < r.devices["rb"].mtu:
            r.set_mtu("rb", mtu)
            b.set_mtu("vb", mtu)
        link = r.devices["rb"].mtu
        result = ping(world, "a", "10.0.2.2", size=current - 28, timeout=1.0, pmtudisc=PmtuDisc.DO)
        if link < current:
            assert result.outcome == "unreachable" and result.icmp is not None and result.icmp.mtu == link
            if not locked:
                locked = link < min_pmtu
                current = min(current, min_pmtu) if locked else link
        else:
            assert result.outcome == "reply"
        route = a.lookup(IPv4Address("10.0.2.2"))
        assert route is not None and route_mtu(a, route) == current and route.pmtu_locked == locked
