"""Sized transfers against the kernel (issue #15): drawn sizes, a drawn narrow link, ICMP
dropped or not, TCPMSS or not, an upload (``head -c N /dev/zero | nc``) or a download (curl of
a file ``truncate`` made, served by ``python3 -m http.server``). simnet and Linux must agree on
the bytes that arrived, whether the transfer completed, and the segment sizes the sender used
(:func:`simnet.conformance.compare`). A fixed sample of 6 worlds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

WORLD = """\
ip netns add ktc
ip netns add kts
ip netns add ktr
ip -n ktc link add eth0 type veth peer name lan netns ktr
ip -n kts link add eth0 type veth peer name wan netns ktr
ip -n ktc addr add 10.6.1.2/24 dev eth0
ip -n ktr addr add 10.6.1.1/24 dev lan
ip -n kts addr add 10.6.2.2/24 dev eth0
ip -n ktr addr add 10.6.2.1/24 dev wan
ip -n ktc link set eth0 up
ip -n ktr link set lan up
ip -n ktr link set wan up
ip -n kts link set eth0 up
ip -n ktc route add default via 10.6.1.1
ip -n kts route add default via 10.6.2.1
ip netns exec ktr sysctl -qw net.ipv4.ip_forward=1
ip netns exec kts nc -l -k -p 9000 &
ip netns exec kts mkdir -p /tmp/www
ip netns exec kts python3 -m http.server --directory /tmp/www 8000 &
"""


@st.composite
def worlds(draw: st.DrawFn) -> str:
    lines = [WORLD]
    upload = draw(st.booleans(), label="upload")
    mtu = draw(st.sampled_from([1500, 1400, 1280, 1000]), label="narrow link mtu")
    # the router forwards into the narrow link: towards the server for an upload, the client for a download
    lines.append(f"ip -n ktr link set {'wan' if upload else 'lan'} mtu {mtu}")
    if not draw(st.booleans(), label="icmp passes"):
        lines.append("ip netns exec ktr iptables -A OUTPUT -p icmp -j DROP")
    if draw(st.booleans(), label="clamp"):
        lines.append("ip netns exec ktr iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN "
                     "-j TCPMSS --clamp-mss-to-pmtu")
    size = draw(st.sampled_from([100, 1000, 1400, 5000, 40000]), label="size")
    if upload:
        lines.append(f"head -c {size} /dev/zero | ip netns exec ktc nc -w 2 10.6.2.2 9000")
    else:
        lines.append(f"ip netns exec kts truncate -s {size} /tmp/www/f")
        lines.append("ip netns exec ktc curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\\n' "
                     "http://10.6.2.2:8000/f")
    return "\n".join(lines) + "\n"


@settings(max_examples=6, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(worlds())
def test_transfers_agree_with_the_kernel(tmp_path_factory: pytest.TempPathFactory, script: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    path = tmp_path_factory.mktemp("xfer") / "world.sh"
    path.write_text(script)
    sim = run_script(script, filename=str(path)).to_json()
    kernel = run_on_kernel(str(path))
    assert kernel["probes"][-1].get("transfer") is not None
    differences = compare(sim, kernel)
    assert not differences, script + "\n".join(differences)
