"""TCP MSS (issue #15): the MSS a SYN advertises from its route, ``advmss``, and TCPMSS.

Kernel facts behind the numbers (Linux 6.18, ``ss -tin`` and ``-m tcpmss`` counters; the whole
router world is kernel-checked as scenarios/tcp-mss-clamping.sh): a route ``advmss 1200``
makes the SYN carry 1200; a 1400-byte device answers 1360; TCPMSS lowers, never raises, and
adds an MSS of at most 536 to a segment that has none and no data.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given, strategies as st

import simnet
from simnet.netfilter.context import Hook, MatchContext
from simnet.netfilter.rule import Rule
from simnet.packet import IPv4, Packet, Tcp, TcpFlags, TcpOptions
from simnet.skb import Skb
from simnet.tcp_output import advertised_mss, received_mss, route_mss, send_mss
from simnet.tools.ip.common import IpError

ROUTER = """\
ip netns add a
ip netns add b
ip netns add r
ip -n a link add va type veth peer name ra netns r
ip -n b link add vb type veth peer name rb netns r
ip -n a addr add 10.0.1.2/24 dev va
ip -n r addr add 10.0.1.1/24 dev ra
ip -n b addr add 10.0.2.2/24 dev vb
ip -n r addr add 10.0.2.1/24 dev rb
ip -n a link set va up
ip -n r link set ra up
ip -n r link set rb up
ip -n b link set vb up
ip -n b route add default via 10.0.2.1
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
ip netns exec b nc -l -k -p 80 &
"""


def _mss_seen(script: str) -> tuple[int | None, int | None]:
    """The MSS of the SYN the server got and of the SYN-ACK the client got."""
    report = simnet.run_script(ROUTER + script + "ip netns exec a nc -z -w 1 10.0.2.2 80\n")
    probe = report.probes[-1]
    syn = synack = None
    for t in probe.result.traces:
        tcp = t.packet.l4
        if isinstance(tcp, Tcp) and tcp.flags & TcpFlags.SYN:
            last = next((s for s in reversed(t.steps) if getattr(s, "packet", None) is not None), None)
            mss = (last.packet.l4.options.mss if last is not None else tcp.options.mss)
            if tcp.flags & TcpFlags.ACK:
                synack = mss
            else:
                syn = mss
    return syn, synack


def test_syn_mss_follows_route_and_device_mtu() -> None:
    world = simnet.run_script(ROUTER + "ip -n a route add default via 10.0.1.1\n").world
    a, b = world.netns("a"), world.netns("b")
    assert advertised_mss(a, a.lookup("10.0.2.2")) == 1460
    b.set_mtu("vb", 1400)
    assert advertised_mss(b, b.lookup("10.0.1.2")) == 1360
    b.set_mtu("vb", 68)
    assert advertised_mss(b, b.lookup("10.0.1.2")) == 256  # route/min_adv_mss
    assert route_mss(a, IPv4Address("10.0.1.2")) == 65495  # to itself: lo's 65536, capped


def test_route_advmss_is_advertised_and_printed() -> None:
    report = simnet.run_script(ROUTER + "ip -n a route add default via 10.0.1.1 advmss 1200\n"
                               "ip -n a route add 10.9.0.0/16 via 10.0.1.1 advmss lock 0x100\n"
                               "ip -n a route add 10.8.0.0/16 via 10.0.1.1 advmss 70000\n"
                               "ip -n a route add 10.7.0.0/16 via 10.0.1.1 advmss 0\n"
                               "ip -n a route\nip -n a route get 10.0.2.2\n")
    out = [o["stdout"] if isinstance(o, dict) else o.stdout for o in report.outputs]
    assert out[0].splitlines() == [
        "default via 10.0.1.1 dev va advmss 1200 ", "10.0.1.0/24 dev va proto kernel scope link src 10.0.1.2 ",
        "10.7.0.0/16 via 10.0.1.1 dev va ", "10.8.0.0/16 via 10.0.1.1 dev va advmss 65495 ",
        "10.9.0.0/16 via 10.0.1.1 dev va advmss lock 256 "]
    assert out[1] == "10.0.2.2 via 10.0.1.1 dev va src 10.0.1.2 uid 0 \n    cache advmss 1200 \n"


@pytest.mark.parametrize("words, message, code", [
    ("advmss foo", 'Error: argument "foo" is wrong: "mss" value is invalid', 255),
    ("advmss -1", 'Error: argument "-1" is wrong: "mss" value is invalid', 255),
    ("advmss 4294967296", 'Error: argument "4294967296" is wrong: "mss" value is invalid', 255),
    ("advmss lock", 'Command line is not complete. Try option "help"', 255),
])
def test_advmss_errors_are_iproute2s(words: str, message: str, code: int) -> None:
    from simnet.tools.ip import compile_ip

    with pytest.raises(IpError) as e:
        compile_ip(f"route add 10.1.0.0/16 via 10.0.1.1 {words}".split())
    assert str(e.value).strip() == message and e.value.exit_code == code


def test_syn_and_synack_carry_each_sides_mss() -> None:
    assert _mss_seen("ip -n a route add default via 10.0.1.1 advmss 1200\nip -n b link set vb mtu 1400\n") \
        == (1200, 1360)


@pytest.mark.parametrize("rule, seen", [
    ("-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1000", (1000, 1460)),
    ("-t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 1000", (1000, 1000)),
    ("-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1500", (1460, 1460)),  # never raised
    ("-t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -o rb -j TCPMSS --clamp-mss-to-pmtu", (1260, 1460)),
    ("-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 0", (0, 1460)),
])
def test_tcpmss_rewrites_the_option(rule: str, seen: tuple[int, int]) -> None:
    script = "ip -n a route add default via 10.0.1.1\nip -n r link set rb mtu 1300\n"
    assert _mss_seen(script + f"ip netns exec r iptables {rule}\n") == seen


def _skb(options: TcpOptions, payload: bytes = b"", flags: TcpFlags = TcpFlags.SYN) -> Skb:
    pkt = Packet(ip=IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), proto=6),
                 l4=Tcp(sport=1, dport=2, flags=flags, options=options), payload=payload)
    return Skb(packet=pkt)


CTX = MatchContext(hook=Hook.FORWARD, addr_type=lambda a, d: None)  # type: ignore[arg-type,return-value]


@given(old=st.one_of(st.none(), st.integers(0, 65535)), new=st.integers(0, 65515),
       ts=st.booleans(), data=st.booleans())
def test_set_mss_only_lowers_and_adds_at_most_536(old: int | None, new: int, ts: bool, data: bool) -> None:
    target = Rule.parse(f"-p tcp -j TCPMSS --set-mss {new}".split()).target
    skb = _skb(TcpOptions(mss=old, timestamps=ts), b"x" if data else b"")
    out = target.mangle(skb, CTX)
    got = out.packet.l4.options.mss
    if old is not None:
        assert got == min(old, new) and out.packet.length == skb.packet.length
    elif data:
        assert got is None and out is skb
    else:
        assert got == min(new, 536) and out.packet.length == skb.packet.length + 4


@given(pmtu=st.integers(68, 65535), peer=st.integers(0, 65535), ts=st.booleans())
def test_send_mss_fits_the_path_and_the_peer(pmtu: int, peer: int, ts: bool) -> None:
    mss = send_mss(pmtu, received_mss(peer), timestamps=ts)
    header = 40 + (12 if ts else 0)
    assert mss + header <= max(pmtu, 48 + 40) or mss == 48 - (12 if ts else 0)
    assert mss <= max(received_mss(peer), 48) and mss >= 36
