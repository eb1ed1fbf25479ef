"""set: ipset membership. Kernel: xt_set.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang, _no_invert
from simnet.netfilter.xtables import Opts, err

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMatch(Match):
    """``-m set --match-set NAME src|dst[,...]``: ipset membership. Kernel: xt_set.c.

    A set that does not exist never matches (iptables refuses to create such a
    rule; a set destroyed later cannot happen while referenced).
    """

    name: str
    dirs: tuple[str, ...]
    invert: bool = False
    return_nomatch: bool = False
    update_counters: bool = True
    update_subcounters: bool = True

    module: ClassVar[str] = "set"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # read by build: its checks come in libxt_set's order
        Option("--match-set", None, nargs=2, aliases=("--set",)),
        Option("--return-nomatch", None, nargs=0),
        Option("--update-counters", None, nargs=0),
        Option("--update-subcounters", None, nargs=0),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "SetMatch":
        o = opts.get("--match-set")
        if o is None:
            raise err("You must specify `--match-set' with proper arguments")
        name, dirs_s = o[1]
        dirs = tuple(dirs_s.split(","))
        if not all(d in ("src", "dst") for d in dirs) or len(dirs) > 6:
            raise err(f"You must specify (the comma separated list of) 'src' or 'dst'.")
        _no_invert("set", opts, "--return-nomatch")
        uc = opts.get("--update-counters")
        us = opts.get("--update-subcounters")
        return cls(name=name, dirs=dirs, invert=o[0], return_nomatch="--return-nomatch" in opts,
                   update_counters=not (uc and uc[0]), update_subcounters=not (us and us[0]))

    def save(self) -> str:
        s = f"{_bang(self.invert)} --match-set {self.name} {','.join(self.dirs)}"
        if self.return_nomatch:
            s += " --return-nomatch"
        if not self.update_counters:
            s += " ! --update-counters"
        if not self.update_subcounters:
            s += " ! --update-subcounters"
        return s

    def describe(self, numeric: bool) -> str:
        s = f"match-set {self.name} {','.join(self.dirs)}"
        s = ("! " + s) if self.invert else s
        if self.return_nomatch:
            s += " return-nomatch"
        if not self.update_counters:
            s += " ! update-counters"
        if not self.update_subcounters:
            s += " ! update-subcounters"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ipset = ctx.ipsets.get(self.name)
        if ipset is None:
            return False
        return bool(ipset.contains(skb, self.dirs)) != self.invert
