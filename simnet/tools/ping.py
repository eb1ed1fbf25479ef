"""``ping`` (iputils) as a probe: its options read as iputils reads them."""

from __future__ import annotations

import math
import re
from ipaddress import AddressValueError, IPv4Address

from simnet.dns.names import host_word, resolving
from simnet.pmtu import PmtuDisc
from simnet.probe import MAX_TIMEOUT, PING_DATA, ProbeResult, ping
from simnet.script.lexer import Command
from simnet.script.shell import ping_within
from simnet.tools.base import INT_MAX, LONG_MAX, Compiled, StepKind, ToolRun, decimal, script_error

__all__ = ["MAX_ECHOES", "compile_ping"]

MAX_ECHOES = 1_000_000
"""The most echo requests one ping may send in simnet (after ``timeout`` cut it): echoes are sent
as the clock reaches them in bounded memory, but each is a full trip through the simulated stack
(about a millisecond of CPU), so ``ping -c 4294967295`` (136 years of ping) is refused, not run."""


def _strtol(cmd: Command, word: str, low: int, high: int) -> int:
    """iputils' strtol_or_err(word, "invalid argument", low, high), with its words."""
    value = decimal(word)
    if value is None:
        raise script_error(cmd, f"ping: invalid argument: '{word}'")
    if not -LONG_MAX - 1 <= value <= LONG_MAX:
        raise script_error(cmd, f"ping: invalid argument: '{word}': Numerical result out of range")
    if not low <= value <= high:
        raise script_error(cmd, f"ping: invalid argument: '{word}': out of range: {low} <= value <= {high}")
    return value


def _strtod(cmd: Command, word: str, what: str, low: float) -> float:
    """iputils' ping_strtod for -i and -W: a number up to INT_MAX/1000 seconds, or ping's exit 2.

    A word with garbage after the number (``-W 1x``) only draws a warning from ping 20221126
    ("this will become fatal error in the future"); simnet refuses it with that warning.
    """
    m = re.fullmatch(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", word)
    if m is None:
        raise script_error(cmd, f"ping: option argument contains garbage: {word}")
    value = float(word)
    if math.isinf(value):
        raise script_error(cmd, f"ping: {what}: {word}: Numerical result out of range")
    if value < low or value > INT_MAX // 1000:
        raise script_error(cmd, f"ping: {what}: {word}")
    return value


def compile_ping(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``ping -c N [-W S] [-w S] [-i S] [-t TTL] [-s SIZE] [-M do|want|dont] [-I ADDR|DEV] [-q] [-n] [-4] DST``
    (iputils 20221126's checks and words; ``-w`` bounds the wait like ``-W``)."""
    count, src, dev, interval, ttl, size = 1, None, None, 1.0, 64, PING_DATA
    pmtudisc: PmtuDisc | None = None
    timeout: float | None = None
    dst: IPv4Address | str | None = None
    words = list(argv[1:])
    i = 0
    count_given = False
    while i < len(words):
        w = words[i]
        m = re.fullmatch(r"-([cWIiwtsM])(.*)", w, re.S)
        if m:
            flag, val = m.group(1), m.group(2)
            if not val:
                if i + 1 >= len(words):
                    raise script_error(cmd, f"ping: option requires an argument -- '{flag}'")
                i += 1
                val = words[i]
            if flag == "c":
                count, count_given = _strtol(cmd, val, 1, LONG_MAX), True
            elif flag == "W":
                timeout = _strtod(cmd, val, "bad linger time", 0.0)
            elif flag == "w":
                timeout = float(_strtol(cmd, val, 0, INT_MAX))
            elif flag == "i":
                interval = _strtod(cmd, val, "bad timing interval", -math.inf)
                if interval < 0:
                    raise script_error(cmd, f"ping -i {val}: simnet does not model a negative interval")
            elif flag == "t":
                ttl = _strtol(cmd, val, 0, 255)
            elif flag == "s":
                size = _strtol(cmd, val, 0, INT_MAX)
            elif flag == "M":
                if val not in ("do", "want", "dont"):
                    raise script_error(cmd, f"ping: invalid -M argument: {val}")
                pmtudisc = PmtuDisc.parse(val)
            else:
                try:
                    src = IPv4Address(val)
                except AddressValueError:
                    dev = val
        elif w in ("-q", "-n", "-4"):
            pass
        elif w.startswith("-"):
            raise script_error(cmd, f"unsupported ping option {w!r}")
        else:
            if dst is not None:
                raise script_error(cmd, f"ping: extra argument {w!r}")
            dst = host_word(cmd, w, "ping")
        i += 1
    if dst is None:
        raise script_error(cmd, "ping: usage error: Destination address required")
    if not count_given:
        raise script_error(cmd, "ping without -c would run forever: give a count, e.g. ping -c 1")
    count, timeout = ping_within(cmd.limit, count, interval, timeout)
    if count > MAX_ECHOES:
        raise script_error(cmd, f"ping -c {count}: simnet simulates at most {MAX_ECHOES} echo requests per ping "
                                "(a bound on its work: each is a full trip through the stack); give a smaller "
                                "-c, or cut it with timeout N")
    wait = min(timeout, MAX_TIMEOUT)

    def probe(run: ToolRun) -> ProbeResult:
        name = run.ns(ns).name
        assert dst is not None
        return resolving(run, cmd, ns, dst, "ping", lambda host, why: f"ping: {host}: {why}" if why else
                         "ping: connect: Cannot assign requested address",
                         lambda addr: ping(run.world, name, addr, count=count, timeout=wait, src=src,
                                           interface=dev, interval=interval, ttl=ttl, size=size,
                                           pmtudisc=pmtudisc))
    return Compiled(probe, StepKind.PROBE)
