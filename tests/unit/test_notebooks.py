"""The course notebooks: executed through a real Jupyter kernel, their stored outputs must come back
exactly (simnet is deterministic), each with a picture; their stories and exercises hold."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_are_reproduced_by_a_jupyter_kernel(path: Path) -> None:
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    import nbformat
    import run_notebooks

    stored = nbformat.read(path, as_version=4)
    fresh = run_notebooks.execute(path)
    assert run_notebooks.compare(stored, fresh) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path: Path) -> None:
    """Installs simnet only under Pyodide first, uses the public API, has a picture and two checked exercises."""
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert 'if sys.platform == "emscripten":' in "".join(code[0]["source"])
    assert "await piplite.install([\"simnet\"])" in "".join(code[0]["source"])
    source = "".join("".join(c["source"]) for c in code)
    assert "import simnet" in source
    assert source.count("course.check(") >= 2
    assert any("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    assert all(c.get("id") for c in cells)


def _run_cells(path: Path) -> tuple[dict[str, object], str]:
    """The code cells run in this process (the Pyodide install cell skipped: it only installs)."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"][1:]
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with redirect_stdout(out):
        for cell in cells:
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
    return namespace, out.getvalue()


def test_chapter_story(monkeypatch: pytest.MonkeyPatch) -> None:
    """The story notebook 01 tells is what the simulation shows."""
    pytest.importorskip("matplotlib")
    path = next(p for p in NOTEBOOKS if p.name.startswith("01_"))
    monkeypatch.chdir(path.parent)
    namespace, out = _run_cells(path)
    assert namespace["published"].result.outcome == "connected"  # type: ignore[attr-defined]
    assert namespace["published"].result.received.src.exploded == "203.0.113.20"  # type: ignore[attr-defined]
    assert namespace["first"].result.outcome in ("timeout", "unreachable")  # type: ignore[attr-defined]
    seen = [p.result.received.src.exploded for p in namespace["routed"].probes  # type: ignore[attr-defined]
            if p.result.received]
    assert seen == ["192.168.1.1", "172.17.1.2"]
    assert "the receiver saw 192.168.1.1" in out
    # the iptables-save printed at that moment shows an empty DOCKER chain (no -A DOCKER yet)
    assert ":DOCKER - [0:0]" in out and "-A DOCKER" not in out.split("line 47")[1].split("COMMIT\n*nat")[0]


def test_hooks_story(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notebook 02's counters: three packets through filter/DOCKER#1, one through the nat rules."""
    pytest.importorskip("matplotlib")
    path = next(p for p in NOTEBOOKS if p.name.startswith("02_"))
    monkeypatch.chdir(path.parent)
    _namespace, out = _run_cells(path)
    for line in ("host: filter/FORWARD#1 +3", "host: filter/DOCKER#1 +3", "host: filter/FORWARD#3 +1",
                 "host: nat/DOCKER#1 +1", "host: nat/PREROUTING#1 +1"):
        assert line in out
    assert "dport=1180 src=172.17.0.2 dst=203.0.113.20 sport=5000" in out
