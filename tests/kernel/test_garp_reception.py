"""Unsolicited and gratuitous ARP as the kernel's neighbour code receives them (issue 19.7).

Raw ARP frames (what Docker 28+'s ``advertiseAddrs`` sends, and a few neighbours of it) go from
namespace B to namespace A over a veth pair; after each, A's ``ip neigh`` is compared with
simnet's for the same frames: an existing entry takes a gratuitous ARP's MAC even within
locktime, a plain request within locktime does not; no entry is created unless ``arp_accept``
says so (1: any, 2: a sender in the device's subnet).
"""

from __future__ import annotations

import subprocess
import textwrap
from ipaddress import IPv4Address, IPv4Interface

import pytest

from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

# (label, sysctl arp_accept or None, B's MAC, op, sender, target, ping first)
CASES = [
    ("garp, no entry, arp_accept=0", None, "02:00:00:00:00:02", "request", "10.9.0.2", "10.9.0.2", False),
    ("garp request, entry with old MAC", None, "02:00:00:00:00:22", "request", "10.9.0.2", "10.9.0.2", True),
    ("garp reply within locktime", None, "02:00:00:00:00:33", "reply", "10.9.0.2", "10.9.0.2", False),
    ("plain request within locktime", None, "02:00:00:00:00:44", "request", "10.9.0.2", "10.9.0.77", False),
    ("garp, arp_accept=1", 1, "02:00:00:00:00:44", "request", "10.9.0.5", "10.9.0.5", False),
    ("garp out of subnet, arp_accept=2", 2, "02:00:00:00:00:44", "request", "10.8.0.5", "10.8.0.5", False),
    ("garp in subnet, arp_accept=2", 2, "02:00:00:00:00:44", "request", "10.9.0.6", "10.9.0.6", False),
    ("plain request, arp_accept=0", 0, "02:00:00:00:00:44", "request", "10.9.0.7", "10.9.0.99", False),
    ("garp reply, arp_accept=1", 1, "02:00:00:00:00:44", "reply", "10.9.0.8", "10.9.0.8", False),
]

SENDER = textwrap.dedent('''
    import socket, sys
    ifname, ip, mac, op, tip = sys.argv[1:6]
    m = bytes.fromhex(mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    a = socket.inet_aton
    arp = bytes([0, 1, 8, 0, 6, 4, 0, 1 if op == "request" else 2]) + m + a(ip)
    arp += (m if op == "reply" else bytes(6)) + a(tip)
    s.send(b"\\xff" * 6 + m + b"\\x08\\x06" + arp)
''')


def _kernel(tmp_path) -> list[set[str]]:
    (tmp_path / "send.py").write_text(SENDER)
    lines = ["set -e", "unshare -n sleep 30 & P=$!", "sleep 0.3",
             "ip link add va type veth peer name vb", "ip link set vb netns $P",
             "ip addr add 10.9.0.1/24 dev va; ip link set va up; ip link set lo up",
             "nsenter -t $P -n sh -c 'ip addr add 10.9.0.2/24 dev vb; ip link set vb up'", "sleep 0.3"]
    for label, accept, mac, op, sip, tip, ping in CASES:
        lines.append(f"echo '== {label}'")
        if accept is not None:
            lines.append(f"sysctl -qw net.ipv4.conf.va.arp_accept={accept}")
        if ping:
            lines.append("ping -c1 -W1 10.9.0.2 >/dev/null")
        lines.append(f"nsenter -t $P -n ip link set vb address {mac}")
        lines.append(f"nsenter -t $P -n python3 {tmp_path / 'send.py'} vb {sip} {mac} {op} {tip}")
        lines.append("sleep 0.1; ip neigh show dev va")
    lines.append("kill $P")
    script = tmp_path / "garp.sh"
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["unshare", "-n", "sh", str(script)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    tables: list[set[str]] = []
    for block in out.split("== ")[1:]:
        tables.append({" ".join(ln.split()[:4]) for ln in block.splitlines()[1:] if ln.strip()})
    return tables


def _simnet() -> list[set[str]]:
    from simnet.addresses import MacAddress
    from simnet.datapath import dev_xmit
    from simnet.packet import Arp, ArpOp, Ethernet, EtherType, Packet
    from simnet.probe import ping
    from simnet.world import World

    w = World(seed=1)
    a, b = w.add_netns("a"), w.add_netns("b")
    a.set_up("lo", True)
    a.link_add("va", "veth", peer="vb", peer_netns=b)
    a.addr_add("va", IPv4Interface("10.9.0.1/24"))
    b.addr_add("vb", IPv4Interface("10.9.0.2/24"))
    a.set_up("va", True)
    b.set_up("vb", True)
    tables = []
    for _label, accept, mac, op, sip, tip, do_ping in CASES:
        if accept is not None:
            a.sysctls.set("net.ipv4.conf.va.arp_accept", accept)
        if do_ping:
            ping(w, "a", "10.9.0.2", count=1)
        b.set_address("vb", MacAddress(mac))
        m = MacAddress(mac)
        frame = Packet(eth=Ethernet(src=m, dst=MacAddress.BROADCAST, ethertype=EtherType.ARP),
                       arp=Arp(op=ArpOp.REQUEST if op == "request" else ArpOp.REPLY, sha=m, spa=IPv4Address(sip),
                               tha=m if op == "reply" else MacAddress(0), tpa=IPv4Address(tip)))
        dev_xmit(b, b.dev("vb"), frame, w.tracer.new(frame, "b"))
        w.run(until=w.now + 0.1)
        tables.append({f"{e.address} lladdr {e.lladdr} {e.state}" for e in a.neigh.entries()
                       if e.dev == "va" and e.lladdr is not None})
    return tables


def test_gratuitous_arp_reception_agrees_with_the_kernel(tmp_path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    kernel, sim = _kernel(tmp_path), _simnet()
    assert len(kernel) == len(CASES)
    diffs = [(c[0], sorted(k), sorted(s)) for c, k, s in zip(CASES, kernel, sim) if k != s]
    assert not diffs, diffs
