"""``ipset`` in a script: the set language lives in :mod:`simnet.netfilter.ipset`."""

from __future__ import annotations

from simnet.netfilter.ipset import ipset
from simnet.script.lexer import Command
from simnet.tools.base import Compiled

__all__ = ["compile_ipset"]


def compile_ipset(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``ipset ARGS`` (``ipset restore`` reads a here-document)."""
    args = list(argv[1:])
    return Compiled(lambda run: run.output(cmd, ipset(run.ns(ns).ipsets, args)))
