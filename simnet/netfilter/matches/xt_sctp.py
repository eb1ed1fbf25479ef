"""sctp: ports and chunk types. Kernel: net/netfilter/xt_sctp.c; iptables' libxt_sctp.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, range_text, strtoui

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


# libxt_sctp's table, in its order: (name, chunk type, the flag letters of bits 7..0)
CHUNKS = (
    ("DATA", 0, "----IUBE"), ("INIT", 1, "--------"), ("INIT_ACK", 2, "--------"), ("SACK", 3, "--------"),
    ("HEARTBEAT", 4, "--------"), ("HEARTBEAT_ACK", 5, "--------"), ("ABORT", 6, "-------T"),
    ("SHUTDOWN", 7, "--------"), ("SHUTDOWN_ACK", 8, "--------"), ("ERROR", 9, "--------"),
    ("COOKIE_ECHO", 10, "--------"), ("COOKIE_ACK", 11, "--------"), ("ECN_ECNE", 12, "--------"),
    ("ECN_CWR", 13, "--------"), ("SHUTDOWN_COMPLETE", 14, "-------T"), ("I_DATA", 64, "----IUBE"),
    ("RE_CONFIG", 130, "--------"), ("PAD", 132, "--------"), ("ASCONF", 193, "--------"),
    ("ASCONF_ACK", 128, "--------"), ("FORWARD_TSN", 192, "--------"), ("I_FORWARD_TSN", 194, "--------"),
)
_BY_NAME = {name: i for i, (name, _, _) in enumerate(CHUNKS)}
_ALL = (1 << 256) - 1
_MATCH_TYPES = ("any", "all", "only")


@dataclass(frozen=True, slots=True, kw_only=True)
class SctpMatch(Match):
    """``-m sctp``: ports and ``--chunk-types any|all|only``. Kernel: xt_sctp.c sctp_mt().

    ``chunkmap`` is the kernel's 256-bit map of chunk types; ``flag_info`` holds
    ``(chunktype, flag, flag_mask)`` as libxt_sctp stores it, whose ``chunktype`` is
    the index in its name table, not the chunk type (the same for DATA, ABORT and
    SHUTDOWN_COMPLETE; flags given to I_DATA are lost when printed, as with iptables).
    simnet's packets carry no SCTP header, so the match fails on every simulated
    packet (xt_sctp: no header is no match).
    """

    sport: tuple[int, int] | None = None
    sport_invert: bool = False
    dport: tuple[int, int] | None = None
    dport_invert: bool = False
    chunk_match: str | None = None
    chunkmap: int = 0
    flag_info: tuple[tuple[int, int, int], ...] = ()
    chunks_invert: bool = False

    module: ClassVar[str] = "sctp"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--sport", "sport", lambda text: _parse_ports(text), invert="sport_invert", aliases=("--source-port",)),
        Option("--dport", "dport", lambda text: _parse_ports(text), invert="dport_invert",
               aliases=("--destination-port",)),
        Option("--chunk-types", None, nargs=2),  # a match type and a chunk list: read by build
    )

    @classmethod
    def duplicate(cls, option: str) -> str:
        return f"Only one `{ {'--sport': '--source-port', '--dport': '--destination-port'}.get(option, option)}' allowed"

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "SctpMatch":
        kw = cls.parse_options(opts)
        if (o := opts.get("--chunk-types")) is not None:
            kind, chunks = o[1]
            if chunks[:1] in ("-", "!"):
                raise err("--chunk-types requires two args")
            if kind.lower() not in _MATCH_TYPES:
                raise err("Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"")
            kw.update(chunk_match=kind.lower(), chunks_invert=o[0], **_parse_chunks(chunks))
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.sport is not None:
            s += f"{_bang(self.sport_invert)} --sport {range_text(*self.sport)}"
        if self.dport is not None:
            s += f"{_bang(self.dport_invert)} --dport {range_text(*self.dport)}"
        if self.chunk_match is not None:
            s += f"{_bang(self.chunks_invert)} --chunk-types {self._chunks_text(False)}"
        return s

    def _chunks_text(self, numeric: bool) -> str:
        if self.chunkmap == 0:
            return f"{self.chunk_match} NONE"
        if self.chunkmap == _ALL:
            return f"{self.chunk_match} ALL"
        names = {ctype: name for name, ctype, _ in CHUNKS}
        parts = []
        for ctype in range(256):
            if not self.chunkmap >> ctype & 1:
                continue
            text = f"0x{ctype:04X}" if numeric else names.get(ctype, "")
            for index, flag, mask in self.flag_info:
                if index == ctype and mask:
                    letters = CHUNKS[ctype][2]
                    text += ":" + "".join(letters[7 - b] if flag >> b & 1 else letters[7 - b].lower()
                                          for b in range(7, -1, -1) if mask >> b & 1)
            parts.append(text)
        return f"{self.chunk_match} " + ",".join(parts)

    def describe(self, numeric: bool) -> str:
        s = "sctp"
        for label, rng, inv in (("spt", self.sport, self.sport_invert), ("dpt", self.dport, self.dport_invert)):
            if rng is not None and (rng != (0, 65535) or inv):
                bang = "!" if inv else ""
                s += f" {label}:{bang}{rng[0]}" if rng[0] == rng[1] else f" {label}s:{bang}{rng[0]}:{rng[1]}"
        if self.chunk_match is not None:
            s += f"{_bang(self.chunks_invert)} {self._chunks_text(True)}"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        # simulated packets have no SCTP header: sctp_mt finds none and the match fails
        return False


_SERVICES = {"amqp": 5672}
"""/etc/services' only ``/sctp`` name (Debian's netbase): ``--dport http`` is refused for sctp."""


def _port(text: str) -> int:
    value = strtoui(text, 65535)
    if value is None:
        value = _SERVICES.get(text)
    if value is None:
        raise err(f"invalid port/service `{text}' specified")
    return value


def _parse_ports(text: str) -> tuple[int, int]:
    """libxt_sctp's parse_sctp_ports: ``port`` or ``[lo]:[hi]``, min > max refused."""
    lo_s, colon, hi_s = text.partition(":")
    if not colon:
        return _port(text), _port(text)
    lo = _port(lo_s) if lo_s else 0
    hi = _port(hi_s) if hi_s else 65535
    if lo > hi:
        raise err("invalid portrange (min > max)")
    return lo, hi


def _parse_chunks(text: str) -> dict[str, Any]:
    """libxt_sctp's parse_sctp_chunk: ``ALL``, ``NONE`` or ``NAME[:FLAGS],...`` (case-insensitive)."""
    if text.upper() == "ALL":
        return {"chunkmap": _ALL}
    if text.upper() == "NONE":
        return {"chunkmap": 0}
    chunkmap = 0
    flags: dict[int, list[int]] = {}
    for word in (w for w in text.split(",") if w):
        name, colon, letters = word.partition(":")
        index = _BY_NAME.get(name.upper())
        if index is None:
            raise err(f"Unknown sctp chunk `{name}'")
        _, ctype, valid = CHUNKS[index]
        chunkmap |= 1 << ctype
        for ch in letters:
            pos = valid.find(ch.upper())  # strchr: "-" finds the first unused bit, as in libxt_sctp
            if pos < 0:
                raise err(f"Invalid flags for chunk type {index}")
            if len(flags) == 4 and index not in flags:
                raise err("Number of chunk types with flags exceeds currently allowed limit. Increasing this limit "
                          "involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user "
                          "space modules")
            entry = flags.setdefault(index, [0, 0])
            entry[1] |= 1 << (7 - pos)
            if ch.isupper():
                entry[0] |= 1 << (7 - pos)
    return {"chunkmap": chunkmap, "flag_info": tuple((i, f, m) for i, (f, m) in flags.items())}
