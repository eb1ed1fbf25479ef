"""Scenario scripts run against a simulated world: probes, expectations, counters and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from simnet.world import World

ROOT = Path(__file__).resolve().parents[3]

TWO_HOSTS = """\
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
"""

ROUTER = """\
ip netns add a
ip netns add r
ip netns add c
ip -n a link add eth0 type veth peer name ra netns r
ip -n r link add rc type veth peer name eth0 netns c
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n r addr add 10.0.0.254/24 dev ra
ip -n r addr add 10.0.1.254/24 dev rc
ip -n c addr add 10.0.1.2/24 dev eth0
ip -n a link set eth0 up
ip -n r link set ra up
ip -n r link set rc up
ip -n c link set eth0 up
ip -n a route add default via 10.0.0.254
ip -n c route add default via 10.0.1.254
"""


def outcomes(text: str) -> list[str]:
    return [p.result.outcome for p in run_script(text).probes]


def test_quickstart_scenario_passes() -> None:
    report = run_script(ROOT / "scenarios" / "quickstart.sh")
    assert report.ok and len(report.probes) == 6
    connected = report.probes[3].to_json()
    assert connected["received"]["ns"] == "s" and connected["received"]["src"] == "10.0.0.1"


def test_report_json_schema_and_counters() -> None:
    """counters: per-namespace rule-counter increases; conntrack: only non-empty namespaces."""
    report = run_script(ROUTER + """\
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec r iptables -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
ip netns exec r iptables -A FORWARD -p icmp -j ACCEPT
ip netns exec a ping -c 1 10.0.1.2
# expect: reply from 10.0.1.2 via filter/FORWARD#2
""")
    doc = report.to_json()
    assert set(doc) == {"probes", "outputs", "error"} and doc["error"] is None
    probe = doc["probes"][0]
    assert list(probe) == ["line", "command", "from", "proto", "dst", "dport", "outcome", "icmp", "errno",
                           "received", "expect", "counters", "conntrack", "trace", "ping"]
    assert probe["ping"] == {"transmitted": 1, "received": 1, "errors": 0, "loss": 0, "size": 56}
    assert probe["outcome"] == "reply" and probe["expect"]["ok"] is True
    assert probe["counters"] == {"r": [{"table": "filter", "chain": "FORWARD", "rule": 1, "packets": 1,
                                        "bytes": 84},
                                       {"table": "filter", "chain": "FORWARD", "rule": 2, "packets": 1,
                                        "bytes": 84}]}
    assert list(probe["conntrack"]) == ["r"] and probe["conntrack"]["r"][0].startswith("icmp 1 src=10.0.0.1")
    assert doc["outputs"] == [{"line": 16, "command": "ip netns exec r sysctl -w net.ipv4.ip_forward=1",
                               "stdout": "net.ipv4.ip_forward = 1\n"}]


def test_router_forwarding_off_then_on() -> None:
    assert outcomes(ROUTER + """\
ip netns exec a ping -c 1 10.0.1.2
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
ip netns exec a ping -c 1 10.0.1.2
""") == ["timeout", "reply"]


def test_proc_sys_write_enables_forwarding() -> None:
    assert outcomes(ROUTER + """\
ip netns exec r echo 1 > /proc/sys/net/ipv4/ip_forward
ip netns exec a nc -z 10.0.1.2 80
# expect: refused
""") == ["refused"]


def test_bridge_learns_and_three_hosts_talk() -> None:
    report = run_script("""\
ip netns add sw
ip netns add h1
ip netns add h2
ip netns add h3
ip -n sw link add br0 type bridge
ip -n sw link set br0 up
ip -n sw link add p1 type veth peer name eth0 netns h1
ip -n sw link add p2 type veth peer name eth0 netns h2
ip -n sw link add p3 type veth peer name eth0 netns h3
ip -n sw link set p1 master br0
ip -n sw link set p2 master br0
ip -n sw link set p3 master br0
ip -n sw link set p1 up
ip -n sw link set p2 up
ip -n sw link set p3 up
ip -n h1 addr add 10.0.0.1/24 dev eth0
ip -n h2 addr add 10.0.0.2/24 dev eth0
ip -n h3 addr add 10.0.0.3/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 link set eth0 up
ip -n h3 link set eth0 up
ip netns exec h1 ping -c 1 10.0.0.3
# expect: reply from 10.0.0.3
bridge -n sw fdb show br br0
""")
    assert report.ok
    fdb = report.outputs[-1]["stdout"].splitlines()
    h1 = str(report.world["h1"].devices["eth0"].lladdr)
    h3 = str(report.world["h3"].devices["eth0"].lladdr)
    assert f"{h1} dev p1 master br0 " in fdb and f"{h3} dev p3 master br0 " in fdb


@pytest.mark.parametrize("extra, outcome", [
    ("ip -n b link set eth0 down\nip netns exec a ping -c 1 10.0.0.2\n", "timeout"),
    ("ip netns exec a ping -c 1 10.0.0.77\n", "timeout"),
    ("ip netns exec a ping -c 1 -W 4 10.0.0.77\n", "timeout"),  # lo down: the local ICMP error is lost
    ("ip -n a link set lo up\nip netns exec a ping -c 1 -W 4 10.0.0.77\n", "unreachable"),
    ("ip netns exec a nc -z 10.0.0.2 80\n", "refused"),
    ("ip netns exec b nc -l 80 &\nip netns exec a nc -z 10.0.0.2 80\n", "connected"),
    ("ip netns exec a ping -c 1 10.9.9.9\n", "error"),
    ("ip netns exec b nc -u -l 53 &\necho hi | ip netns exec a nc -u 10.0.0.2 53\n", "delivered"),
])
def test_issue_2_behaviours(extra: str, outcome: str) -> None:
    """Link down, ARP unanswered (host unreachable after 3 s, if lo is up: checked on Linux 6.18),
    RST, listener, ENETUNREACH, UDP."""
    assert outcomes(TWO_HOSTS + extra)[-1] == outcome


def test_wrong_netmask_has_no_route_back() -> None:
    probes = run_script(TWO_HOSTS.replace("10.0.0.2/24", "10.0.0.2/32") +
                        "ip netns exec a ping -c 1 10.0.0.2\n").probes
    assert probes[0].result.outcome == "timeout"


def test_blackhole_vs_unreachable_on_a_router() -> None:
    text = ROUTER + """\
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip -n r route add blackhole 10.5.0.0/16
ip -n r route add unreachable 10.6.0.0/16
ip netns exec a ping -c 1 10.5.0.1
# expect: timeout
ip netns exec a ping -c 1 10.6.0.1
# expect: unreachable from 10.0.0.254
"""
    report = run_script(text)
    assert report.ok
    assert report.probes[1].to_json()["icmp"] == {"type": 3, "code": 1, "from": "10.0.0.254"}


def test_routing_loop_is_ttl_exceeded() -> None:
    assert outcomes(ROUTER + """\
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec c sysctl -w net.ipv4.ip_forward=1
ip -n r route add 10.7.0.0/16 via 10.0.1.2
ip netns exec a ping -c 1 10.7.0.1
# expect: ttl-exceeded
""") == ["ttl-exceeded"]


def test_nc_listener_without_k_accepts_one_connection_and_kill_stops_it() -> None:
    assert outcomes(TWO_HOSTS + """\
ip netns exec b nc -l 80 &
ip netns exec a nc -z 10.0.0.2 80
ip netns exec a nc -z 10.0.0.2 80
ip netns exec b nc -lk 81 &
ip netns exec a nc -z 10.0.0.2 81
ip netns exec a nc -z 10.0.0.2 81
kill %2
ip netns exec a nc -z 10.0.0.2 81
""") == ["connected", "refused", "connected", "connected", "refused"]


def test_failed_expectation_is_reported_not_raised() -> None:
    report = run_script(TWO_HOSTS + "ip netns exec a ping -c 1 10.0.0.3\n# expect: reply\n")
    assert not report.ok and report.failed[0].line == 8


def test_malformed_line_changes_nothing() -> None:
    """All lines are checked before any runs: the world stays empty."""
    w = World()
    with pytest.raises(ScriptError) as e:
        run_script(TWO_HOSTS + "ip -n a link add v0 type gre\n", filename="t.sh", world=w)
    assert str(e.value).startswith("t.sh:8: ") and "gre" in str(e.value)
    assert w.namespaces == {}


@pytest.mark.parametrize("line, words", [
    ("ip netns exec a ping 10.0.0.2", "without -c"),
    ("ip netns exec a nc -l 80", "background"),
    ("ip netns exec a frobnicate", "unsupported command 'frobnicate'"),
    ("ip netns exec a iptables -S > /proc/sys/net/ipv4/ip_forward", "redirect"),
    ("kill %3", "no such job"),
    ("ip netns exec a sysctl -w a=1\n# expect: reply", "not a probe"),
])
def test_script_errors_name_the_construct(line: str, words: str) -> None:
    with pytest.raises(ScriptError, match=words):
        run_script(TWO_HOSTS + line + "\n")


def test_runtime_failure_stops_at_the_line_with_the_tools_message() -> None:
    with pytest.raises(ScriptError) as e:
        run_script(TWO_HOSTS + "ip -n a link set eth9 up\nip netns add never\n", filename="s.sh")
    assert str(e.value) == 's.sh:8: Cannot find device "eth9"'


def test_iptables_restore_heredoc_and_save_output() -> None:
    report = run_script(TWO_HOSTS + """\
ip netns exec b iptables-restore <<'RULES'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p icmp -j DROP
COMMIT
RULES
ip netns exec a ping -c 1 10.0.0.2
# expect: timeout via filter/INPUT#1
ip netns exec b iptables-save -c -t filter
""")
    assert report.ok
    assert "[1:84] -A INPUT -p icmp -j DROP\n" in report.outputs[-1]["stdout"]


def test_conntrack_list_and_flush() -> None:
    report = run_script(TWO_HOSTS + """\
ip netns exec b iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT
ip netns exec a ping -c 1 10.0.0.2
ip netns exec b conntrack -L
ip netns exec b conntrack -F
ip netns exec b conntrack -L
""")
    assert len(report.outputs) == 1
    # as conntrack-tools prints it (checked on kernel 6.18): protocol, number, seconds left
    assert report.outputs[0]["stdout"].startswith("icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=")
    assert report.outputs[0]["stdout"].endswith(" mark=0 use=1\n")
    assert len(report.world["b"].conntrack) == 0


def test_conntrack_entries_expire_with_their_timeout() -> None:
    """An ICMP entry lives 30 s after its last packet; a UDP one 30 s until it is assured."""
    report = run_script(TWO_HOSTS + """ip netns exec b iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT
ip netns exec a ping -c 1 10.0.0.2
sleep 20
ip netns exec b conntrack -L
sleep 10
ip netns exec b conntrack -L
""")
    outputs = [o["stdout"] for o in report.outputs]
    assert outputs[0].startswith("icmp     1 9 ")
    assert "".join(outputs[1:]) == ""  # 30 s after the reply the entry is gone
    assert len(report.world["b"].conntrack) == 0


def test_sleep_advances_the_clock() -> None:
    report = run_script("ip netns add a\nsleep 2.5\n")
    assert report.world.now == 2.5
