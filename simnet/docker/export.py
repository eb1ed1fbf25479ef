"""A simulated Docker host as the plain ``ip``/``sysctl``/``iptables-restore`` script it amounts to.

The script replays what the daemon did to the kernel, in real tool syntax,
so a Docker scenario can run through the kernel conformance harness.
docker-proxy has no kernel equivalent: its processes are listed as comments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simnet.netfilter.syntax import format_save

if TYPE_CHECKING:
    from simnet.docker.daemon import DockerDaemon


def _in(ns: str, line: str) -> str:
    if line.startswith(("ip netns ", "ip -n ")):
        return line
    if line.startswith("ip "):
        return f"ip -n {ns} {line[3:]}"
    return f"ip netns exec {ns} {line}"


def export_script(daemon: "DockerDaemon") -> str:
    """The shell script equivalent to everything ``daemon`` did to its host so far."""
    host = daemon.host.name
    out = ["#!/bin/sh", f"# dockerd --era {daemon.era} on {host}: the equivalent kernel configuration",
           "set -e"]
    out += [_in(ns, line) for ns, line in daemon.commands]
    if daemon.iptables:
        tables = [t for t in ("raw", "filter", "nat") if t in {x.name.value if hasattr(x.name, "value")
                                                             else str(x.name) for x in daemon.host.ruleset.existing()}]
        out.append(f"ip netns exec {host} iptables-restore <<'EOF'")
        out.append(format_save(daemon.host.ruleset, tables=tables).rstrip("\n"))
        out.append("EOF")
    for c in daemon.containers.values():
        for p in c.proxies:
            out.append(f"# userland proxy (not reproduced by this script): {p.argv}")
    return "\n".join(out) + "\n"
