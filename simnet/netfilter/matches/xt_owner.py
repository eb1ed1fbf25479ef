"""owner: the sending socket's owner. Kernel: xt_owner.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, U32, decimal, err, is_digits

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _parse_id_range(text: str, what: str) -> tuple[int, int]:
    lo_s, dash, hi_s = text.partition("-")
    if not is_digits(lo_s) or (dash and not is_digits(hi_s)) or decimal(lo_s) > U32 or (dash and decimal(hi_s) > U32):
        raise err(f"owner: Bad value for option \"--{what}-owner\", or \"{text}\" not found")
    lo = decimal(lo_s)
    return lo, decimal(hi_s) if dash else lo


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerMatch(Match):
    """``-m owner``: the sending socket's owner. Kernel: xt_owner.c.

    simnet's namespaces have no sockets with owners, so the match behaves as
    for a packet without a socket (forwarded traffic): it holds only when
    every given test is inverted.  Names are not resolved: uids and gids are
    numeric.
    """

    uid: tuple[int, int] | None = None
    uid_invert: bool = False
    gid: tuple[int, int] | None = None
    gid_invert: bool = False
    socket_exists: bool | None = None

    module: ClassVar[str] = "owner"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--uid-owner", "uid", lambda text: _parse_id_range(text, "uid"), invert="uid_invert"),
        Option("--gid-owner", "gid", lambda text: _parse_id_range(text, "gid"), invert="gid_invert"),
        Option("--socket-exists", None, nargs=0),  # ! inverts the value itself: read by build
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "OwnerMatch":
        kw = cls.parse_options(opts)
        if (o := opts.get("--socket-exists")) is not None:
            kw["socket_exists"] = not o[0]
        if not kw:
            raise err("owner: no owner option given")
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.socket_exists is not None:
            s += f"{_bang(not self.socket_exists)} --socket-exists"
        for f, name in (("uid", "--uid-owner"), ("gid", "--gid-owner")):
            rng = getattr(self, f)
            if rng is not None:
                body = str(rng[0]) if rng[0] == rng[1] else f"{rng[0]}-{rng[1]}"
                s += f"{_bang(getattr(self, f + '_invert'))} {name} {body}"
        return s

    def describe(self, numeric: bool) -> str:
        return "owner" + self.save().replace(" --", " ").replace("-owner", "-match").replace("socket-exists", "socket exists")

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        tests: list[tuple[object, bool]] = [(self.uid, self.uid_invert), (self.gid, self.gid_invert)]
        if self.socket_exists is not None:
            tests.append((True, not self.socket_exists))
        return all(inv for given, inv in tests if given is not None)
