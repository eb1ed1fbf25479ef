"""Shell wrappers a scenario command may sit in, unwrapped into plain commands.

Scripts are written the way people type them, so a probe may be bounded by
``timeout(1)`` and a command may be handed to ``sh -c``.  Both the simulator
(:func:`simnet.script.interpreter.compile_script`) and the kernel runner
(:func:`simnet.conformance.run_on_kernel`) read a script through :func:`expand`, so
they see the same commands:

* ``[ip netns exec NS] timeout [-s SIG] [-k DUR] [--preserve-status] [--foreground] [-v]
  DURATION CMD ...`` (also outside ``ip netns exec``) becomes ``[ip netns exec NS] CMD ...``
  with :attr:`Command.limit` set: a probe then waits at most DURATION seconds
  (``timeout 0`` sets no limit, as coreutils does).
* ``[ip netns exec NS] sh|bash|dash [-e] [-x] -c 'TEXT' [NAME ARGS...]`` becomes the commands
  of TEXT, each in NS (a command of TEXT that enters a namespace itself goes there), all on the
  outer line: ``;`` and ``&&`` separate them, ``# expect:`` after the line belongs to the last,
  and an error in TEXT names the outer file and line.

Example:
    >>> from simnet.script.lexer import lex
    >>> (cmd,) = expand(lex("ip netns exec b timeout -s KILL 2s nc -z 10.0.0.1 80\\n"))
    >>> cmd.argv, cmd.limit
    (('ip', 'netns', 'exec', 'b', 'nc', '-z', '10.0.0.1', '80'), 2.0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import replace

from simnet.script.expect import ScriptError
from simnet.script.lexer import Command, lex, netns_exec

__all__ = ["expand", "parse_duration", "ping_within"]

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIGNALS = frozenset("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP "
                     "TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS".split())


def parse_duration(word: str) -> float:
    """coreutils' ``timeout`` DURATION: a floating number with an optional s/m/h/d suffix.

    >>> parse_duration("2"), parse_duration("1.5s"), parse_duration(".5"), parse_duration("1m")
    (2.0, 1.5, 0.5, 60.0)

    Raises:
        ValueError: with timeout's message, for anything else.
    """
    m = re.fullmatch(r"((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|inf(?:inity)?)([smhd]?)", word)
    if not m:
        raise ValueError(f"timeout: invalid time interval '{word}'")
    return float(m[1]) * _UNITS[m[2]]


def _timeout(cmd: Command, words: tuple[str, ...]) -> tuple[float | None, tuple[str, ...]]:
    """Parse ``timeout OPTIONS DURATION CMD...``: (the limit or None for 0, CMD...)."""
    i = 1
    while i < len(words) and words[i].startswith("-") and words[i] != "-":
        w = words[i]
        if w == "--":
            i += 1
            break
        name, eq, value = w.partition("=")
        if name in ("-s", "--signal", "-k", "--kill-after") or re.fullmatch(r"-[sk].+", w):
            if re.fullmatch(r"-[sk].+", w):
                name, value, eq = w[:2], w[2:], "="
            if not eq:
                if i + 1 >= len(words):
                    raise ScriptError(cmd.file, cmd.line, f"timeout: option requires an argument -- '{name[-1]}'"
                                      if len(name) == 2 else f"timeout: option '{name}' requires an argument")
                i += 1
                value = words[i]
            if name in ("-s", "--signal"):
                sig = value.upper().removeprefix("SIG")
                if sig not in _SIGNALS and not (re.fullmatch(r"[0-9]{1,3}", sig) and 0 < int(sig) < 65):
                    raise ScriptError(cmd.file, cmd.line, f"timeout: '{value}': invalid signal")
            else:
                _duration(cmd, value)
        elif w not in ("--preserve-status", "--foreground", "-v", "--verbose"):
            raise ScriptError(cmd.file, cmd.line, f"timeout: unrecognized option '{w}'")
        i += 1
    if i >= len(words):
        raise ScriptError(cmd.file, cmd.line, "timeout: missing operand")
    limit = _duration(cmd, words[i])
    inner = words[i + 1:]
    if not inner:
        raise ScriptError(cmd.file, cmd.line, f"timeout: missing operand after '{words[i]}'")
    return (limit or None), inner


def _duration(cmd: Command, word: str) -> float:
    try:
        return parse_duration(word)
    except ValueError as e:
        raise ScriptError(cmd.file, cmd.line, str(e)) from None


def _unwrap(cmd: Command) -> Command:
    limits: list[float] = []
    ns, argv = netns_exec(cmd)
    wrapped = False
    while argv and argv[0] == "timeout" or ns is None and argv[:3] == ("ip", "netns", "exec"):
        wrapped = True
        if argv[0] == "timeout":
            limit, argv = _timeout(cmd, argv)
            if limit is not None:
                limits.append(limit)
        elif len(argv) < 4:
            raise ScriptError(cmd.file, cmd.line, "ip netns exec: No netns name specified")
        else:
            ns, argv = netns_exec(argv)
    if not wrapped:
        return cmd
    prefix = ("ip", "netns", "exec", ns) if ns is not None else ()
    return replace(cmd, argv=(*prefix, *argv), limit=min(limits, default=None))


_SHELLS = frozenset({"sh", "bash", "dash", "/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/bash"})


def _shell_text(cmd: Command, argv: tuple[str, ...]) -> str | None:
    """The TEXT of ``sh [-e] [-x] -c TEXT [NAME ARGS...]``; None when argv is no ``sh -c``."""
    if not argv or argv[0] not in _SHELLS:
        return None
    i = 1
    command = False
    while i < len(argv) and re.fullmatch(r"[-+][a-z]+", argv[i]):
        flags = argv[i][1:]
        if set(flags) - set("cexuvl"):
            raise ScriptError(cmd.file, cmd.line, f"unsupported {argv[0]} option {argv[i]!r}: simnet reads "
                                                  f"'{argv[0]} [-e] [-x] -c COMMANDS'")
        command = command or "c" in flags
        i += 1
    if not command:
        raise ScriptError(cmd.file, cmd.line, f"{argv[0]} without -c: simnet runs no shell scripts; write the "
                                              "commands in this script, or pass them with -c 'COMMANDS'")
    if i >= len(argv):
        raise ScriptError(cmd.file, cmd.line, f"{argv[0]}: -c: option requires an argument")
    return argv[i]


def _shell(cmd: Command, ns: str | None, text: str) -> list[Command]:
    if cmd.stdin is not None or cmd.redirect is not None:
        raise ScriptError(cmd.file, cmd.line, "sh -c with its own pipe, here-document or redirect is not "
                                              "supported: put them inside the quoted commands")
    try:
        inner = lex(text, cmd.file, inline=True)
    except ScriptError as e:
        raise ScriptError(cmd.file, cmd.line, f"in sh -c: {e.reason}") from None
    if not inner:
        return []
    if cmd.background and len(inner) > 1:
        raise ScriptError(cmd.file, cmd.line, "sh -c '...' & with more than one command: only a single listener "
                                              "may run in the background")
    out = []
    for k, c in enumerate(inner):
        if c.expect is not None:
            raise ScriptError(cmd.file, cmd.line, "in sh -c: put '# expect:' on the line after the command")
        prefix = ("ip", "netns", "exec", ns) if ns is not None and c.argv[:3] != ("ip", "netns", "exec") else ()
        if c.redirect is not None and ns is not None:
            c = replace(c, redirect_netns=ns)  # sh -c opens it, inside ns's mount namespace
        out.append(replace(c, file=cmd.file, line=cmd.line, argv=(*prefix, *c.argv), text=cmd.text,
                           background=c.background or cmd.background, limit=cmd.limit,
                           expect=cmd.expect if k == len(inner) - 1 else None))
    return out


def _expand(cmd: Command, depth: int = 0) -> list[Command]:
    cmd = _unwrap(cmd)
    ns, argv = netns_exec(cmd)
    text = _shell_text(cmd, argv)
    if text is None:
        return [cmd]
    if depth > 4:
        raise ScriptError(cmd.file, cmd.line, "sh -c nested more than 4 deep")
    return [d for c in _shell(cmd, ns, text) for d in _expand(c, depth + 1)]


def expand(commands: Iterable[Command]) -> tuple[Command, ...]:
    """Every command with its shell wrappers taken off (see the module docstring)."""
    return tuple(d for c in commands for d in _expand(c))


def ping_within(limit: float | None, count: int, interval: float, wait: float | None) -> tuple[int, float]:
    """``timeout LIMIT ping -c COUNT -i INTERVAL [-W WAIT]``: (requests sent before the kill, wait after the last).

    ping waits 10 s for the last answer without ``-W`` (iputils' linger); ``timeout`` kills it
    at LIMIT, so only the requests due before then leave (the kernel runner's helper uses the
    same rule, in :mod:`simnet.conformance.inside.common`).

    >>> ping_within(2, 3, 1.0, None), ping_within(None, 3, 1.0, None), ping_within(5, 2, 1.0, 1.0)
    ((2, 1.0), (3, 1.0), (2, 1.0))
    """
    if limit is None:
        return count, 1.0 if wait is None else wait
    wait = 10.0 if wait is None else wait
    if (count - 1) * interval + wait <= limit:
        return count, wait
    sent = max(1, min(count, math.ceil(limit / interval - 1e-9) if interval > 0 else count))
    return sent, limit - (sent - 1) * interval
