"""``date``: the world's wall clock, printed and set from a script, and ``-m time`` following it (#13 item 6 of
the match list: a date the script can set)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simnet.script import ScriptError
from simnet.script.interpreter import run_script
from simnet.tools.date import format_date, parse_args, parse_date

WORLD = """ip netns add a
ip -n a link set lo up
ip netns exec a iptables -A OUTPUT -p icmp -m time --datestart 2026-12-07T09:00 --datestop 2026-12-07T11:00
ip netns exec a iptables -A OUTPUT -p icmp -m time --weekdays Sat,Sun
ip netns exec a iptables -A OUTPUT -p icmp -m time --timestart 22:00 --timestop 06:00
"""


def _hits(report: object, n: int) -> dict[int, int]:
    probe = report.to_json()["probes"][n]  # type: ignore[attr-defined]
    return {c["rule"]: c["packets"] for c in probe["counters"]["a"] if c["chain"] == "OUTPUT" and c["rule"]}


def test_date_s_moves_the_clock_time_rules_read() -> None:
    report = run_script(WORLD + "ip netns exec a ping -c 1 -W 1 127.0.0.1\n"
                        "date -s '2026-12-07 10:00:00'\nip netns exec a ping -c 1 -W 1 127.0.0.1\n"
                        "date --set=2026-12-12T23:30\nip netns exec a ping -c 1 -W 1 127.0.0.1\n")
    # the default clock, 2026-01-01 00:00 (a Thursday), is inside 22:00-06:00
    assert _hits(report, 0) == {3: 2} and _hits(report, 1) == {1: 2}  # request and reply, both through OUTPUT
    assert _hits(report, 2) == {2: 2, 3: 2}  # a Saturday, 23:30
    assert [o["stdout"] for o in report.outputs] == ["Mon Dec  7 10:00:00 UTC 2026\n", "Sat Dec 12 23:30:00 UTC 2026\n"]


def test_date_prints_the_world_clock_as_it_runs_on() -> None:
    report = run_script("date -s '2026-12-07 10:00:00'\nsleep 90\ndate\ndate -u +%F_%T_%s\ndate -d 12:00 +%T\n")
    assert [o["stdout"] for o in report.outputs][1:] == ["Mon Dec  7 10:01:30 UTC 2026\n",
                                                         "2026-12-07_10:01:30_1796637690\n", "12:00:00\n"]
    assert report.world.epoch + report.world.now == 1796637690


@pytest.mark.parametrize(("line", "message"), [
    ("date -s foo", "date: invalid date \u2018foo\u2019"),
    ("date -s 2026-02-30", "date: invalid date \u20182026-02-30\u2019"),
    ("date -s '2026-12-07 25:00'", "date: invalid date \u20182026-12-07 25:00\u2019"),
    ("date -s", "date: option requires an argument -- 's'"),
    ("date -d 10:00 -s 11:00", "date: the options to print and set the time may not be used together"),
    ("date -x", "date: invalid option -- 'x'"),
])
def test_bad_dates_are_refused_with_coreutils_words_and_change_nothing(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:  # checked before anything runs: nothing changed
        run_script(f"date -s '2026-12-07 10:00'\n{line}\n")
    assert str(e.value).splitlines()[0] == f"<script>:2: {message}"


@given(st.integers(0, 2**31 - 1))
def test_printed_iso_dates_parse_back(stamp: int) -> None:
    assert parse_date(format_date(stamp, "%Y-%m-%d %H:%M:%S"), 0) == stamp
    assert parse_date(f"@{stamp}", 0) == stamp


@given(st.integers(0, 2**31 - 1), st.integers(0, 23), st.integers(0, 59))
def test_a_time_alone_means_today(now: int, h: int, m: int) -> None:
    stamp = parse_date(f"{h}:{m:02d}", now)
    assert stamp // 86400 == now // 86400 and stamp % 86400 == h * 3600 + m * 60


def test_date_options() -> None:
    assert parse_args(["date", "-u", "-d", "x", "+%F"]) == (None, "x", "%F")
    assert parse_args(["date", "--date=y"]) == (None, "y", None)
