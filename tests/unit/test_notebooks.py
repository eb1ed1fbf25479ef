"""The teaching notebooks run top to bottom (their code cells, in order, without Jupyter)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with redirect_stdout(out):
        for cell in cells:
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
    if path.name.startswith("01_"):
        # the story the prose tells must be what the simulation shows
        assert namespace["published"].result.outcome == "connected"  # type: ignore[attr-defined]
        assert namespace["published"].result.received.src.exploded == "203.0.113.20"  # type: ignore[attr-defined]
        assert namespace["first"].result.outcome in ("timeout", "unreachable")  # type: ignore[attr-defined]
        seen = [p.result.received.src.exploded for p in namespace["routed"].probes  # type: ignore[attr-defined]
                if p.result.received]
        assert seen == ["192.168.1.1", "172.17.1.2"]
        assert "the receiver saw 192.168.1.1" in out.getvalue()
