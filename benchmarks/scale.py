"""Scale benchmarks (issue #16): per-probe cost against history and world size, a warm ping,
building a large world, ``simnet run`` start-up, a reach sweep with 1 and 2 processes, the
all-pairs scaling from 100 to 1,000 containers (all pairs, or a sample of sources extrapolated), and the
100,000-rule kube-proxy restore as a whole ``simnet run`` against the kernel's iptables-restore.

Usage::

    python benchmarks/scale.py [--probes 20000] [--big 40x25] [--huge 100x100] [--allpairs 10x10,10x30,20x50 --sample 0,30,10]
                               [--services 10000] [--json] [--only NAME ...]

Every figure is a wall-clock time on whatever the machine is doing at the time: the
output starts with ``uptime``'s load so the figures can be read against it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fleet import container_ip, fleet_script  # noqa: E402

from simnet import run_script  # noqa: E402
from simnet.probe import ping  # noqa: E402


def _per_probe_ms(world, src: str, dst: str, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(n):
        ping(world, src, dst)
    return (time.perf_counter() - start) / n * 1e3


def _best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    return min(fn() for _ in range(runs))


def _alternate(fns: dict[str, object], rounds: int = 5) -> dict[str, float]:
    """Best time of each measure over ``rounds``, taken in turns: on a loaded machine the
    load moves between rounds, and turns expose every measure to it alike."""
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], fn())  # type: ignore[operator]
    return best


def history(probes: int) -> dict[str, object]:
    """The same warm ping in a 13-namespace fleet: a world at its first probes against a world
    that has run ``probes`` probes, measured in turns."""
    import copy

    out: dict[str, object] = {}
    src, dst = "c0x0", container_ip(1, 0)
    for mode in ("traced", "untraced"):
        pristine = run_script(fleet_script(2, 5)).world
        pristine.tracer.recording = mode == "traced"
        aged = copy.deepcopy(pristine)
        ping(pristine, src, dst)  # warm ARP
        _per_probe_ms(aged, src, dst, probes)

        def fresh() -> float:
            world = copy.deepcopy(pristine)
            return _per_probe_ms(world, src, dst, 100)

        best = _alternate({"first": fresh, "aged": lambda: _per_probe_ms(aged, src, dst, 100)})
        out[mode] = {"first_100_ms": round(best["first"], 3), f"after_{probes}_ms": round(best["aged"], 3),
                     "ratio": round(best["aged"] / best["first"], 3), "traces_held": len(aged.tracer._open),
                     "conntrack_entries_h0": len(aged.netns("h0").conntrack._conns)}
    return out


def world_size(big: tuple[int, int]) -> dict[str, object]:
    """The same warm container-to-container ping across two hosts among 13 and among N namespaces."""
    worlds = {}
    for h, c in ((2, 5), big):
        world = run_script(fleet_script(h, c, listeners=False)).world
        ping(world, "c0x0", container_ip(1, 0))
        worlds[len(world.namespaces)] = world

    def measure(world, traced: bool):  # type: ignore[no-untyped-def]
        def run() -> float:
            world.tracer.recording = traced
            return _per_probe_ms(world, "c0x0", container_ip(1, 0), 200)
        return run

    best = _alternate({f"{n} namespaces {'traced' if t else 'untraced'}": measure(w, t)
                       for n, w in worlds.items() for t in (True, False)})
    small, large = sorted(worlds)
    for t in ("traced", "untraced"):
        best[f"ratio {t}"] = best[f"{large} namespaces {t}"] / best[f"{small} namespaces {t}"]
    return {k: round(v, 3) for k, v in best.items()}


def warm_ping() -> dict[str, object]:
    """quickstart.sh: a (10.0.0.1) to s (10.0.1.2), across the bridge br0 and the router r."""
    text = (ROOT / "scenarios" / "quickstart.sh").read_text()
    world = run_script(text).world
    ping(world, "a", "10.0.1.2")

    def measure(traced: bool):  # type: ignore[no-untyped-def]
        def run() -> float:
            world.tracer.recording = traced
            return _per_probe_ms(world, "a", "10.0.1.2", 300)
        return run

    best = _alternate({"traced_ms": measure(True), "untraced_ms": measure(False)})
    return {k: round(v, 3) for k, v in best.items()}


_BUILD_ONE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from fleet import fleet_script
from simnet import run_script
import simnet.script.interpreter  # imported before the clock starts: start-up is measured apart
text = fleet_script(int(sys.argv[2]), int(sys.argv[3]))
cpu, wall = time.process_time(), time.perf_counter()
world = run_script(text).world
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"namespaces": len(world.namespaces), "lines": len(text.splitlines()), "cpu_s": cpu,
                  "wall_s": wall, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(sizes: list[tuple[int, int]], runs: int = 3) -> dict[str, object]:
    """``run_script`` of a generated fleet, each run in a fresh process: the CPU time (user+sys of the
    build alone; on a shared machine the figure to compare, wall time being the load's), the wall
    time and the process's peak memory, min of ``runs``."""
    out: dict[str, object] = {}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for h, c in sizes:
        got = [json.loads(subprocess.run([sys.executable, "-c", _BUILD_ONE, str(ROOT / "benchmarks"), str(h), str(c)],
                                         env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout)
               for _ in range(runs)]
        out[f"{got[0]['namespaces']} namespaces ({got[0]['lines']} lines)"] = {
            "cpu_s_min": round(min(g["cpu_s"] for g in got), 2), "cpu_s": [round(g["cpu_s"], 2) for g in got],
            "wall_s_min": round(min(g["wall_s"] for g in got), 2),
            "max_rss_mb": round(max(g["max_rss_mb"] for g in got))}
    return out


def startup(runs: int = 5) -> dict[str, object]:
    """``simnet run scenarios/quickstart.sh``, the whole process, best and median of ``runs``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; from simnet.cli import main; sys.exit(main())",
                        "run", str(ROOT / "scenarios" / "quickstart.sh")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    times.sort()
    bare = min(_timed([sys.executable, "-c", "pass"]) for _ in range(3))
    return {"best_s": round(times[0], 3), "median_s": round(times[len(times) // 2], 3),
            "python_alone_s": round(bare, 3)}


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - start


def sweep(fleet: tuple[int, int]) -> dict[str, object]:
    from simnet.reach import reach

    text = fleet_script(*fleet)
    out: dict[str, object] = {}
    results = {}
    for proto in ("icmp", "tcp"):
        for jobs in (1, 2):
            start = time.perf_counter()
            m = reach(text, proto=proto, jobs=jobs)
            took = time.perf_counter() - start
            results[proto, jobs] = m
            out[f"{proto} jobs={jobs}"] = {"s": round(took, 2), "probes": m.probes,
                                           "ms_per_probe": round(took / m.probes * 1e3, 2)}
        out[f"{proto} jobs=2 equals jobs=1"] = results[proto, 2] == results[proto, 1]
    return out


def allpairs(sizes: list[tuple[int, int]], samples: list[int]) -> dict[str, object]:
    """Every container to every container, icmp, with 1 and 2 processes, streamed
    (:func:`simnet.reach.sweep`: no matrix held).  ``samples`` per fleet: 0 probes from every
    container (all pairs), N from N containers spread over the hosts, the all-pairs time then
    extrapolated from the per-probe time.  The world is built once per run (workers are forked
    from it); its build is reported apart from the sweep.  CPU is this process's and its
    workers' (user+sys), which the machine's load does not inflate as it does wall time."""
    import hashlib

    from fleet import container

    from simnet.reach import sweep

    out: dict[str, object] = {}
    for (h, c), sample in zip(sizes, samples):
        text = fleet_script(h, c)
        containers = [container(i, j) for i in range(h) for j in range(c)]
        if sample:
            # spread over the hosts: container j of host i for the i-th of `sample` picks
            sources = [container(k % h, (k // h) % c) for k in range(sample)]
        else:
            sources = containers
        row: dict[str, object] = {"containers": len(containers), "namespaces": 1 + h + h * c,
                                  "sources": len(sources)}
        digests = {}
        for jobs in (1, 2):
            load = os.getloadavg()
            t0, c0 = time.perf_counter(), _cpu()
            run = sweep(text, sources=sources, to=containers, proto="icmp", jobs=jobs)
            t1, c1 = time.perf_counter(), _cpu()
            digest = hashlib.sha256()
            outcomes: dict[str, int] = {}
            for cell in run:
                o = cell.ranges[0][2]
                outcomes[o] = outcomes.get(o, 0) + 1
                digest.update(f"{cell.src} {cell.dst} {o}\n".encode())
            t2, c2 = time.perf_counter(), _cpu()
            digests[jobs] = digest.hexdigest()
            pairs = len(containers) * (len(containers) - 1)
            wall_ms = (t2 - t1) / run.probes * 1e3
            row[f"jobs={jobs}"] = {
                "build_s": round(t1 - t0, 2), "build_cpu_s": round(c1 - c0, 2), "probes": run.probes,
                "sweep_s": round(t2 - t1, 2), "sweep_cpu_s": round(c2 - c1, 2),
                "ms_per_probe": round(wall_ms, 3), "cpu_ms_per_probe": round((c2 - c1) / run.probes * 1e3, 3),
                "all_pairs_min": round(pairs * wall_ms / 1e3 / 60, 1), "outcomes": outcomes,
                "load_before": [round(x, 1) for x in load], "load_after": [round(x, 1) for x in os.getloadavg()]}
            print(f"allpairs {h}x{c} jobs={jobs}", json.dumps(row[f"jobs={jobs}"]), file=sys.stderr, flush=True)
        row["jobs=2 equals jobs=1"] = digests[1] == digests[2]
        out[f"{h}x{c}"] = row
    return out


def _cpu() -> float:
    """User+sys seconds of this process and its waited-for children (the sweep's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def restore_whole(services: int, turns: int = 3) -> dict[str, object]:
    """``simnet run`` of a script restoring the kube-proxy ruleset in a namespace, whole process,
    against ``unshare --net -- iptables-restore`` of the same file, in turns (best of ``turns``).

    Also, in the same turns, the start-up of each alone (the script without the restore; an
    empty ``*nat``/``COMMIT``), so the ratio can be given without it; wall and CPU (user+sys of
    the child, from ``getrusage``) for each."""
    import resource
    import shutil
    import tempfile

    from kube_proxy import count_rules, kube_proxy_ruleset

    def timed(argv: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(stdin or os.devnull) as f:
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdin=f, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    text = kube_proxy_ruleset(services)
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "kube.rules")
        Path(rules).write_text(text)
        empty = os.path.join(tmp, "empty.rules")
        Path(empty).write_text("*nat\nCOMMIT\n")
        script = os.path.join(tmp, "kube.sh")
        Path(script).write_text("ip netns add node\nip netns exec node iptables-restore <<'EOF'\n" + text + "EOF\n")
        bare = os.path.join(tmp, "bare.sh")
        Path(bare).write_text("ip netns add node\n")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        sim = [sys.executable, "-c", "import sys; from simnet.cli import main; sys.exit(main())", "run"]
        kernel_ok = os.geteuid() == 0 and shutil.which("unshare") and shutil.which("iptables-restore")
        runs: dict[str, list[tuple[float, float]]] = {"simnet": [], "simnet_startup": [], "kernel": [],
                                                      "kernel_startup": []}
        for _ in range(turns):
            runs["simnet"].append(timed(sim + [script], env))
            runs["simnet_startup"].append(timed(sim + [bare], env))
            if kernel_ok:
                runs["kernel"].append(timed(["unshare", "--net", "--", "iptables-restore"], stdin=rules))
                runs["kernel_startup"].append(timed(["unshare", "--net", "--", "iptables-restore"], stdin=empty))
    out: dict[str, object] = {"rules": count_rules(text), "turns": turns}
    best: dict[str, tuple[float, float]] = {}
    for name, got in runs.items():
        if got:
            best[name] = (min(w for w, _ in got), min(c for _, c in got))
            out[name] = {"wall_best_s": round(best[name][0], 2), "cpu_best_s": round(best[name][1], 2),
                         "wall_s": [round(w, 2) for w, _ in got], "cpu_s": [round(c, 2) for _, c in got]}
    if "kernel" in best:
        for k, label in ((0, "wall"), (1, "cpu")):
            out[f"simnet_over_kernel_{label}"] = round(best["simnet"][k] / best["kernel"][k], 2)
            net_sim = best["simnet"][k] - best["simnet_startup"][k]
            net_kernel = best["kernel"][k] - best["kernel_startup"][k]
            out[f"simnet_over_kernel_{label}_without_startup"] = round(net_sim / net_kernel, 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--probes", type=int, default=20_000)
    p.add_argument("--big", default="40x25")
    p.add_argument("--huge", default="100x100")
    p.add_argument("--fleet", default="4x5", help="the reach sweep's fleet")
    p.add_argument("--allpairs", default="10x10,10x30,20x50", help="fleets for the all-pairs scaling")
    p.add_argument("--sample", default="0,30,10",
                   help="sources per all-pairs fleet, comma-separated (0: every container, i.e. all pairs)")
    p.add_argument("--services", type=int, default=10_000, help="kube-proxy services for restore_whole")
    p.add_argument("--runs", type=int, default=3, help="fresh processes per build size (min is reported)")
    p.add_argument("--turns", type=int, default=3, help="turns of restore_whole (best of)")
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    size = lambda s: tuple(int(x) for x in s.split("x"))  # noqa: E731
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    benches = {
        "history": lambda: history(a.probes),
        "world_size": lambda: world_size(size(a.big)),
        "warm_ping": warm_ping,
        "startup": startup,
        "sweep": lambda: sweep(size(a.fleet)),
        "build": lambda: build([size(a.big), size(a.huge)], a.runs),
        "allpairs": lambda: allpairs([size(s) for s in a.allpairs.split(",")],
                                     [int(n) for n in a.sample.split(",")]),
        "restore_whole": lambda: restore_whole(a.services, a.turns),
    }
    results: dict[str, object] = {"uptime_before": load}
    for name in (a.only or benches):  # in the order asked
        fn = benches[name]
        results[name] = fn()
        if not a.json:
            print(name, json.dumps(results[name]), flush=True)
    results["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(json.dumps(results, indent=2) if a.json else results["uptime_after"])


if __name__ == "__main__":
    main()
