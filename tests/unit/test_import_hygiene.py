"""simnet's core needs nothing Pyodide lacks: it imports and runs every scenario with those parts blocked.

A fresh interpreter blocks, before ``import simnet``: importing subprocess, ctypes, multiprocessing,
concurrent.futures, pty and resource; starting a thread or a process (os.fork, os.posix_spawn,
os.system, os.popen); and opening or listing anything under /proc. It then runs every scenario,
uses the public names a notebook uses (explain, the rich renderables), and asks for a kernel run
with ``sys.platform`` set to Pyodide's ("emscripten"): that must fail with a clear error, not with
one of the blocks. The same checks run in real Pyodide in tests/browser.

Start-up (issue #16): ``simnet run scenarios/quickstart.sh`` imports only the match/target files its
rules name and none of the modules that load on first use (test_quickstart_run_imports_only_what_it_uses);
a rule naming an extension still loads its file (test_a_rule_naming_an_extension_loads_its_file_then).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r'''
import builtins, io, json, os, sys, threading, _thread
from pathlib import Path

BLOCKED = {"subprocess", "_posixsubprocess", "ctypes", "_ctypes", "multiprocessing", "concurrent", "pty", "resource"}
for name in list(sys.modules):
    if name.split(".")[0] in BLOCKED:
        del sys.modules[name]
tripped = []

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            tripped.append(f"import {name}")
            raise ImportError(f"{name} is blocked (Pyodide lacks it)")
        return None

sys.meta_path.insert(0, Blocker())

def refuse(what):
    def call(*args, **kwargs):
        tripped.append(what)
        raise OSError(f"{what} is blocked (Pyodide lacks it)")
    return call

for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "popen", "execv", "execve"):
    if hasattr(os, name):
        setattr(os, name, refuse(f"os.{name}"))
threading.Thread.start = refuse("threading.Thread.start")
_thread.start_new_thread = refuse("_thread.start_new_thread")

def guard(fn, what):
    def call(file, *args, **kwargs):
        if str(os.fspath(file) if isinstance(file, (str, os.PathLike)) else "").startswith("/proc"):
            tripped.append(f"{what} {file}")
            raise OSError(f"{file}: /proc is blocked (Pyodide has none)")
        return fn(file, *args, **kwargs)
    return call

builtins.open = io.open = guard(io.open, "open")
os.listdir = guard(os.listdir, "listdir")
os.stat = guard(os.stat, "stat")

root = Path(sys.argv[1])
import simnet
from simnet.script.expect import ScriptError

outcomes = {}
for path in sorted((root / "scenarios").rglob("*.sh")):
    rel = path.relative_to(root).as_posix()
    try:
        report = simnet.run_script(path.read_text(), filename=rel)
        outcomes[rel] = [p.result.outcome for p in report.probes]
    except ScriptError as e:
        outcomes[rel] = f"ScriptError: {e}"
report = simnet.run_script((root / "scenarios/docker-1.9-single-host.sh").read_text())
from rich.console import Console
Console(file=io.StringIO(), width=100).print(report)
explained = isinstance(simnet.explain(report), list)
loaded = sorted(m for m in sys.modules if m.startswith("simnet.conformance") or m == "simnet.cli")

sys.platform = "emscripten"
from simnet.conformance import KernelRunError, run_on_kernel
try:
    run_on_kernel(str(root / "scenarios/quickstart.sh"))
    kernel_run = "ran"
except KernelRunError as e:
    kernel_run = str(e)
print(json.dumps({"outcomes": outcomes, "tripped": tripped, "loaded_by_scenarios": loaded,
                  "kernel_run": kernel_run, "explained": bool(explained)}))
'''


def _run_child() -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_core_runs_every_scenario_without_host_only_modules() -> None:
    result = _run_child()
    assert result["tripped"] == [], result["tripped"]
    outcomes = result["outcomes"]
    assert len(outcomes) >= 28
    assert not [p for p, o in outcomes.items() if isinstance(o, str)], outcomes
    assert outcomes["scenarios/docker-1.9-single-host.sh"], "the chapter's probes ran"
    assert result["explained"]
    # the real-kernel runner and the CLI were not loaded by running scenarios ...
    assert result["loaded_by_scenarios"] == []
    # ... and where the host is not Linux, a kernel run says so (not a blocked import)
    assert result["kernel_run"] == "kernel-run needs a Linux host (root, iproute2, iptables); this is emscripten"


def test_the_blocks_have_teeth() -> None:
    """The harness does catch a host-only use: a subprocess import is reported, not silently allowed."""
    misuse = ("try:\n    import subprocess\nexcept ImportError:\n    pass\n"
              "try:\n    open('/proc/self/status')\nexcept OSError:\n    pass\n")
    probe = CHILD.replace("import simnet\n", "import simnet\n" + misuse, 1)
    done = subprocess.run([sys.executable, "-c", probe, str(ROOT)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    tripped = json.loads(done.stdout.strip().splitlines()[-1])["tripped"]
    assert tripped == ["import subprocess", "open /proc/self/status"]


QUICKSTART = r'''
import io, json, sys
from contextlib import redirect_stdout
from simnet.cli import main
out = io.StringIO()
with redirect_stdout(out):
    status = main(["run", sys.argv[1]])
print(json.dumps({"status": status, "tail": out.getvalue().splitlines()[-1], "modules": sorted(sys.modules)}))
'''

# What `simnet run scenarios/quickstart.sh` must not import (issue #16, start-up): each loads on first
# use by name. A new eager import of one of them makes this fail.
LAZY_ON_THE_RUN_PATH = {
    "simnet.explain", "simnet.docker", "simnet.reach", "simnet.testing", "simnet.draw", "simnet.conformance",
    "simnet.capture.reader", "simnet.capture.writer", "simnet.dns.message", "simnet.dns.resolver",
    "simnet.dns.server", "simnet.vxlan", "simnet.tools.ip.vxlan", "rich.table", "rich.panel", "rich.tree",
    "rich.rule", "networkx", "matplotlib", "hypothesis", "jsonschema", "simnet.strategies",
}


def _quickstart_modules(script: str = "scenarios/quickstart.sh") -> dict:
    done = subprocess.run([sys.executable, "-c", QUICKSTART, str(ROOT / script)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_quickstart_run_imports_only_what_it_uses() -> None:
    """`simnet run` of the quickstart loads the match/target files its rules name (tcp; DROP is a
    standard verdict) and none of the modules that load on first use (DNS, VXLAN, explain, Docker,
    the rich tables/trees a passing run does not draw, the optional packages)."""
    result = _quickstart_modules()
    assert result["status"] == 0 and result["tail"] == "6 probes, all expectations hold", result
    modules = set(result["modules"])
    matches = {m.rsplit(".", 1)[1] for m in modules if m.startswith("simnet.netfilter.matches.")}
    targets = {m.rsplit(".", 1)[1] for m in modules if m.startswith("simnet.netfilter.targets.")}
    assert matches == {"base", "xt_tcpudp"}, matches
    assert targets == {"base", "standard"}, targets
    eager = {m for m in modules if m in LAZY_ON_THE_RUN_PATH or m.split(".")[0] in LAZY_ON_THE_RUN_PATH
             or any(m.startswith(lazy + ".") for lazy in LAZY_ON_THE_RUN_PATH)}
    assert not eager, f"imported at start-up although loaded on first use: {sorted(eager)}"


def test_a_rule_naming_an_extension_loads_its_file_then() -> None:
    """The lazy registry still finds every module: a rule with -m NAME / -j NAME loads that file."""
    code = ("import sys\nfrom simnet.netfilter.rule import Rule\n"
            "before = {m for m in sys.modules if m.startswith('simnet.netfilter.')}\n"
            "r = Rule.parse('-p udp -m time --timestart 10:00 -m comment --comment x -j LOG --log-prefix y')\n"
            "after = {m for m in sys.modules if m.startswith('simnet.netfilter.')}\n"
            "import json; print(str(r)); print(json.dumps(sorted(after - before)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    text, loaded = done.stdout.strip().splitlines()
    assert text.startswith("-p udp -m time --timestart 10:00:00"), text
    assert text.endswith('-m comment --comment x -j LOG --log-prefix y'), text
    assert {"simnet.netfilter.matches.xt_time", "simnet.netfilter.matches.xt_comment",
            "simnet.netfilter.targets.xt_log"} <= set(json.loads(loaded)), loaded
