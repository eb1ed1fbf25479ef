"""Docker 28+ binds a published host port itself (SO_REUSEADDR) before programming it: a port a
host process holds makes ``docker run`` fail.  Which holders conflict is the kernel's bind():
checked here with real sockets in ``unshare -n`` against simnet's daemon for the same cases."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

CASES = [("tcp", "127.0.0.1", "0.0.0.0"), ("tcp", "0.0.0.0", "127.0.0.1"), ("tcp", "10.0.0.1", "127.0.0.1"),
         ("tcp", "0.0.0.0", "0.0.0.0"), ("udp", "0.0.0.0", "0.0.0.0"), ("udp", "127.0.0.1", "0.0.0.0"),
         ("udp", "10.0.0.1", "127.0.0.1")]
"""(protocol, the address a host process holds, the address Docker binds)."""

PROBE = textwrap.dedent('''
    import socket, subprocess, sys
    for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"],
                ["ip", "addr", "add", "10.0.0.1/24", "dev", "d0"], ["ip", "link", "set", "d0", "up"]):
        subprocess.run(cmd, check=True)
    for i, (proto, held, want) in enumerate(eval(sys.argv[1])):
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        a = socket.socket(socket.AF_INET, kind)
        a.bind((held, 9000 + i))
        if proto == "tcp":
            a.listen(1)
        b = socket.socket(socket.AF_INET, kind)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the daemon's bindTCPOrUDP
        try:
            b.bind((want, 9000 + i))
            print("free")
        except OSError as e:
            print(e.strerror)
''')


def _simnet() -> list[str]:
    from simnet.docker import DockerDaemon, DockerError
    from simnet.world import World
    from tests.conftest import pair

    out = []
    for i, (proto, held, want) in enumerate(CASES):
        world = World()
        pair(world, "h1", "lan", "10.0.0.1/24", "10.0.0.2/24")
        from ipaddress import IPv4Address

        world["h1"].sockets.listen(proto, 9000 + i, None if held == "0.0.0.0" else IPv4Address(held))
        d = DockerDaemon(world, "h1", era="29")
        d.start()
        try:
            d.run("web", publish=[f"{want}:{9000 + i}:80/{proto}"])
            out.append("free")
        except DockerError as e:
            assert str(e).endswith("address already in use"), e
            out.append("Address already in use")
    return out


def test_host_port_conflicts_agree_with_the_kernel() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    kernel = subprocess.run(["unshare", "-n", sys.executable, "-c", PROBE, repr(CASES)], capture_output=True,
                            text=True, timeout=30, check=True).stdout.split("\n")[:len(CASES)]
    assert kernel == _simnet(), list(zip(CASES, kernel, _simnet()))
