"""mark and connmark: the packet's and the connection's marks. Kernel: xt_mark.c, xt_connmark.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Option, _MaskedMatch, masked_option
from simnet.netfilter.matches.xt_conntrack import _nfct

if TYPE_CHECKING:
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkMatch(_MaskedMatch):
    """``-m mark --mark V[/M]``: ``(skb.mark & M) == V``. Kernel: xt_mark.c."""

    module: ClassVar[str] = "mark"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = masked_option("--mark")

    def _field(self, skb: "Skb") -> int | None:
        return skb.mark


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnmarkMatch(_MaskedMatch):
    """``-m connmark --mark V[/M]`` on the conntrack entry's mark; no entry never matches."""

    module: ClassVar[str] = "connmark"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = masked_option("--mark")

    def _field(self, skb: "Skb") -> int | None:
        ct = _nfct(skb)
        return None if ct is None else ct.mark
