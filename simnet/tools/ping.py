"""``ping`` (iputils) as a probe: its options read as iputils reads them."""

from __future__ import annotations

import re
from ipaddress import AddressValueError, IPv4Address

from simnet.probe import MAX_TIMEOUT, ProbeResult, ping
from simnet.script.lexer import Command
from simnet.script.shell import ping_within
from simnet.tools.base import Compiled, StepKind, ToolRun, parse_ipv4, parse_seconds, script_error

__all__ = ["compile_ping"]


def compile_ping(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``ping -c N [-W S] [-w S] [-i S] [-t TTL] [-I ADDR|DEV] [-q] [-n] [-4] DST`` (iputils' words)."""
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
                    raise script_error(cmd, f"ping: option requires an argument -- '{flag}'")
                i += 1
                val = words[i]
            if flag == "c":
                if not val.isdigit() or int(val) < 1:
                    raise script_error(cmd, f"ping: invalid argument: '{val}'")
                count, count_given = int(val), True
            elif flag in ("W", "w"):
                timeout = parse_seconds(cmd, val, "ping")
            elif flag == "i":
                interval = parse_seconds(cmd, val, "ping")
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
            raise script_error(cmd, f"unsupported ping option {w!r}")
        else:
            if dst is not None:
                raise script_error(cmd, f"ping: extra argument {w!r}")
            dst = parse_ipv4(cmd, w, "ping")
        i += 1
    if dst is None:
        raise script_error(cmd, "ping: usage error: Destination address required")
    if not count_given:
        raise script_error(cmd, "ping without -c would run forever: give a count, e.g. ping -c 1")
    count, timeout = ping_within(cmd.limit, count, interval, timeout)
    wait = min(timeout, MAX_TIMEOUT)

    def probe(run: ToolRun) -> ProbeResult:
        name = run.ns(ns).name
        return ping(run.world, name, dst, count=count, timeout=wait, src=src, interface=dev,  # type: ignore[arg-type]
                    interval=interval, ttl=ttl)
    return Compiled(probe, StepKind.PROBE)
