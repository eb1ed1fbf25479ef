"""limit: a token bucket per rule. Kernel: xt_limit.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _rule_key
from simnet.netfilter.xtables import decimal, err, is_digits, parse_int

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


LIMIT_SCALE = 10000
_RATES = (("day", LIMIT_SCALE * 86400), ("hour", LIMIT_SCALE * 3600), ("min", LIMIT_SCALE * 60), ("sec", LIMIT_SCALE))


def parse_rate(text: str) -> int:
    """``N[/second|/minute|/hour|/day]`` -> the kernel's period (1/10000 s per packet)."""
    num, slash, unit = text.partition("/")
    mult = 1
    if slash:
        unit = unit.lower()
        if not unit:
            raise err(f"bad rate \"{text}\"'")
        for word, m in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)):
            if word.startswith(unit):
                mult = m
                break
        else:
            raise err(f"bad rate \"{text}\"'")
    if not is_digits(num) or decimal(num) == 0:
        raise err(f"bad rate \"{text}\"'")
    period = LIMIT_SCALE * mult // decimal(num)
    if period == 0:
        raise err(f"Rate too fast \"{text}\"")
    return period


def rate_text(period: int) -> str:
    i = 1
    while i < len(_RATES):
        mult = _RATES[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    name, mult = _RATES[i - 1]
    return f"{mult // period}/{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitMatch(Match):
    """``-m limit``: a token bucket in simulated time. Kernel: xt_limit.c.

    The bucket (``ctx.state[("limit", rule_key)] = (tokens, last_now)``) holds
    at most ``burst`` tokens, starts full and refills one token per
    ``period / 10000`` seconds of ``ctx.now``.
    """

    period: int = LIMIT_SCALE * 3600 // 3
    """Average interval between packets in 1/10000 s (``3/hour`` by default)."""
    burst: int = 5

    module: ClassVar[str] = "limit"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--limit", "period", parse_rate),
        Option("--limit-burst", "burst", lambda text: parse_int(text, "limit-burst", 0, 10000)),
    )

    def save(self) -> str:
        s = f" --limit {rate_text(self.period)}"
        if self.burst != 5:
            s += f" --limit-burst {self.burst}"
        return s

    def describe(self, numeric: bool) -> str:
        return f"limit: avg {rate_text(self.period)} burst {self.burst}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        key = ("limit", _rule_key(self, ctx))
        tokens, last = ctx.state.get(key, (float(self.burst), ctx.now))
        tokens = min(float(self.burst), tokens + (ctx.now - last) * LIMIT_SCALE / self.period)
        if tokens >= 1.0:
            ctx.state[key] = (tokens - 1.0, ctx.now)
            return True
        ctx.state[key] = (tokens, ctx.now)
        return False
