"""VXLAN on the real kernel: the same scripts through simnet and Linux must agree.

Beyond the catalogue scenario (scenarios/cross-host-vxlan-overlay.sh, run by
test_scenarios_conformance.py) these worlds reach what it does not: addresses
on the VXLAN device itself, ``nolearning``, a closed VXLAN port (the device
down: ICMP port unreachable), a datagram to the port that is no VXLAN, a
static FDB entry that refuses to migrate (frames dropped), and SNAT of the
outer datagrams (the peer learns the translated address).  Every MAC is pinned,
so ``bridge fdb show`` and the ``vxlan`` words of ``ip -d link show`` are
compared as text too.
"""

from __future__ import annotations

import re

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

HOSTS = """\
ip netns add vxh1
ip netns add vxh2
ip -n vxh1 link set lo up
ip -n vxh2 link set lo up
ip -n vxh1 link add eth0 type veth peer name eth0 netns vxh2
ip -n vxh1 addr add 192.168.1.1/24 dev eth0
ip -n vxh2 addr add 192.168.1.2/24 dev eth0
ip -n vxh1 link set eth0 up
ip -n vxh2 link set eth0 up
ip -n vxh1 link add vxlan0 address 02:00:00:00:01:01 type vxlan id 7 dstport 4789 srcport 4789 4790 nolearning
ip -n vxh2 link add vxlan0 address 02:00:00:00:02:02 type vxlan id 7 dstport 4789 srcport 4790 4791 ttl 9
ip netns exec vxh1 bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 192.168.1.2
ip netns exec vxh2 bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 192.168.1.1
ip -n vxh1 addr add 10.0.0.1/24 dev vxlan0
ip -n vxh2 addr add 10.0.0.2/24 dev vxlan0
"""

L3_OVER_VXLAN = HOSTS + """\
ip -n vxh1 link set vxlan0 up
ip -n vxh2 link set vxlan0 up
ip netns exec vxh1 iptables -A OUTPUT -p udp --dport 4789 -j ACCEPT
ip netns exec vxh1 iptables -A INPUT -p icmp -j ACCEPT
ip netns exec vxh2 iptables -A INPUT -p udp --dport 4789 -j ACCEPT
ip netns exec vxh1 ping -c 1 -W 1 10.0.0.2
# expect: reply via filter/OUTPUT#1
ip netns exec vxh2 bridge fdb show dev vxlan0
ip netns exec vxh1 bridge fdb show dev vxlan0
ip -n vxh2 -d link show vxlan0
ip -n vxh2 link set vxlan0 down
ip netns exec vxh1 ping -c 1 -W 1 10.0.0.2
# expect: timeout via filter/INPUT#1
echo hello | ip netns exec vxh1 nc -u -w 1 192.168.1.2 4789
# expect: unreachable
ip -n vxh2 link set vxlan0 up
echo hello | ip netns exec vxh1 nc -u -w 1 192.168.1.2 4789
ip netns exec vxh1 ping -c 1 -W 1 10.0.0.2
# expect: reply
"""

STATIC_ENTRY_AND_SNAT = HOSTS + """\
ip netns exec vxh2 bridge fdb add 02:00:00:00:01:01 dev vxlan0 dst 192.168.1.3
ip -n vxh1 link set vxlan0 up
ip -n vxh2 link set vxlan0 up
ip netns exec vxh2 iptables -A INPUT -p udp --dport 4789 -j ACCEPT
ip netns exec vxh1 ping -c 4 -W 1 10.0.0.2
# expect: unreachable from 10.0.0.1
sleep 3
ip netns exec vxh2 bridge fdb show dev vxlan0
ip -n vxh1 addr add 192.168.1.11/24 dev eth0
ip netns exec vxh1 iptables -t nat -A POSTROUTING -p udp --dport 4789 -j SNAT --to-source 192.168.1.11
ip netns exec vxh2 bridge fdb del 02:00:00:00:01:01 dev vxlan0
ip netns exec vxh1 ping -c 1 -W 1 10.0.0.2
# expect: reply
ip netns exec vxh2 bridge fdb show dev vxlan0
ip netns exec vxh2 bridge fdb replace 02:00:00:00:01:01 dev vxlan0 dst 192.168.1.1
ip netns exec vxh2 bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 192.168.1.9
ip netns exec vxh2 bridge fdb show dev vxlan0
"""

WORLDS = {"l3-over-vxlan": L3_OVER_VXLAN, "static-entry-and-snat": STATIC_ENTRY_AND_SNAT}


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_vxlan_world_agrees_with_the_kernel(name: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    text = WORLDS[name]
    sim = run_script(text, filename=name).to_json()
    kernel = run_on_kernel(text, filename=name)
    differences = compare(sim, kernel)
    assert not differences, "\n".join(differences)
    assert [_output(o) for o in sim["outputs"]] == [_output(o) for o in kernel["outputs"]]
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"] + kernel["probes"])


def _output(o: dict[str, object]) -> tuple[object, str]:
    """What a printing command said; of ``ip -d link show``, the vxlan words (simnet leaves the
    kernel's generic tunables out)."""
    text = str(o["stdout"])
    if " -d link show" in str(o["command"]):
        found = re.search(r"vxlan id .*? noudp6zerocsumrx", text)
        text = found[0] if found else text
    return o["line"], text


SETUP = ["ip link add eth0 type veth peer name eth1", "ip link add vx1 type vxlan id 7 dstport 4789",
         "ip link add vx4 type vxlan id 10 dstport 4789 remote 10.0.0.2"]
REFUSED = [
    "ip link add vx2 type vxlan dstport 4789", "ip link add vx2 type vxlan id 16777216 dstport 4789",
    "ip link add vx2 type vxlan id 5 id 6", "ip link add vx2 type vxlan id 5 dev nosuch dstport 4789",
    "ip link add vx2 type vxlan id 7 dstport 4789 srcport 10 5", "ip link add vx2 type vxlan id 7 dstport 4789",
    "ip link add vx2 type vxlan id 9 dstport 4789 srcport 10", "ip link add vx2 type vxlan id 9 dstport x",
    "ip link add vx2 type vxlan id 9 dstport 4789 ttl 256", "ip link add vx2 type vxlan id 9 dstport 4789 bogus",
    "ip link add vx2 type vxlan id 9 dstport 4789 remote 224.1.1.1",
    "ip link add vx2 type vxlan id 9 dstport 4789 local any", "ip link add vx2 type vxlan",
    "ip link add vx2 type vxlan id 9 dstport 4789 nolearning learning",
    "bridge fdb add 02:00:00:00:00:01 dev nosuch dst 10.0.0.2", "bridge fdb add zz dev vx4 dst 10.0.0.5",
    "bridge fdb add 02:00:00:00:00:02 dev vx4", "bridge fdb add 00:00:00:00:00:00 dev vx4 dst 10.0.0.3",
    "bridge fdb del 02:00:00:00:00:09 dev vx4", "bridge fdb add 02:00:00:00:00:04 dev vx4 dst x",
]


def test_refusals_are_worded_as_iproute2_words_them() -> None:
    """Each refused line, run after SETUP by the real tools in an anonymous namespace and by simnet:
    the same first line of stderr and the same exit status."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    import subprocess

    from simnet.tools.bridge import bridge
    from simnet.tools.ip import IpError, ip
    from simnet.world import World

    for line in REFUSED:
        script = "; ".join(SETUP) + f"; {line}"
        real = subprocess.run(["timeout", "20", "unshare", "-n", "sh", "-c", script], capture_output=True,
                              text=True)
        w = World()
        for setup in SETUP:
            ip(w, setup.split()[1:])
        tool = ip if line.startswith("ip ") else bridge
        with pytest.raises(IpError) as e:
            tool(w, line.split()[1:])
        assert (str(e.value).strip().splitlines()[0], e.value.exit_code) == \
            (real.stderr.strip().splitlines()[0], real.returncode), line
