"""tos and dscp: the IP TOS byte. Kernel: xt_dscp.c (both matches)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _MaskedMatch, _bang, masked_option
from simnet.netfilter.xtables import Opts, err, parse_int

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


TOS_NAMES = {"minimize-delay": 0x10, "maximize-throughput": 0x08, "maximize-reliability": 0x04,
             "minimize-cost": 0x02, "normal-service": 0x00}


def parse_tos(text: str) -> tuple[int, int]:
    """``value[/mask]`` (default mask 0xff) or a symbolic name (mask 0x3f)."""
    if text.lower() in TOS_NAMES:
        return TOS_NAMES[text.lower()], 0x3F
    value, _, mask = text.partition("/")
    return parse_int(value, "TOS", 0, 255), (parse_int(mask, "TOS", 0, 255) if mask else 0xFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class TosMatch(_MaskedMatch):
    """``-m tos --tos V[/M]``: ``(ip.tos & M) == V``. Kernel: xt_dscp.c tos_mt()."""

    mask: int = 0xFF

    module: ClassVar[str] = "tos"
    OPTION: ClassVar[str] = "--tos"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = masked_option("--tos", lambda text: parse_tos(text))

    def _text(self) -> str:
        return f"0x{self.value:02x}/0x{self.mask:02x}"

    def _field(self, skb: "Skb") -> int | None:
        ip = skb.packet.ip
        return None if ip is None else ip.tos


DSCP_CLASSES = {"CS0": 0, "CS1": 8, "CS2": 16, "CS3": 24, "CS4": 32, "CS5": 40, "CS6": 48, "CS7": 56,
                "BE": 0, "AF11": 10, "AF12": 12, "AF13": 14, "AF21": 18, "AF22": 20, "AF23": 22,
                "AF31": 26, "AF32": 28, "AF33": 30, "AF41": 34, "AF42": 36, "AF43": 38, "EF": 46}


def _dscp_class(text: str) -> int:
    if text.upper() not in DSCP_CLASSES:
        raise err(f"Invalid DSCP value `{text}'")
    return DSCP_CLASSES[text.upper()]


@dataclass(frozen=True, slots=True, kw_only=True)
class DscpMatch(Match):
    """``-m dscp --dscp V`` / ``--dscp-class C``: ``ip.tos >> 2``. Kernel: xt_dscp.c."""

    dscp: int
    invert: bool = False

    module: ClassVar[str] = "dscp"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # two spellings of one value: exactly one is given
        Option("--dscp", "dscp", lambda text: parse_int(text, "DSCP", 0, 63), invert="invert"),
        Option("--dscp-class", "dscp", _dscp_class, invert="invert"),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "DscpMatch":
        if len(opts) != 1:
            raise err("dscp match: Parameter --dscp or --dscp-class is required")
        return cls(**cls.parse_options(opts))

    def save(self) -> str:
        return f"{_bang(self.invert)} --dscp 0x{self.dscp:02x}"

    def describe(self, numeric: bool) -> str:
        return f"DSCP match {'!' if self.invert else ''}0x{self.dscp:02x}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        return ip is not None and (((ip.tos >> 2) == self.dscp) != self.invert)
