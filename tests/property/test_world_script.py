"""simnet.testing.world_script and replay_script: a world built through the API, written as a script.

Property: for any drawn world (sst.worlds) with drawn iptables rulesets, sysctls and listeners,
the script builds a world whose own script is the same text, and every namespace reaches every
address exactly as in the original (ping and TCP to port 80). Example tests pin the lines and show a failing assertion
turned into a script that simnet run replays with the same failure.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simnet import strategies as sst
from simnet.netfilter.rule import Rule
from simnet.script.interpreter import run_script
from simnet.testing import ReachabilityError, assert_reachable, assert_unreachable, replay_script, world_script
from simnet.world import World
from tests.conftest import pair


def _sweep(world: World) -> list[tuple[str, str, str]]:
    from simnet.probe import ping, tcp_connect

    out = []
    addrs = [a.address for ns in world.namespaces.values() for a in ns.addrs if a.dev != "lo"]
    for src in world.namespaces:
        for addr in addrs:
            out.append((src, str(addr), ping(world, src, addr).outcome))
            out.append((src, str(addr), tcp_connect(world, src, addr, 80).outcome))
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))  # large draws on a loaded machine
@given(sst.worlds(max_netns=4), st.data())
def test_a_world_written_as_a_script_builds_the_same_world(world: World, data: st.DataObject) -> None:
    for ns in world.namespaces.values():
        ns.ruleset = data.draw(sst.rulesets(max_chains=2, max_rules=3), label=f"{ns.name} rules")
        if data.draw(st.booleans(), label=f"{ns.name} listens"):
            ns.sockets.listen("tcp", 80)
        if data.draw(st.booleans(), label=f"{ns.name} rp_filter"):
            ns.sysctls.set("net.ipv4.conf.all.rp_filter", "1")
    try:
        text = world_script(world)
    except ValueError as e:  # a drawn rule names an ipset no namespace has: no script can build that
        assume("ipset" not in str(e))
        raise
    again = run_script(text).world
    assert world_script(again) == text
    # the rebuilt world answers every probe as the original: this needs the order of routes
    # sharing a prefix (a connected route per device on one subnet), which the lookup reads
    assert _sweep(again) == _sweep(world)


SMALL = """\
ip netns add a
ip netns add b
ip netns exec b sysctl -q -w net.ipv4.conf.all.forwarding=1
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n a link set eth0 up
ip -n a link set lo up
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n b link set eth0 up
ip -n b link set lo up
ip netns exec b iptables-restore <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j DROP
COMMIT
EOF
ip netns exec b nc -l -k -p 22 &
"""


def test_the_lines_of_a_small_world() -> None:
    w = World(seed=1)
    pair(w, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    w["b"].sysctls.set("net.ipv4.ip_forward", "1")
    w["b"].ruleset.table("filter").append("INPUT", Rule.parse("-p tcp --dport 22 -j DROP"))
    w["b"].sockets.listen("tcp", 22)
    assert world_script(w) == SMALL


def test_what_the_lines_cannot_say_is_refused() -> None:
    w = World(seed=1)
    pair(w, "a", "b", "10.0.0.1/24", "10.0.0.2/24")
    w["a"].ipsets["blocked"] = object()
    with pytest.raises(ValueError, match="world_script: a has ipsets"):
        world_script(w)


def test_a_failed_assertion_replays_as_a_script_with_the_same_failure() -> None:
    w = World(seed=3)
    pair(w, "lan", "fw", "192.168.1.2/24", "192.168.1.1/24")
    w["fw"].sockets.listen("tcp", 22)
    # meant: SSH only from the admin address 192.168.1.9; written with a /16 mask that covers the LAN
    w["fw"].ruleset.table("filter").append("INPUT", Rule.parse("-s 192.168.1.9/16 -p tcp --dport 22 -j ACCEPT"))
    w["fw"].ruleset.table("filter").append("INPUT", Rule.parse("-p tcp --dport 22 -j DROP"))
    with pytest.raises(ReachabilityError) as caught:
        assert_unreachable(w, "lan", "192.168.1.1", port=22)
    script = replay_script(w, caught.value)
    assert script.endswith("# wanted: lan must not reach 192.168.1.1:22; simnet saw connected\n"
                           "ip netns exec lan nc -z -w 1 192.168.1.1 22\n# expect: timeout\n")
    (probe,) = run_script(script).probes
    assert (probe.result.outcome, probe.ok) == ("connected", False)
    # a wanted-reachable failure replays with the success it wanted
    w["fw"].ruleset.table("filter").insert("INPUT", Rule.parse("-p icmp -j DROP"), 1)
    with pytest.raises(ReachabilityError) as caught:
        assert_reachable(w, "lan", "192.168.1.1")
    script = replay_script(w, caught.value)
    assert script.endswith("ip netns exec lan ping -c 1 -W 1 192.168.1.1\n# expect: reply\n")
    (probe,) = run_script(script).probes
    assert (probe.result.outcome, probe.ok) == ("timeout", False)
