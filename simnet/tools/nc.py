"""``nc`` (OpenBSD netcat, also named ncat and netcat): listeners and TCP/UDP probes."""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Any

from simnet.dns.names import host_word, resolving
from simnet.errors import KernelError
from simnet.probe import MAX_TIMEOUT, ProbeResult, tcp_connect, udp_connect, udp_send
from simnet.script.lexer import Command
from simnet.tools.base import (
    INT_MAX, Compiled, StepKind, ToolRun, decimal, parse_ipv4, script_error, within,
)
from simnet.tools.ip.common import IpError

__all__ = ["compile_nc"]


def _strtonum(cmd: Command, what: str, word: str, low: int, high: int) -> int:
    """OpenBSD's strtonum with nc's ``errx(1, "WHAT %s: %s", errstr, word)``."""
    value = decimal(word)
    if value is None:
        raise script_error(cmd, f"nc: {what} invalid: {word}")
    if value < low:
        raise script_error(cmd, f"nc: {what} too small: {word}")
    if value > high:
        raise script_error(cmd, f"nc: {what} too large: {word}")
    return value


def _port(cmd: Command, word: str) -> int:
    """nc's strtoport: 1-65535."""
    return _strtonum(cmd, "port number", word, 1, 65535)


def _timeout(cmd: Command, word: str) -> float:
    """``-w``: whole seconds 0..INT_MAX/1000 as nc reads them; simnet also takes a fraction
    (``-w 0.5``), which OpenBSD nc calls invalid."""
    if re.fullmatch(r"\d*\.\d+|\d+\.", word):
        if float(word) > INT_MAX // 1000:
            raise script_error(cmd, f"nc: timeout too large: {word}")
        return float(word)
    return float(_strtonum(cmd, "timeout", word, 0, INT_MAX // 1000))


def compile_nc(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``nc`` (OpenBSD netcat): a listener (``nc -l ... &``) or a TCP/UDP probe."""
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
                        raise script_error(cmd, f"nc: option requires an argument -- '{c}'")
                    if not w[j + 1:]:
                        i += 1
                    if c == "w":
                        timeout = _timeout(cmd, val)
                    elif c == "p":
                        sport = _port(cmd, val)
                    else:
                        src = parse_ipv4(cmd, val, "nc")
                    break
                if c in "zulkvnNd46":
                    flags.add(c)
                elif c == "q":
                    if not w[j + 1:]:
                        i += 1
                    break
                else:
                    raise script_error(cmd, f"unsupported nc option -{c}")
                j += 1
        else:
            pos.append(w)
        i += 1
    proto = "udp" if "u" in flags else "tcp"
    if "l" in flags:
        if not cmd.background:
            raise script_error(cmd, "a listener (nc -l) must run in the background: end the line with '&'")
        if len(pos) == 1:
            port = _port(cmd, pos[0])
        elif not pos and sport is not None:
            port = sport
        else:
            raise script_error(cmd, "nc -l takes one port: nc -l [-k] [-s ADDR] [-p] PORT &")
        keep = "k" in flags or proto == "udp"  # OpenBSD nc -u -l keeps reading from every sender here

        def listen(run: ToolRun) -> list[Any]:
            n = run.ns(ns)
            try:
                # OpenBSD nc sets SO_REUSEADDR and SO_REUSEPORT (strace, netcat-openbsd 1.219): a
                # second nc -l on the port binds too; any other socket there makes it fail
                lst = n.sockets.listen(proto, port, src, keep=keep, job=0, reuseport=True)
            except KernelError:
                raise IpError("nc: Address already in use", 1) from None
            return [lst]
        return Compiled(listen, StepKind.JOB)
    if cmd.background:
        raise script_error(cmd, "only listeners may run in the background")
    if len(pos) != 2:
        raise script_error(cmd, "nc needs a destination and a port: nc [-z] [-w s] DST PORT")
    dst, dport = host_word(cmd, pos[0], "nc"), _port(cmd, pos[1])

    def failed(host: str, why: str | None) -> str:  # IPv6 only (why None): nc exits 1 silently
        return f'nc: getaddrinfo for host "{host}" port {dport}: {why}' if why else ""

    wait = min(within(cmd, timeout), MAX_TIMEOUT)
    if proto == "udp" and ("z" in flags or cmd.stdin == ""):
        def probe(run: ToolRun) -> ProbeResult:  # nc writes no datagram: nothing to send, or -z
            return resolving(run, cmd, ns, dst, "nc", failed, lambda addr: udp_connect(
                run.world, run.ns(ns).name, addr, dport, src=src, timeout=wait))
    elif proto == "udp":
        data = (cmd.stdin or "").encode()

        def probe(run: ToolRun) -> ProbeResult:
            return resolving(run, cmd, ns, dst, "nc", failed, lambda addr: udp_send(
                run.world, run.ns(ns).name, addr, dport, data, sport=sport, src=src, timeout=wait))
    else:
        from simnet.tools.sized import SIZE_LIMIT, piped_size

        # nc writes its input once connected (nothing under -z or from empty input): text from
        # echo/printf is written and the answer read back; zeros from head -c/dd are a sized transfer
        payload = (cmd.stdin or "").encode() if "z" not in flags else b""
        size = piped_size(cmd.pipe_from) if cmd.stdin is None else None
        if isinstance(size, int) and size > SIZE_LIMIT:
            raise script_error(cmd, f"nc: simnet sends at most {SIZE_LIMIT} bytes in a sized transfer")
        nbytes = size if isinstance(size, int) and "z" not in flags else None

        def probe(run: ToolRun) -> ProbeResult:
            return resolving(run, cmd, ns, dst, "nc", failed, lambda addr: tcp_connect(
                run.world, run.ns(ns).name, addr, dport, sport=sport, src=src, timeout=wait, data=payload or None,
                size=nbytes))

    def printing(run: ToolRun) -> ProbeResult:
        result = probe(run)
        if result.reply is not None:  # nc prints what it read back
            run.output(cmd, result.reply.data.decode("utf-8", "replace"))
        return result
    return Compiled(printing, StepKind.PROBE)
