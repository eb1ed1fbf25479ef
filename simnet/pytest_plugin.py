"""simnet's pytest plugin (entry point ``pytest11``): a world from a scenario script, as a fixture.

Installed with simnet; a test asks for ``simnet_world`` and calls it with a script's path::

    from simnet.testing import assert_unreachable

    def test_ssh_is_closed_from_the_lan(simnet_world):
        report = simnet_world("scenarios/my-host.sh")
        assert_unreachable(report.world, "client", "203.0.113.10", port=22)

The path is looked up beside the test file first, then under pytest's rootdir. A script that
does not run, or (unless ``expectations=False``) one whose ``# expect:`` lines do not hold,
fails the test with simnet's one-line message (file:line and the tool's words), not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest

if TYPE_CHECKING:
    from simnet.script.interpreter import Report


def _locate(request: pytest.FixtureRequest, path: str | Path) -> Path:
    p = Path(path)
    if p.is_absolute():
        return p
    candidates = [Path(str(request.path)).parent / p, Path(request.config.rootpath) / p]
    return next((c for c in candidates if c.exists()), candidates[-1])


@pytest.fixture
def simnet_world(request: pytest.FixtureRequest) -> Callable[..., "Report"]:
    """A function ``simnet_world(path, *, expectations=True)`` that runs the script at ``path``
    and returns its :class:`~simnet.script.interpreter.Report` (``.world`` is the world after
    the script, ``.probes`` what its probes did)."""
    from simnet.script.expect import ScriptError
    from simnet.script.interpreter import run_script

    def build(path: str | Path, *, expectations: bool = True) -> "Report":
        p = _locate(request, path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            pytest.fail(f"simnet_world: cannot read {p}: {getattr(e, 'strerror', None) or e}", pytrace=False)
        try:
            report = run_script(text, filename=str(p))
        except ScriptError as e:
            pytest.fail(f"simnet_world: {e}", pytrace=False)
        if expectations:
            failed = [f"{p}:{r.line}: `{r.command}` expected {r.expect}, got {r.result.outcome}"
                      for r in report.probes if r.ok is False]
            if failed:
                pytest.fail("simnet_world: " + "; ".join(failed), pytrace=False)
        return report

    return build
