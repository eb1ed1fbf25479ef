"""Byte counters against the kernel, for drawn TCP option sysctls and datagram sizes (issue #12.9).

Hypothesis draws, per side, ``tcp_sack``/``tcp_timestamps``/``tcp_window_scaling`` (so SYN,
SYN-ACK, ACK and RST sizes vary as tcp_syn_options/tcp_synack_options decide), a ping ``-s``, a
UDP payload and the ICMP error a REJECT answers with; simnet and the real kernel must count the
same packets *and bytes* in every rule (compared by :func:`simnet.conformance.compare`, which
checks bytes since this issue). A fixed sample (derandomized), 8 worlds of about 7 s each.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

PAIR = """\
ip netns add kba
ip netns add kbb
ip -n kba link set lo up
ip -n kbb link set lo up
ip -n kba link add eth0 type veth peer name eth0 netns kbb
ip -n kba addr add 10.7.0.1/24 dev eth0
ip -n kbb addr add 10.7.0.2/24 dev eth0
ip -n kba link set eth0 up
ip -n kbb link set eth0 up
ip netns exec kbb sysctl -q -w net.ipv4.tcp_synack_retries=0
ip netns exec kba iptables -A OUTPUT -p tcp --tcp-flags ALL SYN
ip netns exec kba iptables -A OUTPUT -p tcp --tcp-flags ALL ACK
ip netns exec kba iptables -A OUTPUT -p tcp --tcp-flags ALL RST,ACK
ip netns exec kba iptables -A INPUT -p tcp --tcp-flags ALL SYN,ACK
ip netns exec kba iptables -A INPUT -p tcp --tcp-flags ALL RST,ACK
ip netns exec kba iptables -A INPUT -p icmp
ip netns exec kba iptables -A OUTPUT -p icmp
ip netns exec kba iptables -A OUTPUT -p udp
ip netns exec kbb nc -l -k -p 80 &
ip netns exec kbb nc -u -l -k -p 53 &
"""

OPTIONS = ("net.ipv4.tcp_sack", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_window_scaling")
REJECTS = ("icmp-port-unreachable", "icmp-host-prohibited", "icmp-admin-prohibited", "tcp-reset")


@st.composite
def worlds(draw: st.DrawFn) -> str:
    lines = [PAIR]
    for ns in ("kba", "kbb"):
        flags = draw(st.tuples(*[st.booleans() for _ in OPTIONS]), label=f"{ns} options")
        lines.append(f"ip netns exec {ns} sysctl -q -w " + " ".join(f"{k}={int(v)}" for k, v in zip(OPTIONS, flags)))
    size = draw(st.sampled_from([0, 8, 56, 100, 548, 600, 1472]), label="ping -s")
    data = draw(st.text("abc", min_size=1, max_size=40), label="udp data")
    reject = draw(st.sampled_from(REJECTS), label="reject")
    lines += [
        "ip netns exec kba nc -z -w 1 10.7.0.2 80",
        "ip netns exec kba nc -z -w 1 10.7.0.2 81",
        f"ip netns exec kba ping -c 1 -W 1 -s {size} 10.7.0.2",
        f"echo {data} | ip netns exec kba nc -u -w 1 10.7.0.2 53",
        f"ip netns exec kbb iptables -A INPUT -p {'tcp' if reject == 'tcp-reset' else 'all'} -j REJECT "
        f"--reject-with {reject}",
        "ip netns exec kba nc -z -w 1 10.7.0.2 80",
        f"ip netns exec kba ping -c 1 -W 1 -s {size} 10.7.0.2",
        f"echo {data} | ip netns exec kba nc -u -w 1 10.7.0.2 53",
    ]
    return "\n".join(lines) + "\n"


@settings(max_examples=8, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(worlds())
def test_bytes_agree_with_the_kernel(tmp_path_factory: pytest.TempPathFactory, script: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    path = tmp_path_factory.mktemp("bytes") / "world.sh"
    path.write_text(script)
    sim = run_script(script, filename=str(path)).to_json()
    kernel = run_on_kernel(str(path))
    assert all("bytes" in c for p in kernel["probes"] for cs in p["counters"].values() for c in cs)
    differences = compare(sim, kernel)
    assert not differences, script + "\n".join(differences)
