"""Exercises: every shipped exercise is unsolved as given, solved by its solution scenario, and the
checker's words say what holds, what not, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

import simnet
from simnet import course

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "scenarios/exercises").glob("*.sh"))


def solution_block(path: Path) -> str:
    text = path.read_text()
    return text.split("# >>> solution\n", 1)[1].split("# <<< solution\n", 1)[0]


def test_every_exercise_has_a_solution() -> None:
    assert [p.stem for p in SOLUTIONS] == course.exercises()
    assert len(SOLUTIONS) >= 10


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_solves_and_blank_does_not(path: Path) -> None:
    # the solution scenario is the exercise with its placeholder replaced by the solution
    exercise = course.exercise(path.stem)
    block = solution_block(path)
    assert path.read_text().replace("# >>> solution\n" + block + "# <<< solution\n", "") \
        .replace("# Solution of exercise", "# Exercise") == exercise.replace(course.PLACEHOLDER + "\n", "")
    assert simnet.run_script(path).ok
    solved = course.check(path.stem, block)
    assert solved.ok, str(solved)
    assert str(solved).splitlines()[0].endswith("goals hold - solved!")
    blank = course.check(path.stem, "")
    assert not blank.ok
    assert "FAIL" in str(blank) and "hint: " in str(blank)


def test_check_reports_partial_success_with_the_rule_as_hint() -> None:
    result = course.check("02-block-ping", "ip netns exec host iptables -A INPUT -j DROP")
    text = str(result)
    assert text.splitlines()[0] == "02-block-ping: 1 of 2 goals hold"
    assert "wanted: connected from 203.0.113.20; got: timeout" in text
    assert "hint: In netns host it was dropped by filter INPUT rule 1: -A INPUT -j DROP" in text


def test_check_reports_a_command_error_with_the_tools_words() -> None:
    result = course.check("02-block-ping", "ip netns exec host iptables -A INPUT -j DRO")
    assert not result.ok
    assert str(result).startswith("02-block-ping: your commands did not run: 02-block-ping.sh:")
    assert "Chain 'DRO' does not exist" in str(result)


def test_unknown_exercise_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="00-link-up"):
        course.exercise("nope")
