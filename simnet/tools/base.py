"""What a tool's compiler hands the interpreter, and the checks several tools share.

A tool module (one per userspace tool, :mod:`simnet.tools`) exports a compiler
``(cmd, ns, argv) -> Compiled``: it checks every word of the command line (a bad one is a
:class:`~simnet.script.expect.ScriptError` naming ``file:line``, worded as the tool words
it) and returns the step to run later.  A step receives the interpreter's run state, seen
here as :class:`ToolRun`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from ipaddress import AddressValueError, IPv4Address
from typing import TYPE_CHECKING, Any, Callable, Protocol

from simnet.script.expect import ScriptError
from simnet.script.lexer import Command

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["INT_MAX", "LONG_MAX", "Compiled", "StepKind", "ToolRun", "decimal", "parse_ipv4", "parse_port",
           "parse_seconds", "script_error", "within"]


class StepKind(Enum):
    """How the interpreter runs a compiled step."""

    ACTION = "action"
    """``step(run)`` changes the world or prints; its return value is ignored."""
    PROBE = "probe"
    """``step(run)`` returns a :class:`~simnet.probe.ProbeResult`, recorded with its counters."""
    JOB = "job"
    """``step(run)`` returns the listeners of a new background job (``kill %N`` stops them)."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked command line: the step to run, and what kind of step it is."""

    step: Callable[["ToolRun"], Any]
    kind: StepKind = StepKind.ACTION


class ToolRun(Protocol):
    """The part of the interpreter's run state a tool's step uses."""

    world: "World"
    http: list[tuple[str, Any]]
    """(namespace, listener) of every ``python3 -m http.server`` started so far."""

    def ns(self, name: str | None) -> "NetNamespace":
        """The namespace ``name`` (None: the script's root namespace)."""

    def output(self, cmd: Command, stdout: str, *, stderr: str = "") -> None:
        """Record what the command printed (on stdout, and on stderr)."""

    def speaks_http(self, ns: str, port: int) -> bool:
        """Whether the listener on ``ns:port`` answers HTTP (http.server, an HTTP image's process)."""


INT_MAX = (1 << 31) - 1
LONG_MAX = (1 << 63) - 1
_BEYOND = 10 ** 30
"""Stands for any decimal longer than 30 digits: beyond every range a tool checks, so a number of
any length is compared without converting all its digits (Python refuses beyond 4,300)."""


def decimal(word: str) -> int | None:
    """A whole word read as C's ``strtol(word, &end, 10)`` reads it (leading blanks, a sign, digits
    and nothing after), or None; a number longer than 30 digits reads as +/-10**30.

    >>> decimal("42"), decimal(" +7"), decimal("-0012"), decimal("0x10"), decimal("9" * 5000) == 10 ** 30
    (42, 7, -12, None, True)
    """
    m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?)0*(\d+)", word) if word[:1].isspace() or word[:1] in "+-0123456789" \
        else None
    if m is None or not m[2].isascii():
        return None
    value = _BEYOND if len(m[2]) > 30 else int(m[2])
    return -value if m[1] == "-" else value


def script_error(cmd: Command, message: str) -> ScriptError:
    """A refusal of ``cmd``'s line, naming its file and line."""
    return ScriptError(cmd.file, cmd.line, message)


def parse_seconds(cmd: Command, word: str, what: str) -> float:
    """A non-negative number of seconds (``sleep``, ``nc -w``, ``ping -W``, ``curl -m``)."""
    if not re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", word):
        raise script_error(cmd, f"{what}: invalid time {word!r}")
    value = float(word)
    if value < 0 or math.isinf(value):
        raise script_error(cmd, f"{what}: invalid time {word!r}")
    return value


def parse_ipv4(cmd: Command, word: str, tool: str) -> IPv4Address:
    """A literal IPv4 address (simnet resolves no names)."""
    try:
        return IPv4Address(word)
    except AddressValueError:
        raise script_error(cmd, f"{tool}: {word!r} is not an IPv4 address (simnet resolves no names)") from None


def parse_port(cmd: Command, word: str, tool: str) -> int:
    """A TCP/UDP port 1-65535."""
    value = decimal(word) if word.isascii() and word.isdigit() else None
    if value is None or not 0 < value < 65536:
        raise script_error(cmd, f"{tool}: port number invalid: {word}")
    return value


def within(cmd: Command, own: float | None) -> float:
    """How long a probe waits: its own timeout (-w, -m), cut short by ``timeout(1)``.

    Without either it waits 1 s (nc and curl would wait minutes; the kernel runner
    bounds them the same way); under ``timeout`` alone it waits until the kill.
    """
    if cmd.limit is None:
        return 1.0 if own is None else own
    return cmd.limit if own is None else min(own, cmd.limit)
