"""Issue #13 item 6: a background listener that cannot bind prints its tool's error and exits;
the script goes on (a shell does not stop for a failing background job).

Checked on Linux 6.18 with netcat-openbsd 1.219 and Python 3.11 in ``unshare -n`` (the kernel
test tests/kernel/test_background_listener_kernel.py compares the same script): OpenBSD nc sets
SO_REUSEADDR and SO_REUSEPORT, so a second ``nc -l -k -p 5000 &`` binds beside the first; an nc
on a port another program holds (``python3 -m http.server``) prints ``nc: Address already in use``
and exits 1, and a second http.server dies with ``OSError: [Errno 98] Address already in use``.
"""

from __future__ import annotations

import json

from simnet.cli import main
from simnet.script.interpreter import run_script

_A = "set -e\nip netns add a\nip -n a link set lo up\n"

SCRIPT = _A + """\
ip netns exec a nc -l -k -p 5000 &
ip netns exec a nc -l -k -p 5000 &
ip netns exec a nc -z -w 1 127.0.0.1 5000
# expect: connected
ip netns exec a python3 -m http.server 8000 &
ip netns exec a nc -l -k -p 8000 &
ip netns exec a python3 -m http.server 8000 &
ip netns exec a nc -z -w 1 127.0.0.1 8000
# expect: connected
kill %1
ip netns exec a nc -z -w 1 127.0.0.1 5000
# expect: connected
kill %2
ip netns exec a nc -z -w 1 127.0.0.1 5000
# expect: refused
kill %4
kill %3
ip netns exec a nc -z -w 1 127.0.0.1 8000
# expect: refused
"""


def test_a_listener_that_cannot_bind_prints_its_error_and_the_script_goes_on() -> None:
    report = run_script(SCRIPT)
    assert report.error is None
    assert [p.result.outcome for p in report.probes] == ["connected", "connected", "connected", "refused",
                                                         "refused"]
    assert all(p.ok for p in report.probes)
    assert [(o["line"], o["stderr"]) for o in report.outputs] == [
        (9, "nc: Address already in use\n"), (10, "OSError: [Errno 98] Address already in use\n")]
    # the connection reached the first listener (job 1); the job that failed holds no socket
    ns = report.world.netns("a")
    assert [(lst.port, lst.job, lst.open) for lst in ns.sockets.listeners] == [
        (5000, 1, False), (5000, 2, False), (8000, 3, False)]
    assert len(ns.sockets.listeners[0].seen) == 1 and len(ns.sockets.listeners[1].seen) == 1


def test_two_nc_listeners_share_a_port_as_so_reuseport_lets_them() -> None:
    report = run_script(_A + "ip netns exec a nc -l -k -p 5000 &\nip netns exec a nc -u -l -p 5000 &\n"
                             "ip netns exec a nc -u -l -p 5000 &\n")
    assert report.outputs == []
    assert len(report.world.netns("a").sockets.listeners) == 3


def test_the_failing_job_is_reported_in_json_and_on_the_terminal(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.sh"
    path.write_text(SCRIPT)
    assert main(["run", "--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] is None and len(doc["probes"]) == 5
    assert doc["outputs"][0] == {"line": 9, "command": "ip netns exec a nc -l -k -p 8000 &", "stdout": "",
                                 "stderr": "nc: Address already in use\n"}
    assert main(["run", str(path)]) == 0
    assert "nc: Address already in use" in capsys.readouterr().out
