"""``iptables``, ``iptables-save`` and ``iptables-restore`` (and their ``-nft`` names) in a script.

The rule language itself lives in :mod:`simnet.netfilter.iptables`; this front-end checks what
the script line must provide (iptables-restore reads its rules from a here-document) and runs
the tool against the namespace's ruleset.
"""

from __future__ import annotations

from simnet.netfilter.iptables import iptables, iptables_restore, iptables_save
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, ToolRun, script_error

__all__ = ["compile_iptables", "compile_iptables_restore", "compile_iptables_save"]


def compile_iptables(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``iptables ARGS``: checked and applied when it runs (a refused rule changes nothing)."""
    args = list(argv[1:])
    return Compiled(lambda run: run.output(cmd, iptables(run.ns(ns).ruleset, args)))


def compile_iptables_save(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``iptables-save [-t TABLE] [-c]``: prints the ruleset."""
    args = list(argv[1:])
    return Compiled(lambda run: run.output(cmd, iptables_save(run.ns(ns).ruleset, args)))


def compile_iptables_restore(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``iptables-restore [--noflush] <<EOF``: the whole input or nothing."""
    if cmd.stdin is None:
        raise script_error(cmd, "iptables-restore needs its rules on standard input: use a here-document (<<EOF)")
    args = list(argv[1:])

    def step(run: ToolRun) -> None:
        run.output(cmd, iptables_restore(run.ns(ns).ruleset, args, cmd.stdin or "", filename=cmd.file))
    return Compiled(step)
