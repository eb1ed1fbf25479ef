"""``ip rule ... fwmark`` on the kernel: what simnet's routing and ``ip`` print, the real tools print.

A world of masked marks is run by ``simnet kernel-run`` and by simnet: every ``ip rule show`` and
``ip route get ... mark M`` line must be the same. ``ip rule del`` is run by the real iproute2 in
an anonymous namespace for each case of tests/behaviour/test_fib_rule_fwmark.py: same exit status, same
message, same rules left.
"""

from __future__ import annotations

import subprocess

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason
from tests.behaviour.test_fib_rule_fwmark import ROUTE_GET, SETUP

pytestmark = pytest.mark.kernel

WORLD = "ip netns add n\n" + "".join(f"ip -n n {line}\n" for line in SETUP) + "".join(
    f"ip -n n route get {dst} mark {mark}\n" for dst, mark in ROUTE_GET) + """\
ip -n n rule add fwmark 0/0x4000 table 103
ip -n n rule add fwmark 0x4000/0xffffffff table 104
ip -n n rule add fwmark 0x4000/0x4000 table 105
ip -n n rule show
ip -n n rule del fwmark 0x4000/0x4000 table 105
ip -n n rule del fwmark 0 table 104
ip -n n rule show
"""

DELETES = [
    ("fwmark 0x4000/0x4000 table 100", "fwmark 0x4000 table 100"),
    ("fwmark 0x4000/0x4000 table 100", "fwmark 0x4000/0x4000 table 100"),
    ("fwmark 0x4000 table 100", "fwmark 0x4000/0x4000 table 100"),
    ("fwmark 0x4000 table 100", "fwmark 0/0xffffffff table 100"),
    ("fwmark 0x4000 table 100", "fwmark 0 table 100"),
    ("fwmark 0x4000 table 100", "from all table 100"),
]


def test_rules_and_route_get_print_alike() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    sim = run_script(WORLD, filename="fwmark-rules.sh").to_json()["outputs"]
    kernel = run_on_kernel(WORLD, filename="fwmark-rules.sh")["outputs"]
    assert [(o["line"], o["stdout"]) for o in sim] == [(o["line"], o["stdout"]) for o in kernel]
    assert len(kernel) == len(ROUTE_GET) + 2


@pytest.mark.parametrize(("added", "deleted"), DELETES)
def test_rule_del_as_the_kernel_finds(added: str, deleted: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.tools.ip import IpError, ip
    from simnet.world import World

    real = subprocess.run(["timeout", "20", "unshare", "-n", "sh", "-c",
                           f"ip rule add {added}; ip rule del {deleted}; echo \"exit $?\"; ip rule show"],
                          capture_output=True, text=True)
    w = World()
    ip(w, ["rule", "add", *added.split()])
    try:
        ip(w, ["rule", "del", *deleted.split()])
        status, err = 0, ""
    except IpError as e:
        status, err = e.exit_code, str(e).strip()
    assert (f"exit {status}\n" + ip(w, ["rule", "show"]), err) == (real.stdout, real.stderr.strip())
