"""comment: matches everything, keeps a text. Kernel: xt_comment.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, _no_invert
from simnet.netfilter.xtables import Opts, err, save_string

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentMatch(Match):
    """``-m comment --comment TEXT``: always matches (at most 255 bytes)."""

    comment: str

    module: ClassVar[str] = "comment"
    OPTIONS: ClassVar[dict[str, int]] = {"--comment": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "CommentMatch":
        _no_invert("comment", opts, "--comment")
        o = opts.get("--comment")
        if o is None:
            raise err("comment: option \"--comment\" must be specified")
        if len(o[1][0].encode()) > 255:
            raise err(f"comment: option \"--comment\" value too long")
        return cls(comment=o[1][0])

    def save(self) -> str:
        return f" --comment {save_string(self.comment)}"

    def describe(self, numeric: bool) -> str:
        return f"/* {self.comment} */"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return True
