"""The ``sysctl`` command in a script: the keys and their checks live in :mod:`simnet.sysctl`."""

from __future__ import annotations

from simnet.script.lexer import Command
from simnet.sysctl import sysctl_command
from simnet.tools.base import Compiled

__all__ = ["compile_sysctl"]


def compile_sysctl(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``sysctl [-w] KEY[=VALUE]...`` in the namespace."""
    args = list(argv[1:])
    return Compiled(lambda run: run.output(cmd, sysctl_command(run.ns(ns).sysctls, args)))
