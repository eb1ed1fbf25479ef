"""time: date, time of day, weekdays and monthdays of a packet's arrival. Kernel: xt_time.c; libxt_time.c."""

from __future__ import annotations

import calendar
import time as _time
from dataclasses import dataclass
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, _once
from simnet.netfilter.xtables import Opts, err

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb

INT_MAX = (1 << 31) - 1
ALL_WEEKDAYS = 0xFE
ALL_MONTHDAYS = 0xFFFFFFFE
_DAYS = (None, "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DATE_ERR = "Invalid date \"{}\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"


def _strtoul(s: str) -> tuple[int, str]:
    """strtoul(s, &e, 10): the leading digits' value and the rest."""
    i = 0
    while i < len(s) and s[i].isdigit():
        i += 1
    return (int(s[:i]) if i else 0), s[i:]


def _parse_daytime(text: str) -> int:
    """time_parse_minutes: ``hh:mm[:ss]``; the error quotes the text from the part that failed."""
    s = text
    hour, e = _strtoul(s)
    if e[:1] == ":" and hour <= 23:
        s = e[1:]
        minute, e = _strtoul(s)
        if e[:1] in (":", "") and minute <= 59:
            if not e:
                return 3600 * hour + 60 * minute
            s = e[1:]
            second, e = _strtoul(s)
            if not e and second <= 59:
                return 3600 * hour + 60 * minute + second
    raise err(f"invalid time \"{s}\" specified, should be hh:mm[:ss] format and within the boundaries")


def _parse_date(text: str) -> int:
    """time_parse_date: ``YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`` in UTC, years 1970 to 2038."""
    fields = [1970, 1, 1, 0, 0, 0]
    limits = ((1970, 2038, "-"), (0, 12, "-"), (0, 31, "T"), (0, 23, ":"), (0, 59, ":"), (0, 59, ""))
    s = text
    for i, (lo, hi, sep) in enumerate(limits):
        v, e = _strtoul(s)
        if not lo <= v <= hi or e[:1] not in (sep, ""):
            raise err(_DATE_ERR.format(text))
        fields[i] = v
        if not e:
            break
        s = e[1:]
    year, month, day, hh, mm, ss = fields
    return calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0))


def _parse_days(text: str, monthdays: bool) -> int:
    mask = 0
    toks = text.split(",")
    if toks[-1] == "":
        toks.pop()  # my_strseg: a trailing comma ends the list
    for tok in toks:
        v, e = _strtoul(tok)  # an empty segment reads as 0
        if monthdays:
            if e or v > 31:
                raise err(f"{tok} is not a valid day for --monthdays")
        elif e:
            for v in range(1, 8):
                if tok[:2] == _DAYS[v][:2]:  # type: ignore[index]
                    break
            else:
                raise err(f"{tok} is not a valid day specifier")
        elif v == 0:
            raise err("No, the week does NOT begin with Sunday.")
        mask |= 1 << v
    return mask & (0xFFFFFFFF if monthdays else 0xFF)  # weekdays_match is a u8: day 8 and up are lost


def _date_text(stamp: int) -> str:
    t = _time.gmtime(stamp)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def _hms(secs: int) -> str:
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeMatch(Match):
    """``-m time``. Kernel: xt_time.c time_mt(), on the packet's arrival time in UTC.

    The wall clock is the world's: ``World.epoch`` (seconds since 1970, UTC) plus the
    simulated time; a script sets it with ``date -s`` (:mod:`simnet.tools.date`).  ``--kerneltz`` shifts by the kernel's timezone, which is UTC in simnet.
    """

    date_start: int = 0
    date_stop: int = INT_MAX
    daytime_start: int = 0
    daytime_stop: int = 86399
    weekdays: int = ALL_WEEKDAYS
    monthdays: int = ALL_MONTHDAYS
    kerneltz: bool = False
    contiguous: bool = False

    module: ClassVar[str] = "time"
    OPTIONS: ClassVar[dict[str, int]] = {
        "--datestart": 1, "--datestop": 1, "--timestart": 1, "--timestop": 1, "--weekdays": 1, "--monthdays": 1,
        "--localtz": 0, "--kerneltz": 0, "--utc": 0, "--contiguous": 0}

    @classmethod
    def duplicate(cls, option: str) -> str:
        return _once("time", option)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "TimeMatch":
        for name, (inv, _) in opts.items():
            if inv and name not in ("--weekdays", "--monthdays"):
                raise err(f"time: option \"{name}\" cannot be inverted.")
        kw: dict[str, Any] = {}
        for opt, field in (("--datestart", "date_start"), ("--datestop", "date_stop")):
            if (o := opts.get(opt)) is not None:
                kw[field] = _parse_date(o[1][0])
        for opt, field in (("--timestart", "daytime_start"), ("--timestop", "daytime_stop")):
            if (o := opts.get(opt)) is not None:
                kw[field] = _parse_daytime(o[1][0])
        if (o := opts.get("--weekdays")) is not None:
            mask = _parse_days(o[1][0], False)
            kw["weekdays"] = (~mask & ALL_WEEKDAYS) if o[0] else mask
        if (o := opts.get("--monthdays")) is not None:
            mask = _parse_days(o[1][0], True)
            kw["monthdays"] = (~mask & ALL_MONTHDAYS) if o[0] else mask
        if "--localtz" in opts or "--kerneltz" in opts:
            kw["kerneltz"] = True
        if "--contiguous" in opts:
            if kw.get("daytime_start", 0) < kw.get("daytime_stop", 86399):
                raise err("time: --contiguous only makes sense when stoptime is smaller than starttime")
            kw["contiguous"] = True
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.daytime_start != 0 or self.daytime_stop != 86399:
            s += f" --timestart {_hms(self.daytime_start)} --timestop {_hms(self.daytime_stop)}"
        if self.weekdays != ALL_WEEKDAYS:
            s += " --weekdays " + ",".join(_DAYS[d] for d in range(1, 8) if self.weekdays >> d & 1)  # type: ignore[misc]
        if self.monthdays != ALL_MONTHDAYS:
            s += " --monthdays " + ",".join(str(d) for d in range(1, 32) if self.monthdays >> d & 1)
        if self.date_start != 0:
            s += f" --datestart {_date_text(self.date_start)}"
        s += f" --datestop {_date_text(self.date_stop)}"
        return s + (" --kerneltz" if self.kerneltz else "") + (" --contiguous" if self.contiguous else "")

    def describe(self, numeric: bool) -> str:
        return "TIME" + self.save().replace(" --", " ")

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ns = ctx.netns
        stamp = int((ns.world.epoch if ns is not None else 0) + ctx.now)
        if stamp < self.date_start or stamp > self.date_stop:
            return False
        daytime = stamp % 86400
        if self.daytime_start < self.daytime_stop:
            if daytime < self.daytime_start or daytime > self.daytime_stop:
                return False
        else:
            if self.daytime_stop < daytime < self.daytime_start:
                return False
            if self.contiguous and daytime <= self.daytime_stop:
                stamp -= 86400  # the span began the day before
        days = stamp // 86400
        weekday = (days + 4) % 7 or 7  # 1970-01-01 was a Thursday; Sunday is 7
        if not self.weekdays >> weekday & 1:
            return False
        if self.monthdays != ALL_MONTHDAYS and not self.monthdays >> _time.gmtime(stamp).tm_mday & 1:
            return False
        return True
