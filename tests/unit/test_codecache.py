"""simnet._codecache: dataclass methods compiled once and cached beside the bytecode (issue #16 start-up).

Each case runs fresh interpreters with bytecode writing on and ``PYTHONPYCACHEPREFIX`` pointing at a
temporary directory, so nothing is written into the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r'''
import dataclasses, json, sys
import simnet
from simnet import _codecache
_codecache.install()  # as simnet.cli.main() does when it is the process's command
import simnet.packet
from simnet.trace import Received
from simnet.netfilter.targets import Accept, Jump
r = Received(netns="a", dev="eth0", packet=None)
try:
    r.dev = "x"
    frozen = "no error"
except dataclasses.FrozenInstanceError as e:
    frozen = type(e).__name__ + ": " + str(e)

@dataclasses.dataclass(frozen=True)
class Other:  # not simnet's: compiled by the builtin exec, annotations as usual
    x: int

print(json.dumps({
    "compiled": sorted(_codecache._dirty),
    "repr": [repr(r), repr(Jump(chain="X")), repr(Accept())],
    "eq": [r == Received(netns="a", dev="eth0", packet=None), r == Received(netns="b", dev="eth0", packet=None),
           hash(Jump(chain="X")) == hash(Jump(chain="X"))],
    "frozen": frozen,
    "init_annotations": {k: str(v) for k, v in Received.__init__.__annotations__.items()},
    "other_annotations": {k: str(v) for k, v in Other.__init__.__annotations__.items()},
    "hooked": getattr(dataclasses, "exec", None) is _codecache._exec,
}))
'''


def _run(prefix: Path, *, write: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    argv = [sys.executable] + ([] if write else ["-B"]) + ["-c", CHILD]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _caches(prefix: Path) -> list[Path]:
    return sorted(prefix.rglob("*.dataclasses"))


def test_second_start_compiles_nothing_and_classes_behave_the_same(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first["hooked"]
    assert "simnet.trace" in first["compiled"] and "simnet.packet" in first["compiled"], first["compiled"]
    files = _caches(tmp_path)
    assert any(f.name.startswith("trace.") for f in files), files
    second = _run(tmp_path)
    assert second["compiled"] == [], "every generated method came from the cache"
    for key in ("repr", "eq", "frozen", "init_annotations", "other_annotations"):
        assert second[key] == first[key], key
    assert first["eq"] == [True, False, True]
    assert first["frozen"] == "FrozenInstanceError: cannot assign to field 'dev'"
    assert first["repr"][1] == "Jump(chain='X')"
    # another module's dataclass keeps real (not stringified) annotations: no __future__ flag leaks
    assert first["other_annotations"] == {"x": "<class 'int'>", "return": "None"}


def test_nothing_is_written_when_python_writes_no_bytecode(tmp_path: Path) -> None:
    result = _run(tmp_path, write=False)
    assert result["compiled"], "compiled as usual"
    assert _caches(tmp_path) == []


def test_a_damaged_or_stale_cache_is_ignored(tmp_path: Path) -> None:
    _run(tmp_path)
    files = _caches(tmp_path)
    trace = next(f for f in files if f.name.startswith("trace."))
    trace.write_bytes(trace.read_bytes()[:-40])  # truncated
    stale = next(f for f in files if f.name.startswith("packet."))
    data = stale.read_bytes()
    head, _, rest = data.partition(b"\n")
    version, _, rest = rest.partition(b"\n")
    _stamp, _, body = rest.partition(b"\n")
    stale.write_bytes(head + b"\n" + version + b"\n" + b"1 1\n" + body)  # another source's stamp
    result = _run(tmp_path)
    assert {"simnet.trace", "simnet.packet"} <= set(result["compiled"]), result["compiled"]
    assert result["eq"] == [True, False, True]
    again = _run(tmp_path)  # rewritten whole
    assert again["compiled"] == []


def test_importing_simnet_leaves_dataclasses_alone() -> None:
    """The hook is process-wide: a notebook or a test suite that imports simnet keeps the
    standard library's dataclasses as they are; only the ``simnet`` command installs it."""
    child = ("import dataclasses, simnet, simnet.packet, simnet.cli\n"
             "print('hooked', 'exec' in vars(dataclasses))\n"
             "simnet.cli.main(['run', 'scenarios/quickstart.sh'])\n"
             "print('hooked', 'exec' in vars(dataclasses))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=env, check=True)
    said = [line for line in done.stdout.splitlines() if line.startswith("hooked")]
    assert said == ["hooked False", "hooked False"], done.stdout


def test_the_simnet_command_installs_it() -> None:
    child = ("import sys, dataclasses, simnet.cli\n"
             "sys.argv = ['simnet', 'run', 'scenarios/quickstart.sh']\n"
             "status = simnet.cli.main()\n"
             "print(status, dataclasses.exec.__module__)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=env, check=True)
    assert done.stdout.split()[-2:] == ["0", "simnet._codecache"], done.stdout[-500:]
