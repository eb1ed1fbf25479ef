"""The world: every namespace, the simulated clock, the event queue and the seed.

Like SimPy's ``Environment``, one small object owns time and ordering: events
run in (time, sequence) order, so every run of the same world is identical.
Randomness (MAC addresses, ephemeral ports, ``-m statistic``) comes only from
the world's seeded RNG.
"""

from __future__ import annotations

import heapq
import itertools
import random
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

from simnet.addresses import MacAddress
from simnet.errors import KernelError, NoSuchNamespace
from simnet.files import FileSystem
from simnet.link import LinkKind
from simnet.netns import NetNamespace
from simnet.packet import Packet
from simnet.trace import Disposition, Dropped, Step, Trace

if TYPE_CHECKING:
    import networkx as nx


class Tracer:
    """Collects the steps of every packet in flight, by trace id.

    Ids are consecutive, so a probe collects its own traces by range (its cost does not grow
    with the traces recorded before it).  With ``recording`` off (``World(trace=False)`` or
    :meth:`World.untraced`) no step is kept and a probe forgets the packets before it: only
    what the datapath itself needs (the L2 loop bound) is held, for the current probe.
    """

    def __init__(self, clock: Callable[[], float] = lambda: 0.0, *, recording: bool = True,
                 keep: bool = True) -> None:
        self._last = 0
        self._open: dict[int, dict[str, Any]] = {}
        self._clock = clock
        self.recording = recording
        self.keep = keep
        """Keep every probe's traces (:meth:`all`); False: a probe forgets the traces before it
        (a traced sweep then holds only the last probe's, as an untraced one holds none)."""
        self.touched: set[str] | None = None
        """When a set, the namespaces packets were seen in (for :mod:`simnet.reach`'s restore)."""

    def new(self, packet: Packet, origin: str, caused_by: int | None = None) -> int:
        if self.touched is not None:
            self.touched.add(origin)
        self._last = tid = self._last + 1
        self._open[tid] = {"packet": packet, "origin": origin, "steps": [], "ends": [],
                           "caused_by": caused_by, "visited": set(), "budget": 512, "time": self._clock()}
        return tid

    def step(self, tid: int, step: Step) -> None:
        if self.touched is not None:
            self.touched.add(step.netns)
        rec = self._open.get(tid) if self.recording else None
        if rec is not None:  # None: discarded (a long ping keeps only the echoes a user reads)
            rec["steps"].append(step)

    def end(self, tid: int, disposition: Disposition) -> None:
        rec = self._open.get(tid) if self.recording else None
        if rec is not None:
            rec["ends"].append(disposition)

    def discard(self, first: int, last: int, *, keep_caused_before: int = 0) -> None:
        """Forget the traces with ids first..last-1, but those caused by a trace before
        ``keep_caused_before``; callers discard only packets long done."""
        for tid in range(first, last):
            rec = self._open.get(tid)
            if rec is not None and not (rec["caused_by"] is not None and rec["caused_by"] < keep_caused_before):
                del self._open[tid]

    def drop(self, tid: int, netns: str, reason: str, disposition: Disposition = Disposition.DROPPED) -> None:
        """The packet stops here: a :class:`Dropped` step saying why, then the end of its trace."""
        rec = self._open.get(tid)
        if rec is not None:  # None: forgotten while in flight (a long ping's older echoes)
            rec["steps"].append(Dropped(netns=netns, reason=reason, disposition=disposition))
            rec["ends"].append(disposition)

    def first_visit(self, tid: int, key: tuple[Any, ...]) -> bool:
        """False when this (netns, device, packet) was seen before in this trace: an L2 loop."""
        rec = self._open.get(tid)
        if rec is None:  # forgotten by an untraced sweep while still in flight: start its bound afresh
            rec = self._open[tid] = {"packet": None, "origin": "", "steps": [], "ends": [], "caused_by": None,
                                     "visited": set(), "budget": 512, "time": self._clock()}
        rec["budget"] -= 1
        if rec["budget"] <= 0:
            return False
        visited = rec["visited"]
        seen = len(visited)
        visited.add(key)  # one hash of the frame, not two ("in" then "add")
        return len(visited) != seen

    def origin(self, tid: int) -> str | None:
        """The namespace that sent packet ``tid`` (who sent a reply a socket read)."""
        rec = self._open.get(tid)
        return None if rec is None else rec["origin"]

    def trace(self, tid: int) -> Trace:
        rec = self._open[tid]
        return Trace(id=tid, packet=rec["packet"], origin=rec["origin"], steps=tuple(rec["steps"]),
                     disposition=_overall(rec["ends"]), caused_by=rec["caused_by"], time=rec["time"])

    def all(self) -> list[Trace]:
        """Every packet's trace so far, in the order they were sent."""
        return [self.trace(t) for t in self._open]

    def ids_since(self, first: int) -> list[int]:
        """The ids of the traces from ``first`` on, in order (by range: independent of history)."""
        if not self.recording:
            return []
        return [t for t in range(first, self._last + 1) if t in self._open]

    def begin(self) -> int:
        """Where a probe's traces start; an untraced sweep (or one that keeps no history)
        forgets everything before it."""
        if not self.recording or not self.keep:
            self._open.clear()
        return self._last + 1

    @property
    def next_id(self) -> int:
        return self._last + 1


def _overall(ends: list[Disposition]) -> Disposition:
    """A flooded frame ends on several branches; the trace reports the one that matters."""
    if not ends:
        return Disposition.IN_FLIGHT
    if Disposition.DELIVERED in ends:
        return Disposition.DELIVERED
    meaningful = [d for d in ends if d is not Disposition.NOT_FOR_US]
    return meaningful[0] if meaningful else ends[0]


class World:
    """All namespaces of one simulation, with one clock and one RNG."""

    def __init__(self, seed: int = 0, *, trace: bool = True, keep_traces: bool = True) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0.0
        self.epoch = 1767225600.0
        """Wall-clock seconds (UTC, since 1970) at simulated time 0, for ``-m time``: 2026-01-01T00:00:00 by default."""
        self.namespaces: dict[str, NetNamespace] = {}
        self.tracer = Tracer(clock=self._now, recording=trace, keep=keep_traces)
        self._queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self.seen_seq = 0
        self.seen_in: dict[str, None] = {}
        """The namespaces whose sockets saw something since a probe began (an ordered set, at
        most one entry per namespace): the probe looks there, not through the whole world."""
        self.xmit_dropped: int | None = None
        """The trace id a driver last refused to transmit (veth_xmit's NET_XMIT_DROP): a send
        that reached the driver synchronously fails with ENOBUFS."""
        """Counts what applications saw (accepted connections, datagrams), world-wide."""
        self.last_ping_seen: object = None
        self.forced: dict[object, bool] | None = None
        """Forced outcomes for ``-m statistic --mode random`` (by rule identity), to explore branches."""
        self.files = FileSystem()
        """The host's files, shared by every namespace (``ip netns exec`` adds /etc/netns/NAME's binds)."""

    def _now(self) -> float:
        return self.now  # a method, not a lambda: a copied or pickled world keeps its own clock

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, namespaces={list(self.namespaces)})"

    # -- namespaces ------------------------------------------------------------
    def add_netns(self, name: str) -> NetNamespace:
        """``ip netns add NAME``."""
        if name in self.namespaces:
            raise KernelError(17, f'Cannot create namespace file "/run/netns/{name}": File exists')
        if not name or "/" in name or name in (".", ".."):
            raise KernelError(22, f'Invalid netns name "{name}"')
        ns = NetNamespace(self, name)
        self.namespaces[name] = ns
        return ns

    def netns(self, name: str) -> NetNamespace:
        try:
            return self.namespaces[name]
        except KeyError:
            raise NoSuchNamespace(name) from None

    __getitem__ = netns

    def del_netns(self, name: str) -> None:
        """``ip netns del``: its devices die, and with them the peers of its veths."""
        ns = self.netns(name)
        for dev in list(ns.devices.values()):
            if dev.kind is LinkKind.VETH and dev.peer is not None and dev.peer.netns is not ns:
                dev.peer.netns.link_del(dev.peer.ifname)
        del self.namespaces[name]

    # -- randomness --------------------------------------------------------------
    def random_mac(self) -> MacAddress:
        """eth_random_addr: a locally administered unicast address."""
        bits = self.rng.getrandbits
        raw = bytearray((bits(8), bits(8), bits(8), bits(8), bits(8), bits(8)))
        raw[0] = (raw[0] & 0xFE) | 0x02
        return MacAddress(int.from_bytes(raw, "big"))

    # -- time and events -------------------------------------------------------
    def schedule(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), fn, args))

    def schedule_at(self, when: float, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` at time ``when`` (not before now)."""
        heapq.heappush(self._queue, (max(when, self.now), next(self._seq), fn, args))

    def run(self, until: float | None = None, *, max_events: int = 1_000_000) -> None:
        """Process events in order until none is left or the next is after ``until``."""
        for _ in range(max_events):
            if not self._queue:
                break
            when = self._queue[0][0]
            if until is not None and when > until:
                break
            when, _, fn, args = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            fn(*args)
        if until is not None:
            self.now = max(self.now, until)

    @contextmanager
    def untraced(self) -> Iterator[None]:
        """Probes inside record no trace (``ProbeResult.traces`` is empty) and hold no memory
        of earlier probes' packets: for sweeps.  Outcomes are the same as with traces."""
        before = self.tracer.recording
        self.tracer.recording = False
        try:
            yield
        finally:
            self.tracer.recording = before

    def pending(self) -> bool:
        return bool(self._queue)

    # -- views -------------------------------------------------------------------
    def topology(self) -> "nx.MultiGraph":
        """The world as a graph: namespaces and devices as nodes, veth pairs and
        bridge ports as edges.  Derived on demand; never the source of truth."""
        import networkx as nx  # imported here: it costs a quarter second at start-up

        g = nx.MultiGraph()
        for ns in self.namespaces.values():
            g.add_node(("netns", ns.name), kind="netns", name=ns.name)
            for dev in ns.devices.values():
                node = ("dev", ns.name, dev.ifname)
                g.add_node(node, kind=str(dev.kind), netns=ns.name, ifname=dev.ifname,
                           lladdr=str(dev.lladdr), up=dev.admin_up,
                           addresses=[str(a.interface) for a in ns.addrs if a.dev == dev.ifname])
                g.add_edge(("netns", ns.name), node, kind="member")
                if dev.master is not None:
                    g.add_edge(node, ("dev", ns.name, dev.master), kind="port")
                if dev.peer is not None:
                    peer = ("dev", dev.peer.netns.name, dev.peer.ifname)
                    if (node, peer) not in [(u, v) for u, v, k in g.edges(data="kind") if k == "veth"] and \
                       (peer, node) not in [(u, v) for u, v, k in g.edges(data="kind") if k == "veth"]:
                        if dev.peer.netns.name in self.namespaces and peer in g:
                            g.add_edge(node, peer, kind="veth")
        return g
