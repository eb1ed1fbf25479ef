"""DNS messages in the real wire format (RFC 1035, EDNS0 RFC 6891) as immutable values.

A :class:`Message` encodes to the exact bytes a resolver or server puts in a UDP datagram
(names compressed as dnsmasq and BIND compress them: a pointer to the first occurrence of
each suffix), so a datagram's length, and with it every iptables byte counter, is what the
kernel counts.  :func:`decode` reads any message back, following compression pointers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from ipaddress import IPv4Address, IPv6Address

__all__ = ["Message", "Opcode", "QClass", "QType", "Question", "Rcode", "Record", "DecodeError", "decode",
           "EdnsOption", "opt_record", "OPT_UDP_SIZE"]


class QType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    OPT = 41
    ANY = 255


class QClass(IntEnum):
    IN = 1


class Opcode(IntEnum):
    QUERY = 0


class Rcode(IntEnum):
    """The header's response code (RFC 1035 4.1.1); dig prints these names."""

    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5


class DecodeError(ValueError):
    """The bytes are not a well-formed DNS message."""


@dataclass(frozen=True, slots=True)
class Question:
    """A question: name (no trailing dot; "" is the root), type, class."""

    name: str
    qtype: int = QType.A
    qclass: int = QClass.IN


@dataclass(frozen=True, slots=True)
class EdnsOption:
    """One EDNS0 option of an OPT record: code (10 COOKIE, 15 Extended DNS Error) and data."""

    code: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Record:
    """A resource record.  ``data`` is an IPv4Address (A), IPv6Address (AAAA), a name
    (CNAME, NS, PTR), a tuple of :class:`EdnsOption` (OPT) or raw bytes (anything else).
    For OPT, ``rclass`` is the sender's UDP payload size and ``ttl`` the extended rcode,
    version and flags, as on the wire."""

    name: str
    rtype: int
    rclass: int = QClass.IN
    ttl: int = 0
    data: object = b""


OPT_UDP_SIZE = 1232
"""The EDNS UDP payload size dig 9.18 and dnsmasq 2.90 advertise (the DNS flag day 2020 value)."""


def opt_record(*options: EdnsOption, udp_size: int = OPT_UDP_SIZE) -> Record:
    """An OPT pseudo-record (EDNS version 0, no flags) carrying ``options``."""
    return Record(name="", rtype=QType.OPT, rclass=udp_size, ttl=0, data=tuple(options))


@dataclass(frozen=True, slots=True)
class Message:
    """A DNS message: header fields and the four sections."""

    id: int = 0
    qr: bool = False
    opcode: int = Opcode.QUERY
    aa: bool = False
    tc: bool = False
    rd: bool = True
    ra: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = Rcode.NOERROR
    questions: tuple[Question, ...] = ()
    answers: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = field(default=())

    @property
    def question(self) -> Question | None:
        return self.questions[0] if self.questions else None

    @property
    def opt(self) -> Record | None:
        """The OPT pseudo-record (EDNS0), if the message has one."""
        return next((r for r in self.additional if r.rtype == QType.OPT), None)

    def flags(self) -> int:
        return ((self.qr << 15) | ((self.opcode & 0xF) << 11) | (self.aa << 10) | (self.tc << 9) | (self.rd << 8)
                | (self.ra << 7) | (self.ad << 5) | (self.cd << 4) | (self.rcode & 0xF))

    def encode(self) -> bytes:
        """The wire bytes (names compressed)."""
        out = bytearray(struct.pack("!HHHHHH", self.id & 0xFFFF, self.flags(), len(self.questions),
                                    len(self.answers), len(self.authority), len(self.additional)))
        seen: dict[str, int] = {}
        for q in self.questions:
            _put_name(out, q.name, seen)
            out += struct.pack("!HH", q.qtype, q.qclass)
        for r in (*self.answers, *self.authority, *self.additional):
            _put_record(out, r, seen)
        return bytes(out)

    def __len__(self) -> int:
        return len(self.encode())


def _labels(name: str) -> list[str]:
    return [label for label in name.rstrip(".").split(".") if label] if name not in ("", ".") else []


def _put_name(out: bytearray, name: str, seen: dict[str, int] | None) -> None:
    labels = _labels(name)
    for i in range(len(labels)):
        suffix = ".".join(labels[i:]).lower()
        if seen is not None and suffix in seen:
            out += struct.pack("!H", 0xC000 | seen[suffix])
            return
        if seen is not None and len(out) < 0x4000:
            seen[suffix] = len(out)
        raw = labels[i].encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad label {labels[i]!r} in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)


def _put_record(out: bytearray, r: Record, seen: dict[str, int]) -> None:
    _put_name(out, r.name, seen)
    out += struct.pack("!HHI", r.rtype, r.rclass, r.ttl & 0xFFFFFFFF)
    start = len(out)
    out += b"\0\0"
    if r.rtype == QType.OPT:
        for o in r.data:  # type: ignore[attr-defined]
            out += struct.pack("!HH", o.code, len(o.data)) + o.data
    elif isinstance(r.data, (IPv4Address, IPv6Address)):
        out += r.data.packed
    elif isinstance(r.data, str):
        _put_name(out, r.data, seen)
    else:
        out += bytes(r.data)  # type: ignore[call-overload]
    struct.pack_into("!H", out, start, len(out) - start - 2)


def _get_name(data: bytes, pos: int) -> tuple[str, int]:
    labels: list[str] = []
    end: int | None = None
    hops = 0
    while True:
        if pos >= len(data):
            raise DecodeError("name runs past the end")
        n = data[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise DecodeError("truncated pointer")
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | data[pos + 1]
            hops += 1
            if hops > 64:
                raise DecodeError("compression loop")
            continue
        if n & 0xC0:
            raise DecodeError("bad label type")
        pos += 1
        if n == 0:
            break
        if pos + n > len(data):
            raise DecodeError("label runs past the end")
        labels.append(data[pos:pos + n].decode("ascii", "replace"))
        pos += n
    return ".".join(labels), (end if end is not None else pos)


def decode(data: bytes) -> Message:
    """Read a message from its wire bytes; :class:`DecodeError` if they are not one."""
    if len(data) < 12:
        raise DecodeError("shorter than a header")
    ident, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", data)
    pos = 12
    questions = []
    for _ in range(qd):
        name, pos = _get_name(data, pos)
        if pos + 4 > len(data):
            raise DecodeError("truncated question")
        qtype, qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
        questions.append(Question(name, _known(QType, qtype), _known(QClass, qclass)))
    sections: list[list[Record]] = [[], [], []]
    for section, count in zip(sections, (an, ns, ar)):
        for _ in range(count):
            name, pos = _get_name(data, pos)
            if pos + 10 > len(data):
                raise DecodeError("truncated record")
            rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", data, pos)
            pos += 10
            rdata = data[pos:pos + rdlen]
            if len(rdata) != rdlen:
                raise DecodeError("truncated record data")
            value: object = rdata
            if rtype == QType.A and rdlen == 4:
                value = IPv4Address(rdata)
            elif rtype == QType.AAAA and rdlen == 16:
                value = IPv6Address(rdata)
            elif rtype in (QType.CNAME, QType.NS, QType.PTR):
                value, after = _get_name(data, pos)
                if after != pos + rdlen:
                    raise DecodeError("name does not fill its record")
            elif rtype == QType.OPT:
                opts, i = [], 0
                while i < rdlen:
                    if i + 4 > rdlen:
                        raise DecodeError("truncated EDNS option")
                    code, olen = struct.unpack_from("!HH", rdata, i)
                    if i + 4 + olen > rdlen:
                        raise DecodeError("truncated EDNS option")
                    opts.append(EdnsOption(code, rdata[i + 4:i + 4 + olen]))
                    i += 4 + olen
                value = tuple(opts)
            pos += rdlen
            rt = _known(QType, rtype)
            section.append(Record(name, rt, rclass if rtype == QType.OPT else _known(QClass, rclass), ttl, value))
    return Message(id=ident, qr=bool(flags & 0x8000), opcode=(flags >> 11) & 0xF, aa=bool(flags & 0x400),
                   tc=bool(flags & 0x200), rd=bool(flags & 0x100), ra=bool(flags & 0x80), ad=bool(flags & 0x20),
                   cd=bool(flags & 0x10), rcode=_known(Rcode, flags & 0xF), questions=tuple(questions),
                   answers=tuple(sections[0]), authority=tuple(sections[1]), additional=tuple(sections[2]))


def _known(enum: type[IntEnum], value: int) -> int:
    try:
        return enum(value)
    except ValueError:
        return value
