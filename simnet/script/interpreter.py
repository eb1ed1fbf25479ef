"""Run a scenario script against a simulated world and report what happened.

Two passes, so a malformed script changes nothing: :func:`compile_script`
lexes every line and checks each command's words (``ip`` syntax, probe
options, listeners, ``kill`` targets) into a list of steps; only then does
:func:`run_script` run them in order.  A step the simulated kernel or tool
refuses (``Cannot find device "eth9"``, an iptables error) stops the run at
that line with the tool's own message, as ``set -e`` would.

Nothing is ever passed to a shell: every supported command is interpreted
here, and every other command is a :class:`ScriptError` naming ``file:line``,
the construct and why.

Example:
    >>> report = run_script('''
    ... ip netns add a
    ... ip -n a link set lo up
    ... ip netns exec a ping -c 1 127.0.0.1
    ... # expect: reply
    ... ''')
    >>> [(p.line, p.result.outcome, p.ok) for p in report.probes]
    [(4, 'reply', True)]
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address
from pathlib import Path
from typing import Any, Callable

from simnet.errors import KernelError, SimnetError
from simnet.probe import MAX_TIMEOUT, ProbeResult, curl_write_out, ping, tcp_connect, udp_connect, udp_send
from simnet.script.expect import Expectation, ScriptError
from simnet.script.ip import ROOT, IpError, compile_bridge, compile_ip, root_netns
from simnet.script.lexer import Command, lex, netns_exec
from simnet.script.shell import expand, ping_within
from simnet.world import World

__all__ = ["ProbeRecord", "Report", "compile_script", "run_script", "rule_counters"]

_STEP = Callable[["_Run"], None]


@dataclass(slots=True)
class ProbeRecord:
    """One probe of a script run: the command, its result and the expectation's verdict."""

    line: int
    command: str
    result: ProbeResult
    expect: Expectation | None
    ok: bool | None
    """Whether the expectation held (None without one)."""
    counters: dict[str, list[dict[str, Any]]]
    conntrack: dict[str, list[str]]

    def to_json(self) -> dict[str, Any]:
        r = self.result.to_json()
        out: dict[str, Any] = {"line": self.line, "command": self.command}
        out.update({k: r[k] for k in ("from", "proto", "dst", "dport", "outcome", "icmp", "errno", "received")})
        out["expect"] = None if self.expect is None else {**self.expect.to_json(), "ok": self.ok}
        out["counters"] = self.counters
        out["conntrack"] = self.conntrack
        out["trace"] = r["trace"]
        return out


@dataclass(slots=True)
class Report:
    """Everything a script run produced (``simnet run --json`` prints :meth:`to_json`)."""

    world: World
    probes: list[ProbeRecord] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    """``{"line", "command", "stdout"}`` of every command that printed something."""
    filename: str = "<script>"
    docker: dict[str, Any] = field(default_factory=dict)
    """host namespace -> its :class:`~simnet.docker.DockerDaemon` (scripts that run ``dockerd``)."""

    @property
    def failed(self) -> list[ProbeRecord]:
        """Probes whose expectation did not hold."""
        return [p for p in self.probes if p.ok is False]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {"probes": [p.to_json() for p in self.probes], "outputs": list(self.outputs)}

    def __rich__(self) -> Any:
        from simnet.render import report_renderable

        return report_renderable(self)


# ----------------------------------------------------------------------------- counters


def rule_counters(world: World) -> dict[tuple[str, str, str, int], int]:
    """Every existing rule's and policy's packet counter: (ns, table, chain, rule) -> packets."""
    out: dict[tuple[str, str, str, int], int] = {}
    for ns in world.namespaces.values():
        for table in ns.ruleset.existing():
            for chain in table.ordered_chains():
                if chain.builtin:
                    out[(ns.name, str(table.name), chain.name, 0)] = chain.policy_counters.packets
                for i, e in enumerate(chain.entries, 1):
                    out[(ns.name, str(table.name), chain.name, i)] = e.counters.packets
    return out


def _counter_delta(before: dict[tuple[str, str, str, int], int],
                   after: dict[tuple[str, str, str, int], int]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for key, n in after.items():
        d = n - before.get(key, 0)
        if d > 0:
            ns, table, chain, rule = key
            out.setdefault(ns, []).append({"table": table, "chain": chain, "rule": rule, "packets": d})
    return out


# ----------------------------------------------------------------------------- the run state


class _Run:
    def __init__(self, world: World, report: Report) -> None:
        self.world = world
        self.report = report
        self.jobs: dict[int, list[Any]] = {}
        self.last_job: int | None = None
        self.started = 0
        self.errexit = False
        self.xtrace = False
        self.docker: dict[str, Any] = report.docker
        self.http: list[tuple[str, Any]] = []  # (namespace, listener) of every python3 -m http.server

    def ns(self, name: str | None) -> Any:
        return root_netns(self.world) if name is None else self.world.netns(name)

    def output(self, cmd: Command, stdout: str) -> None:
        if stdout:
            self.report.outputs.append({"line": cmd.line, "command": cmd.text, "stdout": stdout})


# ----------------------------------------------------------------------------- compile


def compile_script(text: str, filename: str = "<script>") -> list[tuple[Command, _STEP]]:
    """Lex and check every command; raise :class:`ScriptError` for the first bad one."""
    steps: list[tuple[Command, _STEP]] = []
    jobs = 0
    for cmd in expand(lex(text, filename)):
        step, is_job = _compile(cmd, jobs)
        if is_job:
            jobs += 1
        steps.append((cmd, step))
    return steps


def _err(cmd: Command, message: str) -> ScriptError:
    return ScriptError(cmd.file, cmd.line, message)


def _compile(cmd: Command, jobs: int) -> tuple[_STEP, bool]:
    ns, argv = netns_exec(cmd)
    if not argv:
        raise _err(cmd, "'ip netns exec NS' needs a command to run")
    if argv[0] in ("docker", "dockerd", "systemctl"):
        if cmd.expect is not None and argv[1:2] != ("exec",):
            raise _err(cmd, f"'# expect:' follows {' '.join(argv[:2])!r}, which is not a probe (ping, nc, curl; "
                            "in a container: docker exec NAME ping ...)")
        if cmd.stdin is not None or cmd.redirect is not None:
            raise _err(cmd, f"{argv[0]} does not read standard input or redirect its output here")
        from simnet.docker.cli import compile_docker  # lazily: the core never imports simnet.docker

        return compile_docker(cmd, ns, argv, lambda inner: _compile(inner, jobs))
    if cmd.expect is not None and argv[0] not in ("ping", "nc", "curl", "ncat", "netcat"):
        raise _err(cmd, f"'# expect:' follows {argv[0]!r}, which is not a probe (ping, nc, curl)")
    if cmd.pipe_from is not None and cmd.stdin is None:
        raise _err(cmd, f"unsupported pipe from {cmd.pipe_from[0]!r}: only 'echo DATA |' or 'printf ... |' may feed a command")
    if cmd.stdin and argv[0] not in ("nc", "ncat", "netcat", "iptables-restore", "iptables-nft-restore", "ipset"):
        raise _err(cmd, f"{argv[0]} does not read standard input here")
    if cmd.redirect is not None and argv[0] not in ("echo", "printf"):
        raise _err(cmd, f"unsupported redirect of {argv[0]!r}: only 'echo VALUE > /proc/sys/...' is supported")
    if cmd.limit is not None and cmd.background:
        raise _err(cmd, "timeout around a background listener is not supported: simnet's listeners run until "
                        "killed (kill %N)")
    if cmd.background and argv[0] not in ("nc", "ncat", "netcat", "python3", "python"):
        raise _err(cmd, f"unsupported background command {argv[0]!r}: only listeners (nc -l, python3 -m "
                        "http.server) run in the background")
    tool = argv[0]
    try:
        if tool == "ip":
            return _compile_ip(cmd, ns, argv), False
        if tool == "bridge":
            bc = compile_bridge(argv)
            return (lambda run: run.output(cmd, bc.run(run.world, ns))), False
        if tool == "set":
            return _compile_set(cmd, argv), False
        if tool in ("sysctl", "iptables", "iptables-nft", "iptables-save", "iptables-nft-save", "iptables-restore",
                    "iptables-nft-restore", "ipset", "conntrack"):
            return _compile_tool(cmd, ns, argv), False
        if tool in ("echo", "printf"):
            return _compile_echo(cmd, ns, argv), False
        if tool == "sleep":
            if len(argv) != 2:
                raise _err(cmd, "sleep takes one duration in seconds")
            secs = _seconds(cmd, argv[1], "sleep")
            secs = secs if cmd.limit is None else min(secs, cmd.limit)
            return (lambda run: run.world.run(until=run.world.now + secs)), False
        if tool in ("true", ":"):
            return (lambda run: None), False
        if tool == "ss":
            return _compile_ss(cmd, ns, argv), False
        if tool == "modprobe":
            from simnet.script.modprobe import check

            try:
                check(argv)
            except ValueError as e:
                raise _err(cmd, str(e) or "modprobe failed (-q: no message)") from None
            return (lambda run: None), False
        if tool == "kill":
            return _compile_kill(cmd, argv, jobs), False
        if tool in ("ping",):
            return _compile_ping(cmd, ns, argv), False
        if tool in ("nc", "ncat", "netcat"):
            return _compile_nc(cmd, ns, argv)
        if tool == "curl":
            return _compile_curl(cmd, ns, argv), False
        if tool in ("python3", "python"):
            return _compile_http_server(cmd, ns, argv), True
    except IpError as e:
        raise _err(cmd, f"{' '.join(argv[:3])}: {str(e).strip()}") from None
    raise _err(cmd, f"unsupported command {tool!r}: simnet interprets ip, bridge, sysctl, iptables, "
                    "iptables-save, iptables-restore, ipset, conntrack, ping, nc, curl, python3 -m http.server, "
                    "ss, echo > /proc/sys/..., sleep, kill, set, modprobe, timeout, sh -c, dockerd, docker and "
                    "systemctl ... docker")


def _seconds(cmd: Command, word: str, what: str) -> float:
    try:
        value = float(word)
    except ValueError:
        raise _err(cmd, f"{what}: invalid time {word!r}") from None
    if value < 0:
        raise _err(cmd, f"{what}: invalid time {word!r}")
    return value


def _compile_ip(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    ic = compile_ip(argv)

    def step(run: _Run) -> None:
        run.output(cmd, ic.run(run.world, ns))
    return step


def _compile_ss(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    from simnet.script import ss

    try:
        opts = ss.parse(argv)
    except ValueError as e:
        raise _err(cmd, str(e)) from None

    def step(run: _Run) -> None:
        http = {id(lst) for _, lst in run.http}
        # Send-Q of a listener is its backlog: python's socketserver listens with 5, OpenBSD nc with 1
        run.output(cmd, ss.ss(run.ns(ns), opts, lambda lst: 5 if id(lst) in http else 1))
    return step


def _compile_set(cmd: Command, argv: tuple[str, ...]) -> _STEP:
    flags: set[str] = set()
    for w in argv[1:]:
        if not re.fullmatch(r"[-+][ex]+", w):
            raise _err(cmd, f"unsupported 'set {w}': simnet knows set -e and set -x")
        flags |= {(w[0], c) for c in w[1:]}  # type: ignore[misc]

    def step(run: _Run) -> None:
        for sign, c in flags:  # type: ignore[misc]
            if c == "e":
                run.errexit = sign == "-"
            else:
                run.xtrace = sign == "-"
    return step


def _compile_tool(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    from simnet.netfilter.iptables import iptables, iptables_restore, iptables_save
    from simnet.netfilter.ipset import ipset
    from simnet.sysctl import sysctl_command

    tool, args = argv[0], list(argv[1:])
    if tool == "conntrack":
        return _compile_conntrack(cmd, ns, args)
    if tool in ("iptables-restore", "iptables-nft-restore") and cmd.stdin is None:
        raise _err(cmd, "iptables-restore needs its rules on standard input: use a here-document (<<EOF)")

    def step(run: _Run) -> None:
        n = run.ns(ns)
        if tool == "sysctl":
            run.output(cmd, sysctl_command(n.sysctls, args))
        elif tool in ("iptables", "iptables-nft"):
            run.output(cmd, iptables(n.ruleset, args))
        elif tool in ("iptables-save", "iptables-nft-save"):
            run.output(cmd, iptables_save(n.ruleset, args))
        elif tool in ("iptables-restore", "iptables-nft-restore"):
            run.output(cmd, iptables_restore(n.ruleset, args, cmd.stdin or "", filename=cmd.file))
        else:
            run.output(cmd, ipset(n.ipsets, args))  # type: ignore[arg-type]
    return step


_CT_FILTERS = {"-s": "src", "--src": "src", "--orig-src": "src", "-d": "dst", "--dst": "dst", "--orig-dst": "dst",
               "-p": "proto", "--proto": "proto", "--sport": "sport", "--orig-port-src": "sport",
               "--dport": "dport", "--orig-port-dst": "dport",
               "-w": "zone", "--zone": "zone", "--orig-zone": "zone-orig", "--reply-zone": "zone-reply"}
"""conntrack-tools 1.4.7 compares a zone filter with the entry's zone attribute of that name,
0 where the entry has none (seen on 6.18: ``-w 0`` lists a zone-orig=5 entry, ``--orig-zone 0``
a zone=5 one)."""
_PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}


def _compile_conntrack(cmd: Command, ns: str | None, args: list[str]) -> _STEP:
    if not args:
        raise _err(cmd, "conntrack needs a command: -L, -F or -D")
    op = args[0]
    if op not in ("-L", "--dump", "-F", "--flush", "-D", "--delete"):
        raise _err(cmd, f"unsupported conntrack command {op!r}: simnet knows -L, -F and -D")
    filters: dict[str, object] = {}
    i = 1
    while i < len(args):
        w = args[i]
        if w in _CT_FILTERS and i + 1 < len(args):
            key, val = _CT_FILTERS[w], args[i + 1]
            try:
                if key in ("src", "dst"):
                    filters[key] = IPv4Address(val)
                elif key == "proto":
                    filters[key] = _PROTOS[val] if val in _PROTOS else int(val)
                else:
                    filters[key] = int(val)
            except (ValueError, AddressValueError, KeyError):
                raise _err(cmd, f"conntrack: bad value {val!r} for {w}") from None
            i += 2
        elif w in ("-o", "--output") and i + 1 < len(args) or w in ("-n", "-f") and i + 1 < len(args):
            raise _err(cmd, f"unsupported conntrack option {w!r}")
        else:
            raise _err(cmd, f"unsupported conntrack argument {w!r}")
    if op in ("-F", "--flush") and filters:
        raise _err(cmd, "conntrack -F takes no filters")

    def selected(conn: Any) -> bool:
        o = conn.orig
        zones = {w.split("=")[0]: int(w.split("=")[1]) for w in conn.zone.listing() if w}
        return all((zones.get(k, 0) if k.startswith("zone") else getattr(o, k)) == v for k, v in filters.items())

    def step(run: _Run) -> None:
        table = run.ns(ns).conntrack
        if op in ("-F", "--flush"):
            table.flush()
        elif op in ("-L", "--dump"):
            from simnet.netfilter.conntrack_table import format_conn

            # conntrack-tools prints the seconds left and the reference count; its
            # "N flow entries have been shown." summary goes to stderr
            run.output(cmd, "".join(format_conn(c, timeout=table.remaining(c)) + " use=1\n"
                                    for c in table if selected(c)))
        else:
            doomed = [c for c in table if selected(c)]
            if not doomed:
                raise IpError("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.", 1)
            for c in doomed:
                table.remove(c)
    return step


def _compile_echo(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    from simnet.script.lexer import _piped_data
    from simnet.sysctl import proc_sys_write

    data = _piped_data(argv) or ""
    if cmd.redirect is None:
        return lambda run: run.output(cmd, data)
    op, path = cmd.redirect
    if not os.path.normpath(path).startswith("/proc/sys/"):
        raise _err(cmd, f"unsupported redirect to {path!r}: only /proc/sys/... may be written")

    def step(run: _Run) -> None:
        proc_sys_write(run.ns(ns).sysctls, path, data.strip())
    return step


def _compile_kill(cmd: Command, argv: tuple[str, ...], jobs: int) -> _STEP:
    if len(argv) != 2:
        raise _err(cmd, "kill takes one job: kill %N or kill $!")
    target = argv[1]
    if target == "$!":
        if jobs == 0:
            raise _err(cmd, "kill $!: no background job has been started yet")
        job: int | None = None
    elif re.fullmatch(r"%\d+", target):
        job = int(target[1:])
        if not 1 <= job <= jobs:
            raise _err(cmd, f"kill {target}: no such job")
    else:
        raise _err(cmd, f"unsupported kill target {target!r}: use %N or $!")

    def step(run: _Run) -> None:
        n = job if job is not None else run.last_job
        for lst in run.jobs.pop(n, []):  # type: ignore[arg-type]
            lst.open = False
    return step


def _compile_ping(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    count, src, dev, interval, ttl = 1, None, None, 1.0, 64
    timeout: float | None = None
    dst: IPv4Address | None = None
    words = list(argv[1:])
    i = 0
    count_given = False
    while i < len(words):
        w = words[i]
        m = re.fullmatch(r"-([cWIiwt])(.*)", w)
        if m:
            flag, val = m.group(1), m.group(2)
            if not val:
                if i + 1 >= len(words):
                    raise _err(cmd, f"ping: option requires an argument -- '{flag}'")
                i += 1
                val = words[i]
            if flag == "c":
                if not val.isdigit() or int(val) < 1:
                    raise _err(cmd, f"ping: invalid argument: '{val}'")
                count, count_given = int(val), True
            elif flag in ("W", "w"):
                timeout = _seconds(cmd, val, "ping")
            elif flag == "i":
                interval = _seconds(cmd, val, "ping")
            elif flag == "t":
                ttl = int(val) if val.isdigit() else 64
            else:
                try:
                    src = IPv4Address(val)
                except AddressValueError:
                    dev = val
        elif w in ("-q", "-n", "-4"):
            pass
        elif w.startswith("-"):
            raise _err(cmd, f"unsupported ping option {w!r}")
        else:
            if dst is not None:
                raise _err(cmd, f"ping: extra argument {w!r}")
            dst = _ip(cmd, w, "ping")
        i += 1
    if dst is None:
        raise _err(cmd, "ping: usage error: Destination address required")
    if not count_given:
        raise _err(cmd, "ping without -c would run forever: give a count, e.g. ping -c 1")
    count, timeout = ping_within(cmd.limit, count, interval, timeout)
    wait = min(timeout, MAX_TIMEOUT)

    def probe(run: _Run) -> ProbeResult:
        name = run.ns(ns).name
        return ping(run.world, name, dst, count=count, timeout=wait, src=src, interface=dev,  # type: ignore[arg-type]
                    interval=interval, ttl=ttl)
    return _probe_step(cmd, probe)


def _ip(cmd: Command, word: str, tool: str) -> IPv4Address:
    try:
        return IPv4Address(word)
    except AddressValueError:
        raise _err(cmd, f"{tool}: {word!r} is not an IPv4 address (simnet resolves no names)") from None


def _port(cmd: Command, word: str, tool: str) -> int:
    if not word.isdigit() or not 0 < int(word) < 65536:
        raise _err(cmd, f"{tool}: port number invalid: {word}")
    return int(word)


def _compile_nc(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> tuple[_STEP, bool]:
    flags: set[str] = set()
    timeout: float | None = None
    sport: int | None = None
    src: IPv4Address | None = None
    pos: list[str] = []
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        if w.startswith("-") and len(w) > 1:
            j = 1
            while j < len(w):
                c = w[j]
                if c in "wps":
                    val = w[j + 1:] or (words[i + 1] if i + 1 < len(words) else None)
                    if val is None:
                        raise _err(cmd, f"nc: option requires an argument -- '{c}'")
                    if not w[j + 1:]:
                        i += 1
                    if c == "w":
                        timeout = _seconds(cmd, val, "nc")
                    elif c == "p":
                        sport = _port(cmd, val, "nc")
                    else:
                        src = _ip(cmd, val, "nc")
                    break
                if c in "zulkvnNd46":
                    flags.add(c)
                elif c == "q":
                    if not w[j + 1:]:
                        i += 1
                    break
                else:
                    raise _err(cmd, f"unsupported nc option -{c}")
                j += 1
        else:
            pos.append(w)
        i += 1
    proto = "udp" if "u" in flags else "tcp"
    if "l" in flags:
        if not cmd.background:
            raise _err(cmd, "a listener (nc -l) must run in the background: end the line with '&'")
        if len(pos) == 1:
            port = _port(cmd, pos[0], "nc")
        elif not pos and sport is not None:
            port = sport
        else:
            raise _err(cmd, "nc -l takes one port: nc -l [-k] [-s ADDR] [-p] PORT &")
        keep = "k" in flags or proto == "udp"

        def listen(run: _Run) -> None:
            n = run.ns(ns)
            try:
                lst = n.sockets.listen(proto, port, src, keep=keep, job=0)
            except KernelError:
                raise IpError("nc: Address already in use", 1) from None
            _new_job(run, [lst])
        return listen, True
    if cmd.background:
        raise _err(cmd, "only listeners may run in the background")
    if len(pos) != 2:
        raise _err(cmd, "nc needs a destination and a port: nc [-z] [-w s] DST PORT")
    dst, dport = _ip(cmd, pos[0], "nc"), _port(cmd, pos[1], "nc")
    wait = min(_within(cmd, timeout), MAX_TIMEOUT)
    if proto == "udp" and ("z" in flags or cmd.stdin == ""):
        def probe(run: _Run) -> ProbeResult:  # nc writes no datagram: nothing to send, or -z
            return udp_connect(run.world, run.ns(ns).name, dst, dport, src=src, timeout=wait)
    elif proto == "udp":
        data = (cmd.stdin or "").encode()

        def probe(run: _Run) -> ProbeResult:
            return udp_send(run.world, run.ns(ns).name, dst, dport, data, sport=sport, src=src, timeout=wait)
    else:
        def probe(run: _Run) -> ProbeResult:
            return tcp_connect(run.world, run.ns(ns).name, dst, dport, sport=sport, src=src, timeout=wait)
    return _probe_step(cmd, probe), False


def _within(cmd: Command, own: float | None) -> float:
    """How long a probe waits: its own timeout (-w, -m), cut short by ``timeout(1)``.

    Without either it waits 1 s (nc and curl would wait minutes; the kernel runner
    bounds them the same way); under ``timeout`` alone it waits until the kill.
    """
    if cmd.limit is None:
        return 1.0 if own is None else own
    return cmd.limit if own is None else min(own, cmd.limit)


def _new_job(run: _Run, listeners: list[Any]) -> None:
    run.started += 1
    n = run.started
    run.jobs[n] = listeners
    run.last_job = n
    for lst in listeners:
        lst.job = n


_URL = re.compile(r"(?:http://)?(?P<host>[0-9.]+)(?::(?P<port>\d+))?(?:/.*)?")


_CURL_LONG = {"--max-time": "m", "--connect-timeout": "m", "--output": "o", "--write-out": "w", "--silent": "s",
              "--show-error": "S", "--fail": "f", "--head": "I", "--verbose": "v", "--insecure": "k"}


def _compile_curl(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    from simnet.probe import _write_out_tokens

    timeout: float | None = None
    write_out: str | None = None
    url: str | None = None
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w.startswith("--") and w in _CURL_LONG:
            letters, attached = _CURL_LONG[w], ""
        elif re.fullmatch(r"-[sSfvIk]*[mow]?.*", w) and len(w) > 1 and not w.startswith("--"):
            m = re.fullmatch(r"-([sSfvIk]*)([mow]?)(.*)", w)
            assert m is not None
            if m[3] and not m[2]:
                raise _err(cmd, f"unsupported curl option {w!r}")
            letters, attached = m[1] + m[2], m[3]
        elif w.startswith("-"):
            raise _err(cmd, f"unsupported curl option {w!r}")
        else:
            if url is not None:
                raise _err(cmd, "curl: one URL only")
            url = w
            continue
        if letters and letters[-1] in "mow":
            if not attached:
                if i >= len(words):
                    raise _err(cmd, f"curl: option {w}: requires parameter")
                attached = words[i]
                i += 1
            if letters[-1] == "m":
                timeout = _seconds(cmd, attached, "curl")
            elif letters[-1] == "o" and attached != "/dev/null":
                raise _err(cmd, f"curl -o {attached}: simnet writes no files; use -o /dev/null")
            elif letters[-1] == "w":
                if attached.startswith("@"):
                    raise _err(cmd, "curl -w @FILE: simnet reads no files; give the format itself")
                try:
                    _write_out_tokens(attached)
                except ValueError as e:
                    raise _err(cmd, str(e)) from None
                write_out = attached
    if url is None:
        raise _err(cmd, "curl: no URL specified")
    if url.startswith("https://"):
        raise _err(cmd, "curl: simnet probes plain http:// only (the TCP connect is what it simulates)")
    m = _URL.fullmatch(url)
    if not m:
        raise _err(cmd, f"curl: cannot use URL {url!r}: give http://ADDR[:PORT]/ with an IPv4 address")
    dst = _ip(cmd, m["host"], "curl")
    dport = _port(cmd, m["port"], "curl") if m["port"] else 80
    wait = min(_within(cmd, timeout), MAX_TIMEOUT)

    def probe(run: _Run) -> ProbeResult:
        result = tcp_connect(run.world, run.ns(ns).name, dst, dport, timeout=wait)
        if write_out is not None:
            seen = result.received if result.outcome == "connected" else None
            http = seen is not None and any(lst.open and n == seen.ns and lst.port == seen.dport
                                            for n, lst in run.http)
            run.output(cmd, curl_write_out(write_out, outcome=result.outcome, dst=dst, dport=dport,
                                           http_code=200 if http else 0))
        return result
    return _probe_step(cmd, probe)


def _compile_http_server(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    words = list(argv[1:])
    if words[:2] != ["-m", "http.server"]:
        raise _err(cmd, f"unsupported command {' '.join(argv[:3])!r}: of python only 'python3 -m http.server' is "
                        "supported")
    if not cmd.background:
        raise _err(cmd, "python3 -m http.server must run in the background: end the line with '&'")
    port = 8000
    addr: IPv4Address | None = None
    rest = words[2:]
    i = 0
    while i < len(rest):
        w = rest[i]
        if w in ("--bind", "-b"):
            if i + 1 >= len(rest):
                raise _err(cmd, f"http.server: argument {w}: expected one argument")
            addr = _ip(cmd, rest[i + 1], "http.server")
            i += 2
        elif w.isdigit():
            port = _port(cmd, w, "http.server")
            i += 1
        else:
            raise _err(cmd, f"unsupported http.server argument {w!r}")

    def listen(run: _Run) -> None:
        n = run.ns(ns)
        try:
            lst = n.sockets.listen("tcp", port, addr, keep=True)
        except KernelError:
            raise IpError("OSError: [Errno 98] Address already in use", 1) from None
        run.http.append((n.name, lst))
        _new_job(run, [lst])
    return listen


def _probe_step(cmd: Command, probe: Callable[[_Run], ProbeResult]) -> _STEP:
    def step(run: _Run) -> None:
        before = rule_counters(run.world)
        result = probe(run)
        counters = _counter_delta(before, rule_counters(run.world))
        conntrack = {name: n.conntrack.listing() for name, n in run.world.namespaces.items()
                     if len(n.conntrack)}
        rec = ProbeRecord(line=cmd.line, command=cmd.text, result=result, expect=cmd.expect, ok=None,
                          counters=counters, conntrack=conntrack)
        if cmd.expect is not None:
            rec.ok = cmd.expect.check(rec.to_json()) and _via_ok(cmd.expect, result)
        run.report.probes.append(rec)
    return step


def _via_ok(exp: Expectation, result: ProbeResult) -> bool:
    """``via TABLE/CHAIN#N`` also holds when the trace shows the hit (the counters already do)."""
    if exp.via is None:
        return True
    table, chain, index = exp.via
    return any(h.table == table and h.chain == chain and h.index == index
               for t in result.traces for h in t.rule_hits())


# ----------------------------------------------------------------------------- run


def run_script(text_or_path: str | os.PathLike[str], *, filename: str | None = None,
               world: World | None = None,
               observer: Callable[[Command, "_Run", str], None] | None = None) -> Report:
    """Run a scenario script (its text, or a path to it) and return the :class:`Report`.

    Raises:
        ScriptError: naming ``file:line`` for a malformed or unsupported line
            (before anything runs), or for a command the simulated tool refuses
            (the run stops at that line, with the tool's message).

    ``observer(cmd, run, "before"|"after")`` is called around every step
    (``simnet.docker.export`` uses it to see what each ``docker`` line did).
    """
    text, name = _read(text_or_path, filename)
    steps = compile_script(text, name)
    world = world if world is not None else World()
    report = Report(world=world, filename=name)
    run = _Run(world, report)
    for cmd, step in steps:
        if observer is not None:
            observer(cmd, run, "before")
        try:
            step(run)
        except ScriptError:
            raise
        except IpError as e:
            raise ScriptError(cmd.file, cmd.line, str(e).strip()) from None
        except SimnetError as e:
            message = getattr(e, "message", None) or str(e)
            raise ScriptError(cmd.file, cmd.line, str(message).strip()) from None
        if observer is not None:
            observer(cmd, run, "after")
    return report


def _read(text_or_path: str | os.PathLike[str], filename: str | None) -> tuple[str, str]:
    if isinstance(text_or_path, os.PathLike) or ("\n" not in str(text_or_path) and str(text_or_path).endswith(".sh")
                                                 and Path(text_or_path).is_file()):
        path = Path(text_or_path)
        return path.read_text(), filename or str(path)
    return str(text_or_path), filename or "<script>"
