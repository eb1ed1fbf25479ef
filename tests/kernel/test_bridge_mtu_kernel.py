"""The bridge-MTU transcript of tests/unit/script/test_ip.py still holds on this kernel."""

import re
import shutil
import subprocess

import pytest

from tests.kernel.machine import skip_reason
from tests.unit.script.test_ip import _MTU_STEPS

pytestmark = pytest.mark.kernel


def test_bridge_mtu_transcript_is_the_kernels() -> None:
    reason = skip_reason() or (None if shutil.which("unshare") else "needs unshare")
    if reason:
        pytest.skip(reason)
    script = "set -e\n" + "".join(f"ip {line}\n" + (f"ip link show {br}\n" if br else "")
                                  for line, br, _ in _MTU_STEPS)
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    seen = [int(m) for m in re.findall(r" mtu (\d+) ", proc.stdout)]
    assert seen == [mtu for _, br, mtu in _MTU_STEPS if br]
