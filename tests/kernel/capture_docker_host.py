"""A Docker-like host built on the kernel in a sandbox, captured by ``simnet capture --docker --listeners``.

The sandbox's own network namespace (``unshare --mount --net``) is the host: ``docker0`` with
three "containers" (web, app, db) in *unnamed* namespaces that ``unshare -n sleep`` processes hold,
addressed and ruled as Docker 29 does it (the rules simnet's Docker model writes for
``docker run -p 8080:80 --name web nginx``, ``--name app alpine`` and ``--name db redis``), plus
the admin's two DOCKER-USER rules appended in the wrong order.  ``docker`` itself is a stand-in
script early in PATH that answers ``docker ps -q`` and ``docker inspect`` with the containers'
ids, names and PIDs, so the capture finds the namespaces the way it does on a real Docker host
(``/proc/PID/ns/net``).  A named namespace ``lan`` plays the LAN machine on eth0.

``python tests/kernel/capture_docker_host.py`` (root) prints the capture; the scenario
``scenarios/captured/docker-user-drop-before-accept.sh`` starts with exactly that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP
-A PREROUTING -d 172.17.0.3/32 ! -i docker0 -j DROP
-A PREROUTING -d 172.17.0.4/32 ! -i docker0 -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-INTERNAL - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER ! -i docker0 -o docker0 -j DROP
-A DOCKER-BRIDGE -o docker0 -j DOCKER
-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-INTERNAL
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i docker0 -j ACCEPT
-A DOCKER-USER -i docker0 -o docker0 -j DROP
-A DOCKER-USER -s 172.17.0.3/32 -d 172.17.0.4/32 -p tcp -m tcp --dport 6379 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
"""

CONTAINERS = (("web", 2, 80), ("app", 3, None), ("db", 4, 6379))
IDS = {"web": "1b0c" * 16, "app": "2a9f" * 16, "db": "3e7d" * 16}


def _sh(*argv: str, stdin: str | None = None) -> None:
    subprocess.run(list(argv), check=True, input=stdin, text=True, timeout=10, capture_output=True)


def _inside(outer: str, argv: list[str]) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from simnet.conformance.inside.common import _ns_ids

    mnt, net = _ns_ids().split(":")
    if f"{mnt}:{net}".split(":")[0] == outer.split(":")[0] or net == outer.split(":")[1]:
        raise RuntimeError("refusing to run: not inside a private mount and network namespace")
    _sh("mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "simnet-netns", "/run/netns")
    holders: list[subprocess.Popen[bytes]] = []
    try:
        _sh("ip", "link", "set", "lo", "up")
        _sh("ip", "netns", "add", "lan")
        _sh("ip", "-n", "lan", "link", "set", "lo", "up")
        _sh("ip", "link", "add", "eth0", "address", "02:00:cb:00:71:0a", "type", "veth", "peer", "name", "eth0",
            "address", "02:00:cb:00:71:14", "netns", "lan")
        _sh("ip", "addr", "add", "203.0.113.10/24", "dev", "eth0")
        _sh("ip", "link", "set", "eth0", "up")
        _sh("ip", "-n", "lan", "addr", "add", "203.0.113.20/24", "dev", "eth0")
        _sh("ip", "-n", "lan", "link", "set", "eth0", "up")
        _sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1")
        _sh("ip", "link", "add", "docker0", "address", "02:42:5e:8f:00:01", "type", "bridge")
        _sh("ip", "addr", "add", "172.17.0.1/16", "brd", "172.17.255.255", "dev", "docker0")
        _sh("ip", "link", "set", "docker0", "up")
        pids = {}
        for name, n, port in CONTAINERS:
            p = subprocess.Popen(["unshare", "-n", "sleep", "300"])
            holders.append(p)
            for _ in range(100):  # until unshare has switched namespaces
                if os.readlink(f"/proc/{p.pid}/ns/net") != os.readlink("/proc/self/ns/net"):
                    break
                subprocess.run(["sleep", "0.01"])
            pids[name] = p.pid
            enter = ["nsenter", f"--net=/proc/{p.pid}/ns/net", "--"]
            veth = f"veth{IDS[name][:7]}"
            _sh("ip", "link", "add", veth, "address", f"02:00:5e:11:00:0{n}", "type", "veth", "peer", "name",
                "eth0", "address", f"02:42:ac:11:00:0{n}", "netns", str(p.pid))
            _sh("ip", "link", "set", veth, "master", "docker0")
            _sh("ip", "link", "set", veth, "up")
            _sh(*enter, "ip", "link", "set", "lo", "up")
            _sh(*enter, "ip", "addr", "add", f"172.17.0.{n}/16", "brd", "172.17.255.255", "dev", "eth0")
            _sh(*enter, "ip", "link", "set", "eth0", "up")
            _sh(*enter, "ip", "route", "add", "default", "via", "172.17.0.1")
            if name == "db":  # no SYN-ACK retransmission outlives a probe (see the scenario)
                _sh(*enter, "sysctl", "-q", "-w", "net.ipv4.tcp_synack_retries=0")
            if port is not None:
                holders.append(subprocess.Popen([*enter, "nc", "-l", "-k", "-p", str(port)],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _sh("iptables-restore", stdin=RULES)
        subprocess.run(["sleep", "0.3"])
        with tempfile.TemporaryDirectory() as bin_dir:
            docker = Path(bin_dir) / "docker"
            docker.write_text("#!/bin/sh\ncase \"$1\" in\n"
                              f"ps) printf '%s\\n' {' '.join(IDS[n] for n, _, _ in CONTAINERS)} ;;\n"
                              "inspect) printf '%s\\n' "
                              + " ".join(f"'/{n} {pids[n]}'" for n, _, _ in CONTAINERS) + " ;;\n"
                              "*) echo 'docker stand-in: only ps and inspect' >&2; exit 1 ;;\nesac\n")
            docker.chmod(0o755)
            os.chmod(bin_dir, 0o755)
            env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", PYTHONPATH=str(ROOT))
            nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if "--as-nobody" in argv else []
            argv = [a for a in argv if a != "--as-nobody"]
            p = subprocess.run([*nobody, sys.executable, "-m", "simnet.capture", *argv], capture_output=True,
                               text=True, env=env, timeout=60, cwd="/")
        return {"stdout": p.stdout, "stderr": p.stderr, "returncode": p.returncode}
    finally:
        for h in holders:
            h.kill()
            h.wait()
        subprocess.run(["ip", "netns", "del", "lan"], capture_output=True)


def capture_docker_like_host(*argv: str) -> dict[str, object]:
    """Build the host in a fresh sandbox and run ``simnet capture ARGV`` there: stdout, stderr, returncode
    (``--as-nobody``: the capture runs as user nobody, without root's privileges)."""
    from simnet.conformance.inside.common import _ns_ids

    p = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "--", sys.executable,
                        __file__, "--inside", _ns_ids(), *argv], capture_output=True, text=True, timeout=120,
                       cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        result = json.loads(p.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"the sandbox failed (exit {p.returncode}): {p.stderr.strip()}") from None
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inside"]:
        try:
            print(json.dumps(_inside(sys.argv[2], sys.argv[3:])))
        except Exception as e:  # reported to the calling side
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
    else:
        sys.path.insert(0, str(ROOT))
        out = capture_docker_like_host(*(sys.argv[1:] or ["--docker", "--listeners"]))
        sys.stderr.write(str(out["stderr"]))
        sys.stdout.write(str(out["stdout"]))
