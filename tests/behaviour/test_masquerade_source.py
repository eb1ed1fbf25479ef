"""MASQUERADE's source address, as Linux 6.18 picks it (checked with simnet kernel-run in
scenarios/bugs/masquerade-source-choice.sh): nf_nat_masquerade_ipv4 asks inet_select_addr for a
primary address of the outgoing device in the subnet of the route's *next hop* (the gateway, else
the destination), never a secondary address and never the route's ``src``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.script.interpreter import run_script

WORLD = """\
ip netns add host
ip netns add isp
ip netns add web
ip -n host link add eth1 type veth peer name eth1 netns isp
{addrs}
ip -n isp addr add 198.51.100.1/24 dev eth1
ip -n isp addr add 192.0.2.80/32 dev lo
ip -n host link set eth1 up
ip -n isp link set eth1 up
ip -n isp link set lo up
ip -n host route add default via 198.51.100.1 dev eth1 {src}
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth1 type veth peer name eth0 netns web
ip -n host link set veth1 master docker0
ip -n host link set veth1 up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ip netns exec isp nc -u -l -k -p 5353 &
echo query | ip netns exec web nc -u -w 1 192.0.2.80 5353
"""


def _masqueraded_as(addrs: list[str], src: str = "") -> str:
    lines = "\n".join(f"ip -n host addr add {a} dev eth1" for a in addrs)
    (probe,) = run_script(WORLD.format(addrs=lines, src=f"src {src}" if src else "")).to_json()["probes"]
    assert probe["outcome"] == "delivered"
    return probe["received"]["src"]


def test_the_address_in_the_gateways_subnet_wins_over_the_first_one() -> None:
    assert _masqueraded_as(["192.168.50.10/24", "198.51.100.10/24"]) == "198.51.100.10"


def test_neither_a_secondary_address_nor_the_routes_src_is_taken() -> None:
    assert _masqueraded_as(["198.51.100.10/24", "198.51.100.11/24"], src="198.51.100.11") == "198.51.100.10"


@settings(max_examples=20, deadline=None)
@given(others=st.lists(st.integers(1, 200), unique=True, max_size=3), position=st.integers(0, 3),
       secondaries=st.integers(0, 2))
def test_masquerade_takes_the_first_primary_of_the_gateways_subnet(others: list[int], position: int,
                                                                  secondaries: int) -> None:
    # other primaries in foreign subnets, in any order around the gateway's subnet's primary,
    # and secondaries of the gateway's subnet after it: the primary in 198.51.100.0/24 always wins
    addrs = [f"10.{n}.0.10/24" for n in others]
    addrs.insert(min(position, len(addrs)), "198.51.100.10/24")
    addrs += [f"198.51.100.{20 + i}/24" for i in range(secondaries)]
    assert _masqueraded_as(addrs) == "198.51.100.10"
