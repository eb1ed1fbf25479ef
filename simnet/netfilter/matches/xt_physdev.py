"""physdev: the bridge ports of a bridged packet (br_netfilter). Kernel: xt_physdev.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, _bang
from simnet.netfilter.xtables import Opts, check_iface, err, iface_matches

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysdevMatch(Match):
    """``-m physdev``: the bridge ports of a bridged frame. Kernel: xt_physdev.c physdev_mt()."""

    physdev_in: str | None = None
    in_invert: bool = False
    physdev_out: str | None = None
    out_invert: bool = False
    is_in: bool | None = None
    """None = not given; True = ``--physdev-is-in``; False = ``! --physdev-is-in``."""
    is_out: bool | None = None
    is_bridged: bool | None = None

    module: ClassVar[str] = "physdev"
    OPTIONS: ClassVar[dict[str, int]] = {"--physdev-in": 1, "--physdev-out": 1, "--physdev-is-in": 0,
                                         "--physdev-is-out": 0, "--physdev-is-bridged": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "PhysdevMatch":

        if not opts:
            raise err("PHYSDEV: no physdev option specified")
        kw: dict[str, Any] = {}
        if (o := opts.get("--physdev-in")) is not None:
            kw.update(physdev_in=check_iface(o[1][0]), in_invert=o[0])
        if (o := opts.get("--physdev-out")) is not None:
            kw.update(physdev_out=check_iface(o[1][0]), out_invert=o[0])
        for name, field in (("--physdev-is-in", "is_in"), ("--physdev-is-out", "is_out"),
                            ("--physdev-is-bridged", "is_bridged")):
            if (o := opts.get(name)) is not None:
                kw[field] = not o[0]
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.is_in is not None:
            s += f"{_bang(not self.is_in)} --physdev-is-in"
        if self.physdev_in is not None:
            s += f"{_bang(self.in_invert)} --physdev-in {self.physdev_in}"
        if self.is_out is not None:
            s += f"{_bang(not self.is_out)} --physdev-is-out"
        if self.physdev_out is not None:
            s += f"{_bang(self.out_invert)} --physdev-out {self.physdev_out}"
        if self.is_bridged is not None:
            s += f"{_bang(not self.is_bridged)} --physdev-is-bridged"
        return s

    def describe(self, numeric: bool) -> str:
        s = "PHYSDEV match"
        if self.is_in is not None:
            s += f"{_bang(not self.is_in)} --physdev-is-in"
        if self.physdev_in is not None:
            s += f"{_bang(self.in_invert)} --physdev-in {self.physdev_in}"
        if self.is_out is not None:
            s += f"{_bang(not self.is_out)} --physdev-is-out"
        if self.physdev_out is not None:
            s += f"{_bang(self.out_invert)} --physdev-out {self.physdev_out}"
        if self.is_bridged is not None:
            s += f"{_bang(not self.is_bridged)} --physdev-is-bridged"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        # physdev_mt: what counts is whether the skb carries br_netfilter's nf_bridge_info, and a
        # packet that reached the local stack through a bridge port keeps it (INPUT: its port, no
        # out port); a locally generated one has none
        if not skb.bridged and skb.physindev is None:
            # Only inverted tests can hold for a frame that was not bridged.
            return not (self.is_bridged or self.is_in or self.is_out
                        or (self.physdev_in is not None and not self.in_invert)
                        or (self.physdev_out is not None and not self.out_invert))
        pin, pout = skb.physindev, skb.physoutdev
        if self.is_bridged is not None and (pout is not None) != self.is_bridged:
            return False
        if self.is_in is not None and (pin is not None) != self.is_in:
            return False
        if self.is_out is not None and (pout is not None) != self.is_out:
            return False
        if self.physdev_in is not None and pin is not None:
            if iface_matches(self.physdev_in, pin) == self.in_invert:
                return False
        if self.physdev_out is not None:
            # seen on 6.18: with no out port (INPUT), neither --physdev-out X nor ! --physdev-out X matches
            if pout is None or iface_matches(self.physdev_out, pout) == self.out_invert:
                return False
        return True
