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

from dataclasses import dataclass
from typing import Callable

from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun
from simnet.tools.bridge import compile_bridge
from simnet.tools.conntrack import compile_conntrack
from simnet.tools.curl import compile_curl
from simnet.tools.files import compile_cat, compile_head, compile_mkdir, compile_rm, compile_truncate
from simnet.tools.http_server import compile_http_server
from simnet.tools.ip import compile_ip
from simnet.tools.ipset import compile_ipset
from simnet.tools.iptables import compile_iptables, compile_iptables_restore, compile_iptables_save
from simnet.tools.modprobe import compile_modprobe
from simnet.tools.nc import compile_nc
from simnet.tools.ping import compile_ping
from simnet.tools.ss import compile_ss
from simnet.tools.sysctl import compile_sysctl

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
    ic = compile_ip(argv)
    return Compiled(lambda run: run.output(cmd, ic.run(run.world, ns)))


def _bridge(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
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
    "ncat": _NC,
    "netcat": _NC,
    "curl": Tool(compile_curl, probe=True),
    "python3": _HTTP,
    "python": _HTTP,
    "cat": Tool(compile_cat, stdin=True),
    "head": Tool(compile_head, stdin=True),
    "truncate": Tool(compile_truncate),
    "mkdir": Tool(compile_mkdir),
    "rm": Tool(compile_rm),
}
"""Command name -> :class:`Tool`."""
