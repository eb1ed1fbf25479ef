"""How nc and curl connections end, on the kernel and in simnet: FIN, FIN, ACK and TIME_WAIT.

Seen on Linux 6.18 in unshare -n namespaces (netcat-openbsd 1.219, socat, ncat, curl 7.88.1,
python3 -m http.server) before modelling: ``echo hi | nc -w 1`` and ``nc -z`` close first with
FIN,ACK (after -w idle, or at once), every server program closes on EOF with one FIN,ACK, the
client's last ACK leaves it in TIME-WAIT (``ss -tan``) and a router's conntrack in TIME_WAIT
[ASSURED]; http.server closes first once it has answered, so the server's side waits in
TIME-WAIT. The runner's nc/curl stand-ins close the same way (simnet.conformance), the echo
services are the real socat and ncat. Every per-flag counter (packets and bytes), conntrack
line, ss line and reply must agree.
"""

from __future__ import annotations

import re
import shutil

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

ROUTED = """\
ip netns add tc
ip netns add tr
ip netns add ts
ip -n tc link add eth0 type veth peer name c0 netns tr
ip -n ts link add eth0 type veth peer name s0 netns tr
ip -n tc addr add 10.1.0.2/24 dev eth0
ip -n tr addr add 10.1.0.1/24 dev c0
ip -n tr addr add 10.2.0.1/24 dev s0
ip -n ts addr add 10.2.0.2/24 dev eth0
ip -n tc link set eth0 up
ip -n tr link set c0 up
ip -n tr link set s0 up
ip -n ts link set eth0 up
ip -n tc link set lo up
ip -n ts link set lo up
ip -n tc route add default via 10.1.0.1
ip -n ts route add default via 10.2.0.1
ip netns exec tr sysctl -w net.ipv4.ip_forward=1
ip netns exec tr iptables -A FORWARD -m conntrack --ctstate INVALID
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL SYN
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL SYN,ACK
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL ACK
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL PSH,ACK
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL FIN,ACK
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags ALL RST,ACK
ip netns exec tr iptables -A FORWARD -p tcp --tcp-flags RST RST
"""

NC = ROUTED + """\
ip netns exec ts nc -l -k -p 80 &
echo hi | ip netns exec tc nc -w 1 -p 40001 10.2.0.2 80
# expect: connected from 10.1.0.2
ip netns exec tr iptables -vnxL FORWARD
ip netns exec tc ss -tan
ip netns exec tr iptables -Z FORWARD
ip netns exec tc nc -z -w 1 -p 40004 10.2.0.2 80
# expect: connected from 10.1.0.2
ip netns exec tr iptables -vnxL FORWARD
ip netns exec tc ss -tan
"""

ECHO = ROUTED + """\
ip netns exec ts socat TCP-LISTEN:8,fork,reuseaddr EXEC:cat &
ip netns exec ts ncat -l -k -p 10 -e /bin/cat &
echo hello | ip netns exec tc nc -w 1 -p 40002 10.2.0.2 8
echo hello | ip netns exec tc nc -w 1 -p 40003 10.2.0.2 10
ip netns exec tr conntrack -L
ip netns exec tc ss -tan
"""

HTTP = ROUTED + """\
mkdir -p /tmp/www
head -c 3000 /dev/zero > /tmp/www/f
ip netns exec ts python3 -m http.server --directory /tmp/www 80 &
ip netns exec tc curl -s -o /dev/null -m 2 http://10.2.0.2/f
ip netns exec tr conntrack -L
ip netns exec ts ss -tan
ip netns exec tc ss -tan
"""

def both(script: str) -> tuple[dict, dict]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    for tool in ("socat", "ncat", "python3"):
        if tool in script and shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (apt-get install {tool}; .ci/run installs it)")
    from simnet.conformance import run_on_kernel

    return run_script(script, filename="close.sh").to_json(), run_on_kernel(script, filename="close.sh")


def _ports(text: str) -> str:
    """Output lines with ephemeral ports (32768-60999, curl's) and conntrack's timeouts blanked, as
    each side picks its own, and sorted: the kernel lists TIME-WAIT sockets in its hash's order."""
    def blank(m: re.Match[str]) -> str:
        return m[1] + ("EPH" if 32768 <= int(m[2]) <= 60999 else m[2])
    text = re.sub(r"(?m)^(tcp\s+6\s+)\d+", r"\1T", text)  # conntrack's timeout: each side's clock
    return "\n".join(sorted(re.sub(r"([:=])(\d{5})\b", blank, text).splitlines()))


def agree(sim: dict, kernel: dict) -> tuple[dict[int, dict], dict[int, str]]:
    from simnet.conformance import compare

    differences = compare(sim, kernel)
    assert not differences, "\n".join(differences)
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"] + kernel["probes"])
    printed = {o["line"]: _ports(o["stdout"]) for o in kernel["outputs"]}
    assert {o["line"]: _ports(o["stdout"]) for o in sim["outputs"] if o["line"] in printed} == printed
    for s, k in zip(sim["probes"], kernel["probes"]):
        assert s["reply"] == k["reply"], s["line"]
    return {p["line"]: p for p in kernel["probes"]}, printed


def _counter(listing: str, flags: str) -> tuple[int, int]:
    for line in listing.splitlines():
        if line.rstrip().endswith(f"tcp flags:{flags}"):
            pkts, nbytes = line.split()[:2]
            return int(pkts), int(nbytes)
    raise AssertionError(f"no rule with flags {flags}")


def test_nc_clients_close_with_fin_and_wait_in_time_wait_as_on_the_kernel() -> None:
    sim, kernel = both(NC)
    probes, printed = agree(sim, kernel)
    # nc -l -k: SYN, SYN-ACK, ACK, the 3-byte write, the server's ACK, FIN,ACK both ways, the last ACK
    first = printed[30]
    assert [_counter(first, f) for f in ("0x3F/0x02", "0x3F/0x12", "0x3F/0x10", "0x3F/0x18", "0x3F/0x11",
                                         "0x04/0x04")] == [(1, 60), (1, 60), (3, 156), (1, 55), (2, 104), (0, 0)]
    assert "TIME-WAIT 0      0           10.1.0.2:EPH     10.2.0.2:80" in printed[31]
    # nc -z: the handshake and the close, no data, no RST
    assert [_counter(printed[35], f) for f in ("0x3F/0x10", "0x3F/0x11", "0x04/0x04")] == [(2, 104), (2, 104),
                                                                                          (0, 0)]
    assert all("TIME_WAIT" in e and "[ASSURED]" in e for e in probes[33]["conntrack"]["tr"])
    assert printed[36].count("TIME-WAIT") == 2


def test_echo_services_close_on_eof_as_on_the_kernel() -> None:
    """socat and ncat (the real programs) answer the client's FIN with theirs once cat has exited:
    on a loaded machine the kernel's delayed ACK (40 ms) may acknowledge the FIN first, one ACK
    more than simnet's (and than an unloaded run). Only that counter may differ, by one."""
    sim, kernel = both(ECHO)
    from simnet.conformance import compare

    differences = [d for d in compare(sim, kernel)
                   if not re.search(r"counter tr filter/FORWARD#(0|4) packets: simulator (\d+), kernel (\d+)", d)
                   or int(d.rsplit(" ", 1)[1]) - int(d.split("simulator ")[1].split(",")[0]) not in (0, 1)]
    assert not differences, "\n".join(differences)
    printed = {o["line"]: _ports(o["stdout"]) for o in kernel["outputs"]}
    assert {o["line"]: _ports(o["stdout"]) for o in sim["outputs"] if o["line"] in printed} == printed
    assert [p["reply"]["data"] for p in sim["probes"]] == [p["reply"]["data"] for p in kernel["probes"]] == \
        ["hello\n", "hello\n"]
    assert printed[31].count("TIME_WAIT") == 2 and printed[32].count("TIME-WAIT") == 2


def test_http_server_closes_first_and_waits_in_time_wait_as_on_the_kernel() -> None:
    sim, kernel = both(HTTP)
    _, printed = agree(sim, kernel)
    assert re.search(r"TIME_WAIT src=10.1.0.2 dst=10.2.0.2 sport=EPH dport=80 .*\[ASSURED\]", printed[31])
    assert "TIME-WAIT 0      0           10.2.0.2:80       10.1.0.2:EPH" in printed[32]
    assert "TIME-WAIT" not in printed[33]
