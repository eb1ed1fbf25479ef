"""comment: matches everything, keeps a text. Kernel: xt_comment.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option
from simnet.netfilter.xtables import err, save_string

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _comment(text: str) -> str:
    """XTTYPE_STRING with a 256-byte buffer: at most 255 bytes."""
    if len(text.encode()) > 255:
        raise err("comment: option \"--comment\" value too long")
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentMatch(Match):
    """``-m comment --comment TEXT``: always matches (at most 255 bytes)."""

    comment: str

    module: ClassVar[str] = "comment"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (Option("--comment", "comment", _comment, mandatory=True),)

    def save(self) -> str:
        return f" --comment {save_string(self.comment)}"

    def describe(self, numeric: bool) -> str:
        return f"/* {self.comment} */"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return True
