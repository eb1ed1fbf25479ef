"""Reachability matrices: who reaches whom, on which ports, after a script's set-up.

Every probe starts from the set-up state: after each probe the namespaces its packets
touched get back their conntrack, neighbour, FDB, socket and match state, and the world
its clock and RNG, so one probe never sees another's connections or ARP learning
(``shared=True`` lets them accumulate, in a fixed order).  Rule counters do accumulate.

Ports are probed by class: the ports that some namespace's rules or listeners name split
1-65535 into ranges that every rule and listener treats alike (the idea of the service
matrices of Diekmann et al.'s fffuu, over a whole network); each range is probed once,
and adjacent ranges with the same outcome are reported together.

Sweeps run in worker processes (``jobs``), each rebuilding the world from the script
(deterministic: same seed), and give the serial result.  When a fleet outgrows one machine
the same shards run on a Dask cluster (``dask=``: the optional ``distributed`` package,
``pip install simnet[dask]``): each Dask worker rebuilds the world from the script once and
takes whole sources.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["Cell", "Matrix", "Target", "parse_ports", "port_classes", "reach", "targets"]

PROTOS = ("tcp", "udp", "icmp")
_DYNAMIC = ("neigh", "fdbs", "conntrack", "sockets", "match_state", "ipsets", "_ct_cache")
"""A namespace's state that packets change (restored between probes); its rules and devices are not."""
_FIB_DYNAMIC = ("exceptions", "peers")
"""The FIB's part that packets change: redirect exceptions and the per-peer rate state (the routes
themselves, the costly part to copy, do not change)."""
_PROTO_OPTION = re.compile(r"(?:^|\s)(!\s+)?-p\s+(\w+)")
_PORT_OPTION = re.compile(r"--(?:dports?|destination-ports?|ports)\s+(?:!\s+)?([0-9:,]+)")


@dataclass(frozen=True, slots=True)
class Target:
    """A destination: the label shown (a namespace's name, or the address given) and its address."""

    label: str
    addr: IPv4Address


@dataclass(frozen=True, slots=True)
class Cell:
    """What ``src`` saw probing ``dst``: ``(lo, hi, outcome)`` port ranges (one (0, 0, outcome) for icmp)."""

    src: str
    dst: str
    addr: IPv4Address
    ranges: tuple[tuple[int, int, str], ...]

    @property
    def reached(self) -> bool:
        return any(o in ("reply", "connected", "delivered") for _, _, o in self.ranges)

    def text(self) -> str:
        """``22: connected; 1-21, 23-65535: timeout`` (icmp: the outcome)."""
        if len(self.ranges) == 1 and self.ranges[0][:2] == (0, 0):
            return self.ranges[0][2]
        by: dict[str, list[str]] = {}
        for lo, hi, outcome in self.ranges:
            by.setdefault(outcome, []).append(str(lo) if lo == hi else f"{lo}-{hi}")
        return "; ".join(f"{', '.join(spans)}: {o}" for o, spans in by.items())


@dataclass(frozen=True, slots=True)
class Matrix:
    proto: str
    sources: tuple[str, ...]
    targets: tuple[Target, ...]
    cells: tuple[Cell, ...]
    probes: int
    """How many probes were sent (one per source, destination and port class)."""

    def to_json(self) -> dict[str, Any]:
        return {"proto": self.proto, "sources": list(self.sources), "probes": self.probes,
                "targets": [{"label": t.label, "addr": str(t.addr)} for t in self.targets],
                "cells": [{"from": c.src, "to": c.dst, "addr": str(c.addr), "reached": c.reached,
                           "ranges": [{"ports": [lo, hi], "outcome": o} for lo, hi, o in c.ranges]}
                          for c in self.cells]}

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=f"{self.proto} reachability ({self.probes} probes)")
        table.add_column("from \\ to")
        for t in self.targets:
            table.add_column(t.label if t.label == str(t.addr) else f"{t.label}\n{t.addr}")
        cells = {(c.src, c.dst): c for c in self.cells}
        for src in self.sources:
            table.add_row(src, *(cells[src, t.label].text() if (src, t.label) in cells else "-"
                                 for t in self.targets))
        return table

    def figure(self) -> Any:
        """A heatmap (matplotlib Figure): each cell says its outcome in text, and is hatched
        when nothing got through, so it reads without colour."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        cells = {(c.src, c.dst): c for c in self.cells}
        rows, cols = list(self.sources), [t.label for t in self.targets]
        fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(cols) + 1.5), max(2.5, 0.7 * len(rows) + 1.5)))
        for i, src in enumerate(rows):
            for j, dst in enumerate(cols):
                cell = cells.get((src, dst))
                ok = cell is not None and cell.reached
                ax.add_patch(matplotlib.patches.Rectangle(
                    (j, i), 1, 1, facecolor="#a6d96a" if ok else "#f4a582", edgecolor="black",
                    hatch=None if ok else "//", alpha=0.9 if cell else 0.1))
                text = "-" if cell is None else cell.text().replace("; ", "\n")
                ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=7,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        ax.set_xlim(0, len(cols))
        ax.set_ylim(len(rows), 0)
        ax.set_xticks([j + 0.5 for j in range(len(cols))], cols, rotation=45, ha="right")
        ax.set_yticks([i + 0.5 for i in range(len(rows))], rows)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        ax.set_title(f"{self.proto} reachability (hatched: nothing got through)")
        fig.tight_layout()
        return fig


def parse_ports(spec: str) -> list[tuple[int, int]]:
    """``22,80,8000-8100`` (or ``all``) as sorted, merged ranges.

    Raises:
        ValueError: worded as nmap words it (``Error #485: Your port specifications are illegal``).
    """
    if spec.strip() == "all":
        return [(1, 65535)]
    out: list[tuple[int, int]] = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        lo, hi = (int(m[1]), int(m[2] or m[1])) if m else (0, -1)
        if not m or not 1 <= lo <= hi <= 65535:
            raise ValueError(f"--ports {spec}: Your port specifications are illegal (want 1-65535, "
                             "as 22,80,8000-8100 or all)")
        out.append((lo, hi))
    out.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in out:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def port_classes(world: "World", proto: str, within: Sequence[tuple[int, int]] = ((1, 65535),)) -> list[tuple[int, int]]:
    """The ranges of ``within`` that no rule (``--dport``, ``--dports``, ``--ports``) or
    listener of any namespace tells apart: probing one port of each covers them all."""
    cuts: set[int] = set()
    for ns in world.namespaces.values():
        for lst in ns.sockets.listeners:
            if lst.proto == proto:
                cuts |= {lst.port, lst.port + 1}
        for state in ns.ruleset.tables.values():
            for chain in state.chains.values():
                for entry in chain.entries:
                    text = str(entry.rule)
                    named = _PROTO_OPTION.search(text)
                    if named and not named[1] and named[2] not in (proto, "all"):
                        continue  # another protocol's ports split nothing here
                    for m in _PORT_OPTION.finditer(text):
                        for word in m[1].split(","):
                            lo, _, hi = word.partition(":")
                            cuts |= {int(lo or 0), int(hi or lo or 65535) + 1}
    out: list[tuple[int, int]] = []
    for lo, hi in within:
        inner = sorted(c for c in cuts if lo < c <= hi)
        for start, end in zip([lo, *inner], [*inner, hi + 1]):
            out.append((start, end - 1))
    return out


def targets(world: "World", names: Iterable[str] | None = None) -> list[Target]:
    """Namespaces (their first global address) or addresses; default: every namespace that has one."""
    chosen = list(names) if names is not None else list(world.namespaces)
    out: list[Target] = []
    for name in chosen:
        if name in world.namespaces:
            addr = _address(world.namespaces[name])
            if addr is not None:
                out.append(Target(name, addr))
            elif names is not None:
                raise ValueError(f"--to {name}: the namespace has no global IPv4 address")
        else:
            try:
                out.append(Target(name, IPv4Address(name)))
            except ValueError:
                raise ValueError(f'--to {name}: Cannot open network namespace "{name}": No such file or directory'
                                 " (nor is it an IPv4 address)") from None
    return out


def _address(ns: "NetNamespace") -> IPv4Address | None:
    for a in ns.addrs:
        if not a.interface.ip.is_loopback:
            return a.interface.ip
    return None


# -- the sweep -------------------------------------------------------------------------------
class _Sweeper:
    """One world built from the script, probed from its set-up state again and again."""

    def __init__(self, script: str, filename: str | None, shared: bool) -> None:
        from simnet.script.interpreter import run_script

        self.world = run_script(script, filename=filename).world
        self.world.tracer.recording = False
        self.shared = shared
        if not shared:
            self.world.tracer.touched = set()
            self._snapshot = {name: self._save(ns) for name, ns in self.world.namespaces.items()}
            self._clock = (self.world.now, self.world.rng.getstate(), list(self.world._queue), self.world.seen_seq)

    def _save(self, ns: "NetNamespace") -> dict[str, Any]:
        memo: dict[int, Any] = {id(ns): ns, id(self.world): self.world}
        saved = {attr: copy.deepcopy(getattr(ns, attr), memo) for attr in _DYNAMIC}
        saved.update({f"fib.{attr}": copy.deepcopy(getattr(ns.fib, attr), _route_memo(ns)) for attr in _FIB_DYNAMIC})
        return saved

    def _restore(self) -> None:
        world = self.world
        touched = world.tracer.touched or set()
        for name in touched:
            ns = world.namespaces.get(name)
            if ns is not None:
                memo: dict[int, Any] = {id(ns): ns, id(world): world}
                for attr, value in self._snapshot[name].items():
                    if attr.startswith("fib."):
                        if value or getattr(ns.fib, attr[4:]):  # mostly empty both: nothing to copy
                            setattr(ns.fib, attr[4:], copy.deepcopy(value, _route_memo(ns)))
                    else:
                        setattr(ns, attr, copy.deepcopy(value, memo))
        touched.clear()
        now, rng, queue, seen = self._clock
        world.now, world.seen_seq = now, seen
        world.rng.setstate(rng)
        world._queue[:] = queue

    def run(self, src: str, addr: IPv4Address, proto: str, port: int | None) -> str:
        from simnet.testing import probe

        outcome = probe(self.world, src, addr, proto=proto, port=port).outcome
        if not self.shared:
            self._restore()
        return outcome


def _route_memo(ns: "NetNamespace") -> dict[int, Any]:
    """A deepcopy memo that keeps the namespace's (immutable) routes as they are."""
    return {id(r): r for routes in ns.fib.tables.values() for r in routes}


_WORKER: _Sweeper | None = None


def _init_worker(script: str, filename: str | None, shared: bool) -> None:
    global _WORKER
    _WORKER = _Sweeper(script, filename, shared)


def _run_shard(tasks: list[tuple[str, str, str, int | None]]) -> list[str]:
    assert _WORKER is not None
    return [_WORKER.run(src, IPv4Address(addr), proto, port) for src, addr, proto, port in tasks]


_DASK_WORLDS: dict[tuple[int, str, str | None], _Sweeper] = {}
"""A Dask worker's world per (thread, script): built once, every isolated probe restores it."""


def _dask_shard(script: str, filename: str | None, shared: bool,
                tasks: list[tuple[str, str, str, int | None]]) -> list[str]:
    """One source's probes on a Dask worker (a fresh world per shard when probes share state)."""
    import threading

    sweeper: _Sweeper | None
    if shared:
        sweeper = _Sweeper(script, filename, shared)
    else:
        key = (threading.get_ident(), script, filename)
        sweeper = _DASK_WORLDS.get(key)
        if sweeper is None:
            sweeper = _DASK_WORLDS[key] = _Sweeper(script, filename, shared)
    return [sweeper.run(src, IPv4Address(addr), proto, port) for src, addr, proto, port in tasks]


def _on_dask(dask: Any, jobs: int, script: str, filename: str | None, shared: bool,
             shards: list[list[tuple[str, str, str, int | None]]]) -> list[str]:
    """Run the shards on Dask: ``dask`` is a ``distributed.Client``, a scheduler address
    (``tcp://host:8786``) or ``"local"`` (a LocalCluster of ``jobs`` one-thread worker processes)."""
    import importlib

    try:
        distributed: Any = importlib.import_module("distributed")  # untyped: used as Any
    except ImportError:
        raise ValueError("--dask needs the optional 'distributed' package: pip install simnet[dask]") from None
    owned: list[Any] = []
    if isinstance(dask, str):
        if dask == "local":
            cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
            owned.append(cluster)
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(dask)
        owned.insert(0, client)
    else:
        client = dask
    try:
        futures = client.map(_dask_shard, [script] * len(shards), [filename] * len(shards),
                             [shared] * len(shards), shards, pure=False)
        return [o for shard in client.gather(futures) for o in shard]
    finally:
        for thing in owned:
            thing.close()


def reach(script: str, *, filename: str | None = None, sources: Sequence[str] | None = None,
          to: Sequence[str] | None = None, proto: str = "tcp", ports: str = "all", jobs: int | None = None,
          shared: bool = False, dask: Any = None) -> Matrix:
    """Probe every source against every target (every port class for tcp/udp).

    ``jobs`` worker processes (default: one per CPU, at most one per source); 1 runs here.
    ``dask``: run the sources on a Dask cluster instead (a ``distributed.Client``, a scheduler
    address, or ``"local"`` for a LocalCluster of ``jobs`` workers); every worker needs simnet.
    ``shared`` lets probes see each other's conntrack and ARP state (probes of a source in order).

    Raises:
        ScriptError: the script's own error (``file:line``).
        ValueError: an unknown namespace, address, protocol or port specification.
    """
    if proto not in PROTOS:
        raise ValueError(f"--proto {proto}: want tcp, udp or icmp")
    local = _Sweeper(script, filename, shared)
    world = local.world
    srcs = list(sources) if sources is not None else list(world.namespaces)
    for s in srcs:
        if s not in world.namespaces:
            raise ValueError(f'--from {s}: Cannot open network namespace "{s}": No such file or directory')
    dests = targets(world, to)
    classes = [(0, 0)] if proto == "icmp" else port_classes(world, proto, parse_ports(ports))
    pairs = [(s, t) for s in srcs for t in dests if t.addr != _address(world.namespaces[s])]
    tasks = [(s, str(t.addr), proto, None if proto == "icmp" else lo) for s, t in pairs for lo, _ in classes]
    # shards are whole sources, in order: with shared state a source's probes run in one process
    by_src: dict[str, list[tuple[str, str, str, int | None]]] = {}
    for task in tasks:
        by_src.setdefault(task[0], []).append(task)
    shards = list(by_src.values())
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(shards)))
    if dask is not None:
        outcomes = _on_dask(dask, jobs, script, filename, shared, shards)
    elif jobs == 1:
        outcomes = [local.run(s, IPv4Address(a), p, port) for s, a, p, port in tasks]
    else:
        import multiprocessing

        with multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(
                jobs, _init_worker, (script, filename, shared)) as pool:
            outcomes = [o for shard in pool.map(_run_shard, shards, chunksize=1) for o in shard]
    cells: list[Cell] = []
    it = iter(outcomes)
    for s, t in pairs:
        ranges: list[tuple[int, int, str]] = []
        for lo, hi in classes:
            outcome = next(it)
            if ranges and ranges[-1][2] == outcome and ranges[-1][1] + 1 == lo:
                ranges[-1] = (ranges[-1][0], hi, outcome)
            else:
                ranges.append((lo, hi, outcome))
        cells.append(Cell(s, t.label, t.addr, tuple(ranges)))
    return Matrix(proto, tuple(srcs), tuple(dests), tuple(cells), len(tasks))
