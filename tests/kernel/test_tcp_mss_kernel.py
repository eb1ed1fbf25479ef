"""TCP MSS against the kernel (issue #15): drawn route ``advmss``, device MTUs and TCPMSS rules.

Hypothesis draws the client route's ``advmss`` (none or a value), the server link's MTU, and a
TCPMSS rule on the router (none, ``--set-mss N`` on SYNs or on every segment, or
``--clamp-mss-to-pmtu`` in FORWARD or POSTROUTING); ``-m tcpmss`` rules in the router's FORWARD
chain count each MSS that passes. simnet and the real kernel must count the same packets and
bytes in every rule (:func:`simnet.conformance.compare`). A fixed sample of 6 worlds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

WORLD = """\
ip netns add kma
ip netns add kmb
ip netns add kmr
ip -n kma link add eth0 type veth peer name lan netns kmr
ip -n kmb link add eth0 type veth peer name wan netns kmr
ip -n kma addr add 10.8.1.2/24 dev eth0
ip -n kmr addr add 10.8.1.1/24 dev lan
ip -n kmb addr add 10.8.2.2/24 dev eth0
ip -n kmr addr add 10.8.2.1/24 dev wan
ip -n kma link set eth0 up
ip -n kmr link set lan up
ip -n kmr link set wan up
ip -n kmb link set eth0 up
ip -n kmb route add default via 10.8.2.1
ip netns exec kmr sysctl -qw net.ipv4.ip_forward=1
ip netns exec kmb nc -l -k -p 80 &
"""
BUCKETS = ("0:535", "536", "537:999", "1000", "1001:1199", "1200", "1201:1259", "1260", "1261:1359", "1360",
           "1361:1459", "1460", "1461:65535")


@st.composite
def worlds(draw: st.DrawFn) -> str:
    lines = [WORLD]
    advmss = draw(st.sampled_from([0, 536, 1000, 1200, 1400, 9000]), label="advmss")
    lines.append("ip -n kma route add default via 10.8.1.1" + (f" advmss {advmss}" if advmss else ""))
    mtu = draw(st.sampled_from([1500, 1400, 1300, 1280, 576]), label="server mtu")
    lines += [f"ip -n kmb link set eth0 mtu {mtu}", f"ip -n kmr link set wan mtu {mtu}"]
    lines += [f"ip netns exec kmr iptables -A FORWARD -p tcp -m tcpmss --mss {b}" for b in BUCKETS]
    lines.append("ip netns exec kmr iptables -A FORWARD -p tcp -m tcpmss ! --mss 0:65535")
    rule = draw(st.sampled_from([
        None, "-A FORWARD -p tcp --syn -j TCPMSS --set-mss {n}", "-A FORWARD -p tcp -j TCPMSS --set-mss {n}",
        "-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
        "-A POSTROUTING -o wan -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"]), label="rule")
    if rule is not None:
        n = draw(st.sampled_from([0, 500, 1000, 1300, 1460, 2000]), label="set-mss")
        lines.append("ip netns exec kmr iptables -t mangle " + rule.format(n=n))
    lines += ["ip netns exec kma nc -z -w 1 10.8.2.2 80", "ip netns exec kmr iptables-save -c -t mangle"]
    return "\n".join(lines) + "\n"


@settings(max_examples=6, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(worlds())
def test_mss_and_tcpmss_agree_with_the_kernel(tmp_path_factory: pytest.TempPathFactory, script: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    path = tmp_path_factory.mktemp("mss") / "world.sh"
    path.write_text(script)
    sim = run_script(script, filename=str(path)).to_json()
    kernel = run_on_kernel(str(path))
    differences = compare(sim, kernel)
    assert not differences, script + "\n".join(differences)
