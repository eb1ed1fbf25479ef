#!/usr/bin/env python3
"""Record what the capture's tools print, from a world built in throwaway namespaces.

Run as root:  python3 tools/record_capture_samples.py [-o tests/data/capture]

Re-executes itself under ``unshare --mount --net`` (a private /run/netns on a tmpfs, a network
namespace that dies with the process), builds one host with a bridge, veths into two named
namespaces (one with hairpin), a VXLAN device with a remote FDB entry, a tap (tun) and a macvlan
device (not modelled), addresses with broadcast and a secondary, routes in a second table, a
fwmark rule, neighbours, sysctls, iptables rules (one with a match simnet lacks), an ipset, an
IPv6 address and listeners; then writes each tool's output, per namespace, into the output
directory as ``NS.TOOL.txt``.  Nothing is written outside the private namespaces.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests/data/capture"

WORLD = """\
ip link set lo up
ip netns add a
ip netns add b
ip link add br0 address 02:00:00:00:00:01 type bridge
ip link add va address 02:00:00:00:00:0a type veth peer name eth0 address 02:00:00:00:01:0a netns a
ip link set va master br0
ip link set va type bridge_slave hairpin on
ip link add vb address 02:00:00:00:00:0b type veth peer name eth0 address 02:00:00:00:01:0b netns b
ip link set vb master br0
ip link add up0 address 02:00:00:00:00:10 type veth peer name up1 address 02:00:00:00:00:11
ip link add vx0 address 02:00:00:00:00:42 type vxlan id 42 remote 192.0.2.9 local 10.1.0.1 \\
  dstport 4789 dev up0 nolearning
ip tuntap add tap0 mode tap
ip link add mv0 link up1 address 02:00:00:00:00:12 type macvlan mode bridge
ip link set br0 up
ip link set va up
ip link set vb up
ip link set up0 up
ip link set up1 up
ip link set vx0 up
ip addr add 10.1.0.1/24 brd 10.1.0.255 dev up0
ip addr add 10.1.0.7/24 dev up0
ip addr add 172.17.0.1/16 brd 172.17.255.255 dev br0
ip addr add 2001:db8::1/64 dev up0 nodad
ip -6 route add 2001:db8:5::/48 via 2001:db8::2 dev up0
ip -n a addr add 172.17.0.2/16 dev eth0
ip -n a link set eth0 up
ip -n a link set lo up
ip -n b addr add 172.17.0.3/16 dev eth0
ip -n b link set eth0 up
ip -n a route add default via 172.17.0.1
ip route add 10.5.0.0/16 via 10.1.0.254 table 100
ip route add blackhole 10.6.0.0/16
ip route add 10.7.0.0/16 via 10.1.0.254 dev up0 proto static metric 50
ip route add default via 10.1.0.254
ip rule add fwmark 0x4/0xf lookup 100 pref 1000
ip rule add from 172.17.0.0/16 iif br0 lookup main pref 1001
ip neigh add 10.1.0.254 lladdr 02:00:00:00:00:fe dev up0 nud permanent
ip neigh add 10.1.0.253 lladdr 02:00:00:00:00:fd dev up0 nud reachable
bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.10
bridge fdb add 02:00:00:00:09:09 dev vb master static
sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.br0.rp_filter=2 net.ipv4.conf.up0.proxy_arp=1
ip netns exec a sysctl -q -w net.ipv4.conf.all.route_localnet=1
ipset create allow hash:ip
ipset add allow 10.9.9.9
iptables -t nat -N DOCKER
iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o br0 -j MASQUERADE
iptables -t nat -A DOCKER -i up0 -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
iptables -A FORWARD -i br0 -o br0 -m comment --comment "icc between containers" -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -m limit --limit 3/min -j ACCEPT
iptables -A INPUT -m set --match-set allow src -j ACCEPT
iptables -A INPUT -p udp -m u32 --u32 "0x0>>0x16&0x3c@0x8=0x1" -j DROP
iptables -P INPUT DROP
ip netns exec a iptables -A INPUT -p icmp -j DROP
"""

TOOLS = {
    "link": ["ip", "-d", "-j", "link"],
    "addr": ["ip", "-j", "addr"],
    "route": ["ip", "-4", "-j", "route", "show", "table", "all"],
    "route6": ["ip", "-6", "-j", "route", "show", "table", "all"],
    "rule": ["ip", "-4", "-j", "rule"],
    "neigh": ["ip", "-4", "-j", "neigh"],
    "fdb": ["bridge", "-j", "fdb"],
    "nsid": ["ip", "-j", "netns", "list-id"],
    "iptables": ["iptables-save"],
    "iptables-c": ["iptables-save", "-c"],
    "ipset": ["ipset", "save"],
    "ss": ["ss", "-H", "-ltnu"],
}


def _inside(out: Path) -> int:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "rec", "/run/netns"], check=True)
    for line in WORLD.replace("\\\n", " ").splitlines():
        subprocess.run(line, shell=True, check=True)
    jobs = [subprocess.Popen(["ip", "netns", "exec", "a", "nc", "-l", "-k", "-p", "80"]),
            subprocess.Popen(["ip", "netns", "exec", "a", "nc", "-u", "-l", "-s", "172.17.0.2", "-p", "5353"])]
    time.sleep(0.5)
    from_keys = ["net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.br0.rp_filter",
                 "net.ipv4.conf.up0.proxy_arp", "net.bridge.bridge-nf-call-iptables", "net.ipv4.no_such_key"]
    try:
        out.mkdir(parents=True, exist_ok=True)
        for ns in ("root", "a", "b"):
            prefix = [] if ns == "root" else ["ip", "netns", "exec", ns]
            for name, argv in TOOLS.items():
                p = subprocess.run(prefix + argv, capture_output=True, text=True)
                (out / f"{ns}.{name}.txt").write_text(p.stdout)
        p = subprocess.run(["sysctl", "-e", *from_keys], capture_output=True, text=True)
        (out / "root.sysctl.txt").write_text(p.stdout)
    finally:
        for j in jobs:
            j.terminate()
            j.wait()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=OUT)
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inside:
        return _inside(args.output)
    if os.geteuid() != 0:
        print("needs root (it creates network namespaces)", file=sys.stderr)
        return 2
    return subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "--", sys.executable,
                           __file__, "--inside", "-o", str(args.output)]).returncode


if __name__ == "__main__":
    sys.exit(main())
