"""simnet under Pyodide (npm package, in Node) next to CPython: start, the chapter scenario, every scenario.

``python benchmarks/pyodide.py [--runs 3] [--json]``. Each run starts a fresh interpreter on each
side (CPython: ``python tools/scenario_reports.py``; Pyodide: one Node process, the wheels unpacked
before the clock starts) and times, inside it: ``import simnet`` (the start; the first import in
that interpreter, bytecode compiled then for Pyodide, whose wheels carry none), the chapter scenario
(scenarios/docker-1.9-single-host.sh, parsed and run to its report) and all scenarios. Pyodide's
own boot (loading the wasm and the stdlib) is shown apart. Targets: under Pyodide, the start and
the chapter scenario each under 2 s. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import pyodide_env  # noqa: E402

CHAPTER = "scenarios/docker-1.9-single-host.sh"
CODE = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, "/repo/tools")
import scenario_reports
r = scenario_reports.collect(Path("/repo"))
del r["reports"]
print(json.dumps(r))
"""


def cpython_once() -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "scenario_reports.py")], capture_output=True,
                          text=True, check=True, timeout=600, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout)


def summary(r: dict) -> dict:
    return {"import_s": r["import_s"], "chapter_s": r["seconds"][CHAPTER], "all_s": sum(r["seconds"].values()),
            "import_cpu_s": r["import_cpu_s"], "chapter_cpu_s": r["cpu_seconds"][CHAPTER],
            "all_cpu_s": sum(r["cpu_seconds"].values()), "scenarios": len(r["seconds"]), "boot_s": r.get("_boot_s")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pyodide = pyodide_env.pyodide_dir()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = [pyodide_env.build_wheel(Path(tmp)), *pyodide_env.dependency_wheels()]
        load = [os.getloadavg()[0]]
        rows = []
        for _ in range(args.runs):
            rows.append({"cpython": summary(cpython_once()),
                         "pyodide": summary(pyodide_env.run_in_node(pyodide, wheels, CODE))})
            load.append(os.getloadavg()[0])
    if args.json:
        print(json.dumps({"runs": rows, "load_average_1min": load}))
        return 0
    print(f"Python {sys.version.split()[0]} vs Pyodide {pyodide_env.PYODIDE_VERSION} (Node {_node()}), "
          f"{os.cpu_count()} cores; 1-min load average {min(load):.1f}-{max(load):.1f} during the runs")
    print()
    print("wall clock (CPU time of the process in brackets)\n")
    print("| run | side | Pyodide boot | import simnet | chapter scenario | all scenarios |")
    print("|---|---|---|---|---|---|")
    for i, row in enumerate(rows, 1):
        for side in ("cpython", "pyodide"):
            s = row[side]
            boot = f"{s['boot_s']:.2f} s" if s["boot_s"] else "-"
            print(f"| {i} | {side} | {boot} | {s['import_s']:.2f} s ({s['import_cpu_s']:.2f}) | "
                  f"{s['chapter_s']:.3f} s ({s['chapter_cpu_s']:.3f}) | "
                  f"{s['all_s']:.2f} s ({s['all_cpu_s']:.2f}; {s['scenarios']} scenarios) |")
    keys = ("import_s", "import_cpu_s", "chapter_s", "chapter_cpu_s", "all_s", "all_cpu_s")
    for side in ("cpython", "pyodide"):
        med = {k: statistics.median(r[side][k] for r in rows) for k in keys}
        print(f"\nmedian {side}: import {med['import_s']:.2f} s ({med['import_cpu_s']:.2f} CPU), chapter "
              f"{med['chapter_s']:.3f} s ({med['chapter_cpu_s']:.3f} CPU), all {med['all_s']:.2f} s "
              f"({med['all_cpu_s']:.2f} CPU)")
    return 0


def _node() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
