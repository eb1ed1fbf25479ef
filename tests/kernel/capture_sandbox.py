"""Build a script's world on the real kernel in a sandbox, and capture it from inside.

:func:`build_and_capture` validates the script as the kernel runner does, then starts this file
under ``unshare --mount --net`` (a private ``/run/netns`` on a tmpfs and a private network
namespace that the capture treats as the host's root namespace: the machine's own namespaces are
never read).  Inside, the kernel runner's own ``_Run`` executes every command but the probes
(namespaces pinned as in ``simnet kernel-run``, listeners started), then
:func:`simnet.capture.read_host` captures the sandbox with the real tools, and the listings the
round-trip test compares (``iptables-save``, ``ip addr``, ``ip route show table all``, ``ip rule``,
``ip neigh``) are read per namespace; everything is torn down before the sandbox exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXED_TIME = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
LISTINGS = {
    "iptables-save": ["iptables-save"],
    "ip addr": ["ip", "addr"],
    "ip route show table all": ["ip", "route", "show", "table", "all"],
    "ip rule": ["ip", "rule"],
    "ip neigh": ["ip", "neigh"],
}


def build_and_capture(text: str, *, listeners: bool = True, timeout: float = 120) -> dict[str, Any]:
    """{"script": captured script, "notes": [...], "listings": {ns: {what: stdout}}} of ``text``'s world."""
    from simnet.conformance.inside.common import _Cmd, _ns_ids
    from simnet.conformance.run import validate
    from simnet.script.lexer import lex
    from simnet.script.shell import expand

    commands = expand(lex(text, "world.sh"))
    validate(commands)
    with tempfile.TemporaryDirectory(prefix="simnet-capture-") as tmp:
        path = os.path.join(tmp, "script.json")
        with open(path, "w") as f:
            json.dump([_Cmd.to_json(c) for c in commands], f)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        p = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "--", sys.executable,
                            __file__, path, _ns_ids(), "1" if listeners else "0"],
                           capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT))
    try:
        result = json.loads(p.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"the sandbox failed (exit {p.returncode}): {p.stderr.strip()}") from None
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


def _inside(path: str, outer: str, listeners: bool) -> dict[str, Any]:
    from simnet.conformance.inside import common

    sys.path.insert(0, common.INSIDE)
    from runner import _Run  # type: ignore[import-not-found]  # the kernel runner, as it runs inside

    outer_mnt, outer_net = outer.split(":")
    mnt, net = common._ns_ids().split(":")
    if mnt == outer_mnt or net == outer_net:
        raise RuntimeError("refusing to run: not inside a private mount and network namespace")
    os.makedirs("/run/netns", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "simnet-netns", "/run/netns"], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with open(path) as f:
        commands = tuple(common._Cmd(d) for d in json.load(f))
    from simnet.capture import read_host, subprocess_runner, write_script

    with tempfile.TemporaryDirectory(prefix="simnet-run-") as work:
        os.chmod(work, 0o755)
        run = _Run(commands, work)
        try:
            for cmd in commands:
                if common.classify(cmd) != "probe":
                    run.step(cmd)
            run.settle()
            cap = read_host(subprocess_runner, listeners=listeners, now=FIXED_TIME)
            script = write_script(cap)
            listings = {}
            for ns in sorted(os.listdir("/run/netns")):
                listings[ns] = {what: subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True,
                                                     text=True).stdout for what, argv in LISTINGS.items()}
        finally:
            run.cleanup()
    return {"script": script.text, "notes": [n.what for n in script.notes], "listings": listings}


if __name__ == "__main__":
    try:
        print(json.dumps(_inside(sys.argv[1], sys.argv[2], sys.argv[3] == "1")))
    except Exception as e:  # reported to the calling side, which raises it
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
