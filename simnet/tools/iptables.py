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
    """``iptables-restore [--noflush] <<EOF`` or ``iptables-restore [OPTIONS] FILE`` (a file of the
    host's file model, e.g. what ``iptables-save > FILE`` wrote): the whole input or nothing."""
    args = list(argv[1:])
    valued = ("-T", "--table", "-M", "--modprobe", "-w", "--wait", "-W", "--wait-interval")
    path = next((w for i, w in enumerate(args) if not w.startswith("-") and not (i and args[i - 1] in valued)),
                None)
    if cmd.stdin is None and path is None:
        raise script_error(cmd, "iptables-restore needs its rules on standard input: use a here-document (<<EOF)")

    def step(run: ToolRun) -> None:
        text = cmd.stdin or ""
        if cmd.stdin is None and path is not None:
            from simnet.files import FileError
            from simnet.netfilter.iptables import IptablesError

            run.ns(ns)
            try:
                text = run.world.files.read_text(path, netns=ns)
            except FileError as e:  # iptables-restore.c: "Can't open %s: %s"
                raise IptablesError(f"Can't open {path}: {e.strerror}", 1) from None
        run.output(cmd, iptables_restore(run.ns(ns).ruleset, args, text, filename=cmd.file))
    return Compiled(step)
