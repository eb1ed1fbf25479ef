"""Everyday shell forms of scenario scripts: what they do in simnet, as the real tools do it.

Expected texts and exit statuses were read off iptables 1.8.9 (nf_tables), coreutils'
timeout, OpenBSD nc, curl, kmod's modprobe, iproute2 6.1 and ss on Linux 6.18, in
``unshare -n`` namespaces; ``tests/kernel/test_shell_forms_kernel.py`` runs a script with
these forms through both simnet and the kernel runner.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simnet.netfilter.iptables import IptablesError, iptables
from simnet.netfilter.ruleset import Ruleset
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

TWO = """\
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
"""


def stdout(script: str) -> list[str]:
    return [o["stdout"] for o in run_script(TWO + script).outputs]


def probes(script: str) -> list[dict]:
    return [p.to_json() for p in run_script(TWO + script).probes]


# --------------------------------------------------------------------------- 1. iptables' bundled options

NVL_EMPTY_INPUT = (
    "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
    " pkts bytes target     prot opt in     out     source               destination         \n")


def test_bundled_list_options_print_what_iptables_prints() -> None:
    out = stdout("ip netns exec a iptables -A INPUT -p tcp --dport 80 -j ACCEPT\n"
                 "ip netns exec a iptables -vnL INPUT --line-numbers\n"
                 "ip netns exec a iptables -vS INPUT\n"
                 "ip netns exec a iptables -t nat -nvL --line-numbers\n"
                 "ip netns exec a iptables -nvLINPUT\n")
    assert out[0] == (
        "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
        "num   pkts bytes target     prot opt in     out     source               destination         \n"
        "1        0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80\n")
    # iptables-nft puts -S -v's counters between the matches and the target
    assert out[1] == "-P INPUT ACCEPT -c 0 0\n-A INPUT -p tcp -m tcp --dport 80 -c 0 0 -j ACCEPT\n"
    assert out[2].startswith("Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\nnum   pkts bytes target")
    assert out[3] == NVL_EMPTY_INPUT + (
        "    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80\n")


def test_nvl_on_a_fresh_namespace_lists_three_empty_chains() -> None:
    out = stdout("ip netns exec a iptables -nvL\n")
    assert out[0].count("Chain ") == 3 and out[0].startswith(NVL_EMPTY_INPUT)


@pytest.mark.parametrize(("argv", "message", "status"), [
    # the rest of the word is -L's (optional) chain, so -Lv names chain `v'
    ("-Lv", "iptables v1.8.9 (nf_tables): chain `v' in table `filter' is incompatible, use 'nft' tool.", 1),
    ("-nvLFOO", "iptables v1.8.9 (nf_tables): chain `FOO' in table `filter' is incompatible, use 'nft' tool.", 1),
    ("-Lv INPUT", "iptables v1.8.9 (nf_tables): Invalid rule number `INPUT'", 2),
    ("-nS", "iptables v1.8.9 (nf_tables): Illegal option `-n' with this command", 2),
    ("-F -n", "iptables v1.8.9 (nf_tables): Illegal option `-n' with this command", 2),
    ("-A INPUT -x -j ACCEPT", "iptables v1.8.9 (nf_tables): Illegal option `-x' with this command", 2),
    ("-S --line-numbers", "iptables v1.8.9 (nf_tables): Illegal option `-0' with this command", 2),
    ("-nvZL", "iptables v1.8.9 (nf_tables): Illegal option `-n' with this command", 2),  # -Z's chain `L'
    ("-nq", 'iptables v1.8.9 (nf_tables): unknown option "-nq"', 2),
    ("-qn", 'iptables v1.8.9 (nf_tables): unknown option "iptables"', 2),  # getopt's optind is still on it
    ("-vn", "iptables v1.8.9 (nf_tables): no command specified", 2),
    ("-nvL INPUT x", "iptables v1.8.9 (nf_tables): Invalid rule number `x'", 2),
])
def test_bundles_fail_as_iptables_fails(argv: str, message: str, status: int) -> None:
    with pytest.raises(IptablesError) as e:
        iptables(Ruleset(), argv.split())
    assert str(e.value).splitlines()[0] == message and e.value.exit_code == status


def test_list_and_zero_together_list_first_then_zero() -> None:
    rs = Ruleset()
    iptables(rs, ["-A", "INPUT", "-j", "ACCEPT", "-c", "5", "300"])
    out = iptables(rs, ["-vnL", "INPUT", "-Z"])
    assert "    5   300 ACCEPT" in out and out.endswith("Zeroing chain `INPUT'\n")
    assert "    0     0 ACCEPT" in iptables(rs, ["-L", "-Z", "-nv"])


def test_verbose_names_what_it_flushes_and_prints_the_rule_it_adds() -> None:
    rs = Ruleset()
    assert iptables(rs, ["-vA", "INPUT", "-s", "1.2.3.4", "-j", "DROP"]) == \
        "DROP  all opt -- in * out *  1.2.3.4  -> 0.0.0.0/0  \n"
    assert iptables(rs, ["-N", "U"]) == ""
    assert iptables(rs, ["-vF"]) == "".join(f"Flushing chain `{c}'\n" for c in ("INPUT", "FORWARD", "OUTPUT", "U"))
    assert rs.table("filter").chain("INPUT").entries == []
    assert iptables(rs, ["-vX"]) == "Deleting chain `U'\n"


@given(st.permutations(["-n", "-v", "-x"]), st.integers(1, 3))
def test_a_bundle_lists_as_the_separate_options_do(flags: list[str], cut: int) -> None:
    """getopt: ``-nvx -L`` ≡ ``-n -v -x -L``, however the flags are grouped (the -L last)."""
    rs = Ruleset()
    iptables(rs, ["-A", "FORWARD", "-i", "eth0", "-j", "DROP", "-c", "123456", "9999999"])
    letters = "".join(f[1] for f in flags)
    grouped = ["-" + letters[:cut], *(["-" + letters[cut:] + "L"] if letters[cut:] else ["-L"])]
    assert iptables(rs, grouped) == iptables(rs, [*flags, "-L"])


# --------------------------------------------------------------------------- 2. probes bounded by timeout(1)

DROP_81 = "ip netns exec a iptables -A INPUT -p tcp --dport 81 -j DROP\n"


def syns(p: dict) -> int:
    return sum(c["packets"] for c in p["counters"].get("a", []) if c["chain"] == "INPUT" and c["rule"] == 1)


@pytest.mark.parametrize(("line", "outcome", "sent"), [
    # nc waits for the connect until the kill (exit 124): the SYN and its retransmission at 1 s
    ("ip netns exec b timeout 2 nc -z 10.0.0.1 81", "timeout", 2),
    ("ip netns exec b timeout 2s nc -z 10.0.0.1 81", "timeout", 2),
    ("ip netns exec b timeout -s KILL 2 nc -z 10.0.0.1 81", "timeout", 2),
    ("ip netns exec b timeout --signal=INT -k 1 0.5 nc -z -w 3 10.0.0.1 81", "timeout", 1),
    ("timeout 1.5 ip netns exec b nc -z -w 4 10.0.0.1 81", "timeout", 2),
    ("ip netns exec b timeout 3 nc -z -w 1 10.0.0.1 81", "timeout", 1),  # nc's own -w ends first
    ("ip netns exec b timeout 0 nc -z 10.0.0.1 81", "timeout", 1),  # 0: no limit; nc's 1 s default
    ("ip netns exec b timeout 2 curl -s -o /dev/null http://10.0.0.1:81/", "timeout", 2),
    ("ip netns exec b timeout 5 curl --max-time 1 http://10.0.0.1:81/", "timeout", 1),
    ("ip netns exec b timeout 2 nc -z 10.0.0.1 82", "refused", 0),
])
def test_timeout_bounds_a_tcp_probe(line: str, outcome: str, sent: int) -> None:
    (p,) = probes(DROP_81 + line + "\n")
    assert p["outcome"] == outcome and syns(p) == sent


def test_timeout_bounds_ping_to_the_requests_sent_before_the_kill() -> None:
    drop = "ip netns exec a iptables -A INPUT -p icmp -j DROP\n"
    p1, p2, p3 = probes(drop + "ip netns exec b timeout 2 ping -c 5 10.0.0.1\n"
                        "ip netns exec b timeout 3 ping -c 1 10.0.0.1\n"
                        "ip netns exec b timeout 2 ping -c 1 -W 1 10.0.0.1\n")
    assert [p["outcome"] for p in (p1, p2, p3)] == ["timeout"] * 3
    assert [syns(p) for p in (p1, p2, p3)] == [2, 1, 1]
    (ok,) = probes("ip netns exec b timeout 2 ping -c 1 10.0.0.1\n# expect: reply from 10.0.0.1\n")
    assert ok["outcome"] == "reply" and ok["expect"]["ok"]


def test_timeout_around_a_listener_or_a_plain_command() -> None:
    report = run_script(TWO + "ip netns exec a timeout 5 iptables -A INPUT -j ACCEPT\n"
                              "ip netns exec a timeout 1 sleep 3\n")
    assert report.world.now == pytest.approx(1.0)
    assert len(report.world.netns("a").ruleset.table("filter").chain("INPUT").entries) == 1
    with pytest.raises(ScriptError, match="timeout around a background listener"):
        run_script(TWO + "ip netns exec a timeout 5 nc -l -p 80 &\n")


@pytest.mark.parametrize(("line", "message"), [
    ("timeout 2x ip netns exec b nc -z 10.0.0.1 80", "<script>:8: timeout: invalid time interval '2x'"),
    ("ip netns exec b timeout -s FOO 2 nc -z 10.0.0.1 80", "<script>:8: timeout: 'FOO': invalid signal"),
    ("ip netns exec b timeout 2", "<script>:8: timeout: missing operand after '2'"),
    ("ip netns exec b timeout --bogus 2 nc -z 10.0.0.1 80", "<script>:8: timeout: unrecognized option '--bogus'"),
])
def test_timeout_refuses_what_coreutils_refuses(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script(TWO + line + "\n")
    assert str(e.value) == message


@given(st.floats(0.1, 4.9), st.integers(1, 5))
def test_ping_under_timeout_never_outlives_the_kill(limit: float, count: int) -> None:
    """However timeout and -c meet, the probe ends by the limit and sends a request per started second."""
    report = run_script(TWO + "ip netns exec a iptables -A INPUT -p icmp -j DROP\n"
                              f"ip netns exec b timeout {limit:.2f} ping -c {count} 10.0.0.1\n")
    (p,) = [p.to_json() for p in report.probes]
    limit = float(f"{limit:.2f}")
    assert report.world.now <= limit + 1e-6
    assert syns(p) == min(count, -int(-limit // 1)) and p["outcome"] == "timeout"


# --------------------------------------------------------------------------- 3. sh -c 'COMMANDS'

def test_sh_c_runs_its_commands_in_the_outer_namespace() -> None:
    report = run_script(TWO + "ip netns exec a sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'\n"
                              "ip netns exec b bash -c \"sysctl -w net.ipv4.ip_forward=1\"\n"
                              "ip netns exec a sh -c 'iptables -A INPUT -p icmp -j DROP; iptables -S INPUT'\n"
                              "ip netns exec b sh -ec 'ping -c 1 10.0.0.1'\n"
                              "# expect: timeout\n")
    assert report.world.netns("a").sysctls.get_int("net.ipv4.ip_forward") == 1
    assert report.world.netns("b").sysctls.get_int("net.ipv4.ip_forward") == 1
    assert [o["stdout"] for o in report.outputs if o["line"] == 10] == ["-P INPUT ACCEPT\n-A INPUT -p icmp -j DROP\n"]
    (p,) = [p.to_json() for p in report.probes]
    assert p["line"] == 11 and p["outcome"] == "timeout" and p["expect"]["ok"]
    assert p["counters"]["a"] == [{"table": "filter", "chain": "INPUT", "rule": 1, "packets": 1, "bytes": 84}]


def test_sh_c_background_listener_and_a_namespace_entered_inside() -> None:
    (p,) = probes("ip netns exec a sh -c 'nc -l -k -p 80' &\n"
                  "sh -c 'ip netns exec b nc -z 10.0.0.1 80'\n"
                  "# expect: connected from 10.0.0.2\n")
    assert p["outcome"] == "connected" and p["from"] == "b" and p["received"]["ns"] == "a"
    (q,) = probes("ip netns exec a sh -c 'ip netns exec b nc -z 10.0.0.1 80'\n")  # b, not a
    assert q["from"] == "b" and q["outcome"] == "refused"


@pytest.mark.parametrize(("line", "message"), [
    # errors inside the quoted text name the outer line
    ("ip netns exec a sh -c 'iptables -A NOPE -j ACCEPT'",
     "<script>:8: iptables: No chain/target/match by that name."),
    ("ip netns exec a sh -c 'echo $(hostname)'",
     "<script>:8: in sh -c: unsupported shell construct '$(...)': simnet does not run a shell, so command "
     "substitution is not available; write the value literally"),
    ("ip netns exec a sh -c 'nc -l -p 80; nc -l -p 81' &",
     "<script>:8: sh -c '...' & with more than one command: only a single listener may run in the background"),
    ("ip netns exec a sh script.sh", "<script>:8: sh without -c: simnet runs no shell scripts; write the "
                                     "commands in this script, or pass them with -c 'COMMANDS'"),
    ("ip netns exec a bash -c", "<script>:8: bash: -c: option requires an argument"),
])
def test_sh_c_errors_name_the_outer_file_and_line(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script(TWO + line + "\n")
    assert str(e.value) == message


# --------------------------------------------------------------------------- 4. curl -w/-o, nc < /dev/null

def test_curl_write_out_prints_what_curl_prints() -> None:
    report = run_script(TWO + "ip netns exec a python3 -m http.server 80 &\n"
                              "ip netns exec a nc -l -k -p 8080 &\n"
                              "ip netns exec b curl --max-time 2 -o /dev/null -s -w '%{http_code}' http://10.0.0.1/\n"
                              "ip netns exec b curl -m 1 -so /dev/null -w '%{http_code} %{remote_ip}:%{remote_port}"
                              " %{exitcode} %{num_connects}\\n' http://10.0.0.1:8080/\n"
                              "ip netns exec b curl -m 1 -sS -w '%{response_code}|%{remote_ip}|%{remote_port}|"
                              "%{exitcode}%{onerror} failed %%\\t\\n' -o /dev/null http://10.0.0.1:81/\n"
                              "ip netns exec a iptables -A INPUT -p tcp --dport 82 -j DROP\n"
                              "ip netns exec b curl -m 1 -w '%{exitcode}' -o /dev/null http://10.0.0.1:82/\n")
    assert [o["stdout"] for o in report.outputs] == [
        "200",
        "000 10.0.0.1:8080 28 1\n",  # nc answers no HTTP: curl waits until --max-time (exit 28)
        "000||0|7 failed %\t\n",  # refused: exit 7, no remote address; %{onerror} lets the rest through
        "28"]
    assert [p.result.outcome for p in report.probes] == ["connected", "connected", "refused", "timeout"]


@pytest.mark.parametrize(("option", "message"), [
    ("-w '%{size_download}'", "curl -w: %{size_download} is not known to simnet's probe"),
    ("-w @fmt.txt", "curl -w @FILE: simnet reads no files; give the format itself"),
    ("-o page.html", "curl -o page.html: simnet writes no files; use -o /dev/null"),
    ("-w", "curl: option -w: requires parameter"),
])
def test_curl_refuses_what_it_cannot_model(option: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message.replace("{", r"\{").replace("}", r"\}")):
        run_script(TWO + f"ip netns exec b curl -m 1 http://10.0.0.1/ {option}\n")


def test_nc_reading_dev_null_writes_no_datagram() -> None:
    """OpenBSD nc writes nothing from empty input, nor under -u -z: no datagram reaches INPUT."""
    ps = probes("ip netns exec a nc -u -l -k -p 53 &\n"
                "ip netns exec a iptables -A INPUT -p udp -j ACCEPT\n"
                "ip netns exec b nc -u -w1 10.0.0.1 53 < /dev/null\n"
                "ip netns exec b nc -u -z -w1 10.0.0.1 53\n"
                "ip netns exec b nc -u -w1 10.0.0.1 53 </dev/null\n"
                "echo x | ip netns exec b nc -u -w1 10.0.0.1 53\n"
                "ip netns exec b nc -u -w1 10.9.9.9 53 < /dev/null\n"
                "ip netns exec b nc -z -w1 10.0.0.1 53 < /dev/null\n")
    assert [(p["outcome"], p["errno"]) for p in ps] == [
        ("lost", None), ("lost", None), ("lost", None), ("delivered", None), ("error", "ENETUNREACH"),
        ("refused", "ECONNREFUSED")]
    assert [p["counters"] for p in ps[:3]] == [{}, {}, {}]
    assert ps[3]["counters"]["a"] == [{"table": "filter", "chain": "INPUT", "rule": 1, "packets": 1, "bytes": 30}]


def test_input_from_a_file_reads_the_hosts_file_when_the_line_runs() -> None:
    """`< FILE` is opened by the shell (the host's files, relative to /root): missing, bash's words; written
    before, its bytes are the datagram."""
    with pytest.raises(ScriptError, match=r"<script>:8: bash: query.bin: No such file or directory"):
        run_script(TWO + "ip netns exec b nc -u -w1 10.0.0.1 53 < query.bin\n")
    r = run_script(TWO + "printf 'q' > query.bin\nip netns exec a nc -u -l 53 &\n"
                         "ip netns exec b nc -u -w1 10.0.0.1 53 < /root/query.bin\n# expect: delivered\n")
    assert r.probes[0].ok and r.probes[0].result.traces[0].packet.payload == b"q"


# --------------------------------------------------------------------------- 5. modprobe

def test_modprobe_of_a_modelled_module_changes_nothing() -> None:
    plain = run_script(TWO + "ip netns exec b ping -c 1 10.0.0.1\n")
    loaded = run_script(TWO.replace("ip netns add b\n", "ip netns add b\nmodprobe br_netfilter\nmodprobe nf_conntrack\n"
                                    "modprobe overlay\nmodprobe -a xt_conntrack ip-set\n")
                        + "ip netns exec a modprobe -q veth\n" + "ip netns exec b ping -c 1 10.0.0.1\n")
    assert [p.result.outcome for p in loaded.probes] == [p.result.outcome for p in plain.probes] == ["reply"]
    assert loaded.outputs == [] and loaded.world.netns("a").sysctls.get_int("net.ipv4.ip_forward") == 0


@pytest.mark.parametrize(("line", "message"), [
    ("modprobe foo", "modprobe: FATAL: Module foo not found in directory /lib/modules/6.18.0-simnet"),
    ("modprobe -a overlay foo", "modprobe: FATAL: Module foo not found in directory /lib/modules/6.18.0-simnet"),
    ("modprobe -r br_netfilter", "modprobe: FATAL: Module br_netfilter is builtin."),
    ("modprobe -r nosuch", "modprobe: FATAL: Module nosuch not found."),
    ("modprobe", "modprobe: ERROR: missing parameters. See -h."),
    ("modprobe -x foo", "modprobe: invalid option -- 'x'"),
    ("modprobe -q foo", "modprobe failed (-q: no message)"),
])
def test_modprobe_fails_in_kmods_words(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script(TWO + line + "\n")
    assert str(e.value) == f"<script>:8: {message}"


# --------------------------------------------------------------------------- 6. bridge options, promisc

BRIDGED = """\
ip netns add a
ip netns add b
ip netns add r
ip -n r link add br0 type bridge stp_state 0
ip -n r link set br0 type bridge stp_state 0
ip -n a link add eth0 type veth peer name pa netns r
ip -n b link add eth0 type veth peer name pb netns r
ip -n r link set pa master br0
ip -n r link set pb master br0
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n r link set pa up
ip -n r link set pb up
ip -n r link set br0 up
ip netns exec r iptables -A INPUT -j ACCEPT
ip netns exec r iptables -A FORWARD -j ACCEPT
"""


def test_promisc_shows_in_the_flags_and_changes_no_delivery() -> None:
    ping = "ip netns exec a ping -c 1 10.0.0.2\n"
    plain = run_script(BRIDGED + ping)
    report = run_script(BRIDGED + "ip netns exec r ip link set dev pa promisc on\n"
                                  "ip -n r link set br0 promisc on\nip -n a link set eth0 promisc on\n" + ping
                        + "ip -n r link show br0\nip -n r link set br0 promisc off\nip -n r link show br0\n")
    (p,), (q,) = plain.probes, report.probes
    assert p.result.outcome == q.result.outcome == "reply"
    assert p.counters == q.counters == {"r": [{"table": "filter", "chain": "FORWARD", "rule": 1, "packets": 2,
                                                              "bytes": 168}]}
    shown = [o["stdout"].split("\n")[0] for o in report.outputs]
    assert "br0: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP>" in shown[0]
    assert "br0: <BROADCAST,MULTICAST,UP,LOWER_UP>" in shown[1]


@pytest.mark.parametrize(("line", "message"), [
    ("ip -n r link set br0 type bridge vlan_filtering 0", "RTNETLINK answers: Operation not supported"),
    ("ip -n r link add br1 type bridge vlan_filtering 0 stp_state 0", "RTNETLINK answers: Operation not supported"),
    ("ip -n r link set pa type bridge stp_state 0", "RTNETLINK answers: Operation not supported"),
    ("ip -n r link add br1 type bridge stp_state 1",
     "ip -n r: simnet does not model stp_state 1 (STP: ports held in listening and learning for twice "
     "forward_delay)"),
    ("ip -n r link set br0 type bridge stp_state 2", "ip -n r: simnet does not model stp_state 2"),
    ("ip -n r link add br1 type bridge stp_state x", 'ip -n r: Error: argument "x" is wrong: invalid stp_state'),
    ("ip -n r link add br1 type bridge foo 1", 'ip -n r: bridge: unknown command "foo"?'),
    ("ip -n r link set br0 type bridge stp_state 0 up", 'ip -n r: bridge: unknown command "up"?'),
    ("ip -n r link set br0 type bridge stp_state", 'ip -n r: Command line is not complete. Try option "help"'),
    ("ip -n r link set pa promisc maybe", 'ip -n r: Error: argument of "promisc" must be "on" or "off", not "maybe"'),
])
def test_bridge_options_fail_as_iproute2_and_this_kernel_fail(line: str, message: str) -> None:
    """vlan_filtering: this machine's kernel has no CONFIG_BRIDGE_VLAN_FILTERING and refuses even 0."""
    with pytest.raises(ScriptError) as e:
        run_script(BRIDGED + line + "\n")
    assert str(e.value).startswith(f"<script>:19: {message}")


# --------------------------------------------------------------------------- 7. ss

LISTENERS = ("ip netns exec a nc -l -k -p 80 &\n"
             "ip netns exec a nc -l -k -s 10.0.0.1 -p 8080 &\n"
             "ip netns exec a nc -u -l -k -p 53 &\n"
             "ip netns exec a python3 -m http.server 8000 &\n")


def test_ss_prints_the_listeners_as_ss_does() -> None:
    out = stdout(LISTENERS + "ip netns exec b nc -z -w 1 10.0.0.1 80\n"
                 "ip netns exec a ss -tln\nip netns exec a ss -uln\nip netns exec a ss -tlun\n"
                 "ip netns exec a ss -tulnH\nip netns exec a ss -tan\nip netns exec a ss -tn\n"
                 "ip netns exec b ss -tulnH\nkill %1\nip netns exec a ss --tcp --listening --numeric\n")
    assert out[0] == ("State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
                      "LISTEN 0      1            0.0.0.0:80        0.0.0.0:*          \n"
                      "LISTEN 0      5            0.0.0.0:8000      0.0.0.0:*          \n"
                      "LISTEN 0      1           10.0.0.1:8080      0.0.0.0:*          \n")
    assert out[1] == ("State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
                      "UNCONN 0      0            0.0.0.0:53        0.0.0.0:*          \n")
    assert out[2].startswith("Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
                             "udp   UNCONN 0      0            0.0.0.0:53        0.0.0.0:*          \n"
                             "tcp   LISTEN 0      1            0.0.0.0:80        0.0.0.0:*          \n")
    assert out[3].splitlines()[0] == "udp UNCONN 0      0       0.0.0.0:53   0.0.0.0:*"  # -H: no header, none padded
    assert out[4] == out[0]  # -a: the listeners; the probe's connection was aborted, nothing else is left
    assert out[5] == "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    # b has no sockets (and -H no header: nothing printed); after kill %1 port 80 is gone
    assert len(out) == 7 and "0.0.0.0:80 " not in out[6] and "0.0.0.0:8000" in out[6]


@pytest.mark.parametrize(("line", "message"), [
    ("ss -tlnp", 'ss -p: simnet has no processes, so there is no users:(("nc",pid=...,fd=3)) column to print; '
                 "drop -p"),
    ("ss -ulpn", "ss -p: simnet has no processes"),
    ("ss -tl", "ss without -n names ports from /etc/services; simnet prints numbers: add -n"),
    ("ss -ln", "ss without -t or -u lists unix, netlink and raw sockets too; give -t and/or -u"),
    ("ss -tln sport = :80", "ss: simnet does not take filters or arguments ('sport')"),
    ("ss -tlne", "ss: simnet does not model -e (socket details)"),
])
def test_ss_refuses_what_it_cannot_print_faithfully(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script(TWO + "ip netns exec a " + line + "\n")
    assert str(e.value).startswith(f"<script>:8: {message}")
