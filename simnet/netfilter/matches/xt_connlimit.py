"""connlimit: how many connections a source (or destination) network has. Kernel: xt_connlimit.c, nf_conncount.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _once, _rule_key
from simnet.netfilter.xtables import Opts, U32, err, strtoui

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnlimitMatch(Match):
    """``-m connlimit --connlimit-upto|-above N [--connlimit-mask LEN] [--connlimit-saddr|-daddr]``.

    Kernel: connlimit_mt() asks nf_conncount for the rule's list of connections under the
    packet's masked source (``--connlimit-daddr``: destination) address.  The list holds the
    connections this rule has been asked about (the packet's own is added): at each call,
    those whose conntrack entry is gone or closed (TCP TIME_WAIT/CLOSE) are dropped, except
    one added at this same instant (not yet confirmed).  ``above N`` matches when the count
    exceeds N, ``upto N`` when it does not.
    """

    limit: int
    upto: bool = False
    mask: int = 32
    daddr: bool = False

    module: ClassVar[str] = "connlimit"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # read by build: its checks come in libxt_connlimit's order
        Option("--connlimit-upto", None), Option("--connlimit-above", None), Option("--connlimit-mask", None),
        Option("--connlimit-saddr", None, nargs=0), Option("--connlimit-daddr", None, nargs=0),
    )

    @classmethod
    def duplicate(cls, option: str) -> str:
        return _once("connlimit", option)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "ConnlimitMatch":
        for name in ("--connlimit-mask", "--connlimit-saddr", "--connlimit-daddr"):
            if name in opts and opts[name][0]:
                raise err(f"connlimit: option \"{name}\" cannot be inverted.")
        if "--connlimit-upto" in opts and "--connlimit-above" in opts:
            raise err("connlimit: option \"--connlimit-upto\" cannot be used together with \"--connlimit-above\".")
        if "--connlimit-saddr" in opts and "--connlimit-daddr" in opts:
            raise err("connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\".")
        for opt in ("--connlimit-upto", "--connlimit-above"):
            if (o := opts.get(opt)) is not None:
                limit = strtoui(o[1][0], U32)
                if limit is None:
                    raise err(f"connlimit: bad value for option \"{opt}\", or out of range (0-4294967295).")
                upto = (opt == "--connlimit-upto") != o[0]
                break
        else:
            raise err("You must specify \"--connlimit-above\" or \"--connlimit-upto\".")
        mask = 32
        if (o := opts.get("--connlimit-mask")) is not None:
            plen = strtoui(o[1][0], U32)
            if plen is None:
                raise err("connlimit: bad value for option \"--connlimit-mask\".")
            mask = min(plen, 32)  # a length past 32 is an all-ones IPv4 mask, printed as 32 (iptables 1.8.9)
        return cls(limit=limit, upto=upto, mask=mask, daddr="--connlimit-daddr" in opts)

    def save(self) -> str:
        return (f" --connlimit-{'upto' if self.upto else 'above'} {self.limit} --connlimit-mask {self.mask}"
                f" --connlimit-{'daddr' if self.daddr else 'saddr'}")

    def describe(self, numeric: bool) -> str:
        return f"#conn {'dst' if self.daddr else 'src'}/{self.mask} {'<=' if self.upto else '>'} {self.limit}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        from simnet.netfilter.conntrack_table import packet_tuple

        ns = ctx.netns
        tup = skb.ct.orig if skb.ct is not None else packet_tuple(skb.packet)
        if tup is None or ns is None:
            return False  # connlimit_mt: no tuple is a hotdrop
        netmask = (U32 << (32 - self.mask)) & U32
        key = int(tup.dst if self.daddr else tup.src) & netmask
        lists = ctx.state.setdefault(("connlimit", _rule_key(self, ctx)), {})
        conns: list[tuple[object, float]] = lists.setdefault(key, [])
        kept = []
        for t, added in conns:
            hit = ns.conntrack.lookup(t)
            if hit is None:
                if added == ctx.now:
                    kept.append((t, added))  # in flight: added at this instant, not confirmed yet
                continue
            if hit[0].tcp_state in ("TIME_WAIT", "CLOSE"):
                continue
            kept.append((t, added))
        if not any(t == tup for t, _ in kept):
            kept.append((tup, ctx.now))
        lists[key] = kept
        return (len(kept) > self.limit) != self.upto
