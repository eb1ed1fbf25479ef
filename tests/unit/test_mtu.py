"""Sizes at the IP layer (issue #15): DF, fragmentation, reassembly, ICMP frag-needed, path MTU,
link MTUs. Every expected value below was read off Linux 6.18 in throwaway namespaces (the
transcripts are in tests/kernel/test_mtu_kernel.py, which replays them on the kernel)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from simnet.fragment import Reassembly, ip_fragment
from simnet.packet import Icmp, IcmpType, IPv4, Packet, describe
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

#: a (10.0.1.2) -- r -- b (10.0.2.2), r's link to b and b's own link at MTU 1400
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
ip -n r link set rb up mtu 1400
ip -n b addr add 10.0.2.2/24 dev vb
ip -n b link set vb up mtu 1400
ip -n b route add default via 10.0.2.1
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
"""


def _run(script: str) -> dict:
    return run_script(ROUTER + script).to_json()


def _rows(probe: dict, ns: str) -> dict[tuple[str, str, int], tuple[int, int]]:
    return {(c["table"], c["chain"], c["rule"]): (c["packets"], c["bytes"]) for c in probe["counters"].get(ns, [])}


def _outputs(report: dict) -> list[str]:
    return [o["stdout"] for o in report["outputs"]]


def test_a_router_answers_a_df_datagram_too_big_with_frag_needed_from_its_own_address() -> None:
    doc = _run("ip netns exec r iptables -A FORWARD\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n")
    (p,) = doc["probes"]
    assert p["outcome"] == "unreachable"
    assert p["icmp"] == {"type": 3, "code": 4, "from": "10.0.1.1", "mtu": 1400}
    # ip_forward refuses it before the FORWARD hook: the rule never saw it
    assert _rows(p, "r").get(("filter", "FORWARD", 1), (0, 0)) == (0, 0)
    assert p["ping"] == {"transmitted": 1, "received": 0, "errors": 1, "loss": 100, "size": 1472,
                         "replies": []}


def test_the_sender_learns_the_path_mtu_and_then_refuses_or_fragments() -> None:
    doc = _run("ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip -n a route get 10.0.2.2\n"
               "ip -n a route show\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 10.0.2.2\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M dont 10.0.2.2\n")
    route_get, route_show = _outputs(doc)[-2:]
    assert route_get == "10.0.2.2 via 10.0.1.1 dev va src 10.0.1.2 uid 0 \n    cache expires 599sec mtu 1400 \n"
    assert "mtu" not in route_show  # the exception hangs off the route, 'ip route show' never shows it
    _, local, want, dont = doc["probes"]
    assert (local["outcome"], local["errno"], local["ping"]["mtu"]) == ("error", "EMSGSIZE", 1400)
    assert want["outcome"] == dont["outcome"] == "reply"


def test_the_local_error_reads_as_ping_prints_it() -> None:
    from simnet.render import probe_line

    report = run_script(ROUTER + "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
                                 "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n")
    text = "\n".join(probe_line(report, p).plain for p in report.probes)
    assert "frag needed and DF set (mtu = 1400)" in text
    assert "EMSGSIZE (ping: local error: message too long, mtu=1400)" in text


def test_fragments_cross_a_router_without_conntrack_one_by_one() -> None:
    """1500 bytes on a 1400 link: 1396 + 124. The request crosses FORWARD whole (r fragments it
    on output), b's reply arrives in pieces and FORWARD's -f rule counts the 124-byte one; the
    receiver's INPUT counts whole datagrams."""
    doc = _run("ip netns exec r iptables -A FORWARD -f\nip netns exec r iptables -A FORWARD\n"
               "ip netns exec b iptables -A INPUT -f\nip netns exec b iptables -A INPUT\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M dont 10.0.2.2\n")
    (p,) = doc["probes"]
    assert p["outcome"] == "reply"
    assert _rows(p, "r")[("filter", "FORWARD", 1)] == (1, 124)
    assert _rows(p, "r")[("filter", "FORWARD", 2)] == (3, 1500 + 1396 + 124)
    assert ("filter", "INPUT", 1) not in _rows(p, "b")
    assert _rows(p, "b")[("filter", "INPUT", 2)] == (1, 1500)


def test_conntrack_reassembles_before_the_rules_and_the_router_refragments() -> None:
    doc = _run("ip netns exec r iptables -t raw -A PREROUTING -f\nip netns exec r iptables -t raw -A PREROUTING\n"
               "ip netns exec r iptables -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED\n"
               "ip netns exec r iptables -A FORWARD -f\n"
               "ip netns exec a ping -c 1 -W 1 -s 1500 -M dont 10.0.2.2\n")
    (p,) = doc["probes"]
    assert p["outcome"] == "reply"
    rows = _rows(p, "r")
    assert ("raw", "PREROUTING", 1) not in rows and rows[("raw", "PREROUTING", 2)] == (2, 1528 * 2)
    assert rows[("filter", "FORWARD", 1)] == (2, 1528 * 2) and ("filter", "FORWARD", 2) not in rows


#: a's own link and r's side of it at 1400, r -- b at 1500; r tracks connections
REFRAGMENT = """\
ip netns add a
ip netns add r
ip netns add b
ip -n a link add va type veth peer name ra netns r
ip -n r link add rb type veth peer name vb netns b
ip -n a addr add 10.0.1.2/24 dev va
ip -n a link set va up mtu 1400
ip -n a route add default via 10.0.1.1
ip -n r addr add 10.0.1.1/24 dev ra
ip -n r link set ra up mtu 1400
ip -n r addr add 10.0.2.1/24 dev rb
ip -n r link set rb up
ip -n b addr add 10.0.2.2/24 dev vb
ip -n b link set vb up
ip -n b route add default via 10.0.2.1
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
ip netns exec r iptables -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED
ip netns exec b iptables -t raw -A PREROUTING -f
ip netns exec b iptables -t raw -A PREROUTING
ip netns exec a ping -c 1 -W 1 -s 1472 10.0.2.2
ip netns exec b iptables -t raw -L PREROUTING -v -n -x
ip netns exec r iptables -L FORWARD -v -n -x
"""


def test_a_conntrack_router_sends_a_reassembled_datagram_on_in_its_original_pieces() -> None:
    """a fragments to 1396 + 124 (its link is 1400); r reassembles for conntrack and FORWARD
    sees 1500 bytes, but b (no conntrack) still receives 1396 + 124 although r -- b is 1500."""
    (p,) = run_script(REFRAGMENT).to_json()["probes"]
    assert p["outcome"] == "reply"
    assert _rows(p, "b")[("raw", "PREROUTING", 1)] == (1, 124) and _rows(p, "b")[("raw", "PREROUTING", 2)] == (2, 1520)
    assert _rows(p, "r")[("filter", "FORWARD", 1)] == (2, 3000)


def test_min_pmtu_locks_a_smaller_mtu_and_want_stops_setting_df() -> None:
    doc = _run("ip -n r link set rb mtu 500\nip -n b link set vb mtu 500\n"
               "ip netns exec a ping -c 2 -i 0.2 -W 1 -s 1000 -M do 10.0.2.2\n"
               "ip -n a route get 10.0.2.2\n"
               "ip netns exec a ping -c 1 -W 1 -s 1000 10.0.2.2\n")
    first, want = doc["probes"]
    assert first["icmp"]["mtu"] == 500 and first["ping"]["errors"] == 2 and first["ping"]["mtu"] == 552
    assert _outputs(doc)[-1].endswith("cache expires 599sec mtu lock 552 \n")
    assert want["outcome"] == "reply"


@pytest.mark.parametrize("mode, outcome, mtu, cache", [
    (1, "unreachable", 0, "cache expires 599sec mtu lock 552 \n"),
    (2, "timeout", None, "cache \n"),
    (3, "timeout", None, "cache \n"),
])
def test_ip_no_pmtu_disc(mode: int, outcome: str, mtu: int | None, cache: str) -> None:
    doc = _run(f"ip netns exec a sysctl -qw net.ipv4.ip_no_pmtu_disc={mode}\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip -n a route get 10.0.2.2\n")
    (p,) = doc["probes"]
    assert p["outcome"] == outcome and (p["icmp"] or {}).get("mtu") == mtu
    assert _outputs(doc)[-1].endswith(cache)


def test_ip_no_pmtu_disc_1_makes_sockets_not_set_df() -> None:
    doc = _run("ip netns exec a sysctl -qw net.ipv4.ip_no_pmtu_disc=1\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 10.0.2.2\n")
    assert doc["probes"][0]["outcome"] == "reply"


def test_the_exception_expires_after_mtu_expires() -> None:
    doc = _run("ip netns exec a sysctl -qw net.ipv4.route.mtu_expires=5\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip -n a route get 10.0.2.2\nsleep 5.2\nip -n a route get 10.0.2.2\n")
    before, after = _outputs(doc)[-2:]
    assert before.endswith("cache expires 4sec mtu 1400 \n") and after.endswith("cache \n")


def test_a_larger_mtu_than_the_path_is_ignored() -> None:
    doc = _run("ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip -n r link set rb mtu 1450\nip -n b link set vb mtu 1450\n"
               "ip -n a addr add 10.0.1.3/24 dev va\n"
               "ip -n a route get 10.0.2.2\n")
    assert _outputs(doc)[-1].endswith("mtu 1400 \n")


def test_a_veth_peer_drops_what_exceeds_its_mtu_by_more_than_four_bytes() -> None:
    base = ("ip netns add a\nip netns add b\nip -n a link add va type veth peer name vb netns b\n"
            "ip -n a addr add 10.0.1.2/24 dev va\nip -n a link set va up\n"
            "ip -n b addr add 10.0.1.3/24 dev vb\nip -n b link set vb up mtu 1400\n")
    doc = run_script(base + "ip netns exec a ping -c 1 -W 1 -s 1376 -M do 10.0.1.3\n"
                            "ip netns exec a ping -c 1 -W 1 -s 1377 -M do 10.0.1.3\n").to_json()
    fits, too_long = doc["probes"]
    assert fits["outcome"] == "reply"
    assert (too_long["outcome"], too_long["errno"]) == ("error", "ENOBUFS")


#: a bridge in a whose port p2 (towards d) has MTU 1400, the other port 1500 (also the kernel test's)
BRIDGE_PORT_1400 = """\
ip netns add a
ip netns add c
ip netns add d
ip -n a link add br0 type bridge
ip -n a link set br0 up
ip -n a link add p1 type veth peer name q1 netns c
ip -n a link add p2 type veth peer name q2 netns d
ip -n a link set p1 master br0
ip -n a link set p2 master br0
ip -n a link set p2 mtu 1400
ip -n a link set p1 up
ip -n a link set p2 up
ip -n c addr add 10.0.5.1/24 dev q1
ip -n c link set q1 up
ip -n d addr add 10.0.5.2/24 dev q2
ip -n d link set q2 up
"""


def test_a_bridge_port_with_br_netfilter_takes_exactly_its_mtu() -> None:
    script = BRIDGE_PORT_1400 + """\
ip -n a link show br0
ip netns exec c ping -c 1 -W 1 -s 1372 -M do 10.0.5.2
ip netns exec c ping -c 1 -W 1 -s 1373 -M do 10.0.5.2
"""
    doc = run_script(script).to_json()
    assert " mtu 1400 " in _outputs(doc)[-1]
    assert [p["outcome"] for p in doc["probes"]] == ["reply", "timeout"]


@pytest.mark.parametrize("line, message", [
    ("ip -n a link set va mtu 67", "Error: mtu less than device minimum."),
    ("ip -n a link set va mtu 65536", "Error: mtu greater than device maximum."),
    ("ip -n a link set va mtu 010", "Error: mtu less than device minimum."),
    ("ip -n a link set va mtu 1_000", 'Error: argument "1_000" is wrong: Invalid "mtu" value'),
    ("ip -n a link set va mtu 2147483648", 'Error: argument "2147483648" is wrong: Invalid "mtu" value'),
    ("ip -n a link set lo mtu -1", "Error: mtu less than device minimum."),
    ("ip -n a link add v7 mtu 70000 type veth peer name v8", "RTNETLINK answers: Invalid argument"),
    ("ip -n a link add v9 type veth peer name v10 mtu 67", "RTNETLINK answers: Invalid argument"),
    ("ip -n a link add br2 mtu 65536 type bridge", "Error: mtu greater than device maximum."),
    ("ip -n a link add vx4 type vxlan id 10 dstport 4789 dev va\nip -n a link set vx4 mtu 1451",
     "Error: mtu greater than device maximum."),
])
def test_link_mtu_bounds_and_words(line: str, message: str) -> None:
    base = "ip netns add a\nip -n a link add va type veth peer name vb\n"
    with pytest.raises(ScriptError, match=message.replace('"', '.').replace("(", ".").replace(")", ".")):
        run_script(base + line + "\n")
    before = run_script(base).world.netns("a")
    assert before.devices["va"].mtu == 1500  # nothing changed on the way to the error


@pytest.mark.parametrize("line, mtus", [
    ("ip -n a link set va mtu 0x600", {"va": 1536}),
    ("ip -n a link set lo mtu 2147483647", {"lo": 2147483647}),
    ("ip -n a link add v1 type veth peer name v2 mtu 9000", {"v1": 1500, "v2": 9000}),
    ("ip -n a link add v3 mtu 2000 type veth peer name v4 mtu 3000", {"v3": 2000, "v4": 3000}),
    ("ip -n a link add v5 mtu 2000 type veth peer name v6", {"v5": 2000, "v6": 1500}),
    ("ip -n a link add vx0 type vxlan id 5 dstport 4789 dev va", {"vx0": 1450}),
    ("ip -n a link add vx1 type vxlan id 6 dstport 4789", {"vx1": 1500}),
    ("ip -n a link add vx2 mtu 9000 type vxlan id 7 dstport 4789 dev va", {"vx2": 1450}),
    ("ip -n a link add br1 mtu 9000 type bridge\nip -n a link set va master br1", {"br1": 1500}),
])
def test_link_mtus_as_created(line: str, mtus: dict[str, int]) -> None:
    ns = run_script("ip netns add a\nip -n a link add va type veth peer name vb\n" + line + "\n").world.netns("a")
    assert {name: ns.devices[name].mtu for name in mtus} == mtus


def test_ping_s_beyond_an_ipv4_datagram_fails_locally() -> None:
    doc = _run("ip netns exec a ping -c 1 -W 1 -s 65508 10.0.2.2\n")
    (p,) = doc["probes"]
    assert (p["outcome"], p["errno"], p["ping"]["mtu"], p["ping"]["errors"]) == ("error", "EMSGSIZE", 65535, 1)


def test_ip_fragment_cuts_on_eight_byte_boundaries_and_reassembly_restores() -> None:
    ip = IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), proto=1)
    echo = Packet(ip=ip, l4=Icmp(type=IcmpType.ECHO_REQUEST, id=1, seq=1), payload=bytes(1472))
    pieces = ip_fragment(echo, 1400, 9)
    assert [(p.length, p.ip.frag_off, p.ip.mf, p.ip.id) for p in pieces] == [(1396, 0, True, 9), (124, 1376, False, 9)]
    assert pieces[1].l4 is None and pieces[0].l4 == echo.l4
    assert describe(pieces[0]) == "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1 (frag 9:1376@0+)"
    assert describe(pieces[1]) == "IP 10.0.0.1 > 10.0.0.2: ip-proto-1 (frag 9:104@1376)"
    queues = Reassembly()
    assert queues.add(pieces[1], 0.0, "local") is None
    whole, largest = queues.add(pieces[0], 0.0, "local")  # type: ignore[misc]
    assert whole.length == 1500 and whole.payload == echo.payload and largest == 1396
    assert not queues.queues


def test_an_incomplete_queue_expires_after_ipfrag_time() -> None:
    ip = IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), proto=1)
    pieces = ip_fragment(Packet(ip=ip, l4=Icmp(type=8), payload=bytes(3000)), 1500, 5)
    queues = Reassembly()
    assert queues.add(pieces[0], 0.0, "local") is None and queues.add(pieces[1], 0.0, "local") is None
    # 31 s later the first pieces are gone: the last one alone completes nothing
    assert queues.add(pieces[2], 31.0, "local") is None


def test_ip_route_show_and_flush_cache() -> None:
    """'ip route show cache' lists the exceptions (exact destination only); 'flush cache' empties
    them (a bare 'cache' line, as 6.18 lists them) until the next frag-needed fills them again."""
    doc = _run("ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip -n a route show cache\n"
               "ip -n a route show cache 10.0.2.0/24\n"
               "ip -n a route flush cache\n"
               "ip -n a route get 10.0.2.2\n"
               "ip -n a route show cache\n"
               "ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n"
               "ip -n a route get 10.0.2.2\n")
    out = {o["command"].split(" ", 3)[-1] + f"#{i}": o["stdout"] for i, o in enumerate(doc["outputs"])}
    shown = [v for k, v in out.items() if k.startswith("route show cache#")]
    assert shown == ["10.0.2.2 via 10.0.1.1 dev va \n    cache expires 599sec mtu 1400 \n",
                     "10.0.2.2 via 10.0.1.1 dev va \n    cache \n"]
    gets = [v for k, v in out.items() if k.startswith("route get")]
    assert gets[0].endswith("    cache \n") and gets[1].endswith("cache expires 599sec mtu 1400 \n")
    assert [p["outcome"] for p in doc["probes"]] == ["unreachable", "unreachable"]


def test_world_script_keeps_link_mtus() -> None:
    """world_script writes a veth's MTU (it decides what passes now), a bridge's only when set."""
    from simnet import world_script

    world = run_script(ROUTER).world
    lines = world_script(world).splitlines()
    assert "ip -n r link set rb mtu 1400" in lines and "ip -n b link set vb mtu 1400" in lines
    again = run_script("\n".join(lines) + "\nip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2\n").to_json()
    assert again["probes"][0]["icmp"]["mtu"] == 1400
