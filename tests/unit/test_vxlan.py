"""VXLAN devices: ``ip link add type vxlan``, the VXLAN FDB, vxlan_xmit and vxlan_rcv.

Every expected word, message and exit code below was read off iproute2 6.1 and
Linux 6.18 in throwaway namespaces (tests/kernel/test_vxlan_kernel.py runs the
packet-path worlds on both sides).
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.addresses import MacAddress
from simnet.errors import KernelError
from simnet.packet import Udp
from simnet.probe import ping, tcp_connect, udp_send
from simnet.script.interpreter import run_script
from simnet.tools.bridge import bridge
from simnet.tools.ip import IpError, Unsupported, compile_ip, ip
from simnet.trace import Decapsulated, Disposition, Dropped, Encapsulated
from simnet.vxlan import VxlanConfig, VxlanFdb, src_port
from simnet.world import World

LAN = """\
ip netns add h1
ip netns add h2
ip -n h1 link set lo up
ip -n h2 link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns h2
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 link set eth0 up
"""

L3 = LAN + """\
ip -n h1 link add vxlan0 address 02:00:00:00:01:01 type vxlan id 7 local 192.168.1.1 remote 192.168.1.2 \
    dstport 4789 srcport 4789 4790
ip -n h2 link add vxlan0 address 02:00:00:00:02:02 type vxlan id 7 remote 192.168.1.1 \
    dstport 4789 srcport 4790 4791 ttl 9
ip -n h1 addr add 10.0.0.1/24 dev vxlan0
ip -n h2 addr add 10.0.0.2/24 dev vxlan0
ip -n h1 link set vxlan0 up
ip -n h2 link set vxlan0 up
"""


def world_of(script: str) -> World:
    w = World()
    run_script(script, world=w)
    return w


def steps(result: object, kind: type) -> list:
    return [s for t in result.traces for s in t.steps if isinstance(s, kind)]  # type: ignore[attr-defined]


# -- ip link add ... type vxlan -----------------------------------------------------------
@pytest.mark.parametrize("words, details", [
    ("id 42 local 192.168.1.1 remote 192.168.1.2 dstport 4789 srcport 4789 4790 nolearning ttl 10",
     "vxlan id 42 remote 192.168.1.2 local 192.168.1.1 srcport 4789 4790 dstport 4789 nolearning ttl 10 "
     "ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 43 dstport 4789",
     "vxlan id 43 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 5", "vxlan id 5 srcport 0 0 dstport 8472 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 11 dstport 0", "vxlan id 11 srcport 0 0 dstport 8472 ttl auto ageing 300 udpcsum noudp6zerocsumtx "
     "noudp6zerocsumrx"),
    ("id 9 dstport 4789 local 10.0.0.1 ttl inherit", "vxlan id 9 local 10.0.0.1 srcport 0 0 dstport 4789 "
     "ttl inherit ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 7 dstport 4789 ttl 0", "vxlan id 7 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum "
     "noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 6 dstport 4789 remote 0.0.0.0 local 0.0.0.0", "vxlan id 6 srcport 0 0 dstport 4789 ttl auto ageing 300 "
     "udpcsum noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 0x10 dstport 0x12b5", "vxlan id 16 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum "
     "noudp6zerocsumtx noudp6zerocsumrx"),
    ("id 42 dev eth0 dstport 4789 srcport 4789 4790", "vxlan id 42 dev eth0 srcport 4789 4790 dstport 4789 "
     "ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx"),
])
def test_details_read_as_iproute2_prints_them(words: str, details: str) -> None:
    w = world_of(LAN)
    ip(w, ["-n", "h1", "link", "add", "vx", "type", "vxlan", *words.split()])
    shown = ip(w, ["-n", "h1", "-d", "link", "show", "vx"])
    assert f"    {details} \n" in shown
    # the MTU leaves room for the 50 bytes of headers only over a lower device
    assert (" mtu 1450 " in shown) == ("dev eth0" in words)
    assert "<BROADCAST,MULTICAST> " in shown and "state DOWN" in shown


def test_an_up_vxlan_device_is_unknown_and_lower_up_and_can_be_a_bridge_port() -> None:
    w = world_of(L3 + "ip -n h1 link add br0 type bridge\nip -n h1 link set vxlan0 master br0\n")
    shown = ip(w, ["-n", "h1", "link", "show", "vxlan0"])
    assert "<BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UNKNOWN" in shown


@pytest.mark.parametrize("words, message, code", [
    ("vx1 type vxlan dstport 4789", "vxlan: missing virtual network identifier", 1),
    ("vx1 type vxlan id 16777216 dstport 4789", 'Error: argument "16777216" is wrong: invalid id', 255),
    ("vx1 type vxlan id abc dstport 4789", 'Error: argument "abc" is wrong: invalid id', 255),
    ("vx1 type vxlan id -1 dstport 4789", 'Error: argument "-1" is wrong: invalid id', 255),
    ("vx1 type vxlan id 5 id 6 dstport 4789", 'Error: either "id" is duplicate, or "6" is a garbage.', 255),
    ("vx1 type vxlan id 7 dstport 4789 srcport 10", 'Command line is not complete. Try option "help"', 255),
    ("vx1 type vxlan id 7 dstport 4789 srcport x 4", 'Error: argument "x" is wrong: min port', 255),
    ("vx1 type vxlan id 7 dstport 4789 srcport 4 x", 'Error: argument "x" is wrong: max port', 255),
    ("vx1 type vxlan id 7 dstport 70000", 'Error: argument "70000" is wrong: dst port', 255),
    ("vx1 type vxlan id 7 dstport x", 'Error: argument "x" is wrong: dst port', 255),
    ("vx1 type vxlan id 7 dstport 4789 ttl 256", 'Error: argument "256" is wrong: TTL must be <= 255', 255),
    ("vx1 type vxlan id 7 dstport 4789 ttl x", 'Error: argument "x" is wrong: invalid TTL', 255),
    ("vx1 type vxlan id 7 dstport 4789 ttl -1", 'Error: argument "-1" is wrong: invalid TTL', 255),
    ("vx1 type vxlan id 7 dstport 4789 bogus", 'vxlan: unknown command "bogus"?', 1),
    ("vx1 type vxlan id 7 dstport 4789 remote 224.1.1.1",
     'Error: argument "224.1.1.1" is wrong: invalid remote address', 255),
    ("vx1 type vxlan id 7 dstport 4789 remote x", 'Error: any valid address is expected rather than "x".', 1),
    ("vx1 type vxlan id 7 dstport 4789 local x", 'Error: any valid address is expected rather than "x".', 1),
    ("vx1 type vxlan id 7 dstport 4789 local 224.0.0.1",
     'Error: argument "224.0.0.1" is wrong: invalid local address', 255),
    ("vx1 type vxlan id 7 dstport 4789 local any", 'Error: argument "any" is wrong: invalid local address', 255),
    ("vx1 type vxlan id 1 dstport 4789 remote any", 'Error: argument "any" is wrong: invalid remote address', 255),
    ("vx3 type vxlan id 9 dstport 4789 nolearning nolearning",
     'Error: either "nolearning" is duplicate, or "nolearning" is a garbage.', 255),
    ("vx4 type vxlan id 8 dstport 4789 nolearning learning",
     'Error: either "learning" is duplicate, or "learning" is a garbage.', 255),
])
def test_iproute2_refusals(words: str, message: str, code: int) -> None:
    with pytest.raises(IpError) as e:
        compile_ip(["link", "add", *words.split()])
    assert str(e.value).strip() == message and e.value.exit_code == code


@pytest.mark.parametrize("words, message, code", [
    ("vx1 type vxlan id 5 dev nosuch dstport 4789", 'Cannot find device "nosuch"', 255),
    ("vx5 type vxlan id 7 dstport 4789 srcport 10 5", "Error: Invalid source port range.", 2),
    ("vxa type vxlan", "Error: Required attributes not provided to perform the operation.", 2),
    ("vx2 type vxlan id 7 dstport 4789", "Error: A VXLAN device with the specified VNI already exists.", 2),
    ("vx2 type vxlan id 7 dstport 4789 dev eth0", "Error: A VXLAN device with the specified VNI already exists.", 2),
    ("vx1 type vxlan id 8 dstport 4789", "RTNETLINK answers: File exists", 2),
])
def test_kernel_refusals(words: str, message: str, code: int) -> None:
    w = world_of(LAN + "ip -n h1 link add vx1 type vxlan id 7 dstport 4789\n")
    with pytest.raises(IpError) as e:
        ip(w, ["-n", "h1", "link", "add", *words.split()])
    assert str(e.value).strip() == message and e.value.exit_code == code
    # a different port is another socket: the same VNI is fine there
    ip(w, ["-n", "h1", "link", "add", "vx9", "type", "vxlan", "id", "7", "dstport", "4790"])


def test_unmodelled_vxlan_options_are_script_errors() -> None:
    for words in ("id 1 group 239.1.1.1 dev eth0", "id 1 external", "id 1 gbp", "id 1 proxy", "id 1 ageing 10"):
        with pytest.raises(Unsupported):
            compile_ip(["link", "add", "vx", "type", "vxlan", *words.split()])


def test_deleting_the_lower_device_deletes_the_vxlan_device_and_frees_its_port() -> None:
    w = world_of(LAN + "ip -n h1 link add vx type vxlan id 11 dev eth0 dstport 4789\nip -n h1 link set vx up\n")
    h1 = w["h1"]
    with pytest.raises(KernelError):
        h1.sockets.listen("udp", 4789)
    ip(w, ["-n", "h1", "link", "set", "eth0", "down"])
    assert "UP,LOWER_UP" in ip(w, ["-n", "h1", "link", "show", "vx"])  # the lower device's state does not matter
    ip(w, ["-n", "h1", "link", "del", "eth0"])
    assert "vx" not in h1.devices
    h1.sockets.listen("udp", 4789)


def test_the_udp_port_is_shared_by_vxlan_devices_and_refused_to_others() -> None:
    w = world_of(LAN + "ip -n h1 link add vx0 type vxlan id 1 dstport 4789\n"
                       "ip -n h1 link add vx1 type vxlan id 2 dstport 4789\n")
    h1 = w["h1"]
    nc = h1.sockets.listen("udp", 4789)
    with pytest.raises(IpError) as e:
        ip(w, ["-n", "h1", "link", "set", "vx0", "up"])
    assert str(e.value) == "RTNETLINK answers: Address already in use" and e.value.exit_code == 2
    assert not h1.devices["vx0"].admin_up
    nc.open = False
    h1.sockets.listeners.remove(nc)
    ip(w, ["-n", "h1", "link", "set", "vx0", "up"])
    ip(w, ["-n", "h1", "link", "set", "vx1", "up"])
    ip(w, ["-n", "h1", "link", "set", "vx0", "down"])
    with pytest.raises(KernelError):
        h1.sockets.listen("udp", 4789)  # vx1 still holds it
    ip(w, ["-n", "h1", "link", "set", "vx1", "down"])
    h1.sockets.listen("udp", 4789)


# -- the VXLAN FDB --------------------------------------------------------------------------
def test_fdb_commands_and_dump_as_the_kernel_prints_them() -> None:
    """The transcript of the same commands on Linux 6.18: newest entry first, remotes in append order."""
    w = world_of(LAN + "ip -n h1 link add vx4 type vxlan id 10 dstport 4789 remote 10.0.0.2 ttl 1 nolearning\n")

    def fdb(*words: str) -> str:
        return bridge(w, ["fdb", *words], netns="h1")

    fdb("add", "02:00:00:00:00:01", "dev", "vx4", "dst", "10.0.0.2")
    with pytest.raises(IpError) as e:
        fdb("add", "02:00:00:00:00:01", "dev", "vx4", "dst", "10.0.0.3")
    assert (str(e.value), e.value.exit_code) == ("RTNETLINK answers: File exists", 255)
    fdb("append", "02:00:00:00:00:01", "dev", "vx4", "dst", "10.0.0.3")  # a unicast entry keeps one remote
    with pytest.raises(IpError) as e:
        fdb("add", "02:00:00:00:00:02", "dev", "vx4")
    assert (str(e.value), e.value.exit_code) == ("RTNETLINK answers: Invalid argument", 255)
    fdb("append", "00:00:00:00:00:00", "dev", "vx4", "dst", "10.0.0.9")
    for mac in ("02:00:00:00:00:05", "02:00:00:00:00:06", "02:00:00:00:00:07", "04:00:00:00:00:07",
                "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"):
        fdb("add", mac, "dev", "vx4", "dst", "10.0.0.5")
    assert fdb("show", "dev", "vx4") == (
        "01:00:5e:00:00:01 dst 10.0.0.5 self permanent\n"
        "ff:ff:ff:ff:ff:ff dst 10.0.0.5 self permanent\n"
        "04:00:00:00:00:07 dst 10.0.0.5 self permanent\n"
        "02:00:00:00:00:07 dst 10.0.0.5 self permanent\n"
        "02:00:00:00:00:06 dst 10.0.0.5 self permanent\n"
        "02:00:00:00:00:05 dst 10.0.0.5 self permanent\n"
        "02:00:00:00:00:01 dst 10.0.0.2 self permanent\n"
        "00:00:00:00:00:00 dst 10.0.0.2 self permanent\n"
        "00:00:00:00:00:00 dst 10.0.0.9 self permanent\n")
    fdb("del", "02:00:00:00:00:01", "dev", "vx4", "dst", "10.0.0.3")  # a remote it lacks: no error
    with pytest.raises(IpError) as e:
        fdb("del", "02:00:00:00:00:09", "dev", "vx4")
    assert (str(e.value), e.value.exit_code) == ("RTNETLINK answers: No such file or directory", 255)
    fdb("del", "02:00:00:00:00:01", "dev", "vx4")
    fdb("replace", "02:00:00:00:00:05", "dev", "vx4", "dst", "10.0.0.6")
    shown = fdb("show")
    assert "02:00:00:00:00:01" not in shown
    assert "02:00:00:00:00:05 dev vx4 dst 10.0.0.6 self permanent\n" in shown
    assert shown.endswith("00:00:00:00:00:00 dev vx4 dst 10.0.0.2 self permanent\n"
                          "00:00:00:00:00:00 dev vx4 dst 10.0.0.9 self permanent\n")


@pytest.mark.parametrize("words, message, code", [
    ("add 02:00:00:00:00:01 dev nosuch dst 10.0.0.2", 'Cannot find device "nosuch"', 255),
    ("add 02:00:00:00:00:04 dev vx4 dst x", 'Error: any valid address is expected rather than "x".', 1),
    ("add zz dev vx4 dst 10.0.0.5", "Invalid mac address zz", 255),
    ("add dev vx4 dst 10.0.0.5", "Device and address are required arguments.", 255),
])
def test_fdb_refusals(words: str, message: str, code: int) -> None:
    w = world_of(LAN + "ip -n h1 link add vx4 type vxlan id 10 dstport 4789\n")
    with pytest.raises(IpError) as e:
        bridge(w, ["fdb", *words.split()], netns="h1")
    assert str(e.value) == message and e.value.exit_code == code


def test_remote_makes_the_default_entry_and_no_remote_none() -> None:
    w = world_of(LAN + "ip -n h1 link add a type vxlan id 1 dstport 4789 remote 192.168.1.2\n"
                       "ip -n h1 link add b type vxlan id 2 dstport 4789\n")
    assert bridge(w, ["fdb", "show", "dev", "a"], netns="h1") == "00:00:00:00:00:00 dst 192.168.1.2 self permanent\n"
    assert bridge(w, ["fdb", "show", "dev", "b"], netns="h1") == ""


def test_snoop_learns_moves_learned_entries_and_never_static_ones() -> None:
    fdb = VxlanFdb()
    mac = MacAddress("02:00:00:00:00:01")
    a, b = IPv4Address("192.168.1.1"), IPv4Address("192.168.1.9")
    assert fdb.snoop(mac, a, 0.0) is None
    assert [(e.mac, e.remotes, e.static) for e in fdb.entries()] == [(mac, [a], False)]
    assert fdb.snoop(mac, b, 1.0) is None and fdb.entries()[0].remotes == [b]
    assert fdb.lookup(mac, 300.0, 300) is not None and fdb.lookup(mac, 302.0, 300) is None  # aged out
    fdb.add(mac, a, how="add", now=0.0)
    assert fdb.snoop(mac, b, 1.0) is not None and fdb.entries()[0].remotes == [a]


# -- the packet path --------------------------------------------------------------------------
def test_l3_over_vxlan_encapsulates_in_udp_and_learns_the_peer() -> None:
    w = world_of(L3)
    result = ping(w, "h1", "10.0.0.2")
    assert result.outcome == "reply" and result.received is not None and result.received.ns == "h2"
    outer = [s.packet for s in steps(result, Encapsulated) if s.netns == "h1"]
    assert outer and all(p.ip.src == IPv4Address("192.168.1.1") and p.ip.dst == IPv4Address("192.168.1.2")
                         and p.l4 == Udp(sport=4789, dport=4789) and p.vxlan.vni == 7 and p.ip.ttl == 64
                         for p in outer)
    back = [s.packet for s in steps(result, Encapsulated) if s.netns == "h2"]
    assert back and all(p.l4 == Udp(sport=4790, dport=4789) and p.ip.ttl == 9 for p in back)
    assert all(s.dev == "vxlan0" for s in steps(result, Decapsulated))
    assert bridge(w, ["fdb", "show", "dev", "vxlan0"], netns="h2") == (
        "02:00:00:00:01:01 dst 192.168.1.1 self \n00:00:00:00:00:00 dst 192.168.1.1 self permanent\n")


def test_nolearning_learns_nothing_and_floods_to_the_default_entry() -> None:
    w = world_of(L3.replace("srcport 4790 4791 ttl 9", "srcport 4790 4791 nolearning"))
    assert ping(w, "h1", "10.0.0.2").outcome == "reply"
    assert bridge(w, ["fdb", "show", "dev", "vxlan0"], netns="h2") == \
        "00:00:00:00:00:00 dst 192.168.1.1 self permanent\n"


def test_no_fdb_entry_and_no_default_entry_drops_the_frame() -> None:
    w = world_of(L3.replace(" remote 192.168.1.2", ""))
    result = ping(w, "h1", "10.0.0.2", timeout=4.0)
    assert result.outcome == "unreachable"  # ARP for 10.0.0.2 never left
    assert any("no VXLAN FDB entry" in s.reason for s in steps(result, Dropped))


def test_a_static_entry_for_another_vtep_drops_the_frames_it_would_have_moved() -> None:
    w = world_of(L3)
    bridge(w, ["fdb", "add", "02:00:00:00:01:01", "dev", "vxlan0", "dst", "192.168.1.3"], netns="h2")
    result = ping(w, "h1", "10.0.0.2")
    assert result.outcome == "timeout"
    assert any("static entries never migrate" in s.reason for s in steps(result, Dropped))


def test_a_down_vxlan_device_leaves_a_closed_udp_port() -> None:
    w = world_of(L3 + "ip -n h2 link set vxlan0 down\n")
    assert udp_send(w, "h1", "192.168.1.2", 4789).outcome == "unreachable"
    ip(w, ["-n", "h2", "link", "set", "vxlan0", "up"])
    result = udp_send(w, "h1", "192.168.1.2", 4789)
    assert result.outcome == "lost" and result.received is None  # no VXLAN header: dropped by vxlan_rcv, no ICMP
    assert any("no VXLAN datagram" in s.reason for s in steps(result, Dropped))


def test_another_vni_finds_no_device() -> None:
    w = world_of(L3.replace("vxlan0 address 02:00:00:00:02:02 type vxlan id 7", "vxlan0 address 02:00:00:00:02:02 "
                                                                                  "type vxlan id 8"))
    result = ping(w, "h1", "10.0.0.2")
    assert result.outcome == "timeout"
    assert any("no VXLAN device with VNI 7" in s.reason for s in steps(result, Dropped))


def test_input_drop_on_the_remote_host_kills_the_overlay_and_4789_mends_it() -> None:
    w = world_of(L3 + "ip netns exec h2 iptables -P INPUT DROP\n")
    result = ping(w, "h1", "10.0.0.2")
    assert result.outcome == "timeout" and not steps(result, Decapsulated)
    w.run(until=w.now + 5)  # h1's ARP for 10.0.0.2 fails meanwhile
    run_script("ip netns exec h2 iptables -A INPUT -p udp --dport 4789 -j ACCEPT\n", world=w)
    # the overlay works now, but the inner echo request is for h2's own vxlan0 address: INPUT again
    result = ping(w, "h1", "10.0.0.2", timeout=3.0)
    assert result.outcome == "timeout" and steps(result, Decapsulated)
    assert any(s.netns == "h2" and s.chain == "INPUT" and s.index == 0 for t in result.traces for s in t.rule_hits())
    run_script("ip netns exec h2 iptables -A INPUT -i vxlan0 -j ACCEPT\n", world=w)
    assert ping(w, "h1", "10.0.0.2").outcome == "reply"


def test_the_nat_table_sees_the_outer_datagram() -> None:
    w = world_of(L3 + "ip -n h1 addr add 192.168.1.11/24 dev eth0\n"
                      "ip netns exec h1 iptables -t nat -A POSTROUTING -p udp --dport 4789 "
                      "-j SNAT --to-source 192.168.1.11\n")
    assert tcp_connect(w, "h1", "10.0.0.2", 22).outcome == "refused"
    assert "02:00:00:00:01:01 dst 192.168.1.11 self \n" in bridge(w, ["fdb", "show", "dev", "vxlan0"], netns="h2")
    entries = w["h1"].conntrack.listing()
    assert any("sport=4789 dport=4789" in e and "dst=192.168.1.11" in e for e in entries)


def test_a_route_through_the_vxlan_device_itself_is_a_loop() -> None:
    w = world_of(L3.replace("remote 192.168.1.2", "remote 10.0.0.9"))
    result = ping(w, "h1", "10.0.0.2")
    assert result.outcome != "reply"
    assert any("circular route" in s.reason for s in steps(result, Dropped))


def test_the_disposition_of_an_overlay_ping_is_delivered() -> None:
    w = world_of(L3)
    result = ping(w, "h1", "10.0.0.2")
    assert result.traces[0].disposition is Disposition.DELIVERED


# -- properties ------------------------------------------------------------------------------
@settings(max_examples=60)
@given(low=st.integers(1, 65534), width=st.integers(1, 2000), host=st.integers(2, 254), port=st.integers(1, 65535))
def test_the_outer_source_port_stays_in_a_pinned_range(low: int, width: int, host: int, port: int) -> None:
    from simnet.packet import Ethernet, IPv4, Packet

    high = min(low + width, 65535)
    w = World()
    ns = w.add_netns("n")
    frame = Packet(eth=Ethernet(src=MacAddress(2), dst=MacAddress(4)),
                   ip=IPv4(src=IPv4Address("10.0.0.1"), dst=IPv4Address(f"10.0.0.{host}"), proto=17),
                   l4=Udp(sport=port, dport=53))
    sport = src_port(ns, VxlanConfig(vni=1, port_min=low, port_max=high), frame)
    assert low <= sport < high
    if high == low + 1:
        assert sport == low
    # no range (or 'srcport A A'): net.ipv4.ip_local_port_range
    assert 32768 <= src_port(ns, VxlanConfig(vni=1, port_min=low, port_max=low), frame) <= 60999


@settings(max_examples=15)
@given(placement=st.lists(st.booleans(), min_size=2, max_size=5), learning=st.booleans())
def test_overlay_reachability_equals_one_bridge_when_netfilter_is_empty(placement: list[bool],
                                                                        learning: bool) -> None:
    """Containers spread over two hosts joined by VXLAN reach each other exactly as on one bridge."""
    def build(overlay: bool) -> World:
        lines = [LAN]
        for h in ("h1", "h2"):
            lines.append(f"ip -n {h} link add br0 type bridge\nip -n {h} link set br0 up\n")
        if overlay:
            opts = "" if learning else " nolearning"
            lines.append(f"ip -n h1 link add vxlan0 type vxlan id 42 remote 192.168.1.2 dstport 4789{opts}\n"
                         f"ip -n h2 link add vxlan0 type vxlan id 42 remote 192.168.1.1 dstport 4789{opts}\n")
            for h in ("h1", "h2"):
                lines.append(f"ip -n {h} link set vxlan0 master br0\nip -n {h} link set vxlan0 up\n")
        for i, second in enumerate(placement):
            host = "h2" if overlay and second else "h1"
            lines.append(f"ip netns add c{i}\nip -n {host} link add v{i} type veth peer name eth0 netns c{i}\n"
                         f"ip -n {host} link set v{i} master br0\nip -n {host} link set v{i} up\n"
                         f"ip -n c{i} addr add 10.0.0.{i + 2}/24 dev eth0\nip -n c{i} link set eth0 up\n")
        return world_of("".join(lines))

    plain, over = build(False), build(True)
    n = len(placement)
    for a in range(n):
        for b in range(n):
            if a != b:
                dst = f"10.0.0.{b + 2}"
                assert ping(over, f"c{a}", dst).outcome == ping(plain, f"c{a}", dst).outcome
