"""Issue #16's per-probe targets: a warm ping across a bridge and a router (traced and untraced),
the cost of probe 1 against probe 20,000, a probe among 10 against among 10,000 namespaces, and
the memory a sweep holds.

Every figure is the measuring process's **CPU time** (``time.process_time``), the best of
``--rounds`` turns: the machine is shared (2 cores, 8 engineers), and wall time mostly measures
the wait for a core.  With ``--base DIR`` (another checkout, e.g. ``git archive main | tar -x -C
DIR``) each measure runs in a fresh process for this tree and that one, in turns (base, this,
base, ...), so the load hits both alike.

Usage::

    python benchmarks/hotpath.py [--base DIR] [--rounds 5] [--only warm_ping history world_size memory]
                                 [--probes 20000] [--big 100x99] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each measure runs as its own process, with the tree under test first on sys.path.
_MEASURE = r'''
import gc, json, sys, time, tracemalloc
from pathlib import Path
root, what, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.path.insert(0, str(root)); sys.path.insert(0, str(root / "benchmarks"))
from simnet import run_script
from simnet.probe import ping

def per_probe(world, src, dst, n):
    start = time.process_time()
    for _ in range(n):
        ping(world, src, dst)
    return (time.process_time() - start) / n * 1e3

out = {}
if what == "warm_ping":
    world = run_script((root / "scenarios" / "quickstart.sh").read_text()).world
    ping(world, "a", "10.0.1.2")
    for traced in (True, False):
        world.tracer.recording = traced
        out["traced_ms" if traced else "untraced_ms"] = min(per_probe(world, "a", "10.0.1.2", n) for _ in range(3))
elif what == "history":
    from fleet import container_ip, fleet_script
    probes = int(sys.argv[4])
    for traced in (True, False):
        world = run_script(fleet_script(2, 5)).world
        world.tracer.recording = traced
        ping(world, "c0x0", container_ip(1, 0))
        first = min(per_probe(world, "c0x0", container_ip(1, 0), n) for _ in range(3))
        per_probe(world, "c0x0", container_ip(1, 0), probes)
        aged = min(per_probe(world, "c0x0", container_ip(1, 0), n) for _ in range(3))
        key = "traced" if traced else "untraced"
        out[key] = {"first_ms": first, f"after_{probes}_ms": aged, "ratio": aged / first,
                    "traces_held": len(world.tracer._open)}
elif what == "world_size":
    from fleet import container_ip, fleet_script
    h, c = (int(x) for x in sys.argv[4].split("x"))
    for hosts, containers in ((2, 4), (h, c)):
        start = time.process_time()
        world = run_script(fleet_script(hosts, containers, listeners=False)).world
        built = time.process_time() - start
        ping(world, "c0x0", container_ip(1, 0))
        gc.collect()
        size = len(world.namespaces)
        for traced in (True, False):
            world.tracer.recording = traced
            out[f"{size} namespaces {'traced' if traced else 'untraced'} ms"] = \
                min(per_probe(world, "c0x0", container_ip(1, 0), n) for _ in range(3))
        out[f"{size} namespaces build cpu s"] = built
        del world
        gc.collect()
elif what == "memory":
    from simnet import World
    for mode in ("untraced", "traced, keep_traces=False", "traced (default: keeps all)"):
        world = run_script((root / "scenarios" / "quickstart.sh").read_text(),
                           world=World(keep_traces=mode != "traced, keep_traces=False")).world
        world.tracer.recording = mode != "untraced"
        per_probe(world, "a", "10.0.1.2", 200)
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        row = {}
        for i in range(1, n + 1):
            ping(world, "a", "10.0.1.2")
            if i in (n // 10, n):
                gc.collect()
                row[f"bytes held after {i}"] = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        row["traces held"] = len(world.tracer._open)
        out[mode] = row
print(json.dumps(out))
'''


def measure(tree: Path, what: str, n: int, extra: str = "") -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    argv = [sys.executable, "-c", _MEASURE, str(tree), what, str(n)] + ([extra] if extra else [])
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{tree} {what}: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
    return json.loads(proc.stdout)


def _best(a: object, b: object) -> object:
    """Element-wise minimum of two results (nested dicts of numbers; ratios recomputed by the caller)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _best(a[k], b[k]) for k in a}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return min(a, b)
    return a


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", type=Path, default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--n", type=int, default=500, help="probes per timed batch")
    p.add_argument("--probes", type=int, default=20_000, help="history: probes run before the aged batch")
    p.add_argument("--big", default="100x99", help="world_size: the large fleet, HOSTSxCONTAINERS")
    p.add_argument("--sweep", type=int, default=20_000, help="memory: probes in each sweep")
    p.add_argument("--only", nargs="*", default=["warm_ping", "history", "world_size", "memory"])
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    extra = {"history": str(a.probes), "world_size": a.big}
    counts = {"memory": a.sweep}
    trees = {"this": ROOT} if a.base is None else {"base": a.base, "this": ROOT}
    results: dict[str, object] = {"load_before": os.getloadavg()}
    for what in a.only:
        best: dict[str, object] = {}
        for _ in range(a.rounds if what != "memory" else 1):
            for name, tree in trees.items():
                got = measure(tree, what, counts.get(what, a.n), extra.get(what, ""))
                best[name] = got if name not in best else _best(best[name], got)
        results[what] = best
        if not a.json:
            print(what, json.dumps(best), flush=True)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=1) if a.json else f"load {results['load_before']} -> {results['load_after']}")


if __name__ == "__main__":
    main()
