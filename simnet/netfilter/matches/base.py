"""The base of every match module, and what they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, TYPE_CHECKING

from simnet.netfilter.xtables import Opts, U32, err, mark_text, parse_mark

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _once(module: str, option: str) -> str:
    """xtables_option_parse's words for an option repeated (libxtables' x6 parser, XTOPT_MULTI unset)."""
    return f"{module}: option \"{option}\" can only be used once.\n"


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


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a match module, declared as iptables' ``struct xt_option_entry`` does.

    ``field`` is the dataclass field (or fields, for a type that reads a tuple such as
    ``V[/M]``) the argument fills, read by ``type`` (``None``: a flag without argument, set to
    True); ``invert`` names the field that records a ``!`` before it (``None``: not invertible,
    XTOPT_INVERT unset); ``mandatory`` is XTOPT_MAND; ``aliases`` are other spellings.  An
    option whose ``field`` is None is read by the module's own ``build`` (the options that
    depend on each other, as iptables' x6_parse callbacks read them).
    """

    flag: str
    field: str | tuple[str, ...] | None
    type: Callable[..., Any] | None = None
    """Reads the option's arguments (one per argument: none for a flag that sets a value)."""
    invert: str | None = None
    mandatory: bool = False
    aliases: tuple[str, ...] = ()
    nargs: int | None = None
    """Arguments taken; by default 1 with a ``type``, 0 without."""

    @property
    def arity(self) -> int:
        return self.nargs if self.nargs is not None else (0 if self.type is None and self.field is not None else 1)


class Match:
    """Base of all match modules (not instantiated directly).

    A module declares its options as data (:attr:`OPTION_TABLE`); :meth:`build` reads them with
    one generic parser (:meth:`parse_options`), and ``OPTIONS``/``ALIASES``, the rule parser's
    lookup tables, are derived from the declarations.  ``save``/``describe`` stay hand-written,
    as iptables keeps its print and save functions per extension.
    """

    __slots__ = ()
    module: ClassVar[str]
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = ()
    OPTIONS: ClassVar[dict[str, int]]
    """Accepted long options -> number of arguments; aliases via ALIASES."""
    ALIASES: ClassVar[dict[str, str]] = {}
    MULTI: ClassVar[frozenset[str]] = frozenset()
    """Options that may repeat (XTOPT_MULTI): the n-th repeat arrives in ``opts`` as ``"--opt#n"``, in order."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("OPTION_TABLE")
        if table:
            cls.OPTIONS = {o.flag: o.arity for o in table}
            cls.ALIASES = {a: o.flag for o in table for a in o.aliases}

    @classmethod
    def parse_options(cls, opts: Opts) -> dict[str, Any]:
        """xtables_option_parse + xtables_options_fcheck over :attr:`OPTION_TABLE`: every ``!``
        where none is allowed is refused first, then each given option's argument is read by its
        type, then a missing mandatory option is refused; the dataclass keywords."""
        table = cls.OPTION_TABLE
        for o in table:
            got = opts.get(o.flag)
            if got is not None and got[0] and o.invert is None and o.field is not None:
                raise err(f"{cls.module}: option \"{o.flag}\" cannot be inverted.")
        kw: dict[str, Any] = {}
        for o in table:
            got = opts.get(o.flag)
            if got is None or o.field is None:
                continue
            value: Any = o.type(*got[1]) if o.type is not None else True
            if isinstance(o.field, tuple):
                kw.update(zip(o.field, value))
            else:
                kw[o.field] = value
            if o.invert is not None:
                kw[o.invert] = got[0]
        for o in table:
            if o.mandatory and o.flag not in opts:
                raise err(f"{cls.module}: option \"{o.flag}\" must be specified")
        return kw

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Match":
        """The match from its parsed options (the generic builder; a module with options that
        depend on each other adds its checks around :meth:`parse_options`)."""
        return cls(**cls.parse_options(opts))

    @classmethod
    def duplicate(cls, option: str) -> str:
        """The error for an option given twice (x6 modules: ``NAME: option "--X" can only be used once.``)."""
        return f"multiple {option} flags not allowed"

    def checkentry(self) -> int | None:
        """The errno the kernel's checkentry refuses these values with (None: accepted)."""
        return None

    def hooks(self) -> frozenset[str] | None:
        """Built-in chains this match's checkentry allows given its values (None: as the class allows)."""
        return None

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


def masked_option(flag: str, parse: Callable[[str], tuple[int, int]] = parse_mark) -> tuple[Option, ...]:
    """The one option of a :class:`_MaskedMatch`: ``[!] FLAG V[/M]``, mandatory."""
    return (Option(flag, ("value", "mask"), parse, invert="invert", mandatory=True),)


@dataclass(frozen=True, slots=True, kw_only=True)
class _MaskedMatch(Match):
    """Base of ``--OPTION V[/M]`` matches: ``(field & M) == V``, one option, invertible."""

    value: int
    mask: int = U32
    invert: bool = False

    OPTION: ClassVar[str] = "--mark"


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
