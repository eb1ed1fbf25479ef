"""The base of every target."""

from __future__ import annotations

from typing import Any, ClassVar

from simnet.errors import RuleSyntaxError
from simnet.netfilter.xtables import Opts


def _err(msg: str) -> RuleSyntaxError:
    return RuleSyntaxError(msg)


class _Base:
    __slots__ = ()
    name: ClassVar[str]
    terminal: ClassVar[bool] = False
    OPTIONS: ClassVar[dict[str, int]] = {}
    ALIASES: ClassVar[dict[str, str]] = {}
    MULTI: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def duplicate(cls, option: str) -> str:
        """The error for an option given twice."""
        return f"multiple {option} flags not allowed"

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> Any:
        if opts:
            raise _err(f"unknown option \"{next(iter(opts))}\"")
        return cls()

    def save(self) -> str:
        """Options after ``-j NAME`` (leading space), as iptables-save prints them."""
        return ""

    def describe(self, numeric: bool) -> str:
        """The ``iptables -L`` text after the matches."""
        return ""

    @property
    def label(self) -> str:
        """The ``target`` column of ``iptables -L``."""
        return self.name

    def __str__(self) -> str:
        return f"-j {self.name}{self.save()}"
