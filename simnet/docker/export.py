"""A simulated Docker host as the plain ``ip``/``sysctl``/``iptables-restore`` script it amounts to.

The script replays what the daemon did to the kernel, in real tool syntax,
so a Docker scenario can run through the kernel conformance harness.
docker-proxy has no kernel equivalent: its processes are listed as comments.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simnet.docker.resolver import STANDIN, STANDIN_KILL
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
    # iptables commands are replaced by one iptables-restore of the result below
    out += [line if line.startswith("#") else _in(ns, line) for ns, line in daemon.commands
            if not line.startswith("iptables ") and not is_names_command(ns, line, daemon.host.name)]
    if daemon.iptables:
        tables = [t for t in ("raw", "filter", "nat") if t in {x.name.value if hasattr(x.name, "value")
                                                             else str(x.name) for x in daemon.host.ruleset.existing()}]
        out.append(f"ip netns exec {host} iptables-restore <<'EOF'")
        out.append(format_save(daemon.host.ruleset, tables=tables).rstrip("\n"))
        out.append("EOF")

    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- whole scenarios

NAMES_RE = re.compile(r"\b(dig|nslookup|getent|dnsmasq)\b|/etc/(resolv\.conf|hosts)\b")
"""A script that looks names up (or reads what Docker wrote for them)."""

_HOST_TOOLS = frozenset({"ping", "nc", "ncat", "netcat", "curl"})
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")


def _tool_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The tool's own words of ``[ip netns exec NS] [docker exec [OPTS] NAME] TOOL ...``."""
    if argv[:3] == ("ip", "netns", "exec"):
        argv = argv[4:]
    if argv[:2] == ("docker", "exec"):
        rest = list(argv[2:])
        while rest and rest[0].startswith("-"):
            opt = rest.pop(0)
            if opt in ("-e", "--env", "-u", "--user", "-w", "--workdir") and rest:
                rest.pop(0)
        argv = tuple(rest[1:])
    return argv


def probes_by_name(source: str) -> bool:
    """Whether a probe of the script names its destination (``ping web``, ``nc -z web 80``,
    ``curl http://web:8080/``): its tool asks the resolver first, as dig does."""
    from urllib.parse import urlsplit

    from simnet.script.lexer import lex

    try:
        commands = lex(source)
    except ValueError:
        return False
    for cmd in commands:
        argv = _tool_argv(tuple(cmd.argv))
        if not argv or argv[0] not in _HOST_TOOLS or "-l" in argv:
            continue
        if argv[0] == "curl":
            hosts = [urlsplit(w if "://" in w else "http://" + w).hostname or "" for w in argv[1:]
                     if not w.startswith("-") and ("://" in w or "/" in w)]
        else:
            words = list(argv[1:])
            while words and re.fullmatch(r"\d+(-\d+)?", words[-1]):
                words.pop()  # nc's ports
            hosts = words[-1:]
        if any(h and not h.startswith("-") and not _IPV4.fullmatch(h) and re.match(r"[A-Za-z]", h) for h in hosts):
            return True
    return False


def is_names_command(ns: str, line: str, host: str) -> bool:
    """A daemon command for names only: a container's files, the resolver's kernel stand-in."""
    return line.startswith(("mkdir -p /etc/netns/", "cat > /etc/netns/", "rm -rf /etc/netns/", STANDIN_KILL)) \
        or (ns != host and line.startswith(STANDIN + " "))


PROXY_SKIP = ("reached the container through docker-proxy (a userland process the kernel runner cannot start); "
              "on the kernel nothing listens on that host port")


@dataclass
class Exported:
    """A docker-using scenario rewritten as the plain ``ip``/``iptables`` script it amounts to."""

    text: str
    line_map: dict[int, int] = field(default_factory=dict)
    """Line of each probe in :attr:`text` -> its line in the original script."""
    skips: dict[int, str] = field(default_factory=dict)
    """Original line of each probe the kernel cannot reproduce -> why."""

    def original_line(self, line: int) -> int:
        return self.line_map.get(line, line)


def _is_docker(argv: tuple[str, ...]) -> bool:
    return bool(argv) and (argv[0] in ("docker", "dockerd", "systemctl") or argv[0] == "env" and "dockerd" in argv)


def _heredoc_delim(text: str) -> str:
    m = re.search(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1", text)
    return m.group(2) if m else "EOF"


def export_scenario(text_or_path: "str | os.PathLike[str]", *, filename: str | None = None) -> Exported:
    """Run a scenario in the simulator and rewrite it for the kernel conformance harness.

    Every ``dockerd``/``docker``/``systemctl`` line becomes the commands the daemon issued for it
    (``ip netns add``, ``ip link``/``addr``/``route``, ``sysctl -w``, ``iptables -N/-I/-A/-D/-F/-X``
    in the daemon's own order, so user rules before and after keep their places), listeners of the
    containers' processes become ``nc -l`` listeners, ``docker exec NAME CMD`` becomes ``ip netns exec
    HOST-NAME CMD``; every other line, probe and ``# expect:`` is kept.  A probe that reached a
    container through docker-proxy keeps its command, loses its expectation, and is listed in
    :attr:`Exported.skips`.
    """
    from simnet.script.interpreter import _read, run_script
    from simnet.script.lexer import netns_exec

    source, name = _read(text_or_path, filename)
    # The container's files and the resolver's stand-in only where the script looks names up (or
    # reads the files): other scripts run without a helper process per container.
    names = bool(NAMES_RE.search(source)) or probes_by_name(source)
    out: list[str] = ["#!/bin/sh", f"# {name}, exported by simnet: every docker line replaced by what the daemon",
                      "# did to the kernel (docker-proxy cannot run here; probes that needed it say so)."]
    result = Exported(text="")
    state: dict[str, Any] = {"jobs": 0, "job_map": {}, "last_job": None, "standins": {}}
    snap: dict[str, Any] = {}
    probe_at: dict[int, int] = {}  # index in `out` -> original line

    def proxied(run: Any) -> int:
        return sum(len(p.accepted) for d in run.docker.values() for c in d.containers.values() for p in c.proxies)

    def emit(line: str) -> None:
        out.append(line)

    def emit_probe(cmd: Any, line: str, run: Any) -> None:
        emit(line)
        probe_at[len(out) - 1] = cmd.line
        why = PROXY_SKIP if proxied(run) > snap["proxied"] else ""
        if why:
            result.skips[cmd.line] = why
            emit(f"# kernel-skip: {why}" + (f" (simulator: expect {cmd.expect})" if cmd.expect else ""))
        elif cmd.expect is not None:
            emit(f"# expect: {cmd.expect}")

    def observer(cmd: Any, run: Any, phase: str) -> None:
        if phase == "before":
            snap["counts"] = {h: len(d.commands) for h, d in run.docker.items()}
            snap["proxied"] = proxied(run)
            snap["started"] = run.started
            return
        ns, argv = netns_exec(cmd)
        started = run.started > snap["started"]
        if _is_docker(argv) and argv[1:2] != ("exec",):
            emit(f"# {cmd.text}")
            for host, d in run.docker.items():
                for cns, line in d.commands[snap["counts"].get(host, 0):]:
                    if line.startswith("#"):
                        emit(line)
                        continue
                    if not names and is_names_command(cns, line, host):
                        continue
                    if line.startswith(STANDIN_KILL):  # the embedded DNS stand-in of that namespace
                        job = state["standins"].pop(line[len(STANDIN_KILL):], None)
                        if job is not None:
                            emit(f"kill %{job}")
                        continue
                    emit(_in(cns, line))
                    if line.endswith("&"):
                        state["jobs"] += 1
                        if line.startswith(STANDIN + " "):
                            state["standins"][cns] = state["jobs"]
            return
        if _is_docker(argv):  # docker exec NAME CMD...
            from simnet.docker.cli import _Opts
            from simnet.docker.firewall import shell_word

            o = _Opts(cmd, "docker exec", list(argv[2:]), values={"-e": "env", "--env": "env", "-u": "user",
                                                                    "-w": "workdir"},
                      flags={"-d": "detach", "--detach": "detach", "-i": "i", "-t": "t", "--privileged": "p"},
                      multi=("env",), stop_at_positional=True)
            host = run.ns(ns).name if ns is not None else "root"
            c = run.docker[host]._container(o.rest[0])
            inner = " ".join(shell_word(w) for w in o.rest[1:])
            attached = cmd.stdin is not None and "i" in o.flags
            prefix = f"echo {shell_word((cmd.stdin or '').rstrip(chr(10)))} | " if attached else ""
            closed = " < /dev/null" if cmd.stdin is not None and not attached else ""
            line = f"{prefix}ip netns exec {c.netns} {inner}{closed}" + (" &" if "detach" in o.flags else "")
        else:
            line = cmd.text
            if argv and argv[0] == "kill" and len(argv) == 2:
                target = argv[1]
                job = state["last_job"] if target == "$!" else state["job_map"].get(int(target[1:]))
                line = re.sub(r"kill\s+(%\d+|\$!)", f"kill %{job}", line) if job is not None else line
        if started:
            state["jobs"] += 1
            state["job_map"][run.started] = state["jobs"]
            state["last_job"] = state["jobs"]
        if any(p.line == cmd.line for p in run.report.probes[-1:]):
            emit_probe(cmd, line, run)
            return
        emit(line)
        if cmd.stdin is not None and cmd.pipe_from is None and not _is_docker(argv):
            body = cmd.stdin
            out.extend(body.rstrip("\n").split("\n") if body else [])
            out.append(_heredoc_delim(cmd.text))

    run_script(source, filename=name, observer=observer)
    lineno = 1
    for i, chunk in enumerate(out):
        if i in probe_at:
            result.line_map[lineno] = probe_at[i]
        lineno += chunk.count("\n") + 1
    result.text = "\n".join(out) + "\n"
    return result


def main(argv: "list[str] | None" = None) -> int:
    """``simnet export SCRIPT [-o FILE]``: print the plain ip/iptables script."""
    import argparse
    import sys

    from simnet.script.expect import ScriptError

    p = argparse.ArgumentParser(prog="simnet export",
                                description="Rewrite a docker-using scenario as the plain ip/iptables script "
                                            "it amounts to (for simnet kernel-run).")
    p.add_argument("script")
    p.add_argument("-o", "--output", default=None)
    args = p.parse_args(argv)
    try:
        exported = export_scenario(Path(args.script))
    except ScriptError as e:
        print(str(e), file=sys.stderr)
        return 2
    except OSError as e:
        print(f"simnet: {args.script}: {e.strerror}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(exported.text)
    else:
        sys.stdout.write(exported.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
