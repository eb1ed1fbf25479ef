"""The real-kernel runner: real namespaces, real probes, real counters.

Each script is tiny (two namespaces over a veth) so the whole file runs in a
few seconds. Namespace names are unique to this file (``krA``/``krB``) so the
fixture can check that none of them ever shows up in the machine's own
``ip netns list``: they live in the runner's private /run/netns only.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from simnet.conformance import KernelRunError, compare, run_on_kernel
from simnet.script import ScriptError

pytestmark = pytest.mark.kernel

NAMES = ("krA", "krB")

PAIR = """\
ip netns add krA
ip netns add krB
ip -n krA link add va type veth peer name vb netns krB
ip -n krA addr add 10.77.0.1/24 dev va
ip -n krB addr add 10.77.0.2/24 dev vb
ip -n krA link set va up
ip -n krB link set vb up
ip -n krA link set lo up
ip -n krB link set lo up
"""


def root_netns() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.fixture(autouse=True)
def kernel_runner_prerequisites() -> object:
    """Skip without root or tools; afterwards the machine's `ip netns list` has none of our names."""
    if os.geteuid() != 0:
        pytest.skip("needs root and iproute2/iptables: the kernel runner creates network namespaces")
    missing = [t for t in ("ip", "iptables", "iptables-save", "iptables-restore", "conntrack", "unshare", "mount",
                           "sysctl") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs root and iproute2/iptables: missing {', '.join(missing)}")
    yield
    leaked = root_netns() & set(NAMES)
    assert not leaked, f"namespaces leaked into the machine's /run/netns: {leaked}"


def probe(report: dict, line: int) -> dict:
    (p,) = [p for p in report["probes"] if p["line"] == line]
    return p


def counters(p: dict, ns: str) -> dict[tuple[str, str, int], int]:
    return {(c["table"], c["chain"], c["rule"]): c["packets"] for c in p["counters"].get(ns, [])}


def test_ping_over_a_veth_replies_and_counts_one_packet_each_way() -> None:
    report = run_on_kernel(PAIR + "ip netns exec krA ping -c1 -W1 10.77.0.2\n# expect: reply from 10.77.0.2\n"
                           "ip netns exec krB iptables -S INPUT\n", filename="ping.sh")
    p = probe(report, 10)
    assert p["from"] == "krA" and p["proto"] == "icmp" and p["dst"] == "10.77.0.2" and p["dport"] is None
    assert p["outcome"] == "reply"
    assert p["icmp"] == {"type": 0, "code": 0, "from": "10.77.0.2"}
    assert p["received"] == {"ns": "krB", "src": "10.77.0.1", "sport": 10}  # sport = echo id = script line
    assert p["expect"]["ok"] is True
    # no iptables command created a table (iptables -S creates none): no hooks, no counters
    assert p["counters"] == {}
    assert p["conntrack"] == {}
    assert p["trace"] == [] and p["errno"] is None
    assert report["outputs"] == [{"line": 12, "command": "ip netns exec krB iptables -S INPUT",
                                  "stdout": "-P INPUT ACCEPT\n"}]


def test_tcp_closed_port_is_refused_and_a_listener_is_connected() -> None:
    report = run_on_kernel(
        PAIR
        + "ip netns exec krA nc -z -w1 10.77.0.2 81\n"
        + "ip netns exec krB nc -l -k 8080 &\n"
        + "ip netns exec krA nc -z -w1 -p 40000 10.77.0.2 8080\n# expect: connected from 10.77.0.1:40000\n"
        + "kill %1\n"
        + "ip netns exec krA nc -z -w1 10.77.0.2 8080\n"
    )
    refused = probe(report, 10)
    assert refused["outcome"] == "refused" and refused["icmp"] is None and refused["errno"] == "ECONNREFUSED"
    assert refused["proto"] == "tcp" and refused["dport"] == 81 and refused["received"] is None
    connected = probe(report, 12)
    assert connected["outcome"] == "connected"
    assert connected["received"] == {"ns": "krB", "src": "10.77.0.1", "sport": 40000}
    assert connected["expect"]["ok"] is True
    assert probe(report, 15)["outcome"] == "refused"  # the listener was killed


def test_drop_in_input_times_out_and_counts_exactly_the_packets_sent() -> None:
    report = run_on_kernel(PAIR + "ip netns exec krB iptables -A INPUT -p tcp --dport 22 -j ACCEPT\n"
                           "ip netns exec krB iptables -A INPUT -p icmp -j DROP\n"
                           "ip netns exec krA ping -c3 -i0.2 -W1 10.77.0.2\n# expect: timeout via filter/INPUT#2\n")
    p = probe(report, 12)
    assert p["outcome"] == "timeout" and p["icmp"] is None and p["received"] is None
    assert p["expect"]["ok"] is True
    b = counters(p, "krB")
    assert b[("filter", "INPUT", 2)] == 3
    assert ("filter", "INPUT", 1) not in b and ("filter", "INPUT", 0) not in b
    assert "krA" not in p["counters"]  # krA has no table


def test_udp_to_a_closed_port_is_unreachable_with_icmp_3_3_and_to_a_listener_is_delivered() -> None:
    report = run_on_kernel(PAIR + "echo hi | ip netns exec krA nc -u -w1 10.77.0.2 53\n"
                           "ip netns exec krB nc -u -l 5353 &\n"
                           "echo hi | ip netns exec krA nc -u -w1 -p 7000 10.77.0.2 5353\n")
    p = probe(report, 10)
    assert p["proto"] == "udp" and p["outcome"] == "unreachable"
    assert p["icmp"] == {"type": 3, "code": 3, "from": "10.77.0.2"}
    assert p["errno"] == "ECONNREFUSED"
    d = probe(report, 12)
    assert d["outcome"] == "delivered"
    assert d["received"] == {"ns": "krB", "src": "10.77.0.1", "sport": 7000}


def test_routeless_ping_is_a_local_error_and_a_stateful_rule_shows_conntrack() -> None:
    report = run_on_kernel(PAIR + "ip netns exec krA ping -c1 10.99.0.1\n# expect: error ENETUNREACH\n"
                           "ip netns exec krB iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT\n"
                           "ip netns exec krA ping -c1 10.77.0.2\n")
    err = probe(report, 10)
    assert err["outcome"] == "error" and err["errno"] == "ENETUNREACH" and err["icmp"] is None
    assert err["counters"] == {} and err["expect"]["ok"] is True
    ok = probe(report, 13)
    assert ok["conntrack"] == {"krB": ["icmp 1 src=10.77.0.1 dst=10.77.0.2 type=8 code=0 "
                                       "src=10.77.0.2 dst=10.77.0.1 type=0 code=0"]}
    assert counters(ok, "krB")[("filter", "INPUT", 1)] == 1


def test_router_rejects_give_exact_icmp_codes() -> None:
    script = (PAIR + "ip netns exec krA sysctl -w net.ipv4.ip_forward=1\n"
              "ip -n krB route add default via 10.77.0.1\n"
              "ip -n krA route add prohibit 10.88.0.0/16\n"
              "ip -n krA route add 10.66.0.0/16 via 10.77.0.2\n"
              "ip netns exec krA iptables -A FORWARD -d 10.66.0.1 -j REJECT --reject-with icmp-host-prohibited\n"
              "ip netns exec krB ping -c1 10.88.0.1\n"
              "ip netns exec krB ping -c1 -t1 10.66.0.1\n"
              "ip netns exec krB ping -c1 10.66.0.1\n")
    report = run_on_kernel(script)
    prohibit, ttl, rejected = probe(report, 15), probe(report, 16), probe(report, 17)
    assert (prohibit["outcome"], prohibit["icmp"]) == ("unreachable", {"type": 3, "code": 13, "from": "10.77.0.1"})
    assert (ttl["outcome"], ttl["icmp"]) == ("ttl-exceeded", {"type": 11, "code": 0, "from": "10.77.0.1"})
    assert (rejected["outcome"], rejected["icmp"]) == ("unreachable", {"type": 3, "code": 10, "from": "10.77.0.1"})
    assert counters(rejected, "krA")[("filter", "FORWARD", 1)] == 1


def test_commands_outside_a_namespace_are_refused_before_anything_runs() -> None:
    for bad in ("ip link add x type dummy\n", "iptables -A INPUT -j DROP\n", "ip netns add krA\nping -c1 1.1.1.1\n",
                "ip netns add krA\nip -n krA link set va netns 1\n", "sysctl -w net.ipv4.ip_forward=1\n",
                "ip netns add krA\nip netns exec krB ip link\n", "ip netns add krA\nip netns exec krA docker ps\n"):
        with pytest.raises(ScriptError):
            run_on_kernel(bad)


def test_a_failing_command_fails_the_run_with_file_line_and_stderr() -> None:
    with pytest.raises(KernelRunError, match=r"^bad\.sh:2: `ip -n krA link set nosuch up` failed .*nosuch"):
        run_on_kernel("ip netns add krA\nip -n krA link set nosuch up\n", filename="bad.sh")


def test_compare_lists_differences_per_probe() -> None:
    k = {"probes": [{"line": 3, "command": "nc -z -p 3 h 1", "proto": "tcp", "outcome": "reply", "icmp": {"type": 0, "code": 0, "from": "1.1.1.1"},
                     "errno": None, "received": {"ns": "b", "src": "1.1.1.2", "sport": 3},
                     "counters": {"b": [{"table": "filter", "chain": "INPUT", "rule": 0, "packets": 1}]},
                     "conntrack": {"b": ["x"]}}]}
    s = {"probes": [dict(k["probes"][0], outcome="timeout", icmp=None, received=None, counters={},
                         conntrack={"b": ["y"]})]}
    assert compare(k, k) == []
    assert compare(s, k) == [
        "line 3 `nc -z -p 3 h 1`: outcome: simulator timeout, kernel reply",
        "line 3 `nc -z -p 3 h 1`: icmp type/code: simulator none, kernel 0/0",
        "line 3 `nc -z -p 3 h 1`: received ns: simulator none, kernel b",
        "line 3 `nc -z -p 3 h 1`: received src: simulator none, kernel 1.1.1.2",
        "line 3 `nc -z -p 3 h 1`: received sport: simulator none, kernel 3",
        "line 3 `nc -z -p 3 h 1`: counter b filter/INPUT#0 packets: simulator 0, kernel 1",
        "line 3 `nc -z -p 3 h 1`: conntrack b: only the simulator has y",
        "line 3 `nc -z -p 3 h 1`: conntrack b: only the kernel has x",
    ]
    unpinned = {"probes": [dict(k["probes"][0], command="nc -z h 1", received={"ns": "b", "src": "1.1.1.2", "sport": 9})]}
    without_counters = {"probes": [{key: v for key, v in p.items() if key not in ("counters", "conntrack")}
                                   for p in k["probes"]]}
    assert compare(without_counters, unpinned) == []  # ephemeral sport; counters/conntrack only when both have them


def test_restore_heredoc_http_server_curl_and_kill() -> None:
    """A script's own iptables-restore keeps policy counters; curl/http.server/kill $! work."""
    script = PAIR + """\
ip netns exec krB echo 1 > /proc/sys/net/ipv4/ip_forward
ip netns exec krB sysctl net.ipv4.ip_forward
ip netns exec krB python3 -m http.server 8000 --bind 10.77.0.2 &
ip netns exec krA curl -s -m 2 http://10.77.0.2:8000/
# expect: connected from 10.77.0.1
kill $!
ip netns exec krB iptables-restore <<'EOF'
*filter
:INPUT DROP [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
EOF
ip netns exec krA nc -z -w1 10.77.0.2 22
# expect: refused via filter/INPUT#1
ip netns exec krA nc -z -w1 10.77.0.2 8000
# expect: timeout via filter/INPUT#0
"""
    report = run_on_kernel(script, filename="restore.sh")
    assert report["outputs"][0] == {"line": 11, "command": "ip netns exec krB sysctl net.ipv4.ip_forward",
                                    "stdout": "net.ipv4.ip_forward = 1\n"}
    assert [(p["line"], p["outcome"], p["expect"]["ok"]) for p in report["probes"]] == [
        (13, "connected", True), (22, "refused", True), (24, "timeout", True)]
    refused = counters(probe(report, 22), "krB")
    assert refused[("filter", "INPUT", 1)] == 1
    assert refused[("filter", "OUTPUT", 0)] == 1  # the RST; the chain was re-declared after the restore
    assert counters(probe(report, 24), "krB")[("filter", "INPUT", 0)] == 1


def test_a_run_over_its_time_budget_is_stopped_and_leaves_no_helpers() -> None:
    with pytest.raises(KernelRunError, match="longer than 1 s"):
        run_on_kernel(PAIR + "ip netns exec krB nc -l 9000 &\nsleep 3\n", timeout=1)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in ps.splitlines() if "--helper" in line and '"krB"' in line]
