"""string: a pattern in the packet's bytes. Kernel: xt_string.c (textsearch bm/kmp); libxt_string.c."""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _once
from simnet.netfilter.xtables import Opts, err, strtoui
from simnet.packet import Icmp, Tcp, Udp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.packet import Packet
    from simnet.skb import Skb

MAX_PATTERN = 128  # XT_STRING_MAX_PATTERN_SIZE
_ALGOS = ("bm", "kmp")  # the textsearch algorithms string_mt can use


def _parse_hex(s: str) -> bytes:
    """libxt_string's parse_hex_string: text with ``|hex bytes|`` blocks and ``\\`` escapes."""
    out = bytearray()
    i, n = 0, len(s)
    hex_f = literal_f = False
    while i < n:
        c = s[i]
        if c == "\\" and not hex_f:
            literal_f = True
        elif c == "\\":
            raise err("Cannot include backslashes in hex data")
        elif c == "|":
            literal_f = False
            if hex_f:
                hex_f = False
            else:
                hex_f = True
                while i + 1 < n and s[i + 1] == " ":
                    i += 1
            if i + 1 >= n:
                break
            i += 1
        if literal_f:
            if i + 1 >= n:
                raise err("Bad literal placement at end of string")
            out.append(ord(s[i + 1]) & 0xFF)
            i += 2
            literal_f = False
        elif hex_f:
            if i + 1 >= n:
                raise err("Odd number of hex digits")
            if i + 2 >= n:
                raise err("Invalid hex block")
            for ch in s[i:i + 2]:
                if ch not in "0123456789abcdefABCDEF":
                    raise err(f"Invalid hex char '{ch}'")
            out.append(int(s[i:i + 2], 16))
            i += 3 if s[i + 2] == " " else 2
        else:
            out.append(ord(s[i]) & 0xFF)  # after a "|", the character following it
            i += 1
        if len(out) > MAX_PATTERN + 1:
            raise err(f"STRING too long \"{s}\"")
    return bytes(out)


def packet_bytes(pkt: "Packet") -> bytes:
    """The bytes from the IP header on, as string_mt searches them (skb->data at the IPv4 hooks).

    Built from simnet's fields: IP id, checksums and TCP window are zero, no options."""
    ip = pkt.ip
    if ip is None:
        return pkt.payload
    l4 = pkt.l4
    if isinstance(l4, Tcp):
        hdr = struct.pack("!HHIIBBHHH", l4.sport, l4.dport, l4.seq & 0xFFFFFFFF, l4.ack & 0xFFFFFFFF, 5 << 4,
                          int(l4.flags) & 0xFF, 0, 0, 0)
    elif isinstance(l4, Udp):
        hdr = struct.pack("!HHHH", l4.sport, l4.dport, 8 + len(pkt.payload), 0)
    elif isinstance(l4, Icmp):
        hdr = struct.pack("!BBHHH", l4.type, l4.code, 0, l4.id & 0xFFFF, l4.seq & 0xFFFF)
    else:
        hdr = b""
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, ip.tos, pkt.length & 0xFFFF, ip.id & 0xFFFF, 0, ip.ttl, ip.proto, 0,
                      ip.src.packed, ip.dst.packed)
    return iph + hdr + pkt.payload


@dataclass(frozen=True, slots=True, kw_only=True)
class StringMatch(Match):
    """``-m string --algo bm|kmp --string S | --hex-string H [--from N] [--to N] [--icase]``. Kernel: string_mt().

    Matches when the pattern lies wholly within bytes ``[from, to]`` of the packet from its IP
    header (skb_find_text); bm and kmp find the same occurrences, ``--icase`` folds ASCII case.
    """

    pattern: bytes
    algo: str
    from_offset: int = 0
    to_offset: int = 65535
    icase: bool = False
    invert: bool = False

    module: ClassVar[str] = "string"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # read by build: its checks come in libxt_string's order
        Option("--from", None), Option("--to", None), Option("--algo", None), Option("--string", None),
        Option("--hex-string", None), Option("--icase", None, nargs=0),
    )

    @classmethod
    def duplicate(cls, option: str) -> str:
        return _once("string", option)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "StringMatch":
        for name in ("--from", "--to", "--algo", "--icase"):
            if name in opts and opts[name][0]:
                raise err(f"string: option \"{name}\" cannot be inverted.")
        if "--string" in opts and "--hex-string" in opts:
            raise err("string: option \"--string\" cannot be used together with \"--hex-string\".")
        kw: dict[str, Any] = {}
        for opt, field in (("--from", "from_offset"), ("--to", "to_offset")):
            if (o := opts.get(opt)) is not None:
                v = strtoui(o[1][0], 65535)
                if v is None:
                    raise err(f"string: bad value for option \"{opt}\", or out of range (0-65535).")
                kw[field] = v
        if (o := opts.get("--string")) is not None:
            text = o[1][0].encode("utf-8", "surrogateescape")
            if len(text) > MAX_PATTERN:
                raise err(f"STRING too long \"{o[1][0]}\"")
            kw.update(pattern=text, invert=o[0])
        elif (o := opts.get("--hex-string")) is not None:
            kw.update(pattern=_parse_hex(o[1][0]), invert=o[0])
        if (o := opts.get("--algo")) is None:
            raise err("string: option \"--algo\" must be specified")
        kw["algo"] = o[1][0][:15]
        if "pattern" not in kw:
            raise err("STRING match: You must specify `--string' or `--hex-string'")
        return cls(icase="--icase" in opts, **kw)

    def checkentry(self) -> int | None:
        """string_mt_check: an empty pattern or from > to is EINVAL; an unknown algorithm has no module (ENOENT)."""
        if not self.pattern or self.from_offset > self.to_offset or self.algo == "fsm":
            return errno.EINVAL  # ts_fsm exists but takes a token list, not a pattern: textsearch_prepare fails
        return None if self.algo in _ALGOS else errno.ENOENT

    def _text(self) -> str:
        if any(not 0x20 <= b < 0x7F for b in self.pattern):
            return '"|' + self.pattern.hex() + '|"'
        body = "".join("\\" + chr(b) if chr(b) in '"\\' else chr(b) for b in self.pattern)
        return f'"{body}"'

    def save(self) -> str:
        hexa = any(not 0x20 <= b < 0x7F for b in self.pattern)
        s = f"{' !' if self.invert else ''} --{'hex-string' if hexa else 'string'} {self._text()} --algo {self.algo}"
        if self.from_offset:
            s += f" --from {self.from_offset}"
        if self.to_offset != 65535:
            s += f" --to {self.to_offset}"
        return s + (" --icase" if self.icase else "")

    def describe(self, numeric: bool) -> str:
        s = f"STRING match {'!' if self.invert else ''} {self._text()} ALGO name {self.algo}"
        if self.from_offset:
            s += f" FROM {self.from_offset}"
        if self.to_offset != 65535:
            s += f" TO {self.to_offset}"
        return s + (" ICASE" if self.icase else "")

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        data = packet_bytes(skb.packet)[self.from_offset:self.to_offset + 1]
        pattern = self.pattern
        if self.icase:
            data, pattern = data.lower(), pattern.lower()
        return (pattern in data) != self.invert
