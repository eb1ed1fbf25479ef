"""Scripts written the way people write them run the same in simnet and on the kernel.

One two-namespace world (``sfA`` 10.79.0.1 <-> ``sfB`` 10.79.0.2) uses the everyday
forms of ``tests/unit/script/test_shell_forms.py``: bundled iptables options,
probes under ``timeout(1)``, ``sh -c``, curl's ``-w``, ``nc < /dev/null``, modprobe,
bridge options and ``promisc``, ``ss``.  Both reports must agree per probe (outcome,
ICMP, errno, receiver, every counter, conntrack) and on what the printing commands print.
"""

from __future__ import annotations

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

WORLD = """\
ip netns add sfA
ip netns add sfB
ip -n sfA link add eth0 type veth peer name eth0 netns sfB
ip -n sfA addr add 10.79.0.1/24 dev eth0
ip -n sfB addr add 10.79.0.2/24 dev eth0
ip -n sfA link set eth0 up
ip -n sfB link set eth0 up
ip -n sfA link set lo up
ip -n sfB link set lo up
"""

IPTABLES = """\
ip netns exec sfA iptables -nvL
ip netns exec sfA iptables -A INPUT -p tcp --dport 81 -j DROP
ip netns exec sfA iptables -vnL INPUT --line-numbers
ip netns exec sfA iptables -t nat -nvL --line-numbers
ip netns exec sfA iptables -vS
ip netns exec sfA iptables -nvLINPUT
"""

TIMEOUT = """\
ip netns exec sfA nc -l -k -p 80 &
ip netns exec sfB timeout 2 nc -z 10.79.0.1 80
# expect: connected from 10.79.0.2
ip netns exec sfB timeout 2 nc -z 10.79.0.1 81
# expect: timeout
ip netns exec sfB timeout 2s nc -z -w 1 10.79.0.1 81
# expect: timeout
timeout -s KILL 1.5 ip netns exec sfB nc -z -w 4 10.79.0.1 81
# expect: timeout
ip netns exec sfA iptables -A INPUT -p icmp -j DROP
ip netns exec sfB timeout 2 ping -c 4 10.79.0.1
# expect: timeout
ip netns exec sfB timeout 3 nc -z -w 1 10.79.0.1 82
# expect: refused
"""

SHELL_C = """\
ip netns exec sfA sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
ip netns exec sfB bash -c "sysctl -w net.ipv4.ip_forward=1"
ip netns exec sfA sh -c 'sysctl net.ipv4.ip_forward; iptables -A INPUT -p icmp -j ACCEPT && iptables -S INPUT'
ip netns exec sfA sh -c 'nc -l -k -p 80' &
ip netns exec sfB sh -ec 'ping -c 1 10.79.0.1'
# expect: reply from 10.79.0.1
sh -c 'ip netns exec sfB nc -z -w 1 10.79.0.1 80'
# expect: connected from 10.79.0.2
ip netns exec sfA sysctl net.ipv4.ip_forward
"""

CURL_NC = """\
ip netns exec sfA python3 -m http.server 80 &
ip netns exec sfA nc -l -k -p 8080 &
ip netns exec sfA nc -u -l -k -p 53 &
ip netns exec sfB curl --max-time 2 -o /dev/null -s -w '%{http_code}' http://10.79.0.1/
# expect: connected from 10.79.0.2
ip netns exec sfB curl -m 1 -so /dev/null -w '%{http_code} %{remote_ip}:%{remote_port} %{exitcode}\\n' http://10.79.0.1:8080/
ip netns exec sfB curl -m 1 -sS -w '%{http_code}|%{remote_ip}|%{exitcode}\\n' -o /dev/null http://10.79.0.1:81/
# expect: refused
ip netns exec sfA iptables -A INPUT -p udp --dport 53 -j ACCEPT
ip netns exec sfB nc -u -w1 10.79.0.1 53 < /dev/null
# expect: lost
ip netns exec sfB nc -u -z -w1 10.79.0.1 53
# expect: lost
echo x | ip netns exec sfB nc -u -w1 10.79.0.1 53
# expect: delivered from 10.79.0.2
"""

BRIDGE = """\
ip netns add sfA
ip netns add sfB
ip netns add sfR
ip -n sfR link add br0 address 02:00:00:00:00:fe type bridge stp_state 0
ip -n sfR link set br0 type bridge stp_state 0
ip -n sfA link add eth0 address 02:00:00:00:00:0a type veth peer name pa address 02:00:00:00:00:1a netns sfR
ip -n sfB link add eth0 address 02:00:00:00:00:0b type veth peer name pb address 02:00:00:00:00:1b netns sfR
ip -n sfR link set pa master br0
ip -n sfR link set pb master br0
ip -n sfA addr add 10.79.0.1/24 dev eth0
ip -n sfB addr add 10.79.0.2/24 dev eth0
ip -n sfR addr add 10.79.0.254/24 dev br0
ip -n sfA link set eth0 up
ip -n sfB link set eth0 up
ip -n sfR link set pa up
ip -n sfR link set pb up
ip -n sfR link set br0 up
ip netns exec sfR ip link set dev pa promisc on
ip -n sfR link set br0 promisc on
ip -n sfA link set eth0 promisc on
ip netns exec sfR iptables -A INPUT -j ACCEPT
ip netns exec sfR iptables -A FORWARD -j ACCEPT
ip netns exec sfA ping -c 1 10.79.0.2
# expect: reply from 10.79.0.2
ip netns exec sfB nc -l -k -p 80 &
ip netns exec sfA nc -z -w 1 10.79.0.2 80
# expect: connected from 10.79.0.1
ip -n sfR link show
ip -n sfA link show eth0
ip -n sfR link set dev pa promisc off
ip -n sfR link show pa
"""

SS = """\
ip netns exec sfA nc -l -k -p 80 &
ip netns exec sfA nc -l -k -s 10.79.0.1 -p 8080 &
ip netns exec sfA nc -u -l -k -p 53 &
ip netns exec sfA python3 -m http.server 8000 &
ip netns exec sfB nc -z -w 1 10.79.0.1 80
# expect: connected
ip netns exec sfA ss -tln
ip netns exec sfA ss -ulpn
ip netns exec sfA ss -tlun
ip netns exec sfA ss -tulnH
ip netns exec sfA ss -tan
ip netns exec sfA ss -tn
ip netns exec sfB ss -tulnH
"""


def both(script: str) -> tuple[dict, dict]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    return run_script(script, filename="shell-forms.sh").to_json(), run_on_kernel(script, filename="shell-forms.sh")


def agree(sim: dict, kernel: dict) -> None:
    from simnet.conformance import compare

    assert [p["line"] for p in sim["probes"]] == [p["line"] for p in kernel["probes"]]
    differences = compare(sim, kernel)
    assert not differences, "\n".join(differences)
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"] + kernel["probes"])
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    assert {o["line"]: o["stdout"] for o in sim["outputs"] if o["line"] in printed} == printed


def counted(p: dict, ns: str) -> dict[tuple[str, str, int], int]:
    return {(c["table"], c["chain"], c["rule"]): c["packets"] for c in p["counters"].get(ns, [])}


def test_bundled_iptables_options_print_the_same() -> None:
    sim, kernel = both(WORLD + IPTABLES)
    agree(sim, kernel)
    assert [o["line"] for o in kernel["outputs"]] == [10, 12, 13, 14, 15]
    assert kernel["outputs"][0]["stdout"].count("Chain ") == 3


def test_probes_under_timeout_wait_until_the_kill() -> None:
    sim, kernel = both(WORLD + "ip netns exec sfA iptables -A INPUT -p tcp --dport 81 -j DROP\n" + TIMEOUT)
    agree(sim, kernel)
    by_line = {p["line"]: p for p in kernel["probes"]}
    # the SYN and its retransmission 1 s later, then the kill at 2 s; nc -w 1 gives up first
    assert counted(by_line[14], "sfA")[("filter", "INPUT", 1)] == 2
    assert counted(by_line[16], "sfA")[("filter", "INPUT", 1)] == 1
    assert counted(by_line[18], "sfA")[("filter", "INPUT", 1)] == 2
    # two echo requests leave before the kill at 2 s (at 0 and 1 s)
    assert counted(by_line[21], "sfA")[("filter", "INPUT", 2)] == 2
    assert by_line[23]["outcome"] == "refused" and by_line[12]["received"]["src"] == "10.79.0.2"


def test_sh_c_runs_its_commands_in_the_namespace() -> None:
    sim, kernel = both(WORLD + SHELL_C)
    agree(sim, kernel)
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    assert printed[12] == "-P INPUT ACCEPT\n-A INPUT -p icmp -j ACCEPT\n"
    assert printed[18] == "net.ipv4.ip_forward = 1\n"
    assert [(p["line"], p["outcome"]) for p in kernel["probes"]] == [(14, "reply"), (16, "connected")]
    assert counted(kernel["probes"][0], "sfA") == {("filter", "INPUT", 1): 1, ("filter", "OUTPUT", 0): 1}


def test_curl_write_out_and_nc_reading_dev_null() -> None:
    sim, kernel = both(WORLD + CURL_NC)
    agree(sim, kernel)
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    # simnet's TCP probes model the handshake and the abort, not curl's request and answer:
    # the filter table is created only after the curl lines, so no counter sees the difference
    assert printed == {13: "200", 15: "000 10.79.0.1:8080 28\n", 16: "000||7\n"}
    by_line = {p["line"]: p for p in kernel["probes"]}
    # nothing written: no datagram reached the ACCEPT rule; the piped one did
    assert ("filter", "INPUT", 1) not in counted(by_line[19], "sfA")
    assert ("filter", "INPUT", 1) not in counted(by_line[21], "sfA")
    assert counted(by_line[23], "sfA")[("filter", "INPUT", 1)] == 1


def test_modprobe_is_checked_and_skipped() -> None:
    script = WORLD.replace("ip netns add sfB\n", "ip netns add sfB\nmodprobe br_netfilter\nmodprobe nf_conntrack\n"
                           "modprobe -a overlay veth\n") + (
        "ip netns exec sfA modprobe -q xt_conntrack\n"
        "ip netns exec sfB ping -c 1 10.79.0.1\n# expect: reply from 10.79.0.1\n")
    sim, kernel = both(script)
    agree(sim, kernel)
    assert [p["outcome"] for p in kernel["probes"]] == ["reply"]
    from simnet.conformance import run_on_kernel
    from simnet.script import ScriptError

    for where in ("", "ip netns exec sfA "):
        bad = WORLD + where + "modprobe foo\n"
        with pytest.raises(ScriptError) as e:
            run_on_kernel(bad, filename="m.sh")
        assert "m.sh:10: modprobe: FATAL: Module foo not found in directory /lib/modules/6.18.0-simnet" in str(e.value)
        with pytest.raises(ScriptError, match="m.sh:10: modprobe: FATAL: Module foo not found"):
            run_script(bad, filename="m.sh")


def test_bridge_stp_state_0_and_promisc_change_no_delivery() -> None:
    """PROMISC shows in the flags; on a bridge, its ports and a veth it changes no counter or outcome."""
    sim, kernel = both(BRIDGE)
    agree(sim, kernel)
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    assert "br0: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP>" in printed[28]
    assert "pa@if2: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP>" in printed[28]
    assert "eth0@if3: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP>" in printed[29]
    assert "<BROADCAST,MULTICAST,UP,LOWER_UP>" in printed[31]
    # br_netfilter shows the bridged request and reply to FORWARD; the copies a promiscuous br0
    # takes up are PACKET_OTHERHOST, dropped by ip_rcv before PREROUTING: INPUT counts none
    assert [p["outcome"] for p in kernel["probes"]] == ["reply", "connected"]
    assert counted(kernel["probes"][0], "sfR") == {("filter", "FORWARD", 1): 2}


def rows(text: str) -> tuple[str, list[str]]:
    """ss's header and its rows, sorted: the kernel lists listeners in a per-namespace hash order."""
    lines = text.splitlines()
    head = lines[0] if lines and lines[0].startswith(("State", "Netid")) else ""
    return head, sorted(lines[1:] if head else lines)


def test_ss_lists_the_namespaces_sockets() -> None:
    script = WORLD + SS.replace("ss -ulpn", "ss -uln")
    sim, kernel = both(script)
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"] if o["stdout"]}
    simulated = {o["line"]: o["stdout"] for o in sim["outputs"]}
    assert sorted(printed) == sorted(simulated) == [16, 17, 18, 19, 20, 21]
    for line, text in printed.items():
        assert rows(simulated[line]) == rows(text), line
    head, listed = rows(printed[16])
    assert head == "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"
    # backlogs as the tools listen: OpenBSD nc 1, python's socketserver 5; the probe left no socket
    assert listed == ["LISTEN 0      1            0.0.0.0:80        0.0.0.0:*          ",
                      "LISTEN 0      1          10.79.0.1:8080      0.0.0.0:*          ",
                      "LISTEN 0      5            0.0.0.0:8000      0.0.0.0:*          "]
    assert rows(printed[20]) == rows(printed[16])
    assert printed[21] == "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    assert [o["stdout"] for o in kernel["outputs"] if o["line"] == 22] == [""]  # sfB: no socket, -H: no header
    from simnet.conformance import compare

    assert not compare(sim, kernel)


def test_ss_p_is_refused_on_both_sides() -> None:
    from simnet.conformance import run_on_kernel
    from simnet.script import ScriptError

    message = "ss -p: simnet has no processes"
    with pytest.raises(ScriptError, match=message):
        run_script(WORLD + SS)
    if skip_reason():
        pytest.skip(skip_reason())
    with pytest.raises(ScriptError, match=message):
        run_on_kernel(WORLD + SS)
