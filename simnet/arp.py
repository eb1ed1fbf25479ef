"""The neighbour (ARP) table of a namespace, with the states ``ip neigh`` shows.

Kernel: net/core/neighbour.c and net/ipv4/arp.c.  A lookup that misses
creates an INCOMPLETE entry, queues the packet and broadcasts a request;
after ``mcast_solicit`` (3) unanswered requests one ``retrans_time`` (1 s)
apart the entry is FAILED and the queued packets are answered with ICMP host
unreachable.  A reply makes it REACHABLE; receiving a request addressed to
us records the sender as STALE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from ipaddress import IPv4Address
from typing import Any

from simnet.addresses import MacAddress


class NudState(Enum):
    INCOMPLETE = "INCOMPLETE"
    REACHABLE = "REACHABLE"
    STALE = "STALE"
    DELAY = "DELAY"
    PROBE = "PROBE"
    FAILED = "FAILED"
    PERMANENT = "PERMANENT"
    NOARP = "NOARP"

    def __str__(self) -> str:
        return self.value


MCAST_SOLICIT = 3
RETRANS_TIME = 1.0
REACHABLE_TIME = 30.0


@dataclass(slots=True, eq=False)
class NeighbourEntry:
    address: IPv4Address
    dev: str
    lladdr: MacAddress | None
    state: NudState
    updated: float = 0.0
    probes: int = 0
    queue: list[Any] = field(default_factory=list)
    """Packets waiting for resolution (the kernel's ``arp_queue``)."""

    def __str__(self) -> str:
        out = f"{self.address} dev {self.dev}"
        if self.lladdr is not None and self.state is not NudState.FAILED:
            out += f" lladdr {self.lladdr}"
        return out + f" {self.state}"


class NeighbourTable:
    """``ip neigh``: one entry per (address, device)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[tuple[IPv4Address, str], NeighbourEntry] = {}

    def get(self, address: IPv4Address, dev: str) -> NeighbourEntry | None:
        return self._entries.get((address, dev))

    def usable(self, address: IPv4Address, dev: str, now: float) -> MacAddress | None:
        """The lladdr to send to right now, ageing REACHABLE into STALE as time passes."""
        entry = self._entries.get((address, dev))
        if entry is None or entry.lladdr is None:
            return None
        if entry.state is NudState.REACHABLE and now - entry.updated > REACHABLE_TIME:
            entry.state = NudState.STALE
        if entry.state in (NudState.REACHABLE, NudState.STALE, NudState.DELAY, NudState.PROBE,
                           NudState.PERMANENT, NudState.NOARP):
            return entry.lladdr
        return None

    def create(self, address: IPv4Address, dev: str, now: float) -> NeighbourEntry:
        entry = NeighbourEntry(address, dev, None, NudState.INCOMPLETE, updated=now)
        self._entries[(address, dev)] = entry
        return entry

    def update(self, address: IPv4Address, dev: str, lladdr: MacAddress, state: NudState,
               now: float, *, create: bool = True) -> NeighbourEntry | None:
        entry = self._entries.get((address, dev))
        if entry is None:
            if not create:
                return None
            entry = NeighbourEntry(address, dev, lladdr, state, updated=now)
            self._entries[(address, dev)] = entry
            return entry
        if entry.state is NudState.PERMANENT:
            return entry
        if state is NudState.STALE and entry.state is NudState.REACHABLE and entry.lladdr == lladdr:
            return entry  # neigh_update keeps a confirmed entry whose address did not change
        entry.lladdr = lladdr
        entry.state = state
        entry.updated = now
        return entry

    def add_permanent(self, address: IPv4Address, dev: str, lladdr: MacAddress, *, replace: bool = False) -> None:
        import errno as _errno

        from simnet.errors import KernelError

        key = (address, dev)
        if key in self._entries and not replace and self._entries[key].state is NudState.PERMANENT:
            raise KernelError(_errno.EEXIST, "RTNETLINK answers: File exists")
        self._entries[key] = NeighbourEntry(address, dev, lladdr, NudState.PERMANENT)

    def delete(self, address: IPv4Address, dev: str) -> None:
        import errno as _errno

        from simnet.errors import KernelError

        if self._entries.pop((address, dev), None) is None:
            raise KernelError(_errno.ENOENT, "RTNETLINK answers: No such file or directory")

    def flush_dev(self, dev: str) -> None:
        for key in [k for k in self._entries if k[1] == dev]:
            del self._entries[key]

    def rename_dev(self, old: str, new: str) -> None:
        for (addr, dev), entry in list(self._entries.items()):
            if dev == old:
                del self._entries[(addr, dev)]
                entry.dev = new
                self._entries[(addr, new)] = entry

    def entries(self) -> list[NeighbourEntry]:
        """In ``ip neigh`` order: most recently created first, as the kernel's hash dump shows
        for small tables; simnet sorts by address then device for determinism."""
        return sorted(self._entries.values(), key=lambda e: (int(e.address), e.dev))


# -- unsolicited and gratuitous ARP (arp_process's "Update our ARP tables"; issue 19.7) -----------
LOCKTIME = 1.0
"""``neigh/default/locktime`` (1 s): within it only a gratuitous ARP may replace a valid lladdr."""


def arp_accept(ns: Any, ifname: str, sip: IPv4Address) -> bool:
    """``arp_accept`` (net/ipv4/arp.c): 0 never create an entry from unsolicited ARP, 1 always,
    2 only for a sender inside one of the device's subnets (inet_confirm_addr)."""
    mode = ns.sysctls.conf(ifname, "arp_accept")
    if mode == 1:
        return True
    if mode == 2:
        return any(a.dev == ifname and sip in a.interface.network for a in ns.addrs)
    return False


def arp_update(ns: Any, ifname: str, *, reply: bool, sip: IPv4Address, tip: IPv4Address, sha: MacAddress,
               tha: MacAddress | None, to_host: bool, now: float) -> NeighbourEntry | None:
    """The sender's entry after an ARP packet that was not a request we answered.

    Gratuitous (``sip == tip``, a reply also with ``tha == sha``, sender a unicast address):
    overrides a valid entry even within :data:`LOCKTIME`; an entry is created only when
    :func:`arp_accept` allows (for a gratuitous ARP, or a reply from a unicast address).  A
    broadcast or a request leaves it STALE, a reply to us REACHABLE.  Seen on Linux 6.18 with
    raw ARP frames between two namespaces (docs: /work/notes/docker.md).
    """
    from simnet.netfilter.context import AddrType

    entry = ns.neigh.get(sip, ifname)
    accept = arp_accept(ns, ifname, sip)
    unicast = ns.addr_type(sip, ifname) is AddrType.UNICAST
    garp = (entry is not None or accept) and sip == tip and (not reply or tha == sha) and unicast
    if entry is None:
        if not (accept and (garp or (reply and unicast))):
            return None
        entry = ns.neigh.create(sip, ifname, now)
    override = garp or now > entry.updated + LOCKTIME or entry.lladdr is None
    if not override and entry.lladdr != sha and entry.state not in (NudState.INCOMPLETE, NudState.FAILED):
        return entry  # __neigh_update: a different lladdr without OVERRIDE is ignored
    state = NudState.REACHABLE if reply and to_host else NudState.STALE
    return ns.neigh.update(sip, ifname, sha, state, now)
