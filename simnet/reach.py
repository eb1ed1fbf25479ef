"""Reachability matrices: who reaches whom, on which ports, after a script's set-up.

Every probe starts from the set-up state, ARP caches and FDBs as the script left them (cold,
unless the script itself sent traffic): after each probe the namespaces its packets touched
get back their conntrack, neighbour, FDB, socket, reassembly, FIB-exception and match state,
and the world its clock, RNG and event queue, so one probe never sees another's connections
or ARP learning (``shared=True`` lets a source's probes see each other's, in order; every
source starts from the set-up state).  Only what a probe changed is put back, in place: the
reset costs what the probe touched, not what the world holds.  Rule and device counters
accumulate (no verdict reads them).

Ports are probed by class: the ports that some namespace's rules or listeners name split
1-65535 into ranges that every rule and listener treats alike (the idea of the service
matrices of Diekmann et al.'s fffuu, over a whole network); each range is probed once,
and adjacent ranges with the same outcome are reported together.

Sweeps run in worker processes (``jobs``) forked from the world built here (where fork is
missing, spawned workers rebuild it from the script: deterministic, same seed), take whole
sources and give the serial result; :func:`sweep` streams the cells as they come.  When a
fleet outgrows one machine the same sources run on a Dask cluster (``dask=``: the optional
``distributed`` package, ``pip install simnet[dask]``): each Dask worker rebuilds the world
from the script once.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["Cell", "Matrix", "Sweep", "Target", "parse_ports", "port_classes", "reach", "sweep", "targets"]

PROTOS = ("tcp", "udp", "icmp")
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


# -- the set-up state, and putting it back ---------------------------------------------------
_CONTAINERS = (dict, list, set)


class _Vars:
    """An object's attributes (its ``__dict__``/slots) at set-up, with a cheap test for whether a
    probe changed them and an in-place restore: values are compared by identity then equality,
    containers empty at set-up by truth, ``itertools.count`` by its next value.  Anything else
    (a container holding entries, an object of its own) makes the object *deep*: restored by a
    deep copy of the saved one, as a whole, whenever its namespace was touched."""

    __slots__ = ("scalars", "values", "empties", "counts", "deep")

    def __init__(self, obj: object, skip: tuple[str, ...] = ()) -> None:
        scalars: list[str] = []
        empties: list[str] = []
        self.counts: list[tuple[str, str]] = []
        self.deep = False
        for attr in _attrs(obj):
            if attr in skip:
                continue
            value = getattr(obj, attr)
            if isinstance(value, _CONTAINERS):
                if value:
                    self.deep = True
                empties.append(attr)
            elif isinstance(value, itertools.count):
                self.counts.append((attr, _count_next(value)))
            elif value is None or isinstance(value, (int, float, str, bytes, tuple, frozenset)):
                scalars.append(attr)
            else:
                self.deep = True
        self.scalars, self.empties = _getter(scalars), _getter(empties)
        self.values = self.scalars(obj)

    def changed(self, obj: object) -> bool:
        return (any(self.empties(obj)) or self.scalars(obj) != self.values
                or any(_count_next(getattr(obj, attr)) != n for attr, n in self.counts))

    def restore(self, obj: object) -> None:
        for attr, value in zip(self.scalars.names, self.values):
            setattr(obj, attr, value)
        for container in self.empties(obj):
            container.clear()
        for attr, n in self.counts:
            setattr(obj, attr, itertools.count(int(n[6:-1])))


class _getter:
    """``operator.attrgetter`` that always gives a tuple (one C call for all the names)."""

    __slots__ = ("names", "__call__")

    def __init__(self, names: Sequence[str]) -> None:
        import operator

        self.names = tuple(names)
        get = operator.attrgetter(*names) if names else None
        self.__call__: Any = (lambda obj: ()) if get is None else get if len(names) > 1 else (lambda obj: (get(obj),))


def _attrs(obj: object) -> list[str]:
    names = list(getattr(obj, "__dict__", ()))
    for cls in type(obj).__mro__:
        names += [s for s in getattr(cls, "__slots__", ()) if s not in ("__dict__", "__weakref__")]
    return names


def _count_next(counter: "itertools.count[int]") -> str:
    return repr(counter)  # 'count(7)': what next() would give, without taking it


class _Saved:
    """One namespace's state that packets change, as it was after the set-up.

    Neighbour and FDB entries and listeners are put back in place (the same objects, their
    fields reset); the conntrack and socket tables, reassembly queues and FIB exceptions are
    checked attribute by attribute and cleared in place when they were empty at set-up; what
    held entries at set-up is restored by a deep copy (as the namespace's new table).
    """

    __slots__ = ("neigh", "fdbs", "ct", "socks", "listeners", "frags", "dicts", "fib", "scalars", "deep",
                 "quick", "empties", "values")

    def __init__(self, ns: "NetNamespace") -> None:
        self.deep: dict[str, Any] = {}
        """Attributes restored by a deep copy (of this saved copy) whenever the namespace was touched."""
        if type(ns.neigh).__slots__ == ("_entries",) and all(
                not e.queue for e in ns.neigh._entries.values()):
            self.neigh: list[tuple[Any, ...]] | None = [
                (k, e, e.lladdr, e.state, e.updated, e.probes) for k, e in ns.neigh._entries.items()]
        else:
            self.neigh = None
            self._deep(ns, "neigh")
        if all(type(f).__slots__ == ("_entries",) for f in ns.fdbs.values()):
            self.fdbs: list[tuple[Any, list[tuple[Any, ...]]]] | None = [
                (f, [(m, e, e.port, e.local, e.updated) for m, e in f._entries.items()]) for f in ns.fdbs.values()]
        else:
            self.fdbs = None
            self._deep(ns, "fdbs")
        self.ct = _Vars(ns.conntrack, skip=("ns",))
        if self.ct.deep:
            self._deep(ns, "conntrack")
        self.socks = _Vars(ns.sockets, skip=("ns", "listeners"))
        self.listeners: list[tuple[Any, _getter, tuple[Any, ...]]] | None = []
        for lst in ns.sockets.listeners:
            names = _attrs(lst)
            values = tuple(list(v) if type(v) is list else v for v in (getattr(lst, a) for a in names))
            if any(isinstance(v, (dict, set)) for v in values):
                self.listeners = None  # not one of ours: deep
                break
            self.listeners.append((lst, _getter(names), values))
        if self.socks.deep or self.listeners is None:
            self.listeners = None
            self._deep(ns, "sockets")
        self.frags = _Vars(ns.frags)
        if self.frags.deep:
            self._deep(ns, "frags")
        self.dicts: list[tuple[str, dict[Any, Any]]] = []
        for attr in ("match_state", "ipsets"):
            if getattr(ns, attr):
                self._deep(ns, attr)
            else:
                self.dicts.append((attr, getattr(ns, attr)))
        self.fib = (dict(ns.fib.exceptions), ns.fib.peers)  # exceptions are immutable values
        if ns.fib.peers:
            self.deep["fib.peers"] = copy.deepcopy(ns.fib.peers)
        self.scalars = [(attr, getattr(ns, attr)) for attr in ("ip_id",)]
        # ``_ct_cache`` is left alone: whether the rules need conntrack, keyed by their generation
        # One C call each for the common case, a namespace a frame merely passed through (an ARP
        # request that was not for it): every table that was empty still is, no value moved.
        self.quick = not self.deep and not self.neigh and not any(entries for _, entries in self.fdbs or ()) \
            and not self.socks.counts and not self.frags.counts
        empties = ["neigh._entries", *(f"conntrack.{a}" for a in self.ct.empties.names),
                   *(f"sockets.{a}" for a in self.socks.empties.names), *(f"frags.{a}" for a in self.frags.empties.names),
                   "match_state", "ipsets", "fib.exceptions", "fib.peers"]
        scalars = [*(f"conntrack.{a}" for a in self.ct.scalars.names), *(f"sockets.{a}" for a in self.socks.scalars.names),
                   *(f"frags.{a}" for a in self.frags.scalars.names), "ip_id"]
        self.empties, self.values = _getter(empties), (_getter(scalars), _getter(scalars)(ns))

    def _untouched(self, ns: "NetNamespace") -> bool:
        """True when the quick test proves nothing changed (False: look closer)."""
        get, values = self.values
        if any(self.empties(ns)) or get(ns) != values:
            return False
        if any(_count_next(getattr(ns.conntrack, a)) != n for a, n in self.ct.counts):
            return False
        listeners = self.listeners
        assert listeners is not None
        now = ns.sockets.listeners
        return len(now) == len(listeners) and all(
            lst is saved and get(lst) == values for lst, (saved, get, values) in zip(now, listeners))

    def _deep(self, ns: "NetNamespace", attr: str) -> None:
        self.deep[attr] = copy.deepcopy(getattr(ns, attr), {id(ns): ns, id(ns.world): ns.world})

    def restore(self, ns: "NetNamespace") -> None:
        """Put the set-up state back where a probe changed it (cheap when it did not)."""
        if self.quick and self._untouched(ns):
            return
        if self.neigh is not None and (self.neigh or ns.neigh._entries):
            self._neigh(ns)
        if self.fdbs:
            for fdb, entries in self.fdbs:
                d = fdb._entries
                if len(d) != len(entries) or any(
                        d.get(m) is not e or e.port != port or e.local != local or e.updated != updated
                        for m, e, port, local, updated in entries):
                    d.clear()
                    for m, e, port, local, updated in entries:
                        e.port, e.local, e.updated = port, local, updated
                        d[m] = e
        if "conntrack" not in self.deep and self.ct.changed(ns.conntrack):
            self.ct.restore(ns.conntrack)
        if self.listeners is not None:
            self._sockets(ns)
        if "frags" not in self.deep and self.frags.changed(ns.frags):
            self.frags.restore(ns.frags)
        for attr, d in self.dicts:
            if d:
                d.clear()
        exceptions, peers = self.fib
        now = ns.fib.exceptions
        if (now or exceptions) and (len(now) != len(exceptions) or any(now.get(k) is not v for k, v in exceptions.items())):
            now.clear()
            now.update(exceptions)
        if "fib.peers" not in self.deep and peers:
            peers.clear()
        for attr, value in self.scalars:
            setattr(ns, attr, value)
        if not self.deep:
            return
        for attr, value in self.deep.items():
            memo: dict[int, Any] = {id(ns): ns, id(ns.world): ns.world}
            if attr == "fib.peers":
                ns.fib.peers = copy.deepcopy(value, memo)
            elif attr in ("match_state", "ipsets"):
                d = getattr(ns, attr)  # the same dict: the ruleset holds the namespace's ipsets
                d.clear()
                d.update(copy.deepcopy(value, memo))
            else:
                setattr(ns, attr, copy.deepcopy(value, memo))

    def _neigh(self, ns: "NetNamespace") -> None:
        d = ns.neigh._entries
        saved = self.neigh
        assert saved is not None
        if len(d) == len(saved) and all(
                e.lladdr == lladdr and e.state is state and e.updated == updated and e.probes == probes
                and not e.queue and d.get(k) is e for k, e, lladdr, state, updated, probes in saved):
            return
        d.clear()
        for k, e, lladdr, state, updated, probes in saved:
            e.lladdr, e.state, e.updated, e.probes = lladdr, state, updated, probes
            e.queue.clear()
            d[k] = e

    def _sockets(self, ns: "NetNamespace") -> None:
        table = ns.sockets
        if self.socks.changed(table):
            self.socks.restore(table)
        saved = self.listeners
        assert saved is not None
        now = table.listeners
        if len(now) != len(saved) or any(a is not b for a, (b, _, _) in zip(now, saved)):
            now[:] = [lst for lst, _, _ in saved]
        for lst, get, values in saved:
            if get(lst) != values:  # lists (what it saw) by their items, the rest by value
                for attr, cur, value in zip(get.names, get(lst), values):
                    if type(value) is list:
                        cur[:] = value
                    elif cur is not value:
                        setattr(lst, attr, value)


# -- the sweep -------------------------------------------------------------------------------
class _Sweeper:
    """One world built from the script, probed from its set-up state again and again.

    After each probe (each source's probes, when ``shared``) only the namespaces its packets
    touched are looked at, and in each only what changed is put back (:class:`_Saved`); the
    world gets its clock, RNG and event queue back.  Probes run untraced.
    """

    def __init__(self, script: str, filename: str | None, shared: bool) -> None:
        from simnet.script.interpreter import run_script

        world = self.world = run_script(script, filename=filename).world
        world.tracer.recording = False
        world.tracer.touched = set()
        self.shared = shared
        self._saved = {name: _Saved(ns) for name, ns in world.namespaces.items()}
        self._clock = (world.now, world.rng.getstate(), list(world._queue), world.seen_seq,
                       world.last_ping_seen, world.xmit_dropped)

    def reset(self) -> None:
        """The set-up state again, in every namespace a packet was seen in since the last reset."""
        world = self.world
        touched = world.tracer.touched
        assert touched is not None
        namespaces, saved = world.namespaces, self._saved
        for name in touched:
            ns = namespaces.get(name)
            if ns is not None and name in saved:
                saved[name].restore(ns)
        touched.clear()
        now, rng, queue, seen, last_ping, xmit = self._clock
        world.now, world.seen_seq, world.last_ping_seen, world.xmit_dropped = now, seen, last_ping, xmit
        world.rng.setstate(rng)
        if world._queue or queue:
            world._queue[:] = queue

    def run(self, src: str, addr: IPv4Address, proto: str, port: int | None) -> str:
        from simnet.testing import probe

        outcome = probe(self.world, src, addr, proto=proto, port=port).outcome
        if not self.shared:
            self.reset()
        return outcome

    def source(self, src: str, addrs: Sequence[IPv4Address], proto: str, ports: Sequence[int | None]) -> list[str]:
        """Every probe of one source, in order (with ``shared``, one after the other from the
        set-up state; the next source starts from it again)."""
        out = [self.run(src, addr, proto, port) for addr in addrs for port in ports]
        if self.shared:
            self.reset()
        return out


_WORKER: _Sweeper | None = None
_JOB: "_Plan | None" = None
"""A worker process's world and sweep: set before the pool forks (inherited, nothing rebuilt),
or by :func:`_init_worker` where processes are spawned."""


def _init_worker(script: str, filename: str | None, shared: bool, plan: "_Plan") -> None:
    global _WORKER, _JOB
    _WORKER, _JOB = _Sweeper(script, filename, shared), plan


def _run_source(src: str) -> list[str]:
    assert _WORKER is not None and _JOB is not None
    return _WORKER.source(src, [t.addr for t in _JOB.dests_of(src)], _JOB.proto, _JOB.ports)


_DASK_WORLDS: dict[tuple[int, str, str | None, bool], _Sweeper] = {}
"""A Dask worker's world per (thread, script): built once, every source's probes restore it."""


def _dask_shard(script: str, filename: str | None, shared: bool,
                tasks: list[tuple[str, str, str, int | None]]) -> list[str]:
    """One source's probes on a Dask worker."""
    import threading

    key = (threading.get_ident(), script, filename, shared)
    sweeper = _DASK_WORLDS.get(key)
    if sweeper is None:
        sweeper = _DASK_WORLDS[key] = _Sweeper(script, filename, shared)
    out = [sweeper.run(src, IPv4Address(addr), proto, port) for src, addr, proto, port in tasks]
    if shared:
        sweeper.reset()
    return out


def _on_dask(dask: Any, jobs: int, script: str, filename: str | None, shared: bool,
             shards: list[list[tuple[str, str, str, int | None]]]) -> Iterator[list[str]]:
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
        yield from client.gather(futures)
    finally:
        for thing in owned:
            thing.close()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a sweep probes: each source against its targets (not its own address), every port class."""

    proto: str
    sources: tuple[str, ...]
    targets: tuple[Target, ...]
    classes: tuple[tuple[int, int], ...]
    own: tuple[tuple[str, IPv4Address | None], ...]

    @property
    def ports(self) -> list[int | None]:
        return [None if self.proto == "icmp" else lo for lo, _ in self.classes]

    def dests_of(self, src: str) -> list[Target]:
        own = dict(self.own)[src]
        return [t for t in self.targets if t.addr != own]


class Sweep:
    """A sweep of a script's world, its cells produced as they are probed (in order).

    Iterate it to stream the cells (nothing but the current source's outcomes is held); or
    :func:`reach` collects them into a :class:`Matrix`.  Built by :func:`sweep`.
    """

    def __init__(self, plan: _Plan, local: _Sweeper, script: str, filename: str | None, jobs: int,
                 shared: bool, dask: Any) -> None:
        self._plan, self._local, self._script, self._filename = plan, local, script, filename
        self._jobs, self._shared, self._dask = jobs, shared, dask
        self.proto, self.sources, self.targets = plan.proto, plan.sources, plan.targets
        self.probes = sum(len(plan.dests_of(s)) for s in plan.sources) * len(plan.classes)
        """How many probes the sweep sends (one per source, destination and port class)."""

    def _outcomes(self) -> Iterator[list[str]]:
        """Each source's outcomes, in order: here, in forked (or spawned) workers, or on Dask."""
        global _WORKER, _JOB
        plan = self._plan
        if self._dask is not None:
            shards = [[(s, str(t.addr), plan.proto, port) for t in plan.dests_of(s) for port in plan.ports]
                      for s in plan.sources]
            yield from _on_dask(self._dask, self._jobs, self._script, self._filename, self._shared, shards)
            return
        if self._jobs == 1:
            for s in plan.sources:
                yield self._local.source(s, [t.addr for t in plan.dests_of(s)], plan.proto, plan.ports)
            return
        import multiprocessing

        if "fork" in multiprocessing.get_all_start_methods():
            # the workers inherit the world built here (copy-on-write): nothing is rebuilt
            _WORKER, _JOB = self._local, plan
            try:
                pool = multiprocessing.get_context("fork").Pool(self._jobs)
            finally:
                _WORKER, _JOB = None, None
        else:
            pool = multiprocessing.get_context("spawn").Pool(
                self._jobs, _init_worker, (self._script, self._filename, self._shared, plan))
        with pool:
            yield from pool.imap(_run_source, plan.sources, chunksize=1)

    def __iter__(self) -> Iterator[Cell]:
        plan = self._plan
        interned: dict[tuple[tuple[int, int, str], ...], tuple[tuple[int, int, str], ...]] = {}
        for src, outcomes in zip(plan.sources, self._outcomes()):
            it = iter(outcomes)
            for t in plan.dests_of(src):
                ranges: list[tuple[int, int, str]] = []
                for lo, hi in plan.classes:
                    outcome = next(it)
                    if ranges and ranges[-1][2] == outcome and ranges[-1][1] + 1 == lo:
                        ranges[-1] = (ranges[-1][0], hi, outcome)
                    else:
                        ranges.append((lo, hi, outcome))
                key = tuple(ranges)
                yield Cell(src, t.label, t.addr, interned.setdefault(key, key))


def sweep(script: str, *, filename: str | None = None, sources: Sequence[str] | None = None,
          to: Sequence[str] | None = None, proto: str = "tcp", ports: str = "all", jobs: int | None = None,
          shared: bool = False, dask: Any = None) -> Sweep:
    """The sweep :func:`reach` runs, as a stream of cells (for fleets whose matrix is large).

    Builds the world once here; worker processes are forked from it (spawned ones, where fork
    is missing, and Dask workers rebuild it from the script).  Arguments as :func:`reach`.

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
    plan = _Plan(proto, tuple(srcs), tuple(dests), tuple(classes),
                 tuple((s, _address(world.namespaces[s])) for s in dict.fromkeys(srcs)))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(srcs)))
    return Sweep(plan, local, script, filename, jobs, shared, dask)


def reach(script: str, *, filename: str | None = None, sources: Sequence[str] | None = None,
          to: Sequence[str] | None = None, proto: str = "tcp", ports: str = "all", jobs: int | None = None,
          shared: bool = False, dask: Any = None) -> Matrix:
    """Probe every source against every target (every port class for tcp/udp).

    ``jobs`` worker processes (default: one per CPU, at most one per source); 1 runs here.
    ``dask``: run the sources on a Dask cluster instead (a ``distributed.Client``, a scheduler
    address, or ``"local"`` for a LocalCluster of ``jobs`` workers); every worker needs simnet.
    ``shared`` lets a source's probes see each other's conntrack and ARP state (in order); every
    source starts from the set-up state, so the result does not depend on ``jobs``.

    Raises:
        ScriptError: the script's own error (``file:line``).
        ValueError: an unknown namespace, address, protocol or port specification.
    """
    run = sweep(script, filename=filename, sources=sources, to=to, proto=proto, ports=ports, jobs=jobs,
                shared=shared, dask=dask)
    cells = tuple(run)
    return Matrix(proto, run.sources, run.targets, cells, run.probes)
