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

import gc
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from simnet.errors import SimnetError, ToolError
from simnet.files import Content, FileError
from simnet.probe import ProbeResult
from simnet.script.expect import Expectation, ScriptError
from simnet.script.lexer import Command, lex, netns_exec
from simnet.script.shell import expand, parse_duration
from simnet.tools import TOOLS, StepKind
from simnet.tools.base import decimal
from simnet.tools.ip import IpError, root_netns
from simnet.tools.ip.netns import check_name
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

    def to_json(self, *, traces: bool = True) -> dict[str, Any]:
        r = self.result.to_json(traces=traces)
        out: dict[str, Any] = {"line": self.line, "command": self.command}
        out.update({k: r[k] for k in ("from", "proto", "dst", "dport", "outcome", "icmp", "errno", "received",
                                        "reply")})
        out["expect"] = None if self.expect is None else {**self.expect.to_json(), "ok": self.ok}
        out["counters"] = self.counters
        out["conntrack"] = self.conntrack
        out["trace"] = r["trace"]
        if "ping" in r:
            out["ping"] = r["ping"]  # ping's summary: a long ping's trace keeps only its first echoes
        if "transfer" in r:
            out["transfer"] = r["transfer"]
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
    order: list[tuple[str, int]] = field(default_factory=list)
    """``("output"|"probe", index)`` in the order the script produced them (for printing in script order)."""
    commands: int = 0
    """How many commands the script holds (0: an empty script)."""
    error: ScriptError | None = None
    """The error that stopped the run at its line, if one did (the probes before it are kept)."""

    @property
    def failed(self) -> list[ProbeRecord]:
        """Probes whose expectation did not hold."""
        return [p for p in self.probes if p.ok is False]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document; ``simnet/data/report.schema.json`` describes it."""
        error = None if self.error is None else {
            "file": self.error.filename, "line": self.error.line, "message": self.error.reason}
        return {"probes": [p.to_json() for p in self.probes], "outputs": list(self.outputs), "error": error}

    def in_script_order(self) -> list[tuple[str, Any]]:
        """``("output", {line, command, stdout})`` and ``("probe", ProbeRecord)`` as the script ran them."""
        return [(kind, self.outputs[i] if kind == "output" else self.probes[i]) for kind, i in self.order]

    def __rich__(self) -> Any:
        from simnet.render import report_renderable

        return report_renderable(self)


# ----------------------------------------------------------------------------- counters


def rule_counters(world: World) -> dict[tuple[str, str, str, int], tuple[int, int]]:
    """Every existing rule's and policy's counters: (ns, table, chain, rule) -> (packets, bytes)."""
    out: dict[tuple[str, str, str, int], tuple[int, int]] = {}
    for ns in world.namespaces.values():
        for table in ns.ruleset.existing():
            for chain in table.ordered_chains():
                if chain.builtin:
                    pc = chain.policy_counters
                    out[(ns.name, str(table.name), chain.name, 0)] = (pc.packets, pc.bytes)
                for i, e in enumerate(chain.entries, 1):
                    out[(ns.name, str(table.name), chain.name, i)] = (e.counters.packets, e.counters.bytes)
    return out


def _counter_delta(before: dict[tuple[str, str, str, int], tuple[int, int]],
                   after: dict[tuple[str, str, str, int], tuple[int, int]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for key, (n, b) in after.items():
        n0, b0 = before.get(key, (0, 0))
        if n - n0 > 0:
            ns, table, chain, rule = key
            out.setdefault(ns, []).append({"table": table, "chain": chain, "rule": rule, "packets": n - n0,
                                           "bytes": b - b0})
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
        self.collect = False
        """Whether probes run with the cyclic garbage collector on (it was on when the run started)."""

    def ns(self, name: str | None) -> Any:
        return root_netns(self.world) if name is None else self.world.netns(name)

    def output(self, cmd: Command, stdout: str, *, stderr: str = "") -> None:
        if cmd.redirect is not None and not _proc_sys(cmd.redirect[1]):
            self.emit(cmd, Content.of(stdout.encode()))
            stdout = ""
        if stdout or stderr:
            self.report.order.append(("output", len(self.report.outputs)))
            self.report.outputs.append({"line": cmd.line, "command": cmd.text, "stdout": stdout,
                                        **({"stderr": stderr} if stderr else {})})

    def emit(self, cmd: Command, data: Content) -> None:
        """What ``cmd`` wrote to standard output: appended to its ``>``/``>>`` file, else printed."""
        if cmd.redirect is not None and not _proc_sys(cmd.redirect[1]):
            try:
                self.world.files.write(cmd.redirect[1], data, append=True, netns=cmd.redirect_netns)
            except FileError as e:
                raise ToolError(f"bash: {cmd.redirect[1]}: {e.strerror}") from None
            return
        self.output(cmd, data.materialize().decode("utf-8", "replace"))

    def speaks_http(self, ns: str, port: int) -> bool:
        """Whether the listener on ``ns:port`` answers HTTP: python's http.server, or the process of a
        container whose image serves HTTP (``curl -w '%{http_code}'`` prints 200 for these)."""
        if any(lst.open and n == ns and lst.port == port for n, lst in self.http):
            return True
        if not self.docker:
            return False
        from simnet.docker.daemon import serves_http

        return any(c.netns == ns and serves_http(c.image, c.command)
                   and any(lst.open and lst.port == port for lst in c.listeners)
                   for daemon in self.docker.values() for c in daemon.containers.values())


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


_PROBES = frozenset(name for name, t in TOOLS.items() if t.probe)
_READS_STDIN = frozenset(name for name, t in TOOLS.items() if t.stdin)
_BACKGROUND = frozenset(name for name, t in TOOLS.items() if t.background)


def _compile(cmd: Command, jobs: int) -> tuple[_STEP, bool]:
    if cmd.pipe_from is not None and cmd.stdin is None and len(cmd.pipe_from) == 2 and cmd.pipe_from[0] == "cat":
        cmd = replace(cmd, stdin_path=cmd.pipe_from[1], pipe_from=None)  # cat FILE | CMD: the file is CMD's input
    if cmd.stdin_path is not None:
        step, is_job = _compile_reading(cmd, jobs), False
    else:
        step, is_job = _compile_command(cmd, jobs)
    if cmd.redirect is None or _proc_sys(cmd.redirect[1]):
        return step, is_job
    op, path = cmd.redirect

    def redirected(run: _Run) -> None:
        # the shell opens (creates or truncates) the file before the command runs; a failed
        # open runs nothing (bash: "PATH: No such file or directory")
        try:
            run.world.files.write(path, b"", append=op == ">>", netns=cmd.redirect_netns)
        except FileError as e:
            raise ToolError(f"bash: {path}: {e.strerror}") from None
        step(run)
    return redirected, is_job


def _compile_reading(cmd: Command, jobs: int) -> _STEP:
    """``CMD < FILE``: the words are checked now (with empty input); the file is read when the line runs
    (the shell opens it then), and the command is compiled with its content as standard input."""
    path = cmd.stdin_path
    assert path is not None
    _, argv = netns_exec(cmd)
    if argv and argv[0] not in _READS_STDIN and argv[0] not in ("docker",):
        raise _err(cmd, f"{argv[0]} does not read standard input here")
    if cmd.background:
        raise _err(cmd, "a background command reading '< FILE' is not supported")
    _compile_command(replace(cmd, stdin="", stdin_path=None), jobs)

    def step(run: _Run) -> None:
        try:
            data = run.world.files.read(path, netns=cmd.redirect_netns)
        except FileError as e:
            raise ToolError(f"bash: {path}: {e.strerror}") from None
        inner, _ = _compile_command(replace(cmd, stdin=data.decode("utf-8", "replace"), stdin_path=None), jobs)
        inner(run)
    return step


def _proc_sys(path: str) -> bool:
    return os.path.normpath(path).startswith("/proc/sys/")


def _compile_command(cmd: Command, jobs: int) -> tuple[_STEP, bool]:
    ns, argv = netns_exec(cmd)
    if ns is not None:
        try:
            check_name(ns)
        except IpError as e:
            raise _err(cmd, f"ip netns exec: {e}") from None
    if argv[:3] == ("ip", "netns", "exec"):
        raise _err(cmd, "ip netns exec: No netns name specified")
    if not argv:
        raise _err(cmd, f"ip netns exec {ns}: No command specified")
    if argv[0] == "env" and "dockerd" in argv and all("=" in w for w in argv[1:argv.index("dockerd")]):
        # env VAR=VALUE ... dockerd: the daemon's environment (docker's hunk)
        k = argv.index("dockerd")
        argv = ("dockerd", "--env-prefix", str(k - 1), *argv[1:k], *argv[k + 1:])
    if argv[0] in ("docker", "dockerd", "systemctl"):
        if cmd.expect is not None and argv[1:2] != ("exec",):
            raise _err(cmd, f"'# expect:' follows {' '.join(argv[:2])!r}, which is not a probe (ping, nc, curl; "
                            "in a container: docker exec NAME ping ...)")
        if (cmd.stdin is not None and argv[:2] != ("docker", "exec")) or cmd.redirect is not None:
            raise _err(cmd, f"{argv[0]} does not read standard input or redirect its output here")
        from simnet.docker.cli import compile_docker  # lazily: the core never imports simnet.docker

        return compile_docker(cmd, ns, argv, lambda inner: _compile(inner, jobs))
    if cmd.expect is not None and argv[0] not in _PROBES:
        raise _err(cmd, f"'# expect:' follows {argv[0]!r}, which is not a probe (ping, nc, curl)")
    if cmd.pipe_from is not None and cmd.stdin is None:
        from simnet.tools.sized import piped_size

        sized = piped_size(cmd.pipe_from) if argv[0] == "nc" else None
        if isinstance(sized, str):
            raise _err(cmd, sized)
        if sized is None:
            raise _err(cmd, f"unsupported pipe from {cmd.pipe_from[0]!r}: only 'echo DATA |', 'printf ... |', "
                            "'head -c N /dev/zero |' or 'dd if=/dev/zero bs=N count=C |' may feed a command")
    if cmd.stdin and argv[0] not in _READS_STDIN:
        raise _err(cmd, f"{argv[0]} does not read standard input here")
    if cmd.redirect is not None and _proc_sys(cmd.redirect[1]) and argv[0] not in ("echo", "printf"):
        raise _err(cmd, f"unsupported redirect of {argv[0]!r} to /proc/sys: write a sysctl with "
                        "'echo VALUE > /proc/sys/...'")
    if cmd.limit is not None and cmd.background:
        raise _err(cmd, "timeout around a background listener is not supported: simnet's listeners run until "
                        "killed (kill %N)")
    if cmd.background and argv[0] not in _BACKGROUND:
        raise _err(cmd, f"unsupported background command {argv[0]!r}: only listeners (nc -l, python3 -m "
                        "http.server, dnsmasq -k) run in the background")
    name = argv[0]
    if name == "set":
        return _compile_set(cmd, argv), False
    if name in ("echo", "printf"):
        return _compile_echo(cmd, ns, argv), False
    if name == "sleep":
        return _compile_sleep(cmd, argv), False
    if name in ("true", ":"):
        return (lambda run: None), False
    if name == "kill":
        return _compile_kill(cmd, argv, jobs), False
    tool = TOOLS.get(name)
    if tool is None:
        raise _err(cmd, f"unsupported command {name!r}: simnet interprets ip, bridge, sysctl, iptables, "
                        "iptables-save, iptables-restore, ipset, conntrack, ping, nc, curl, python3 -m http.server, "
                        "dig, host, nslookup, getent hosts, dnsmasq, "
                        "ss, echo/printf [> FILE], cat, head, truncate, mkdir, rm, sleep, date, kill, set, modprobe, "
                        "timeout, sh -c, dockerd, docker and systemctl ... docker")
    try:
        compiled = tool.compile(cmd, ns, argv)
    except IpError as e:
        raise _err(cmd, f"{' '.join(argv[:3])}: {str(e).strip()}") from None
    if compiled.kind is StepKind.PROBE:
        return _probe_step(cmd, compiled.step), False
    if compiled.kind is StepKind.JOB:
        def start(run: _Run) -> None:
            try:
                listeners = compiled.step(run)
            except ScriptError:
                raise
            except (IpError, SimnetError) as e:
                # a background job that fails (nc -l on a port in use) prints its error and exits;
                # the shell goes on, even under set -e, and the job number is taken all the same
                run.output(cmd, "", stderr=str(getattr(e, "message", None) or e).strip() + "\n")
                listeners = []
            _new_job(run, listeners)
        return start, True
    return compiled.step, False


def _compile_sleep(cmd: Command, argv: tuple[str, ...]) -> _STEP:
    if len(argv) != 2:
        raise _err(cmd, "sleep takes one duration in seconds")
    try:
        secs = parse_duration(argv[1])  # coreutils' sleep reads its NUMBER[SUFFIX] as timeout does
    except ValueError:
        raise _err(cmd, f"sleep: invalid time interval '{argv[1]}'") from None
    secs = secs if cmd.limit is None else min(secs, cmd.limit)
    if math.isinf(secs):
        raise _err(cmd, f"sleep {argv[1]} never returns: simnet runs a script to its end")
    return lambda run: run.world.run(until=run.world.now + secs)


def _compile_set(cmd: Command, argv: tuple[str, ...]) -> _STEP:
    flags: set[tuple[str, str]] = set()  # (sign, letter)
    for w in argv[1:]:
        if not re.fullmatch(r"[-+][ex]+", w):
            raise _err(cmd, f"unsupported 'set {w}': simnet knows set -e and set -x")
        flags |= {(w[0], c) for c in w[1:]}

    def step(run: _Run) -> None:
        for sign, c in flags:
            if c == "e":
                run.errexit = sign == "-"
            else:
                run.xtrace = sign == "-"
    return step


def _compile_echo(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> _STEP:
    from simnet.script.lexer import _piped_data
    from simnet.sysctl import proc_sys_write

    data = _piped_data(argv) or ""
    if cmd.redirect is None or not _proc_sys(cmd.redirect[1]):
        return lambda run: run.output(cmd, data)  # to the report, or to the redirect's file (_Run.output)
    op, path = cmd.redirect

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
    elif re.fullmatch(r"%[0-9]+", target):
        job = decimal(target[1:])
        if job is None or not 1 <= job <= jobs:
            raise _err(cmd, f"kill {target}: no such job")
    else:
        raise _err(cmd, f"unsupported kill target {target!r}: use %N or $!")

    def step(run: _Run) -> None:
        n = job if job is not None else run.last_job
        for lst in run.jobs.pop(n, []):  # type: ignore[arg-type]
            lst.open = False
    return step


def _new_job(run: _Run, listeners: list[Any]) -> None:
    run.started += 1
    n = run.started
    run.jobs[n] = listeners
    run.last_job = n
    for lst in listeners:
        lst.job = n


def _probe_step(cmd: Command, probe: Callable[[_Run], ProbeResult]) -> _STEP:
    def step(run: _Run) -> None:
        before = rule_counters(run.world)
        if run.collect:
            gc.enable()  # packets and traces may leave cycles behind: collected as usual
        try:
            result = probe(run)
        finally:
            if run.collect:
                gc.disable()
        counters = _counter_delta(before, rule_counters(run.world))
        conntrack = {name: n.conntrack.listing() for name, n in run.world.namespaces.items()
                     if len(n.conntrack)}
        rec = ProbeRecord(line=cmd.line, command=cmd.text, result=result, expect=cmd.expect, ok=None,
                          counters=counters, conntrack=conntrack)
        if cmd.expect is not None:
            # the check reads no trace (via: _via_ok): not serialising them was ~15% of a short run
            rec.ok = cmd.expect.check(rec.to_json(traces=False)) and _via_ok(cmd.expect, result)
        run.report.order.append(("probe", len(run.report.probes)))
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
        ScriptError: naming ``file:line`` for a script that is not UTF-8 or a
            malformed or unsupported line (before anything runs), or for a
            command the simulated tool refuses (the run stops at that line, with
            the tool's message; the error's ``report`` holds what ran before it).

    ``observer(cmd, run, "before"|"after")`` is called around every step
    (``simnet.docker.export`` uses it to see what each ``docker`` line did).
    """
    text, name = _read(text_or_path, filename)
    collect = gc.isenabled()
    # Building a world allocates millions of objects that all stay alive: the collector's passes over
    # the growing heap found nothing and took a third of the time of a 10,000-namespace build; it is
    # paused while the script is compiled and its set-up commands run (probes run with it on).
    gc.disable()
    try:
        return _run_steps(text, name, world, observer, collect)
    finally:
        if collect:
            gc.enable()


def _run_steps(text: str, name: str, world: World | None,
               observer: Callable[[Command, "_Run", str], None] | None, collect: bool) -> Report:
    try:
        steps = compile_script(text, name)
    except ScriptError as e:
        raise _odd_spaces(e, text) from None
    world = world if world is not None else World()
    report = Report(world=world, filename=name, commands=len(steps))
    run = _Run(world, report)
    run.collect = collect
    for cmd, step in steps:
        if observer is not None:
            observer(cmd, run, "before")
        try:
            try:
                step(run)
            except ScriptError:
                raise
            except IpError as e:
                raise ScriptError(cmd.file, cmd.line, str(e).strip()) from None
            except SimnetError as e:
                message = getattr(e, "message", None) or str(e)
                raise ScriptError(cmd.file, cmd.line, str(message).strip()) from None
        except ScriptError as e:
            report.error = e
            e.report = report  # type: ignore[attr-defined]
            raise
        if observer is not None:
            observer(cmd, run, "after")
    return report


def _read(text_or_path: str | os.PathLike[str], filename: str | None) -> tuple[str, str]:
    if isinstance(text_or_path, os.PathLike) or ("\n" not in str(text_or_path) and str(text_or_path).endswith(".sh")
                                                 and Path(text_or_path).is_file()):
        path = Path(text_or_path)
        name = filename or str(path)
        return decode_script(path.read_bytes(), name), name
    return str(text_or_path), filename or "<script>"


def decode_script(data: bytes, filename: str) -> str:
    """A script's bytes as text; a :class:`ScriptError` naming the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ScriptError(filename, line, f"byte 0x{data[e.start]:02x} at column {column} is not UTF-8: "
                                          "simnet reads scripts as UTF-8 text") from None


_ODD_SPACES = {"\ufeff": "a byte-order mark (U+FEFF)", "\u00a0": "a no-break space (U+00A0)",
               "\u202f": "a narrow no-break space (U+202F)", "\u2007": "a figure space (U+2007)"}


def _odd_spaces(e: ScriptError, text: str) -> ScriptError:
    """Name the invisible character when one glued words together on the failing line."""
    lines = text.splitlines()
    if not 0 < e.line <= len(lines):
        return e
    src = lines[e.line - 1]
    for ch, name in _ODD_SPACES.items():
        col = src.find(ch)
        if col >= 0:
            what = ("at the start of the line (where editors save one)" if col == 0 and ch == "\ufeff"
                    else f"at column {col + 1}")
            why = (f"{name} {what} is part of a word to sh, which splits words on plain spaces and tabs only "
                   f"(replace it with a plain space or delete it); {e.reason}")
            return ScriptError(e.filename, e.line, why)
    return e
