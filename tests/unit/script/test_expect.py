"""`# expect:` annotations parse, print back, serialise and check probe reports."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from simnet.script import Expectation, ScriptError


@pytest.mark.parametrize(
    "text",
    ["reply", "timeout", "error ENETUNREACH", "unreachable from 10.0.0.254", "connected from 10.0.0.1:5000",
     "ttl-exceeded from 10.0.0.2 via filter/FORWARD#3", "lost via filter/INPUT#0", "refused ECONNREFUSED",
     "delivered from 192.168.1.1:53 via nat/POSTROUTING#12"],
)
def test_parse_and_str_round_trip(text: str) -> None:
    assert str(Expectation.parse(text)) == text
    assert Expectation.parse(str(Expectation.parse(text))) == Expectation.parse(text)


def test_fields() -> None:
    e = Expectation.parse("  error EHOSTUNREACH from 10.1.2.3:80 via mangle/PREROUTING#2  ")
    assert e.outcome == "error"
    assert e.errno == "EHOSTUNREACH"
    assert e.source == IPv4Address("10.1.2.3") and e.sport == 80
    assert e.via == ("mangle", "PREROUTING", 2)


def test_via_may_come_before_from() -> None:
    assert Expectation.parse("reply via raw/OUTPUT#1 from 1.2.3.4").source == IPv4Address("1.2.3.4")


def test_to_json_is_plain() -> None:
    assert Expectation.parse("unreachable from 10.0.0.2 via filter/FORWARD#3").to_json() == {
        "outcome": "unreachable", "errno": None, "from": "10.0.0.2", "via": "filter/FORWARD#3"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "missing outcome"),
        ("works", "unknown outcome 'works'"),
        ("error ENOTANERRNO", "is not an errno name"),
        ("reply from", "'from' needs a value"),
        ("reply from 10.0.0.300", "is not an IPv4 address"),
        ("reply from host.example", "is not ADDR or ADDR:PORT"),
        ("connected from 10.0.0.1:0", "out of range"),
        ("connected from 10.0.0.1:99999", "out of range"),
        ("reply via FORWARD#3", "is not TABLE/CHAIN#N"),
        ("reply via filter/FORWARD", "is not TABLE/CHAIN#N"),
        ("reply via bogus/FORWARD#1", "unknown table 'bogus'"),
        ("reply from 1.1.1.1 from 2.2.2.2", "'from' given twice"),
        ("reply because", "unexpected word 'because'"),
    ],
)
def test_bad_expectations_name_file_and_line(text: str, fragment: str) -> None:
    with pytest.raises(ScriptError) as info:
        Expectation.parse(text, filename="s.sh", line=7)
    assert str(info.value).startswith("s.sh:7: bad expectation")
    assert fragment in str(info.value)


def test_constructor_checks_outcome() -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        Expectation(outcome="nope")
    with pytest.raises(ValueError, match="source port needs a source address"):
        Expectation(outcome="connected", sport=3)


def probe(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"outcome": "reply", "icmp": None, "errno": None, "received": None, "counters": {}}
    base.update(kw)
    return base


def test_check_outcome_and_errno() -> None:
    assert Expectation.parse("reply").check(probe())
    assert not Expectation.parse("timeout").check(probe())
    assert Expectation.parse("error ENETUNREACH").check(probe(outcome="error", errno="ENETUNREACH"))
    assert not Expectation.parse("error EPERM").check(probe(outcome="error", errno="ENETUNREACH"))
    assert Expectation.parse("error").check(probe(outcome="error", errno="ENETUNREACH"))


def test_check_from_means_icmp_source_for_icmp_outcomes() -> None:
    p = probe(outcome="unreachable", icmp={"type": 3, "code": 1, "from": "10.0.0.254"})
    assert Expectation.parse("unreachable from 10.0.0.254").check(p)
    assert not Expectation.parse("unreachable from 10.0.0.1").check(p)


def test_check_from_means_what_the_receiver_saw_for_connections() -> None:
    p = probe(outcome="connected", received={"ns": "b", "src": "10.0.0.1", "sport": 4000})
    assert Expectation.parse("connected from 10.0.0.1").check(p)
    assert Expectation.parse("connected from 10.0.0.1:4000").check(p)
    assert not Expectation.parse("connected from 10.0.0.1:4001").check(p)
    assert not Expectation.parse("connected from 10.0.0.1").check(probe(outcome="connected"))


def test_check_via_uses_counters() -> None:
    p = probe(outcome="timeout", counters={"b": [{"table": "filter", "chain": "INPUT", "rule": 1, "packets": 2}]})
    assert Expectation.parse("timeout via filter/INPUT#1").check(p)
    assert not Expectation.parse("timeout via filter/INPUT#2").check(p)
