"""The #15 IP-layer transcripts replayed on this kernel: what ``ip route get``, ``ip link show``,
``iptables -L -v -x`` and ping print must be what simnet prints (or, for ping, reports).

Each transcript runs in a throwaway mount+network namespace (its own /run/netns), with ICMP
rate limiting off in its namespaces as the conformance runner does.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason
from tests.unit.test_mtu import BRIDGE_PORT_1400, REFRAGMENT, ROUTER

pytestmark = pytest.mark.kernel

_MARK = "@@@"

#: commands whose printed lines are compared verbatim
_COMPARED = re.compile(r"^ip (-n \S+ )?route (get|show) |^ip netns exec \S+ iptables .*-L|^ip (-n \S+ )?link show ")

PMTU = ROUTER + """\
ip netns exec r iptables -A FORWARD -f
ip netns exec r iptables -A FORWARD
ip netns exec b iptables -A INPUT -f
ip netns exec b iptables -A INPUT
ip netns exec a ping -c 1 -W 1 10.0.2.2
ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2
ip -n a route get 10.0.2.2
ip -n a route show cache
ip -n a route show cache 10.0.2.0/24
ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2
ip netns exec a ping -c 2 -i 0.2 -W 1 -s 1472 10.0.2.2
ip netns exec a ping -c 1 -W 1 -s 1472 -M dont 10.0.2.2
ip netns exec a ping -c 1 -W 1 -s 2000 -M do 10.0.2.2
ip netns exec r iptables -L FORWARD -v -n -x
ip netns exec b iptables -L INPUT -v -n -x
ip -n a route flush cache
ip -n a route get 10.0.2.2
ip -n a route show cache
ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2
ip -n a route get 10.0.2.2
"""

SYSCTLS = ROUTER.replace("ip -n r link set rb up mtu 1400", "ip -n r link set rb up mtu 500").replace(
    "ip -n b link set vb up mtu 1400", "ip -n b link set vb up mtu 500") + """\
ip -n r addr add 10.0.3.1/24 dev rb
ip -n b addr add 10.0.3.2/24 dev vb
ip netns exec a ping -c 2 -i 0.2 -W 1 -s 1000 -M do 10.0.2.2
ip -n a route get 10.0.2.2
ip netns exec a ping -c 1 -W 1 -s 1000 10.0.2.2
ip netns exec a ping -c 1 -W 1 -s 540 -M do 10.0.2.2
ip netns exec a sysctl -qw net.ipv4.route.mtu_expires=5
ip netns exec a sysctl -qw net.ipv4.ip_no_pmtu_disc=1
ip netns exec a ping -c 1 -W 1 -s 1000 -M do 10.0.3.2
ip netns exec a ping -c 1 -W 1 -s 1000 10.0.3.2
ip -n a route get 10.0.3.2
ip netns exec a sysctl -qw net.ipv4.ip_no_pmtu_disc=2
ip -n r link set rb mtu 1000
ip -n b link set vb mtu 1000
ip -n b addr add 10.0.4.2/24 dev vb
ip -n r addr add 10.0.4.1/24 dev rb
ip netns exec a ping -c 1 -W 1 -s 1200 -M do 10.0.4.2
ip -n a route get 10.0.4.2
ip netns exec a sysctl -qw net.ipv4.ip_no_pmtu_disc=0
ip netns exec a sysctl -qw net.ipv4.route.min_pmtu=1100
ip -n b addr add 10.0.5.2/24 dev vb
ip -n r addr add 10.0.5.1/24 dev rb
ip netns exec a ping -c 1 -W 1 -s 1200 -M do 10.0.5.2
ip -n a route get 10.0.5.2
ip netns exec a ping -c 1 -W 1 -s 1200 10.0.5.2
sleep 5.2
ip -n a route get 10.0.3.2
"""

LINKS = BRIDGE_PORT_1400 + """\
ip netns exec c ping -c 1 -W 1 10.0.5.2
ip netns exec c ping -c 1 -W 1 -s 1372 -M do 10.0.5.2
ip netns exec c ping -c 1 -W 1 -s 1376 -M do 10.0.5.2
ip netns exec d ping -c 1 -W 1 -s 1376 -M do 10.0.5.1
ip netns exec d ping -c 1 -W 1 -s 1377 -M do 10.0.5.1
ip -n a link show br0
ip -n a link add v1 type veth peer name v2 mtu 9000
ip -n a link show v2
ip -n a link add v3 mtu 2000 type veth peer name v4
ip -n a link show v3
ip -n a link show v4
ip -n a link add vx0 type vxlan id 5 dstport 4789 dev v3
ip -n a link show vx0
ip -n a link add vx1 mtu 9000 type vxlan id 6 dstport 4789 dev v3
ip -n a link show vx1
ip -n a link set v3 mtu 0x600
ip -n a link show v3
"""


def _kernel(script: str) -> list[tuple[str, str]]:
    """(command, what it printed on stdout and stderr) for each line, run on this kernel."""
    lines = [ln for ln in script.splitlines() if ln.strip()]
    shell = []
    for ln in lines:
        shell.append(f"echo '{_MARK}'")
        shell.append(f"timeout 10 {ln} 2>&1")
        if ln.startswith("ip netns add"):
            shell.append(f"ip netns exec {ln.split()[-1]} sysctl -qw net.ipv4.icmp_ratelimit=0")
    inner = "mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns && sh -c \"$0\""
    proc = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "sh", "-c", inner, "\n".join(shell)],
                          capture_output=True, text=True, timeout=120)
    chunks = proc.stdout.split(_MARK + "\n")[1:]
    assert len(chunks) == len(lines), proc.stderr
    return list(zip(lines, chunks))


def _ping_says(result: dict) -> str:
    """The line ping prints for a simnet probe result (the kernel's ping must print it)."""
    if result["outcome"] == "reply":
        return f" {result['ping']['received']} received"
    if result["outcome"] == "unreachable" and result["icmp"]["code"] == 4:
        return f"From {result['icmp']['from']} icmp_seq=1 Frag needed and DF set (mtu = {result['icmp']['mtu']})"
    if result["errno"] == "EMSGSIZE":
        return f"ping: local error: message too long, mtu={result['ping']['mtu']}"
    if result["errno"] == "ENOBUFS":
        return "ping: sendmsg: No buffer space available"
    assert result["outcome"] == "timeout", result
    return " 0 received, 100% packet loss"


@pytest.mark.parametrize("name, script", [("pmtu", PMTU), ("sysctls", SYSCTLS), ("links", LINKS),
                                          ("refragment", REFRAGMENT)], ids=lambda x: x if len(x) < 20 else "")
def test_the_transcript_is_the_kernels(name: str, script: str) -> None:
    reason = skip_reason() or (None if shutil.which("ping") else "needs ping (apt-get install iputils-ping)")
    if reason:
        pytest.skip(reason)
    report = run_script(script).to_json()
    sim_out = {o["line"]: o["stdout"] for o in report["outputs"]}
    sim_probe = {p["line"]: p for p in report["probes"]}
    kernel = _kernel(script)
    assert "\n\n" not in script  # a transcript's n-th command is its line n
    for where, (cmd, printed) in enumerate(kernel, start=1):
        if _COMPARED.search(cmd):
            sim = sim_out.get(where, "")  # a command that printed nothing is not in the report
            if " link show " in cmd:  # the MACs are random: compare the first line up to the qdisc
                sim, printed = (re.sub(r" qdisc.*", "", t.splitlines()[0]) for t in (sim, printed))
            if " iptables " in cmd:
                # iptables-nft -L prints the base chain's policy counter as 0 here while
                # iptables-save -c counts it (the conformance runner compares those): rules only
                sim, printed = (re.sub(r"\(policy \w+ \d+ packets, \d+ bytes\)", "(policy)", t) for t in (sim, printed))
            # 'cache expires Nsec' counts whole seconds left: the kernel prints 600 when it answers
            # within the jiffy the exception was made in and 599 a jiffy later (load decides), so
            # the kernel's N may be one more than simnet's
            sim_n, ker_n = (re.findall(r"expires (\d+)sec", t) for t in (sim, printed))
            if len(sim_n) == len(ker_n) and all(0 <= int(k) - int(s_) <= 1 for s_, k in zip(sim_n, ker_n)):
                printed = re.sub(r"expires \d+sec", "expires Nsec", printed)
                sim = re.sub(r"expires \d+sec", "expires Nsec", sim)
            assert sim == printed, f"{cmd}\nsimnet:\n{sim}\nkernel:\n{printed}"
        elif where in sim_probe:
            assert _ping_says(sim_probe[where]) in printed, f"{cmd}\nsimnet: {sim_probe[where]['outcome']}\n" \
                                                             f"kernel:\n{printed}"
