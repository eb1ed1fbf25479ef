"""hashlimit: a token bucket per flow group, in a table shared by name. Kernel: xt_hashlimit.c; libxt_hashlimit.c (rev 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _once
from simnet.netfilter.xtables import Opts, U32, err, strtoui
from simnet.packet import Tcp, Udp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb

SCALE = 1000000  # XT_HASHLIMIT_SCALE_v2
_RATES = (("day", SCALE * 86400), ("hour", SCALE * 3600), ("min", SCALE * 60), ("sec", SCALE))
_MODES = (("srcip", 2), ("srcport", 8), ("dstip", 1), ("dstport", 4))  # print order, XT_HASHLIMIT_HASH_* bits
_BYTE_SHIFT = 4
_U64 = (1 << 64) - 1
# user2credits (rev >= 2): HZ * CREDITS_PER_JIFFY / SCALE, the same for HZ 250 and 1000
_CREDITS = (1000 * (1 << 37)) // SCALE


def _cost_to_bytes(cost: int) -> int:
    r = U32 // cost if cost else U32
    return (r - 1) << _BYTE_SHIFT


def _bytes_to_cost(nbytes: int) -> int:
    return U32 // (((nbytes >> _BYTE_SHIFT) & U32) + 1)


def _factor(ch: str) -> int:
    return {"m": 1 << 20, "k": 1 << 10}.get(ch, 1)


def _atoll(text: str) -> int:
    digits = ""
    for ch in text.lstrip():
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else 0


def _parse_rate(text: str) -> tuple[int, int, bool] | None:
    """(avg, seconds per unit, bytes mode) as parse_bytes/parse_rate read ``text``; None when bad."""
    at = text.find("b/s")
    if at > 0:
        r = _atoll(text)
        if r:
            n = r * _factor(text[at - 1])
            if n > _U64:
                raise err(f"Rate value too large \"{n}\" (max {_U64})\n")
            cost = _bytes_to_cost(n)
            if cost == 0:
                raise err(f"Rate too high \"{text}\"\n")
            return cost, 15, True
    num, slash, unit = text.partition("/")
    mult = 1
    if slash:
        if not unit:
            return None
        for word, m in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)):
            if word.startswith(unit.lower()):
                mult = m
                break
        else:
            return None
    r = _atoll(text)
    if not r:
        return None
    avg = SCALE * mult // r
    if avg == 0:
        raise err(f"Rate too fast \"{text}\"\n")
    return avg, mult, False


def _rate_text(period: int) -> tuple[str, int]:
    """print_rate: the text and the quantum (msec) the default expire equals."""
    i = 1
    while i < len(_RATES):
        mult = _RATES[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    name, mult = _RATES[i - 1]
    return f"{mult // period}/{name}", mult // SCALE * 1000


def _bytes_text(avg: int, burst: int) -> tuple[str, int]:
    """print_bytes: ``N[k|m]b/s`` and `` --hashlimit-burst N[k|m]b``, with the quantum."""
    r = _cost_to_bytes(avg)
    units = (("m", 1 << 20), ("k", 1 << 10), ("", 1))
    i = 0
    while i < 2 and not (r >= units[i][1] and _bytes_to_cost(r & ~(units[i][1] - 1)) == avg):
        i += 1
    s = f"{r // units[i][1]}{units[i][0]}b/s"
    if burst == 0:
        return s, 15000
    r *= burst
    i = 0
    while i < 2 and not r >= units[i][1]:
        i += 1
    return s + f" --hashlimit-burst {r // units[i][1]}{units[i][0]}b", 60000


@dataclass(frozen=True, slots=True, kw_only=True)
class HashlimitMatch(Match):
    """``-m hashlimit`` (revision 3). Kernel: xt_hashlimit.c hashlimit_mt_common().

    Packets are grouped by ``--hashlimit-mode`` (addresses under ``-srcmask``/``-dstmask``);
    each group has a bucket of ``burst`` packets refilled at the rate, kept in the namespace
    under the table's name (``ctx.state[("hashlimit", name)]``, shared by every rule naming
    it, as the kernel's htable is) and forgotten ``expire`` ms after its last packet.
    ``--hashlimit-upto`` matches while the bucket has a packet's credit, ``-above`` once it has not.
    Byte mode counts packet lengths against a bucket of ``burst`` seconds at the byte rate (at
    least one); ``--hashlimit-rate-match`` matches while a group's packets in the current
    ``rate-interval`` window stay within ``avg`` per second times the interval plus ``burst``.
    """

    name: str
    avg: int
    burst: int = 5
    mode: int = 0
    invert: bool = False
    bytes_mode: bool = False
    srcmask: int = 32
    dstmask: int = 32
    size: int = 0
    max: int = 0
    gc_interval: int = 1000
    expire: int = 1000
    rate_match: bool = False
    interval: int = 0

    module: ClassVar[str] = "hashlimit"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # read by build: the rate decides the units of the rest
        Option("--hashlimit-upto", None, aliases=("--hashlimit",)), Option("--hashlimit-above", None),
        Option("--hashlimit-srcmask", None), Option("--hashlimit-dstmask", None), Option("--hashlimit-burst", None),
        Option("--hashlimit-htable-size", None), Option("--hashlimit-htable-max", None),
        Option("--hashlimit-htable-gcinterval", None), Option("--hashlimit-htable-expire", None),
        Option("--hashlimit-mode", None), Option("--hashlimit-name", None),
        Option("--hashlimit-rate-match", None, nargs=0), Option("--hashlimit-rate-interval", None),
    )

    @classmethod
    def duplicate(cls, option: str) -> str:
        return _once("hashlimit", option)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "HashlimitMatch":
        for name in opts:
            if opts[name][0] and name not in ("--hashlimit-upto", "--hashlimit-above"):
                raise err(f"hashlimit: option \"{name}\" cannot be inverted.")
        if "--hashlimit-upto" in opts and "--hashlimit-above" in opts:
            raise err("hashlimit: option \"--hashlimit-upto\" cannot be used together with \"--hashlimit-above\".")
        kw: dict[str, Any] = {}
        mult = 1
        for opt in ("--hashlimit-upto", "--hashlimit-above"):
            if (o := opts.get(opt)) is not None:
                parsed = _parse_rate(o[1][0])
                if parsed is None:
                    raise err(f"hashlimit: Bad value for \"{opt}\" option: \"{o[1][0]}\"")
                kw["avg"], mult, kw["bytes_mode"] = parsed
                kw["invert"] = o[0] != (opt == "--hashlimit-above")
        if (o := opts.get("--hashlimit-mode")) is not None:
            mode = 0
            for tok in (t for t in o[1][0].replace("|", ",").split(",") if t):
                bit = dict(_MODES).get(tok)
                if bit is None:
                    raise err(f"hashlimit: Bad value for \"--hashlimit-mode\" option: \"{o[1][0]}\"")
                mode |= bit
            kw["mode"] = mode
        for opt, field in (("--hashlimit-srcmask", "srcmask"), ("--hashlimit-dstmask", "dstmask")):
            if (o := opts.get(opt)) is not None:
                v = strtoui(o[1][0], 255)
                if v is None:
                    raise err(f"hashlimit: bad value for option \"{opt}\", or out of range (0-32).")
                kw[field] = v
        for opt, field in (("--hashlimit-htable-size", "size"), ("--hashlimit-htable-max", "max"),
                           ("--hashlimit-htable-gcinterval", "gc_interval"), ("--hashlimit-htable-expire", "expire")):
            if (o := opts.get(opt)) is not None:
                v = strtoui(o[1][0], U32)
                if v is None:
                    raise err(f"hashlimit: bad value for option \"{opt}\", or out of range (0-4294967295).")
                kw[field] = v
        if (o := opts.get("--hashlimit-name")) is None:
            raise err("hashlimit: option \"--hashlimit-name\" must be specified")
        kw["name"] = o[1][0]
        if "avg" not in kw:
            raise err("You have to specify --hashlimit")
        burst_given = (o := opts.get("--hashlimit-burst")) is not None
        if o is not None:
            kw["burst"] = _parse_burst(o[1][0])
        if "expire" not in kw:
            kw["expire"] = mult * 1000
        if kw["bytes_mode"]:
            burst = 0
            if burst_given:
                unit = _cost_to_bytes(kw["avg"])
                if kw["burst"] < unit:
                    raise err(f"burst cannot be smaller than {unit}b")
                burst = -(-kw["burst"] // unit)
                if "--hashlimit-htable-expire" not in opts:
                    kw["expire"] = 60000
            kw["burst"] = burst
        elif kw.get("burst", 5) > 1000000:
            raise err("bad value for option \"--hashlimit-burst\", or out of range (1-1000000).")
        if "--hashlimit-rate-match" in opts:
            kw["rate_match"] = True
            if not kw["bytes_mode"]:
                kw["avg"] //= mult
        if (o := opts.get("--hashlimit-rate-interval")) is not None:
            v = _atoll(o[1][0]) if not o[1][0].lstrip().startswith("-") else 0
            if v <= 0:
                raise err(f"hashlimit: Bad value for \"--hashlimit-rate-interval\" option: \"{o[1][0]}\"")
            kw["interval"] = v & U32
        if kw.get("rate_match") and not kw.get("interval"):
            kw["interval"] = 1 if kw["bytes_mode"] else mult
        return cls(**kw)

    def checkentry(self) -> int | None:
        """hashlimit_mt_check_common's errno for this configuration (EINVAL/ERANGE), None when accepted."""
        import errno
        if self.gc_interval == 0 or self.expire == 0 or self.srcmask > 32 or self.dstmask > 32:
            return errno.EINVAL
        if self.rate_match:
            if self.avg == 0 or self.avg > U32:
                return errno.ERANGE
            return errno.EINVAL if self.interval == 0 else None
        if self.bytes_mode:
            return None
        if self.burst == 0 or ((self.avg * self.burst) * _CREDITS) & _U64 < (self.avg * _CREDITS) & _U64:
            return errno.ERANGE
        return None

    def save(self) -> str:
        s = " --hashlimit-above " if self.invert else " --hashlimit-upto "
        if self.bytes_mode:
            text, quantum = _bytes_text(self.avg, self.burst)
            s += text
        else:
            text, quantum = _rate_text(self.avg)
            s += f"{text} --hashlimit-burst {self.burst}"
        if self.mode:
            s += " --hashlimit-mode " + ",".join(n for n, bit in _MODES if self.mode & bit)
        s += f" --hashlimit-name {self.name}"
        if self.size:
            s += f" --hashlimit-htable-size {self.size}"
        if self.max:
            s += f" --hashlimit-htable-max {self.max}"
        if self.gc_interval != 1000:
            s += f" --hashlimit-htable-gcinterval {self.gc_interval}"
        if self.expire != quantum:
            s += f" --hashlimit-htable-expire {self.expire}"
        if self.srcmask != 32:
            s += f" --hashlimit-srcmask {self.srcmask}"
        if self.dstmask != 32:
            s += f" --hashlimit-dstmask {self.dstmask}"
        if self.rate_match:
            s += " --hashlimit-rate-match" + (f" --hashlimit-rate-interval {self.interval}" if self.interval != 1 else "")
        return s

    def describe(self, numeric: bool) -> str:
        return "limit: " + ("above " if self.invert else "up to ") + self.save().split(" ", 2)[2].replace("--hashlimit-", "")

    def _key(self, skb: "Skb") -> tuple[int, ...]:
        ip = skb.packet.ip
        l4 = skb.packet.l4
        src = int(ip.src) & ((U32 << (32 - self.srcmask)) & U32) if ip is not None else 0
        dst = int(ip.dst) & ((U32 << (32 - self.dstmask)) & U32) if ip is not None else 0
        ports = (l4.sport, l4.dport) if isinstance(l4, (Tcp, Udp)) else (0, 0)
        return (src if self.mode & 2 else 0, dst if self.mode & 1 else 0,
                ports[0] if self.mode & 8 else 0, ports[1] if self.mode & 4 else 0)

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        table = ctx.state.setdefault(("hashlimit", self.name), {})
        key = self._key(skb)
        now = ctx.now
        entry = table.get(key)
        if entry is not None and now - entry[1] > self.expire / 1000:
            entry = None  # the idle entry expired: a fresh, full bucket
        if self.rate_match:
            window, count = (now, 0) if entry is None or now - entry[0] >= self.interval else (entry[0], entry[2])
            count += skb.packet.length if self.bytes_mode else 1
            table[key] = (window, now, count)
            per_sec = _cost_to_bytes(self.avg) if self.bytes_mode else SCALE // max(self.avg, 1)
            limit = per_sec * self.interval + self.burst
            return (count <= limit) != self.invert
        if self.bytes_mode:
            rate = float(_cost_to_bytes(self.avg))  # bytes per second
            cap = rate * max(self.burst, 1)
            cost = float(skb.packet.length)
        else:
            rate = SCALE / self.avg  # packets per second
            cap = float(self.burst)
            cost = 1.0
        tokens = cap if entry is None else min(cap, entry[2] + (now - entry[1]) * rate)
        if tokens >= cost:
            table[key] = (now, now, tokens - cost)
            return not self.invert
        table[key] = (now, now, tokens)
        return self.invert


def _parse_burst(text: str) -> int:
    """parse_burst (rev 2+): 1..1000000 packets, or a byte count with a k/m suffix."""
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    rest = text[len(digits):]
    v = int(digits) if digits else 0
    if not digits or v < 1 or v > _U64 or (not rest and v > 1000000):
        raise err("bad value for option \"--hashlimit-burst\", or out of range (1-1000000).")
    v *= _factor(rest[:1])
    if v > _U64:
        raise err(f"bad value for option \"--hashlimit-burst\", value \"{text}\" too large (max {_U64 >> 20}mb).")
    return v
