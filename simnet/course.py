"""Checked exercises for the notebooks: run the learner's commands in a prepared world and say
which goals hold, with :func:`simnet.explain`'s diagnosis as the hint for each that does not.

An exercise is a scenario script shipped with simnet (``simnet/data/exercises/NAME.sh``)
with one line ``# >>> your commands here``: the learner's text goes there, and the
probes after it carry the goals as ``# expect:`` lines.  The worked solutions are
complete scenarios in the repository's ``scenarios/exercises/`` (the tests run them).

>>> result = check("00-link-up", "ip -n b link set eth0 up")
>>> result.ok
True
>>> print(check("00-link-up", ""))  # doctest: +ELLIPSIS
00-link-up: 0 of 1 goals hold
  FAIL line ...: ip netns exec a ping -c 1 -W 1 10.0.0.2
       wanted: reply; got: timeout
       hint: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from simnet.script.expect import Expectation
    from simnet.script.interpreter import ProbeRecord

__all__ = ["Goal", "Result", "check", "exercise", "exercises", "show"]

PLACEHOLDER = "# >>> your commands here"


def exercises() -> list[str]:
    """Names of the exercises shipped with simnet."""
    folder = resources.files("simnet") / "data" / "exercises"
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".sh"))


def exercise(name: str) -> str:
    """The exercise's script, with the placeholder line where the learner's commands go."""
    path = resources.files("simnet") / "data" / "exercises" / f"{name}.sh"
    if not path.is_file():
        raise KeyError(f"no exercise {name!r}; there are: {', '.join(exercises())}")
    return path.read_text()



class _Printer(Protocol):
    """IPython's pretty printer, as ``_repr_pretty_`` uses it."""

    def text(self, text: str) -> None: ...

@dataclass(frozen=True, slots=True)
class Goal:
    """One probe of the exercise and whether its expectation held."""

    line: int
    command: str
    wanted: str
    got: str
    ok: bool
    hint: str | None


@dataclass(frozen=True, slots=True)
class Result:
    """What :func:`check` found: every goal, and the error if the learner's commands did not run."""

    name: str
    goals: tuple[Goal, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.goals) and all(g.ok for g in self.goals)

    def __str__(self) -> str:
        if self.error is not None:
            return f"{self.name}: your commands did not run: {self.error}"
        held = sum(g.ok for g in self.goals)
        lines = [f"{self.name}: {held} of {len(self.goals)} goals hold" + (" - solved!" if self.ok else "")]
        for g in self.goals:
            lines.append(f"  {'ok  ' if g.ok else 'FAIL'} line {g.line}: {g.command}")
            if not g.ok:
                lines.append(f"       wanted: {g.wanted}; got: {g.got}")
                if g.hint:
                    lines.append(f"       hint: {g.hint}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: _Printer, cycle: bool) -> None:
        p.text(str(self))


def check(name: str, commands: str) -> Result:
    """Run exercise ``name`` with ``commands`` in place of its placeholder and judge its goals."""
    from simnet.explain import explain
    from simnet.script.expect import ScriptError
    from simnet.script.interpreter import run_script

    text = exercise(name)
    if PLACEHOLDER not in text:
        raise ValueError(f"exercise {name!r} has no '{PLACEHOLDER}' line")
    script = text.replace(PLACEHOLDER, PLACEHOLDER + "\n" + commands.strip("\n"), 1)
    try:
        report = run_script(script, filename=f"{name}.sh")
    except ScriptError as e:
        return Result(name, (), str(e))
    goals = []
    for p in report.probes:
        if p.expect is None:
            continue
        hint = None
        if not p.ok:
            diagnoses = explain(report, line=p.line)
            d = diagnoses[0] if diagnoses else None
            if d is not None and d.kind not in ("reached", "unknown") and d.reason:
                hint = d.reason
            else:  # it got through (or explain found no stop): how it went is the hint
                hint = (getattr(d, "path", "") if d is not None else "") or _why(p)
        goals.append(Goal(p.line, p.command, _wanted(p.expect), _got(p), bool(p.ok), hint))
    return Result(name, tuple(goals))


def _wanted(expect: Expectation) -> str:
    data = expect.to_json()
    out = str(data["outcome"])
    if data.get("errno"):
        out += f" {data['errno']}"
    source = data.get("from") or data.get("source")  # the report's word for it changed from source to from
    if source:
        out += f" from {source}" + (f":{data['sport']}" if data.get("sport") else "")
    if data.get("via"):
        out += f" via {data['via']}"
    return out


def _got(p: ProbeRecord) -> str:
    r = p.result
    out = r.outcome + (f" {r.errno}" if r.errno else "")
    if r.received is not None:
        out += f" from {r.received.src}"
    return out


def _why(p: ProbeRecord) -> str:
    """The hint when the outcome was right but a detail was not (the receiver, or the rule hit)."""
    r = p.result
    hits = [f"{h.table}/{h.chain}#{h.index}" for t in r.traces for h in t.rule_hits()]
    seen = f"the receiver saw {r.received.src}" if r.received is not None else "nothing was received"
    return f"the outcome was {r.outcome} and {seen}; rules hit: {', '.join(dict.fromkeys(hits)) or 'none'}."


def show(renderable: object, *, width: int = 110) -> None:
    """Print a rich renderable (a probe, a table, a trace) as plain text, the same in a terminal,
    a notebook and a stored notebook output (no colour codes, fixed width)."""
    import sys

    from rich.console import Console

    Console(file=sys.stdout, width=width, color_system=None, force_jupyter=False, force_terminal=False,
            soft_wrap=False, highlight=False).print(renderable)
