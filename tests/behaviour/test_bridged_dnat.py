"""br_netfilter's bridged DNAT and the loopback-source check of the re-route after NAT.

Both were seen on Linux 6.18 with scenarios/bugs/hairpin-nat-without-userland-proxy.sh:

* a frame DNATed in the bridge's PREROUTING to an address behind the same bridge stays bridged
  (br_nf_pre_routing_finish -> br_nf_pre_routing_finish_bridge): its dst MAC becomes the new
  next hop's and bridging resumes from the ingress port, so without hairpin mode the bridge
  drops it before FORWARD and POSTROUTING (no confirmed conntrack entry), and its TTL is kept;
* a locally generated packet DNATed from 127.0.0.1 to an address out of a real device fails
  its re-route (__mkroute_output) unless that device has route_localnet: dropped in OUTPUT,
  EINVAL for UDP and ping, a silently dropped SYN for TCP.
"""

from __future__ import annotations

from simnet.script.interpreter import run_script
from simnet.trace import BridgeDecision, Received

HOST = """\
ip netns add host
ip netns add web
ip netns add peer
ip -n host link set lo up
ip -n web link set lo up
ip -n peer link set lo up
ip -n host addr add 203.0.113.10/32 dev lo
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth1 type veth peer name eth0 netns web
ip -n host link set veth1 master docker0
ip -n host link set veth1 up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1
ip -n host link add veth2 type veth peer name eth0 netns peer
ip -n host link set veth2 master docker0
ip -n host link set veth2 up
ip -n peer addr add 172.17.0.3/16 dev eth0
ip -n peer link set eth0 up
ip -n peer route add default via 172.17.0.1
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns exec host iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
ip netns exec host iptables -t nat -A OUTPUT -d 127.0.0.1 -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
ip netns exec host iptables -t nat -A OUTPUT -d 127.0.0.1 -p udp --dport 53 -j DNAT --to-destination 172.17.0.2:53
ip netns exec web nc -l -k -p 80 &
ip netns exec web nc -u -l -k -p 53 &
"""


def _probes(script: str):
    report = run_script(HOST + script)
    return report.probes, report.to_json()["probes"]


def _counters(probe: dict, ns: str = "host") -> dict[tuple[str, str, int], int]:
    return {(c["table"], c["chain"], c["rule"]): c["packets"] for c in probe["counters"].get(ns, [])}


def test_a_container_reaching_itself_is_dropped_by_the_bridge_before_postrouting() -> None:
    probes, js = _probes("ip netns exec web nc -z -w 1 203.0.113.10 8080\n")
    assert js[0]["outcome"] == "timeout" and js[0]["received"] is None
    counters = _counters(js[0])
    assert counters[("nat", "PREROUTING", 1)] == 1
    assert ("nat", "POSTROUTING", 0) not in counters  # dropped before POSTROUTING: never confirmed
    assert js[0]["conntrack"].get("host", []) == []
    syn = probes[0].result.traces[0]
    drops = [s for s in syn.steps if isinstance(s, BridgeDecision) and s.action == "drop"]
    assert [(d.in_port, d.bridge) for d in drops] == [("veth1", "docker0")]


def test_hairpin_mode_sends_it_back_and_the_self_masquerade_makes_it_connect() -> None:
    _, js = _probes("ip -n host link set veth1 type bridge_slave hairpin on\n"
                    "ip netns exec web nc -z -w 1 203.0.113.10 8080\n"
                    "ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.2 -d 172.17.0.2 -j MASQUERADE\n"
                    "ip netns exec web nc -z -w 1 203.0.113.10 8080\n")
    assert js[0]["outcome"] == "timeout"  # its own address as source: a martian in web
    assert _counters(js[0])[("nat", "POSTROUTING", 0)] == 1
    assert js[1]["outcome"] == "connected"
    assert js[1]["received"]["src"] == "172.17.0.1"


def test_bridged_dnat_keeps_the_ttl_and_resolves_the_new_next_hop_first() -> None:
    # the host has never spoken to web: the bridged DNAT asks ARP, then bridges the queued SYN
    probes, js = _probes("ip netns exec peer nc -z -w 1 203.0.113.10 8080\n")
    assert js[0]["outcome"] == "connected" and js[0]["received"]["src"] == "172.17.0.3"
    syn = probes[0].result.traces[0]
    arrived = [s for s in syn.steps if isinstance(s, Received) and s.netns == "web"]
    assert len(arrived) == 1 and arrived[0].packet.ip.ttl == 64  # bridged, not routed
    bridged = [s for s in syn.steps if isinstance(s, BridgeDecision) and s.action == "forward"]
    assert [(d.in_port, d.ports) for d in bridged] == [("veth2", ("veth1",))]


def test_bridged_dnat_needs_forwarding_on() -> None:
    _, js = _probes("ip netns exec host sysctl -w net.ipv4.ip_forward=0\n"
                    "ip netns exec peer nc -z -w 1 203.0.113.10 8080\n")
    assert js[0]["outcome"] == "timeout" and js[0]["received"] is None


def test_loopback_source_cannot_be_rerouted_out_of_a_bridge_without_route_localnet() -> None:
    _, js = _probes("echo x | ip netns exec host nc -u -w 1 127.0.0.1 53\n"
                    "ip netns exec host nc -z -w 1 127.0.0.1 8080\n"
                    "ip netns exec host sysctl -w net.ipv4.conf.docker0.route_localnet=1\n"
                    "echo x | ip netns exec host nc -u -w 1 127.0.0.1 53\n")
    assert (js[0]["outcome"], js[0]["errno"]) == ("error", "EINVAL")
    assert _counters(js[0]) == {("nat", "OUTPUT", 2): 1}
    assert js[1]["outcome"] == "timeout"
    assert ("nat", "POSTROUTING", 0) not in _counters(js[1])
    assert js[1]["conntrack"].get("host", []) == []
    # route_localnet lets it out; web drops the loopback source as a martian
    assert js[2]["outcome"] == "lost" and _counters(js[2])[("nat", "POSTROUTING", 0)] == 1
