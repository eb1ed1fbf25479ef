"""simnet's ``date`` against this machine's coreutils ``date`` (UTC): the same instant and text for every date
form simnet reads, the same words for the ones it refuses; and the kernel runner refusing ``date`` (it would
set or read the machine's own clock). ``date -s`` itself is never run on the machine."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from simnet.script import ScriptError
from simnet.tools.date import format_date, parse_date

pytestmark = pytest.mark.kernel

FORMS = ["2026-12-07 10:00:00", "2026-12-07T10:00", "2026-12-07", "2026-12-07 10:00:00 UTC", "2026-12-07T10:00:00Z",
         "@1796637600", "2024-02-29 23:59:59", "1970-01-01", "2038-01-19 03:14:08", "10:00", "0:5", ""]
BAD = ["foo", "2026-02-30", "2026-12-07 25:00", "2026-13-01", "2026-12-07 10:60"]


def _coreutils(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TZ="UTC", LC_ALL="C.UTF-8")
    return subprocess.run(["date", "-u", *args], capture_output=True, text=True, timeout=10, env=env)


@pytest.mark.parametrize("form", FORMS)
def test_date_forms_mean_what_coreutils_means(form: str) -> None:
    if shutil.which("date") is None:
        pytest.skip("no date(1) on this machine")
    now = int(_coreutils("+%s").stdout)
    real = _coreutils("-d", form, "+%s|%a %b %e %H:%M:%S %Z %Y")
    assert real.returncode == 0, real.stderr
    stamp, text = real.stdout.rstrip("\n").split("|")
    ours = parse_date(form, now)
    if abs(int(stamp) - ours) > 86400 // 2 and form in ("10:00", "0:5", ""):
        pytest.skip("the day turned between the two readings")
    assert ours == int(stamp)
    assert format_date(ours, None) == text == _coreutils("-d", form).stdout.rstrip("\n")


@pytest.mark.parametrize("form", BAD)
def test_bad_dates_refused_in_coreutils_words(form: str) -> None:
    if shutil.which("date") is None:
        pytest.skip("no date(1) on this machine")
    real = _coreutils("-d", form)
    assert real.returncode == 1
    with pytest.raises(ValueError) as e:
        parse_date(form, 0)
    assert str(e.value) == real.stderr.rstrip("\n")


def test_kernel_runner_refuses_to_touch_the_machines_clock() -> None:
    from simnet.conformance import run_on_kernel

    with pytest.raises(ScriptError, match="the kernel runner does not run it"):
        run_on_kernel("ip netns add a\ndate -s '2026-12-07 10:00'\n")
