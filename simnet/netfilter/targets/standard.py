"""The standard targets: the verdicts ACCEPT, DROP, RETURN and jumps/gotos to chains. Kernel: ipt_do_table's standard target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from simnet.netfilter.targets.base import _Base


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(_Base):
    """NF_ACCEPT: leave this table at this hook."""

    name: ClassVar[str] = "ACCEPT"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop(_Base):
    """NF_DROP: the packet is gone, silently."""

    name: ClassVar[str] = "DROP"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Return(_Base):
    """XT_RETURN: back to the calling chain; in a built-in chain, its policy."""

    name: ClassVar[str] = "RETURN"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Jump(_Base):
    """``-j CHAIN``: traverse a user chain, then continue here unless it decided."""

    chain: str
    name: ClassVar[str] = "JUMP"

    @property
    def label(self) -> str:
        return self.chain

    def __str__(self) -> str:
        return f"-j {self.chain}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Goto(_Base):
    """``-g CHAIN``: traverse a user chain; its RETURN returns to *our* caller."""

    chain: str
    name: ClassVar[str] = "GOTO"
    terminal: ClassVar[bool] = True

    @property
    def label(self) -> str:
        return self.chain

    def describe(self, numeric: bool) -> str:
        return "[goto] "

    def __str__(self) -> str:
        return f"-g {self.chain}"
