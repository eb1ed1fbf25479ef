"""The kernel runner's report fits the same JSON Schema as simnet's (``simnet/data/report.schema.json``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.report_schema import load_schema
from tests.kernel.machine import skip_reason
from tests.unit.test_report_schema import errors

ROOT = Path(__file__).resolve().parents[2]


def test_kernel_run_report_validates_against_the_schema() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    path = ROOT / "scenarios" / "quickstart.sh"
    report = run_on_kernel(path.read_text(), filename=str(path))
    assert errors(report, load_schema()) == []
    assert [p["expect"]["ok"] for p in report["probes"]] == [True] * 6
    assert report["probes"][0]["expect"]["from"] == "10.0.0.2"
