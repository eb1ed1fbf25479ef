"""Issue #13 item 6 on the kernel: listeners that share a port (OpenBSD nc's SO_REUSEPORT) and one
that cannot bind (nc or http.server on a port http.server holds) run the same way in simnet and in
a throwaway namespace: the same probes, counters and conntrack, the same error words, the script
going on after the failing background job."""

from __future__ import annotations

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason
from tests.unit.script.test_background_jobs import SCRIPT

pytestmark = pytest.mark.kernel


def test_a_listener_that_cannot_bind_agrees_with_the_kernel() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    sim = run_script(SCRIPT).to_json()
    kernel = run_on_kernel(SCRIPT)
    assert not compare(sim, kernel), "\n".join(compare(sim, kernel))
    assert [p["outcome"] for p in kernel["probes"]] == ["connected", "connected", "connected", "refused", "refused"]
    assert all(p["expect"]["ok"] for p in sim["probes"] + kernel["probes"])
    errors = [(o["line"], o["stderr"]) for o in kernel["outputs"] if "stderr" in o]
    assert errors == [(o["line"], o["stderr"]) for o in sim["outputs"] if "stderr" in o] == [
        (9, "nc: Address already in use\n"), (10, "OSError: [Errno 98] Address already in use\n")]
