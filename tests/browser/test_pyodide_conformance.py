"""simnet under Pyodide (the npm ``pyodide`` package, in Node) gives the same reports as under CPython.

simnet's wheel is built fresh from the working tree; its dependencies' pure-Python wheels come
from pip (the versions this CPython has installed); Pyodide is the npm package pinned in
tools/pyodide_env.py, loaded from its own folder, so nothing is fetched from a CDN. Every
scenario under scenarios/ runs on both sides and the JSON reports (every probe's outcome,
receiver, counters, conntrack and trace, or the ScriptError a scenario stops with) must be
identical text. One Node run does it all (Pyodide takes seconds to start), so this module holds
one test. It skips only when node/npm or the registries are unreachable.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import tempfile
from pathlib import Path

import pytest

from tools import pyodide_env, scenario_reports

ROOT = Path(__file__).resolve().parents[2]

# Runs inside Pyodide, with the repository mounted at /repo (simnet itself comes from the wheel).
PYODIDE_CODE = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, "/repo/tools")
import scenario_reports
HOST_ONLY = {"subprocess", "_posixsubprocess", "ctypes", "_ctypes", "multiprocessing", "concurrent", "pty", "resource"}

before = set(sys.modules)  # Pyodide's own start already imports subprocess, for one
result = scenario_reports.collect(Path("/repo"))
import simnet
result["simnet_file"] = simnet.__file__
result["host_only_loaded"] = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in HOST_ONLY
                                    or m.startswith("simnet.conformance"))
result["draw"] = scenario_reports.draw_status()
result["tour"] = scenario_reports.tour(Path("/repo"))
if result["draw"]["simnet.draw"] == "ok":  # the course's pictures, once simnet.draw is in the wheel
    import simnet.draw
    chapter = simnet.run_script(open("/repo/scenarios/docker-1.9-single-host.sh").read())
    drawn = {}
    for kind, call in [("hooks", lambda: simnet.draw.hooks(chapter.probes[0], world=chapter.world)),
                       ("topology", lambda: simnet.draw.topology(chapter.world)),
                       ("sequence", lambda: simnet.draw.sequence(chapter.probes[0], world=chapter.world)),
                       ("chains", lambda: simnet.draw.chains(chapter.world, "host"))]:
        try:
            fig = call()
            drawn[kind] = type(fig).__name__ + f" {len(fig.axes)} axes"
        except Exception as e:
            drawn[kind] = f"{type(e).__name__}: {e}"
    result["drawn"] = drawn

# the real-kernel runner refuses with a clear error, from Python and from the CLI
from simnet.conformance import KernelRunError, run_on_kernel
try:
    run_on_kernel("/repo/scenarios/quickstart.sh")
    result["kernel_run"] = "ran"
except KernelRunError as e:
    result["kernel_run"] = str(e)
import contextlib, io
err = io.StringIO()
with contextlib.redirect_stderr(err):
    from simnet.cli import main
    status = main(["kernel-run", "/repo/scenarios/quickstart.sh"])
result["cli_kernel_run"] = [status, err.getvalue().strip()]
print(json.dumps(result))
"""


def _run_once() -> dict:
    try:
        pyodide = pyodide_env.pyodide_dir()
        deps = pyodide_env.dependency_wheels()
    except pyodide_env.Unavailable as e:
        return {"skip": str(e)}
    with tempfile.TemporaryDirectory() as tmp:
        wheel = pyodide_env.build_wheel(Path(tmp))
        return pyodide_env.run_in_node(pyodide, [wheel, *deps], PYODIDE_CODE)


@pytest.fixture(scope="module")
def pyodide_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One Node run per test session, shared by the xdist workers through a locked file."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with open(shared / "pyodide-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = shared / "pyodide-run.json"
        if not cached.exists():
            cached.write_text(json.dumps(_run_once()))
        result = json.loads(cached.read_text())
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


def test_every_scenario_reports_the_same_under_pyodide(pyodide_result: dict) -> None:
    assert pyodide_result["platform"] == "emscripten"
    assert pyodide_result["simnet_file"].startswith("/lib/python3."), pyodide_result["simnet_file"]
    assert "/site-packages/simnet/" in pyodide_result["simnet_file"]
    cpython = scenario_reports.collect(ROOT)["reports"]
    browser = pyodide_result["reports"]
    assert sorted(browser) == sorted(cpython) == scenario_reports.scenario_paths(ROOT)
    assert len(cpython) >= 28
    differ = []
    for path in sorted(cpython):
        a, b = scenario_reports.canonical(cpython[path]), scenario_reports.canonical(browser[path])
        if a != b:
            diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "cpython", "pyodide", lineterm="", n=1)
            differ.append(f"{path}:\n" + "\n".join(list(diff)[:30]))
    assert not differ, "scenarios whose report differs under Pyodide:\n" + "\n\n".join(differ)
    # the comparison has teeth: the chapter scenario's probes really ran there
    chapter = browser["scenarios/docker-1.9-single-host.sh"]
    assert [p["outcome"] for p in chapter["probes"]], chapter
    assert all(p["expect"] is None or p["expect"]["ok"] for p in chapter["probes"])

    # import hygiene in the real thing: running every scenario loaded no host-only module ...
    assert pyodide_result["host_only_loaded"] == []
    # ... and kernel-run says why it cannot run there
    assert pyodide_result["kernel_run"].startswith("kernel-run needs a Linux host")
    status, message = pyodide_result["cli_kernel_run"]
    assert status == 2 and message.startswith("error: kernel-run needs a Linux host"), message


def test_rendering_explain_and_hypothesis_agree_under_pyodide(pyodide_result: dict) -> None:
    """A notebook's other tools give the same text there: rich rendering, explain, a property test."""
    cpython = scenario_reports.tour(ROOT)
    browser = pyodide_result["tour"]
    assert "nat/POSTROUTING" in cpython["rendered"] or "POSTROUTING" in cpython["rendered"]
    assert browser["rendered"] == cpython["rendered"]
    assert cpython["explained"] and browser["explained"] == cpython["explained"]
    assert len(cpython["property_checked"]) > 5
    assert browser["property_checked"] == cpython["property_checked"]


def test_pictures_under_pyodide(pyodide_result: dict) -> None:
    """The course's pictures need matplotlib: the offline npm package cannot provide it.

    The npm ``pyodide`` package ships the interpreter and the stdlib, and only the *lock* of
    Pyodide's distribution: matplotlib, numpy and their compiled dependencies would be fetched
    from the CDN (unreachable here), and PyPI has no emscripten wheels of them. When that
    changes (matplotlib imports there), this test asserts the pictures draw instead.
    """
    draw = pyodide_result["draw"]
    drawn = pyodide_result.get("drawn", {})
    lock = json.loads((pyodide_env.pyodide_dir() / "pyodide-lock.json").read_text())
    wheel = pyodide_env.pyodide_dir() / lock["packages"]["matplotlib"]["file_name"]
    if draw["matplotlib"] != "ok":
        assert not wheel.exists(), f"{wheel.name} is in the npm package but did not import: {draw['matplotlib']}"
        assert draw["matplotlib"].startswith("ModuleNotFoundError")
        # without matplotlib, each picture fails with an ImportError that names it, not a crash
        for kind, outcome in drawn.items():
            assert outcome.startswith(("ImportError", "ModuleNotFoundError")), (kind, outcome)
            assert "matplotlib" in outcome, (kind, outcome)
        pytest.skip(f"no matplotlib in the offline npm pyodide package ({wheel.name} is only in its lock); "
                    f"pictures are tested under CPython (simnet.draw there: {draw['simnet.draw']})")
    assert draw["simnet.draw"] == "ok", draw
    assert drawn and all(o.startswith("Figure") for o in drawn.values()), drawn
