"""simnet/ type-checks under mypy --strict (pyproject's [tool.mypy], relaxations stated there).

A new ``Target`` or ``RouteInput`` variant that a ``match`` does not handle fails here
(``assert_never``), as does an untyped function in a strict module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_simnet_type_checks_strict() -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is a test extra: pip install -e '.[test]'")
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(ROOT / ".mypy_cache"), str(ROOT / "simnet")])
    assert status == 0, stdout + stderr
