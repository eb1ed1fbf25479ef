"""``ip link add NAME netns NS type ...`` and ``ip addr add ... nodad`` against iproute2 on the real kernel.

The real side runs in ``unshare -m -n`` with a private tmpfs on /run, so its ``ip netns add``
leaves nothing on the machine; both sides' ``ip -o link`` are compared with MACs masked.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from simnet.tools.ip import IpError, ip
from simnet.world import World
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))

SCRIPT = [
    "netns add a", "netns add b",
    "link add va netns a type veth peer name vb netns b",
    "link add vc netns a type veth peer name vd",
    "link add vg netns a type veth peer name vh netns a",
    "link add br0 netns b type bridge",
    "link add ve netns nope type veth peer name vf",
    "link add va netns a type veth peer name vx",
    "link add vi netns a netns b type veth",
    "-n a addr add 10.0.0.1/24 dev vg nodad",
]
SHOW = [("a", "link"), ("b", "link"), (None, "link"), ("a", "-4 addr show vg")]


def _mask(text: str) -> str:
    text = re.sub(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", "MAC", text)
    text = text.replace("link/ether MAC brd MAC", "link/ether MAC")
    return re.sub(r"\s+", " ", text).strip()


def _kernel() -> list[str]:
    lines = ["mount -t tmpfs none /run"]
    for cmd in SCRIPT:
        lines.append(f"ip {cmd} 2>&1; echo rc=$?")
    for ns, show in SHOW:
        lines.append(f"echo ==; ip {'-n ' + ns + ' ' if ns else ''}{show}")
    out = subprocess.run(["timeout", "20", "unshare", "-m", "-n", "--propagation", "private", "sh", "-c",
                          "\n".join(lines)], capture_output=True, text=True, check=True).stdout
    # simnet's ip prints no stderr warnings: the kernel's extack for nodad on IPv4 is dropped here
    out = out.replace("Warning: nodad option can be set only for IPv6 addresses\n", "")
    return [_mask(part) for part in out.split("==")]


def _simnet() -> list[str]:
    w = World()
    out = []
    for cmd in SCRIPT:
        try:
            text = ip(w, cmd.split())
            out.append(f"{text}rc=0")
        except IpError as e:
            out.append(f"{str(e).rstrip()}\nrc={e.exit_code}")
    parts = ["\n".join(out)]
    for ns, show in SHOW:
        parts.append(ip(w, show.split(), netns=ns))
    return [_mask(p) for p in parts]


def test_links_made_in_other_namespaces_agree_with_iproute2() -> None:
    kernel, sim = _kernel(), _simnet()
    assert kernel == sim
