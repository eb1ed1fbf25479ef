"""DNS on the kernel side of a conformance run: the real dig/host/nslookup/getent as probes,
the real dnsmasq as a listener, names resolved by glibc in the probe helpers.

Standard library only (run by bare name inside the run's namespaces, like ``probes``).
Everything runs under ``ip netns exec NS``, so ``/etc/netns/NS/*`` is bound over ``/etc/*``
as for any command (the runner's sandbox keeps /etc in an overlay that only its private mount
namespace sees: runner.py's ``_sandbox_files``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

DNS_CLIENTS = ("dig", "host", "nslookup", "getent")
"""Tools the runner runs as they are, recording what they print."""

GAI_ERRORS = {socket.EAI_NONAME: "EAI_NONAME", socket.EAI_AGAIN: "EAI_AGAIN",
              getattr(socket, "EAI_NODATA", -5): "EAI_NODATA"}


def resolve(a: dict[str, Any], socktype: int) -> dict[str, Any] | None:
    """Resolve a probe's destination as ping/nc/curl do (getaddrinfo AF_UNSPEC: A and AAAA
    queries); on failure the probe's result (outcome error, errno EAI_*), else None with
    ``a["dst"]`` replaced by the first IPv4 address."""
    dst = a.get("dst") or ""
    if re.fullmatch(r"[0-9.]+", dst):
        return None
    try:
        infos = socket.getaddrinfo(dst, None, socket.AF_UNSPEC, socktype)
    except socket.gaierror as e:
        return {"outcome": "error", "icmp": None, "errno": GAI_ERRORS.get(e.errno, "EAI_FAIL")}
    v4 = [i[4][0] for i in infos if i[0] == socket.AF_INET]
    if not v4:  # IPv6 only: the run's namespaces have IPv6 disabled (ping: Cannot assign requested address)
        return {"outcome": "error", "icmp": None, "errno": "EADDRNOTAVAIL"}
    a["dst"] = v4[0]
    return None


def client(a: dict[str, Any]) -> dict[str, Any]:
    """Run dig/host/nslookup/getent; the outcome as simnet words it, and what it printed
    (standard error first: piped, dig's error lines come before its buffered output)."""
    p = subprocess.run(a["argv"], capture_output=True, text=True, timeout=a["timeout"] + 5)
    out = p.stderr + p.stdout
    if a["argv"][0] == "getent":
        if p.returncode == 0:
            return {"outcome": "reply", "icmp": None, "errno": None, "output": out}
        # exit 2: not found, for whatever reason (getent says no more; asking again would add queries)
        return {"outcome": "error", "icmp": None, "errno": None, "output": out}
    if "couldn't get address for" in out:  # dig @NAME that did not resolve
        outcome, errno = "error", "EAI_NONAME" if out.rstrip().endswith("not found") else "EAI_AGAIN"
    elif "connection refused" in out:
        outcome, errno = "refused", "ECONNREFUSED"
    elif "failed: network unreachable" in out:
        outcome, errno = "error", "ENETUNREACH"
    elif "no servers could be reached" in out:
        outcome, errno = "timeout", None
    else:
        outcome, errno = "reply", None
    return {"outcome": outcome, "icmp": None, "errno": errno, "output": out}


def dnsmasq(a: dict[str, Any]) -> None:
    """Run dnsmasq in the foreground until SIGTERM; the log file appears once it listens."""
    # no configuration file (simnet's dnsmasq reads none), no pid file, its log beside the job's
    argv = [a["argv"][0], "--conf-file=/dev/null", *a["argv"][1:], "--pid-file=",
            "--log-facility=" + a["log"] + ".dnsmasq"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(*_: Any) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    port = int(a["port"])
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and proc.poll() is None and not _udp_bound(port):
        time.sleep(0.02)
    if proc.poll() is not None:
        sys.stderr.write(proc.stderr.read().decode() if proc.stderr else "dnsmasq exited")
        sys.exit(1)
    with open(a["log"], "a"):
        os.chmod(a["log"], 0o644)
    proc.wait()


def _udp_bound(port: int) -> bool:
    try:
        with open("/proc/net/udp") as f:
            return any(int(line.split()[1].split(":")[1], 16) == port for line in f.readlines()[1:])
    except (OSError, IndexError, ValueError):
        return False
