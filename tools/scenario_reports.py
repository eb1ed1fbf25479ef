"""Every scenario's JSON report, produced the same way under CPython and under Pyodide.

Run as a script (``python tools/scenario_reports.py``) or from Pyodide (tests/browser), it prints
one JSON document: ``{"import_s", "platform", "reports": {path: report}, "seconds": {path: s},
"draw": ...}``. A scenario that stops with a ScriptError reports ``{"error": message}``, so the
two sides must agree on failures too. Only the standard library and simnet are used.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def scenario_paths(root: Path) -> list[str]:
    """All scenarios under ``scenarios/``, as repository-relative POSIX paths, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "scenarios").rglob("*.sh"))


def draw_status() -> dict[str, str]:
    """What the pictures can do here: simnet.draw present? matplotlib importable?"""
    status = {}
    for name in ("matplotlib", "simnet.draw"):
        try:
            __import__(name)
            status[name] = "ok"
        except ImportError as e:
            status[name] = f"{type(e).__name__}: {e}"
    return status


def cpu_seconds() -> float:
    """This process's CPU time (user + system): what a loaded machine does not inflate.

    Under Pyodide, ``time.process_time`` is the wall clock, so Node's ``process.cpuUsage()`` is asked.
    """
    if sys.platform == "emscripten":
        try:
            import js  # type: ignore[import-not-found]

            usage = js.process.cpuUsage()
            return (usage.user + usage.system) / 1e6
        except (ImportError, AttributeError):
            pass
    return time.process_time()


def collect(root: Path, only: list[str] | None = None) -> dict:
    t0, c0 = time.perf_counter(), cpu_seconds()
    import simnet
    from simnet.script.expect import ScriptError

    import_s, import_cpu_s = time.perf_counter() - t0, cpu_seconds() - c0
    reports: dict[str, object] = {}
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for rel in only or scenario_paths(root):
        text = (root / rel).read_text()
        t0, c0 = time.perf_counter(), cpu_seconds()
        try:
            reports[rel] = simnet.run_script(text, filename=rel).to_json()
        except ScriptError as e:
            reports[rel] = {"error": str(e)}
        seconds[rel], cpu[rel] = time.perf_counter() - t0, cpu_seconds() - c0
    return {"import_s": import_s, "import_cpu_s": import_cpu_s, "platform": sys.platform,
            "python": sys.version.split()[0], "reports": reports, "seconds": seconds, "cpu_seconds": cpu}


def tour(root: Path) -> dict:
    """What a notebook does besides running scenarios, as text both sides must share.

    The chapter's report, its world tree and nat table rendered by rich (no colour, 110 columns),
    the diagnoses ``explain`` gives for the two-host scenario, and a Hypothesis property over
    random worlds (a namespace dropping all INPUT is unreachable), derandomized so both sides draw
    the same examples.
    """
    import io

    from hypothesis import given, settings
    from rich.console import Console

    import simnet
    from simnet import strategies
    from simnet.render import ruleset_table, world_tree

    chapter = simnet.run_script((root / "scenarios/docker-1.9-single-host.sh").read_text(),
                                filename="scenarios/docker-1.9-single-host.sh")
    out = io.StringIO()
    console = Console(file=out, width=110, color_system=None, force_terminal=False)
    console.print(chapter)
    console.print(world_tree(chapter.world))
    console.print(ruleset_table(chapter.world["host"], "nat"))
    cross = simnet.run_script((root / "scenarios/cross-host-same-subnet.sh").read_text(),
                              filename="scenarios/cross-host-same-subnet.sh")
    checked = []

    @settings(max_examples=15, derandomize=True, deadline=None, database=None)
    @given(strategies.worlds(max_netns=3))
    def drop_all_isolates(world: simnet.World) -> None:
        world["n1"].ruleset.table("filter").append("INPUT", simnet.Rule.parse("! -i lo -j DROP"))
        for addr in [a.address for a in world["n1"].addrs if a.dev != "lo"]:
            simnet.assert_unreachable(world, "n0", addr)
            checked.append(str(addr))

    drop_all_isolates()
    explained = [d.text() for p in cross.probes for d in simnet.explain(cross, line=p.line)]
    return {"rendered": out.getvalue(), "explained": explained,
            "property_checked": checked}


def canonical(report: object) -> str:
    """The text two reports must share: sorted keys, no whitespace games."""
    return json.dumps(report, sort_keys=True, indent=1)


if __name__ == "__main__":
    repo = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd()
    only = sys.argv[1:] or None
    result = collect(repo, only)
    result["draw"] = draw_status()
    print(json.dumps(result))
