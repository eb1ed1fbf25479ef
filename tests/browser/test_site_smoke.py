"""The built JupyterLite site runs the first notebook in a real browser (headless Chromium).

Opt-in (``SIMNET_BROWSER_SMOKE=1``), not run in CI: it needs Debian's chromium (not installed by
.ci/run, a large package) and takes minutes here (site build ~1 min, then Pyodide's start, the
kernel's own installs and the notebook in the browser ~1 min on 2 loaded cores). The Node test
(test_pyodide_conformance.py) is CI's guarantee that simnet runs under Pyodide.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools import build_site, pyodide_env, site_smoke

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(os.environ.get("SIMNET_BROWSER_SMOKE") != "1",
                                reason="browser smoke test is opt-in: SIMNET_BROWSER_SMOKE=1 (needs chromium)")


def test_first_notebook_runs_in_headless_chromium(tmp_path: Path) -> None:
    try:
        site = build_site.build(offline=True)  # nothing may leave the site here
        result = site_smoke.smoke(f"notebooks/{NOTEBOOKS[0].name}", site=site, screenshot=tmp_path / "site.png")
    except pyodide_env.Unavailable as e:
        pytest.skip(str(e))
    assert "failure" not in result, result.get("failure")
    # the pictures cannot draw here (no matplotlib for Pyodide offline): those cells may fail, naming
    # matplotlib; every other cell must run without an error
    errors = site_smoke.errors_of(result)
    assert [e for e in errors if "matplotlib" not in e] == [], errors
    cells = result["cells"]
    assert cells and all(c["count"] for c in cells), "every code cell ran"
    assert len(errors) < len(cells) / 2, f"most cells must work: {errors}"
    assert any(c["outputs"] for c in cells)
    # the outputs are in the page, not only in the model, and nothing came from outside the site
    assert result["dom_outputs"] >= sum(1 for c in cells if c["outputs"])
    assert result["dom_text"].strip()
    assert result["external"] == []
    assert (tmp_path / "site.png").stat().st_size > 10_000
