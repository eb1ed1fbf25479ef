"""NOTRACK and CT: conntrack templates in the raw table. Kernel: xt_CT.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simnet.errors import RuleSyntaxError
from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts, parse_int


@dataclass(frozen=True, slots=True, kw_only=True)
class Notrack(_Base):
    """NOTRACK (raw): mark the packet untracked; non-terminating.  iptables-nft keeps the name."""

    name: ClassVar[str] = "NOTRACK"


CT_EVENTS = ("new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark",
             "natseqinfo", "secmark")
"""``--ctevents`` names in the kernel's IPCT_* bit order, the order iptables prints them in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ct(_Base):
    """CT (raw): ``--notrack``, ``--helper``, ``--ctevents``, ``--expevents``, ``--zone[-orig|-reply]``.

    Non-terminating.  Zone 0 is the default zone: the kernel reads ``--zone 0`` back as no zone
    at all, so it is kept as ``None``; ``zone_mark`` takes the zone from the packet's mark.
    """

    notrack: bool = False
    zone: int | None = None
    zone_mark: bool = False
    zone_dir: str | None = None
    """None (both directions), ``"orig"`` or ``"reply"``."""
    helper: str | None = None
    ctevents: tuple[str, ...] = ()
    expevents: tuple[str, ...] = ()

    name: ClassVar[str] = "CT"
    OPTIONS: ClassVar[dict[str, int]] = {"--notrack": 0, "--zone": 1, "--zone-orig": 1, "--zone-reply": 1,
                                         "--helper": 1, "--ctevents": 1, "--expevents": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Ct":
        kw: dict[str, Any] = {"notrack": "--notrack" in opts}
        zones = [z for z in ("--zone", "--zone-orig", "--zone-reply") if z in opts]
        if len(zones) > 1:
            raise _err("CT: only one of --zone, --zone-orig and --zone-reply")
        if zones:
            word = opts[zones[0]][1][0]
            if word == "mark":
                kw["zone_mark"] = True
            else:
                try:
                    zone = parse_int(word, "zone", 0, 65535)
                except RuleSyntaxError:
                    raise _err(f"Cannot parse {word} as a zone ID") from None
                kw["zone"] = zone or None
            if kw.get("zone_mark") or kw.get("zone"):
                kw["zone_dir"] = None if zones[0] == "--zone" else zones[0][7:]
        if (o := opts.get("--helper")) is not None:
            kw["helper"] = o[1][0]
        kw["ctevents"] = _ct_events(opts, "--ctevents", CT_EVENTS)
        kw["expevents"] = _ct_events(opts, "--expevents", ("new",))
        return cls(**kw)

    def _words(self) -> list[str]:
        words = ["notrack"] if self.notrack else []
        if self.helper is not None:
            words.append(f"helper {self.helper}")
        if self.ctevents:
            words.append(f"ctevents {','.join(self.ctevents)}")
        if self.expevents:
            words.append(f"expevents {','.join(self.expevents)}")
        if self.zone is not None or self.zone_mark:
            words.append(f"zone{'-' + self.zone_dir if self.zone_dir else ''} "
                         f"{'mark' if self.zone_mark else self.zone}")
        return words

    def save(self) -> str:
        return "".join(f" --{w}" for w in self._words())

    def describe(self, numeric: bool) -> str:
        return " ".join(["CT", *self._words()])


def _ct_events(opts: Opts, option: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A comma list of event names, read back in bit order without repeats (libxt_CT)."""
    if (o := opts.get(option)) is None:
        return ()
    names = o[1][0].split(",")
    for n in names:
        if n not in known:
            raise _err(f'Unknown event type "{n}"')
    return tuple(n for n in known if n in names)
