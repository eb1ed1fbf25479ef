"""Each capture parser on real tool output recorded by tools/record_capture_samples.py (Linux 6.18,
iproute2 6.1, iptables 1.8.9 nf_tables)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from simnet.capture.iproute import (parse_addrs, parse_fdb, parse_ipv6, parse_links, parse_neigh, parse_nsids,
                                    parse_ipv6_routes, parse_vlans,
                                    parse_routes, parse_rules)
from simnet.capture.model import Fdb, Listener, Neigh
from simnet.capture.netfilter import parse_docker_pids, parse_ipset_save, parse_iptables_save, parse_ss
from simnet.capture.sysctl import keys_for, parse_sysctl
from tests.unit.capture.replay import DATA


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_links_keep_veth_peers_bridge_ports_hairpin_and_vxlan() -> None:
    links = {l.name: l for l in parse_links(read("root.link.txt"))}
    assert [l.ifindex for l in links.values()] == sorted(l.ifindex for l in links.values())
    assert links["lo"].kind == "loopback" and links["lo"].mtu == 65536
    va, vb = links["va"], links["vb"]
    assert (va.kind, va.master, va.hairpin, va.peer_index, va.peer_nsid) == ("veth", "br0", True, 2, 0)
    assert (vb.hairpin, vb.peer_nsid, vb.mac) == (False, 1, "02:00:00:00:00:0b")
    assert dict(links["up0"].options)["link"] == "up1" and links["up0"].peer_nsid is None  # same namespace
    vx = links["vx0"].vxlan
    assert vx is not None and (vx.vni, vx.remote, vx.local, vx.dev, vx.dstport, vx.learning, vx.ttl) == (
        42, IPv4Address("192.0.2.9"), IPv4Address("10.1.0.1"), "up0", 4789, False, 0)
    assert links["tap0"].kind == "tun" and links["mv0"].kind == "macvlan"
    assert links["br0"].up and not links["tap0"].up
    a = {l.name: l for l in parse_links(read("a.link.txt"))}
    assert (a["eth0"].peer_index, a["eth0"].peer_nsid) == (va.ifindex, 0)


def test_addresses_in_kernel_order_with_broadcast_and_secondary() -> None:
    addrs = parse_addrs(read("root.addr.txt"))
    up0 = [a for a in addrs if a.dev == "up0"]
    assert [(a.interface, a.broadcast, a.secondary) for a in up0] == [
        (IPv4Interface("10.1.0.1/24"), IPv4Address("10.1.0.255"), False),
        (IPv4Interface("10.1.0.7/24"), None, True)]
    assert parse_ipv6(read("root.addr.txt")) == ("up0 2001:db8::1/64",)


def test_routes_of_every_table() -> None:
    routes = parse_routes(read("root.route.txt"))
    by = {(r.table, r.dst): r for r in routes}
    assert by[("100", IPv4Network("10.5.0.0/16"))].via == IPv4Address("10.1.0.254")
    assert by[("main", IPv4Network("10.6.0.0/16"))].type == "blackhole"
    r = by[("main", IPv4Network("10.7.0.0/16"))]
    assert (r.protocol, r.metric, r.dev) == ("static", 50, "up0")
    assert by[("main", IPv4Network("0.0.0.0/0"))].protocol == "boot"
    assert by[("local", IPv4Network("10.1.0.255/32"))].type == "broadcast"
    assert all(r.unmodelled is None for r in routes)


def test_rules_with_fwmark_and_selectors() -> None:
    rules = parse_rules(read("root.rule.txt"))
    assert [r.priority for r in rules] == [0, 1000, 1001, 32766, 32767]
    assert [r.is_default for r in rules] == [True, False, False, True, True]
    assert (rules[1].fwmark, rules[1].fwmask, rules[1].table) == (4, 0xF, "100")
    assert (rules[2].src, rules[2].iif, rules[2].table) == (IPv4Network("172.17.0.0/16"), "br0", "main")


def test_neighbours_and_fdb() -> None:
    assert parse_neigh(read("root.neigh.txt")) == (
        Neigh(dst=IPv4Address("10.1.0.254"), dev="up0", lladdr="02:00:00:00:00:fe", state="PERMANENT"),
        Neigh(dst=IPv4Address("10.1.0.253"), dev="up0", lladdr="02:00:00:00:00:fd", state="REACHABLE"))
    # learned entries and the kernel's own (multicast, ports' own addresses) are left out
    assert parse_fdb(read("root.fdb.txt")) == (
        Fdb(mac="02:00:00:00:09:09", dev="vb", master=True, state="static"),
        Fdb(mac="00:00:00:00:00:00", dev="vx0", dst=IPv4Address("192.0.2.9")),
        Fdb(mac="00:00:00:00:00:00", dev="vx0", dst=IPv4Address("192.0.2.10")))


def test_nsids_name_only_named_namespaces() -> None:
    assert parse_nsids(read("root.nsid.txt")) == ((0, "a"), (1, "b"))
    assert parse_nsids(read("a.nsid.txt")) == ()  # the root namespace has no name


def test_sysctl_output_and_the_keys_asked() -> None:
    values = dict(parse_sysctl(read("root.sysctl.txt")))
    assert values["net.ipv4.conf.br0.rp_filter"] == "2" and "net.ipv4.no_such_key" not in values
    keys = keys_for(["lo", "br0", "eth0.5"])
    assert "net.ipv4.conf.eth0/5.rp_filter" in keys and "net.ipv4.ip_forward" in keys


def test_iptables_save_becomes_restore_input_and_unknown_matches_are_commented_out() -> None:
    r = parse_iptables_save(read("root.iptables.txt"))
    assert "# Generated" not in r.text and r.text.startswith("*filter\n:INPUT DROP [0:0]\n")
    assert "-A INPUT -m set --match-set allow src -j ACCEPT" in r.text
    assert '-m comment --comment "icc between containers"' in r.text
    assert len(r.left_out) == 1 and "u32" in r.left_out[0]
    assert '# simnet capture: not modelled (Couldn\'t load match `u32\'' in r.text
    counted = parse_iptables_save("*filter\n:INPUT ACCEPT [5:300]\n[2:120] -A INPUT -j ACCEPT\nCOMMIT\n",
                                  counters=True)
    assert counted.text == "*filter\n:INPUT ACCEPT [5:300]\n[2:120] -A INPUT -j ACCEPT\nCOMMIT\n"
    plain = parse_iptables_save("*filter\n:INPUT ACCEPT [5:300]\n[2:120] -A INPUT -j ACCEPT\nCOMMIT\n")
    assert plain.text == "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"


def test_ipset_save_loses_its_random_initval() -> None:
    assert parse_ipset_save(read("root.ipset.txt")) == (
        "create allow hash:ip family inet hashsize 1024 maxelem 65536\nadd allow 10.9.9.9\n")


def test_ss_listeners() -> None:
    assert parse_ss(read("a.ss.txt")) == (Listener(proto="tcp", addr=None, port=80),
                                          Listener(proto="udp", addr=IPv4Address("172.17.0.2"), port=5353))
    assert parse_ss("tcp LISTEN 0 4096 [::]:22 [::]:*\ntcp LISTEN 0 5 *:8080 *:*\n") == (
        Listener(proto="tcp", addr=None, port=8080),)


def test_docker_inspect_pids() -> None:
    text = "/web 4242\n/db 4300\n/stopped 0\n"
    assert parse_docker_pids(text) == (("db", 4300), ("web", 4242))


def test_bridge_vlans() -> None:
    # the shape of iproute2 6.1's `bridge -j vlan` (this machine's kernel has no VLAN filtering to record)
    text = ('[{"ifname":"br0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]}]},'
            '{"ifname":"veth1","vlans":[{"vlan":10,"vlanEnd":20},{"vlan":1,"flags":["PVID","Egress Untagged"]}]}]')
    assert parse_vlans(text) == ("br0 vid 1 pvid untagged", "veth1 vid 10-20", "veth1 vid 1 pvid untagged")


def test_ipv6_routes_someone_made() -> None:
    assert parse_ipv6_routes(read("root.route6.txt")) == ("2001:db8:5::/48 via 2001:db8::2 dev v0",)
