"""``python3 -m http.server`` as a listener (a background job answering HTTP on its port)."""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Any

from simnet.errors import KernelError
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun, parse_ipv4, script_error
from simnet.tools.ip.common import IpError

__all__ = ["compile_http_server"]

_INT_DIGITS = 4300
"""CPython's int() refuses longer decimals (sys.int_info.default_max_str_digits)."""


def _port(cmd: Command, word: str) -> int:
    """argparse's ``type=int`` port, then the socket's 16-bit port: CPython keeps the low 16 bits
    (``python3 -m http.server 99999`` serves on 34463, checked with Python 3.11 on 6.18)."""
    digits = word.lstrip("0")
    if len(digits) > _INT_DIGITS:
        raise script_error(cmd, f"server.py: error: argument port: invalid int value: '{word}'")
    port = int(word) & 0xFFFF
    if port == 0:
        raise script_error(cmd, f"http.server {word}: port 0 asks the kernel for a free port, which simnet does not "
                                "pick; give a port 1-65535")
    return port


def compile_http_server(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``python3 -m http.server [--bind ADDR] [--directory DIR] [PORT] &``: a TCP listener (a background job)
    serving the files of DIR (the script's current directory by default) from the world's file model."""
    words = list(argv[1:])
    if words[:2] != ["-m", "http.server"]:
        raise script_error(cmd, f"unsupported command {' '.join(argv[:3])!r}: of python only "
                                "'python3 -m http.server' is supported")
    if not cmd.background:
        raise script_error(cmd, "python3 -m http.server must run in the background: end the line with '&'")
    port = 8000
    addr: IPv4Address | None = None
    directory: str | None = None
    rest = words[2:]
    i = 0
    while i < len(rest):
        w = rest[i]
        if w in ("--bind", "-b"):
            if i + 1 >= len(rest):
                raise script_error(cmd, f"http.server: argument {w}: expected one argument")
            addr = parse_ipv4(cmd, rest[i + 1], "http.server")
            i += 2
        elif w in ("--directory", "-d"):
            if i + 1 >= len(rest):
                raise script_error(cmd, f"server.py: error: argument {w}: expected one argument")
            directory = rest[i + 1]
            i += 2
        elif re.fullmatch(r"[0-9]+", w):
            port = _port(cmd, w)
            i += 1
        else:
            raise script_error(cmd, f"unsupported http.server argument {w!r}")

    def listen(run: ToolRun) -> list[Any]:
        n = run.ns(ns)
        try:
            lst = n.sockets.listen("tcp", port, addr, keep=True)
        except KernelError:
            raise IpError("OSError: [Errno 98] Address already in use", 1) from None
        # SimpleHTTPRequestHandler serves the directory it started in (or --directory)
        lst.directory = run.world.files.abspath(directory or ".")
        run.http.append((n.name, lst))
        return [lst]
    return Compiled(listen, StepKind.JOB)
