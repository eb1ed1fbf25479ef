"""The base of every match module, and what they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.xtables import Opts, U32, err, mark_text, parse_mark

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _bang(inv: bool) -> str:
    return " !" if inv else ""


def _rule_key(match: object, ctx: "MatchContext") -> object:
    key = getattr(ctx, "rule_key", None)
    return key if key is not None else id(match)


def _no_invert(module: str, opts: Opts, *names: str) -> None:
    for n in names:
        o = opts.get(n)
        if o is not None and o[0]:
            raise err(f"{module}: option \"{n}\" cannot be inverted.")


class Match:
    """Base of all match modules (not instantiated directly)."""

    __slots__ = ()
    module: ClassVar[str]
    OPTIONS: ClassVar[dict[str, int]]
    """Accepted long options -> number of arguments; aliases via ALIASES."""
    ALIASES: ClassVar[dict[str, str]] = {}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Match":  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self) -> str:  # pragma: no cover - abstract
        """Text after ``-m NAME`` as iptables-save prints it (leading space)."""
        raise NotImplementedError

    def describe(self, numeric: bool) -> str:
        """The ``iptables -L`` column text (no leading space)."""
        return f"{self.module}{self.save()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:
        return f"-m {self.module}{self.save()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _MaskedMatch(Match):
    """Base of ``--OPTION V[/M]`` matches: ``(field & M) == V``, one option, invertible."""

    value: int
    mask: int = U32
    invert: bool = False

    OPTION: ClassVar[str] = "--mark"

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "_MaskedMatch":
        o = opts.get(cls.OPTION)
        if o is None:
            raise err(f"{cls.module}: option \"{cls.OPTION}\" must be specified")
        value, mask = cls._parse(o[1][0])
        return cls(value=value, mask=mask, invert=o[0])

    @staticmethod
    def _parse(text: str) -> tuple[int, int]:
        return parse_mark(text)

    def _text(self) -> str:
        return mark_text(self.value, self.mask)

    def _field(self, skb: "Skb") -> int | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self) -> str:
        return f"{_bang(self.invert)} {self.OPTION} {self._text()}"

    def describe(self, numeric: bool) -> str:
        return f"{self.module} match {'!' if self.invert else ''}{self._text()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        field = self._field(skb)
        # no conntrack entry / no IP header: the match fails whatever the inversion
        return field is not None and ((field & self.mask) == self.value) != self.invert
