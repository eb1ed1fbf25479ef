"""The userspace tools a scenario script runs, one module per tool, dispatched from one table.

As iproute2's ``ip.c`` looks an object up in ``cmds[]`` and hands it the rest of the line,
the interpreter (:mod:`simnet.script.interpreter`) looks a command's name up in
:data:`TOOLS` and hands the tool's compiler the whole line.  The compiler checks every word
(nothing runs yet: a script with a bad line changes nothing) and returns a
:class:`~simnet.tools.base.Compiled` step.  The table also says what the shell may wrap the
tool in: whether it is a probe (may carry ``# expect:``), reads standard input, or runs in
the background (a listener).

The shell's own commands (``set``, ``sleep``, ``kill``, ``echo``/``printf``, ``true``) and
Docker's (:mod:`simnet.docker.cli`) are not here: they belong to the interpreter and to the
daemon.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun


def _lazy(module: str, name: str) -> "Compiler":
    """The compiler ``module.name``, imported when a script first uses the tool (a script without
    iptables lines never loads the iptables parser, nor one without curl curl)."""
    def compile_(cmd: Command, ns: "str | None", argv: "tuple[str, ...]") -> Compiled:
        import importlib

        fn: Compiler = getattr(importlib.import_module(module), name)
        return fn(cmd, ns, argv)
    compile_.__name__ = compile_.__qualname__ = name
    return compile_


compile_conntrack = _lazy("simnet.tools.conntrack", "compile_conntrack")
compile_curl = _lazy("simnet.tools.curl", "compile_curl")
compile_date = _lazy("simnet.tools.date", "compile_date")
compile_http_server = _lazy("simnet.tools.http_server", "compile_http_server")
compile_ipset = _lazy("simnet.tools.ipset", "compile_ipset")
compile_iptables = _lazy("simnet.tools.iptables", "compile_iptables")
compile_iptables_restore = _lazy("simnet.tools.iptables", "compile_iptables_restore")
compile_iptables_save = _lazy("simnet.tools.iptables", "compile_iptables_save")
compile_modprobe = _lazy("simnet.tools.modprobe", "compile_modprobe")
compile_nc = _lazy("simnet.tools.nc", "compile_nc")
compile_ping = _lazy("simnet.tools.ping", "compile_ping")
compile_ss = _lazy("simnet.tools.ss", "compile_ss")
compile_sysctl = _lazy("simnet.tools.sysctl", "compile_sysctl")
compile_cat = _lazy("simnet.tools.files", "compile_cat")
compile_head = _lazy("simnet.tools.files", "compile_head")
compile_mkdir = _lazy("simnet.tools.files", "compile_mkdir")
compile_rm = _lazy("simnet.tools.files", "compile_rm")
compile_truncate = _lazy("simnet.tools.files", "compile_truncate")
compile_dnsmasq = _lazy("simnet.tools.dnsmasq", "compile_dnsmasq")
compile_embedded_dns = _lazy("simnet.tools.embedded_dns", "compile_embedded_dns")
compile_dig = _lazy("simnet.tools.dnsutils", "compile_dig")
compile_host = _lazy("simnet.tools.dnsutils", "compile_host")
compile_nslookup = _lazy("simnet.tools.dnsutils", "compile_nslookup")
compile_getent = _lazy("simnet.tools.getent", "compile_getent")
compile_ncat = _lazy("simnet.tools.socat", "compile_ncat")
compile_socat = _lazy("simnet.tools.socat", "compile_socat")

__all__ = ["TOOLS", "Compiled", "StepKind", "Tool", "ToolRun"]

Compiler = Callable[[Command, "str | None", "tuple[str, ...]"], Compiled]


@dataclass(frozen=True, slots=True)
class Tool:
    """One entry of :data:`TOOLS`: the compiler and where the shell may use the tool."""

    compile: Compiler
    probe: bool = False
    """Its line may be followed by ``# expect:``."""
    stdin: bool = False
    """It reads standard input (a pipe or here-document)."""
    background: bool = False
    """It may run in the background (``&``): a listener."""


def _ip(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    ic = _ip_compiler()(argv)
    return Compiled(lambda run: run.output(cmd, ic.run(run.world, ns)))


@functools.cache
def _ip_compiler() -> "Callable[[tuple[str, ...]], Any]":
    """``compile_ip``, imported on first use and kept (a from-import of a package costs on every line)."""
    from simnet.tools.ip import compile_ip

    return compile_ip


def _bridge(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    from simnet.tools.bridge import compile_bridge

    bc = compile_bridge(argv)
    return Compiled(lambda run: run.output(cmd, bc.run(run.world, ns)))


_NC = Tool(compile_nc, probe=True, stdin=True, background=True)
_HTTP = Tool(compile_http_server, background=True)
_RESTORE = Tool(compile_iptables_restore, stdin=True)

TOOLS: dict[str, Tool] = {
    "ip": Tool(_ip),
    "bridge": Tool(_bridge),
    "ss": Tool(compile_ss),
    "modprobe": Tool(compile_modprobe),
    "date": Tool(compile_date),
    "sysctl": Tool(compile_sysctl),
    "iptables": Tool(compile_iptables),
    "iptables-nft": Tool(compile_iptables),
    "iptables-save": Tool(compile_iptables_save),
    "iptables-nft-save": Tool(compile_iptables_save),
    "iptables-restore": _RESTORE,
    "iptables-nft-restore": _RESTORE,
    "ipset": Tool(compile_ipset, stdin=True),
    "conntrack": Tool(compile_conntrack),
    "ping": Tool(compile_ping, probe=True),
    "nc": _NC,
    "ncat": Tool(compile_ncat, probe=True, stdin=True, background=True),
    "socat": Tool(compile_socat, background=True),
    "netcat": _NC,
    "curl": Tool(compile_curl, probe=True),
    "python3": _HTTP,
    "python": _HTTP,
    "cat": Tool(compile_cat, stdin=True),
    "head": Tool(compile_head, stdin=True),
    "truncate": Tool(compile_truncate),
    "mkdir": Tool(compile_mkdir),
    "rm": Tool(compile_rm),
    "dig": Tool(compile_dig, probe=True),
    "host": Tool(compile_host, probe=True),
    "nslookup": Tool(compile_nslookup, probe=True),
    "getent": Tool(compile_getent, probe=True),
    "dnsmasq": Tool(compile_dnsmasq, background=True),
    "simnet-embedded-dns": Tool(compile_embedded_dns, background=True),  # Docker export's resolver stand-in
}
"""Command name -> :class:`Tool`."""
