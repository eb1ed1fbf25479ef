"""recent: per-namespace lists of recently seen addresses. Kernel: xt_recent.c."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, parse_int

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _parse_mask(text: str) -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError:
        raise err(f"recent: bad mask \"{text}\"") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentMatch(Match):
    """``-m recent``: per-namespace address lists. Kernel: xt_recent.c recent_mt().

    Lists live in ``ctx.state[("recent", name)]`` as ``{address: [timestamps]}``
    (at most 20 stamps per address, like ``ip_pkt_list_tot``).
    """

    command: str
    """``"set"``, ``"rcheck"``, ``"update"`` or ``"remove"``."""
    invert: bool = False
    seconds: int = 0
    reap: bool = False
    hitcount: int = 0
    rttl: bool = False
    name: str = "DEFAULT"
    mask: IPv4Address = IPv4Address("255.255.255.255")
    side: str = "rsource"

    module: ClassVar[str] = "recent"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        # the command: exactly one, its ! inverts the match (read by build)
        Option("--set", None, nargs=0), Option("--rcheck", None, nargs=0),
        Option("--update", None, nargs=0), Option("--remove", None, nargs=0),
        Option("--seconds", "seconds", lambda text: parse_int(text, "seconds", 1)),
        Option("--reap", "reap"),
        Option("--hitcount", "hitcount", lambda text: parse_int(text, "hitcount", 1, 65535)),
        Option("--rttl", "rttl"),
        Option("--name", "name", str),
        Option("--mask", "mask", _parse_mask),
        Option("--rsource", "side", lambda: "rsource", nargs=0),
        Option("--rdest", "side", lambda: "rdest", nargs=0),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "RecentMatch":
        cmds = [c for c in ("--set", "--rcheck", "--update", "--remove") if c in opts]
        if len(cmds) != 1:
            raise err("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
        kw: dict[str, Any] = {"command": cmds[0][2:], "invert": opts[cmds[0]][0]} | cls.parse_options(opts)
        if kw.get("reap") and not kw.get("seconds"):
            raise err("recent: --reap requires --seconds")
        if kw["command"] in ("set", "remove") and ("seconds" in kw or "hitcount" in kw):
            raise err("recent: --seconds and --hitcount only work with --rcheck or --update")
        return cls(**kw)

    def save(self) -> str:
        s = f"{_bang(self.invert)} --{self.command}"
        if self.seconds:
            s += f" --seconds {self.seconds}"
        if self.reap:
            s += " --reap"
        if self.hitcount:
            s += f" --hitcount {self.hitcount}"
        if self.rttl:
            s += " --rttl"
        return s + f" --name {self.name} --mask {self.mask} --{self.side}"

    def describe(self, numeric: bool) -> str:
        s = f"{'! ' if self.invert else ''}recent: {self.command.upper() if self.command != 'rcheck' else 'CHECK'}"
        if self.seconds:
            s += f" seconds: {self.seconds}"
        if self.reap:
            s += " reap"
        if self.hitcount:
            s += f" hit_count: {self.hitcount}"
        if self.rttl:
            s += " TTL-Match"
        s += f" name: {self.name} mask: {self.mask}"
        return s + (" side: source" if self.side == "rsource" else " side: dest")

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        addr = IPv4Address(int(ip.src if self.side == "rsource" else ip.dst) & int(self.mask))
        table: dict[tuple[IPv4Address, int], list[float]] = ctx.state.setdefault(("recent", self.name), {})
        ttl = ip.ttl if self.rttl else 0
        key = (addr, ttl) if self.rttl else (addr, 0)
        ret = self.invert
        stamps = table.get(key)
        if stamps is None:
            if self.command != "set":
                return ret
            table[key] = [ctx.now]
            return not ret
        if self.command == "set":
            ret = not ret
        elif self.command == "remove":
            del table[key]
            return not ret
        elif self.seconds or self.hitcount:
            since = ctx.now - self.seconds
            hits = 0
            for t in stamps:
                if self.seconds and t < since:
                    continue
                hits += 1
                if not self.hitcount or hits >= self.hitcount:
                    ret = not ret
                    break
            if self.reap:
                stamps[:] = [t for t in stamps if t >= since]
        else:
            ret = not ret
        if self.command == "set" or (self.command == "update" and ret):
            stamps.append(ctx.now)
            del stamps[:-20]
        return ret
