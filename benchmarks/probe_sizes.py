"""Issue #15's performance target: sizes must not slow probes that fit (per-probe cost within 10%).

Measures, per probe, a warm ping across quickstart.sh's bridge and router (a -> s, traced and
untraced) a warm TCP connect (nc -z) and a UDP datagram to a closed port (port unreachable back), for this tree and for
another checkout of simnet (``--base DIR``, e.g. the commit before the MTU work unpacked with
``git archive``), in turns (base, this, base, this, ...) so the machine's load hits both alike.
Times are the measuring process's CPU time (``time.process_time``): on a shared 2-core machine
wall time mostly measures the wait for a core.

Usage::

    python benchmarks/probe_sizes.py [--base DIR] [--rounds 5] [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = r"""
import json, sys, time
from pathlib import Path
from simnet import run_script
from simnet.probe import ping, tcp_connect, udp_send
root, n = Path(sys.argv[1]), int(sys.argv[2])
out = {}
world = run_script((root / "scenarios" / "quickstart.sh").read_text()).world
ping(world, "a", "10.0.1.2")
for traced in (True, False):
    world.tracer.recording = traced
    start = time.process_time()
    for _ in range(n):
        ping(world, "a", "10.0.1.2")
    out["ping_traced_ms" if traced else "ping_untraced_ms"] = (time.process_time() - start) / n * 1e3
world = run_script((root / "scenarios" / "quickstart.sh").read_text()).world
world.tracer.recording = False
start = time.process_time()
for _ in range(n):
    tcp_connect(world, "a", "10.0.1.2", 8080)
out["tcp_untraced_ms"] = (time.process_time() - start) / n * 1e3
start = time.process_time()
for _ in range(n):
    udp_send(world, "a", "10.0.1.2", 5353)
out["udp_untraced_ms"] = (time.process_time() - start) / n * 1e3
print(json.dumps(out))
"""


def _measure(tree: Path, n: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(tree), str(n)], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", type=Path, default=None)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--n", type=int, default=300)
    a = p.parse_args()
    print("load:", os.getloadavg())
    trees = {"this": ROOT} if a.base is None else {"base": a.base, "this": ROOT}
    best: dict[str, dict[str, float]] = {name: {} for name in trees}
    for _ in range(a.rounds):
        for name, tree in trees.items():
            for key, ms in _measure(tree, a.n).items():
                best[name][key] = min(ms, best[name].get(key, ms))
    print("load:", os.getloadavg())
    for key in best["this"]:
        row = " ".join(f"{name} {best[name][key]:.3f} ms" for name in trees)
        ratio = f" ratio {best['this'][key] / best['base'][key]:.3f}" if "base" in best else ""
        print(f"{key}: {row}{ratio}")


if __name__ == "__main__":
    main()
