"""The DNS codec: any message encodes to bytes that decode to the same message, and its length
is the sum of its parts as RFC 1035 lays them out (so datagram sizes, and byte counters, are right)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.dns.message import EdnsOption, Message, QType, Question, Rcode, Record, decode, opt_record

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
names = st.lists(labels, min_size=0, max_size=4).map(".".join)
ipv4 = st.integers(0, 2**32 - 1).map(IPv4Address)
ipv6 = st.integers(0, 2**128 - 1).map(IPv6Address)


@st.composite
def records(draw: st.DrawFn) -> Record:
    kind = draw(st.sampled_from(["A", "AAAA", "CNAME", "TXT"]))
    name = draw(names)
    ttl = draw(st.integers(0, 2**32 - 1))
    if kind == "A":
        return Record(name, QType.A, 1, ttl, draw(ipv4))
    if kind == "AAAA":
        return Record(name, QType.AAAA, 1, ttl, draw(ipv6))
    if kind == "CNAME":
        return Record(name, QType.CNAME, 1, ttl, draw(names))
    return Record(name, QType.TXT, 1, ttl, draw(st.binary(max_size=40)))


options = st.lists(st.builds(EdnsOption, st.sampled_from([10, 15]), st.binary(max_size=16)), max_size=2)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    extra = (opt_record(*draw(options), udp_size=draw(st.sampled_from([512, 1200, 1232, 4096]))),) \
        if draw(st.booleans()) else ()
    return Message(
        id=draw(st.integers(0, 0xFFFF)), qr=draw(st.booleans()), aa=draw(st.booleans()), tc=draw(st.booleans()),
        rd=draw(st.booleans()), ra=draw(st.booleans()), ad=draw(st.booleans()), cd=draw(st.booleans()),
        rcode=draw(st.sampled_from(list(Rcode))),
        questions=tuple(draw(st.lists(st.builds(Question, names, st.sampled_from([QType.A, QType.AAAA])),
                                      max_size=2))),
        answers=tuple(draw(st.lists(records(), max_size=4))),
        authority=tuple(draw(st.lists(records(), max_size=1))), additional=extra)


def _uncompressed_name(name: str) -> int:
    return sum(len(label) + 1 for label in name.split(".") if label) + 1


def _rdata(r: Record) -> int:
    if r.rtype == QType.OPT:
        return sum(4 + len(o.data) for o in r.data)  # type: ignore[attr-defined]
    if isinstance(r.data, (IPv4Address, IPv6Address)):
        return len(r.data.packed)
    return len(r.data) if isinstance(r.data, bytes) else _uncompressed_name(r.data)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(messages())
def test_roundtrip(m: Message) -> None:
    """decode(encode(m)) == m, and re-encoding gives the same bytes."""
    wire = m.encode()
    assert decode(wire) == m
    assert decode(wire).encode() == wire


@settings(max_examples=300, deadline=None)
@given(messages())
def test_size_is_the_sum_of_its_parts(m: Message) -> None:
    """Without compression a message is header + questions + records; compression only saves
    (a pointer is 2 bytes where the suffix's labels would be)."""
    full = 12 + sum(_uncompressed_name(q.name) + 4 for q in m.questions) + sum(
        _uncompressed_name(r.name) + 10 + _rdata(r) for r in (*m.answers, *m.authority, *m.additional))
    assert len(m.encode()) <= full
    owners = [q.name for q in m.questions] + [r.name for r in (*m.answers, *m.authority)]
    if len(set(owners)) == 1 and owners[0] and not any(isinstance(r.data, str) for r in (*m.answers, *m.authority)):
        # one name (a typical answer): written once, then a 2-byte pointer at each repeat
        assert len(m.encode()) == full - (len(owners) - 1) * (_uncompressed_name(owners[0]) - 2)


@given(st.binary(max_size=80))
def test_garbage_never_crashes(data: bytes) -> None:
    """Any bytes either decode or raise DecodeError (a server drops them)."""
    from simnet.dns.message import DecodeError

    try:
        decode(data)
    except DecodeError:
        pass
