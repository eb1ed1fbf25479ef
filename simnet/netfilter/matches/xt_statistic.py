"""statistic: random and nth sampling. Kernel: xt_statistic.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang, _no_invert, _rule_key
from simnet.netfilter.xtables import Opts, err, parse_int

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class StatisticMatch(Match):
    """``-m statistic``. Kernel: xt_statistic.c.

    ``random``: matches when a 31-bit random draw is below ``probability``
    (stored as the kernel does, ``lround(p * 2**31)``); ``ctx.forced[rule_key]``
    overrides the draw.  ``nth``: a per-rule counter in
    ``ctx.state[("statistic", rule_key)]`` cycles 0..every-1, starting at
    ``packet``; it matches when the counter wraps to 0.
    """

    mode: str
    """``"random"`` or ``"nth"``."""
    probability: int = 0
    every: int = 0
    packet: int = 0
    invert: bool = False

    module: ClassVar[str] = "statistic"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # which ones apply depends on --mode: read by build
        Option("--mode", None), Option("--probability", None), Option("--every", None), Option("--packet", None),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "StatisticMatch":
        _no_invert("statistic", opts, "--mode", "--packet")
        mode = opts.get("--mode")
        if mode is None:
            raise err("statistic: option \"--mode\" must be specified")
        m = mode[1][0]
        if m == "random":
            o = opts.get("--probability")
            if o is None or "--every" in opts or "--packet" in opts:
                raise err("statistic: --mode random needs --probability (and not --every/--packet)")
            try:
                p = float(o[1][0])
            except ValueError:
                raise err(f"statistic: Bad value for option \"--probability\", \"{o[1][0]}\" is not a floating point number") from None
            if not 0.0 <= p <= 1.0:
                raise err(f"statistic: Bad value for option \"--probability\", \"{o[1][0]}\" is out of range")
            return cls(mode="random", probability=int(p * 0x80000000 + 0.5), invert=o[0])
        if m == "nth":
            o = opts.get("--every")
            if o is None:
                raise err("statistic: option \"--mode nth\" also requires \"--every\".")
            if "--packet" not in opts:
                raise err("statistic: option \"--every\" also requires \"--packet\".")
            every = parse_int(o[1][0], "every", 1)
            packet = parse_int(opts["--packet"][1][0], "packet", 0)
            if packet >= every:
                raise err("statistic: option --packet must be less than --every")
            return cls(mode="nth", every=every, packet=packet, invert=o[0])
        raise err(f"statistic: Bad value for option \"--mode\", \"{m}\"")

    @property
    def probability_float(self) -> float:
        return self.probability / 0x80000000

    def save(self) -> str:
        if self.mode == "random":
            return f" --mode random{_bang(self.invert)} --probability {self.probability_float:.11f}"
        return f" --mode nth{_bang(self.invert)} --every {self.every} --packet {self.packet}"

    def describe(self, numeric: bool) -> str:
        if self.mode == "random":
            return f"statistic mode random{_bang(self.invert)} probability {self.probability_float:.11f}"
        return f"statistic mode nth{_bang(self.invert)} every {self.every} packet {self.packet}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        key = _rule_key(self, ctx)
        if self.mode == "random":
            if ctx.forced is not None and key in ctx.forced:
                return bool(ctx.forced[key])
            return (ctx.rng.getrandbits(31) < self.probability) != self.invert
        skey = ("statistic", key)
        count = ctx.state.get(skey, self.packet)
        count = 0 if count + 1 >= self.every else count + 1
        ctx.state[skey] = count
        return (count == 0) != self.invert
