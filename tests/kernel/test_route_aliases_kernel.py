"""Routes sharing a prefix and metric on the kernel: ``ip route add|append|prepend|replace|change|del``.

The kernel keeps the routes of one (table, prefix, metric) as an ordered list of aliases
(fib_table_insert); the lookup takes the first usable one, so their order decides where packets
go. Drawn command sequences run in an anonymous namespace with the real iproute2 and in simnet:
each command's exit status and message, then ``ip route show`` and ``ip route get`` must agree.
"""

from __future__ import annotations

import shlex
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SETUP = [
    "link add va type veth peer name vb", "link add vc type veth peer name vd",
    "link set va up", "link set vb up", "link set vc up", "link set vd up", "link set lo up",
    "addr add 10.9.0.1/24 dev va", "addr add 10.9.0.2/24 dev vc",
]
GETS = ["10.8.0.5", "10.9.0.5", "1.1.1.1"]

_verbs = st.sampled_from(["add", "append", "prepend", "replace", "change", "del"])
_dsts = st.sampled_from(["10.8.0.0/24", "10.9.0.0/24", "default"])
_nexthops = st.sampled_from(["dev va", "dev vc", "via 10.9.0.7", "via 10.9.0.8 dev vc", "dev va proto static",
                             "dev va src 10.9.0.1", "dev vc proto kernel scope link src 10.9.0.2", "blackhole"])
_metrics = st.sampled_from(["", "", " metric 5"])


@st.composite
def _command(draw: st.DrawFn) -> str:
    verb, dst, nh, metric = draw(_verbs), draw(_dsts), draw(_nexthops), draw(_metrics)
    if nh == "blackhole":
        return f"route {verb} blackhole {dst}{metric}"
    return f"route {verb} {dst} {nh}{metric}"


def _on_kernel(commands: list[str]) -> str:
    lines = [f"ip {c} >/dev/null" for c in SETUP]
    for c in commands:
        lines.append(f"echo '> {c}'; ip {c} 2>&1; echo \"exit $?\"")
    lines.append("ip route show")
    lines += [f"ip route get {a} 2>&1 | head -1" for a in GETS]
    run = subprocess.run(["timeout", "20", "unshare", "-n", "sh", "-c", "\n".join(lines)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _in_simnet(commands: list[str]) -> str:
    from simnet.tools.ip import IpError, ip
    from simnet.world import World

    w = World()
    for c in SETUP:
        ip(w, shlex.split(c))
    out = []
    for c in commands:
        out.append(f"> {c}\n")
        try:
            out.append(ip(w, shlex.split(c)))
            status = 0
        except IpError as e:
            out.append(str(e).rstrip("\n") + "\n")
            status = e.exit_code
        out.append(f"exit {status}\n")
    out.append(ip(w, ["route", "show"]))
    for a in GETS:
        try:
            out.append(ip(w, ["route", "get", a]).splitlines(keepends=True)[0])
        except IpError as e:
            out.append(str(e).rstrip("\n") + "\n")
    return "".join(out)


FIXED = [
    "route add 10.9.0.0/24 dev vc", "route add 10.8.0.0/24 dev va", "route add 10.8.0.0/24 dev vc",
    "route append 10.8.0.0/24 dev vc", "route append 10.8.0.0/24 dev vc",
    "route prepend 10.8.0.0/24 via 10.9.0.7 dev va", "route change 10.7.0.0/24 dev va",
    "route change 10.8.0.0/24 dev vc", "route del 10.9.0.0/24 dev va",
    "route append 10.9.0.0/24 dev va proto kernel scope link src 10.9.0.1",
    "route append 10.9.0.0/24 dev va proto kernel scope link src 10.9.0.1",
    "route append 10.9.0.0/24 dev va metric 5", "route append 10.9.0.0/24 dev va proto static",
    "route add blackhole 10.8.0.0/24", "route append default via 10.9.0.9", "route append default via 10.9.0.8",
    "route replace default via 10.9.0.7", "route change default via 10.9.0.7 metric 9", "route del 10.8.0.0/24",
]


def test_a_known_sequence_agrees_with_the_kernel() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    kernel = _on_kernel(FIXED)
    assert _in_simnet(FIXED) == kernel
    # the reordered connected routes decide the lookup: 10.9.0.5 now leaves by vc
    assert "10.9.0.5 dev vc src 10.9.0.2" in kernel


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_command(), min_size=1, max_size=8))
def test_drawn_sequences_agree_with_the_kernel(commands: list[str]) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    assert _in_simnet(commands) == _on_kernel(commands)
