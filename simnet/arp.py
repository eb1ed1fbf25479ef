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
from typing import TYPE_CHECKING, Any, Callable

from simnet import datapath
from simnet.addresses import MacAddress, ip_int, ip_text
from simnet.errors import KernelError
from simnet.link import Device, LinkKind
from simnet.netfilter.conntrack import CtRef
from simnet.netfilter.context import AddrType
from simnet.packet import Arp, ArpOp, Ethernet, EtherType, IcmpType, IPv4, Packet, UnreachCode
from simnet.routing import RouteInput, route_input, select_source
from simnet.skb import Skb
from simnet.trace import Delivered, Disposition, NeighbourLookup

if TYPE_CHECKING:
    from simnet.netns import NetNamespace


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
        self._entries: dict[tuple[int, str], NeighbourEntry] = {}
        """By (address as an int, device): an int hashes in C, an IPv4Address in Python."""

    def get(self, address: IPv4Address, dev: str) -> NeighbourEntry | None:
        return self._entries.get((ip_int(address), dev))

    def usable(self, address: IPv4Address, dev: str, now: float) -> MacAddress | None:
        """The lladdr to send to right now, ageing REACHABLE into STALE as time passes."""
        return self.usable_entry(self._entries.get((ip_int(address), dev)), now)

    @staticmethod
    def usable_entry(entry: "NeighbourEntry | None", now: float) -> MacAddress | None:
        """:meth:`usable` for an entry already looked up."""
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
        self._entries[(ip_int(address), dev)] = entry
        return entry

    def update(self, address: IPv4Address, dev: str, lladdr: MacAddress, state: NudState,
               now: float, *, create: bool = True) -> NeighbourEntry | None:
        entry = self._entries.get((ip_int(address), dev))
        if entry is None:
            if not create:
                return None
            entry = NeighbourEntry(address, dev, lladdr, state, updated=now)
            self._entries[(ip_int(address), dev)] = entry
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


        key = (ip_int(address), dev)
        if key in self._entries and not replace and self._entries[key].state is NudState.PERMANENT:
            raise KernelError(_errno.EEXIST, "RTNETLINK answers: File exists")
        self._entries[key] = NeighbourEntry(address, dev, lladdr, NudState.PERMANENT)

    def delete(self, address: IPv4Address, dev: str) -> None:
        import errno as _errno

        from simnet.errors import KernelError

        if self._entries.pop((ip_int(address), dev), None) is None:
            raise KernelError(_errno.ENOENT, "RTNETLINK answers: No such file or directory")

    def flush_dev(self, dev: str) -> None:
        for key in [k for k in self._entries if k[1] == dev]:
            del self._entries[key]

    def rename_dev(self, old: str, new: str) -> None:
        for (addr, dev), entry in list(self._entries.items()):
            if dev == old:
                del self._entries[(addr, dev)]
                entry.dev = new
                self._entries[(addr, new)] = entry  # addr: the address as an int (the key's form)

    def entries(self) -> list[NeighbourEntry]:
        """In ``ip neigh`` order: most recently created first, as the kernel's hash dump shows
        for small tables; simnet sorts by address then device for determinism."""
        return sorted(self._entries.values(), key=lambda e: (int(e.address), e.dev))


# -- unsolicited and gratuitous ARP (arp_process's "Update our ARP tables"; issue 19.7) -----------
LOCKTIME = 1.0
"""``neigh/default/locktime`` (1 s): within it only a gratuitous ARP may replace a valid lladdr."""


def arp_accept(ns: "NetNamespace", ifname: str, sip: IPv4Address) -> bool:
    """``arp_accept`` (net/ipv4/arp.c): 0 never create an entry from unsolicited ARP, 1 always,
    2 only for a sender inside one of the device's subnets (inet_confirm_addr)."""
    mode = ns.sysctls.conf(ifname, "arp_accept")
    if mode == 1:
        return True
    if mode == 2:
        return any(a.dev == ifname and sip in a.interface.network for a in ns.addrs)
    return False


def arp_update(ns: "NetNamespace", ifname: str, *, reply: bool, sip: IPv4Address, tip: IPv4Address, sha: MacAddress,
               tha: MacAddress | None, to_host: bool, now: float) -> NeighbourEntry | None:
    """The sender's entry after an ARP packet that was not a request we answered.

    Gratuitous (``sip == tip``, a reply also with ``tha == sha``, sender a unicast address):
    overrides a valid entry even within :data:`LOCKTIME`; an entry is created only when
    :func:`arp_accept` allows (for a gratuitous ARP, or a reply from a unicast address).  A
    broadcast or a request leaves it STALE, a reply to us REACHABLE.  Seen on Linux 6.18 with
    raw ARP frames between two namespaces (docs: /work/notes/docker.md).
    """
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


# -- ARP and neighbour output (arp.c, neighbour.c) ---------------------------------------------
def arp_rcv(ns: "NetNamespace", dev: Device, packet: Packet, tid: int) -> None:
    """arp_process: answer requests for local addresses (arp_ignore), learn senders."""
    tracer = ns.world.tracer
    arp = packet.arp
    assert arp is not None
    now = ns.world.now
    local = arp_target_local(ns, dev, arp.spa, arp.tpa) and arp_ignore_allows(ns, dev, arp.tpa)
    if arp.op is ArpOp.REQUEST:
        if local:
            ns.neigh.update(arp.spa, dev.ifname, arp.sha, NudState.STALE, now)
            _resume_queue(ns, dev.ifname, arp.spa)
            reply = Packet(eth=Ethernet(src=dev.lladdr, dst=arp.sha, ethertype=EtherType.ARP),
                           arp=Arp(op=ArpOp.REPLY, sha=dev.lladdr, spa=arp.tpa, tha=arp.sha, tpa=arp.spa))
            tracer.step(tid, Delivered(netns=ns.name, to=f"arp: {arp.tpa} is local, replying"))
            tracer.end(tid, Disposition.DELIVERED)
            rtid = tracer.new(reply, ns.name, caused_by=tid)
            datapath.dev_xmit(ns, dev, reply, rtid)
            return
        arp_update(ns, dev.ifname, reply=False, sip=arp.spa, tip=arp.tpa, sha=arp.sha, tha=arp.tha,
                   to_host=False, now=now)
        _resume_queue(ns, dev.ifname, arp.spa)
        ns.world.tracer.drop(tid, ns.name, f"arp who-has {arp.tpa}: not a local address", Disposition.NOT_FOR_US)
        return
    entry = arp_update(ns, dev.ifname, reply=True, sip=arp.spa, tip=arp.tpa, sha=arp.sha, tha=arp.tha,
                       to_host=packet.eth is not None and packet.eth.dst == dev.lladdr, now=now)
    if entry is None:
        ns.world.tracer.drop(tid, ns.name, "unsolicited arp reply (arp_accept)", Disposition.NOT_FOR_US)
        return
    tracer.step(tid, Delivered(netns=ns.name, to=f"neigh {arp.spa} lladdr {entry.lladdr} {entry.state}"))
    tracer.end(tid, Disposition.DELIVERED)
    _resume_queue(ns, dev.ifname, arp.spa)


def arp_target_local(ns: "NetNamespace", dev: Device, spa: IPv4Address, tpa: IPv4Address) -> bool:
    """arp_process: a request is answered only if routing the target from the sender, as if it
    were an IP packet arriving on ``dev``, gives a local route (ip_route_input_noref), so
    rp_filter and the martian checks apply to the sender; an ARP probe (sender 0.0.0.0) only
    needs a local target (inet_addr_type_dev_table)."""
    if int(spa) == 0:
        return ns.addr_type(tpa) is AddrType.LOCAL
    skb = Skb(packet=Packet(ip=IPv4(src=spa, dst=tpa, proto=0)), indev=dev.ifname)
    return route_input(ns, skb, dev)[0] is RouteInput.LOCAL


def arp_ignore_allows(ns: "NetNamespace", dev: Device, target: IPv4Address) -> bool:
    mode = ns.sysctls.conf(dev.ifname, "arp_ignore")
    if mode == 0:
        return True
    on_dev = [a for a in ns.addrs if a.dev == dev.ifname]
    if mode == 1:
        return any(a.address == target for a in on_dev)
    if mode == 2:
        return any(a.address == target for a in on_dev)  # plus same-subnet sender: approximated
    return mode < 8 and any(a.address == target for a in on_dev)


def _resume_queue(ns: "NetNamespace", ifname: str, address: IPv4Address) -> None:
    entry = ns.neigh.get(address, ifname)
    if entry is None or not entry.queue or entry.lladdr is None:
        return
    queued, entry.queue = entry.queue, []
    if ifname not in ns.devices:
        return
    for _packet, qtid, send in queued:
        ns.world.tracer.step(qtid, NeighbourLookup(netns=ns.name, dev=ifname, address=str(address),
                                                    lladdr=str(entry.lladdr), state=str(entry.state)))
        send(entry.lladdr)


def neigh_output(ns: "NetNamespace", dev: Device, nexthop: IPv4Address, skb: Skb, tid: int) -> None:
    """neigh_resolve_output: send now if the lladdr is known, else queue and ask."""
    packet = skb.packet
    if dev.kind is LinkKind.LOOPBACK:
        # an untracked skb stays untracked too (nf_conntrack_in ignores IP_CT_UNTRACKED)
        datapath.dev_xmit(ns, dev, packet.without_eth(), tid,
                 ct=CtRef(skb.ct, skb.ctinfo) if skb.ctinfo is not None else None)
        return
    if dev.kind is LinkKind.DUMMY:
        datapath.dev_xmit(ns, dev, packet, tid)
        return
    if ip_int(nexthop) >> 28 == 0xE or ip_int(nexthop) == 0xFFFFFFFF or ns.addr_type(nexthop, dev.ifname) is AddrType.BROADCAST:
        datapath.dev_xmit(ns, dev, packet.evolve(eth=Ethernet(src=dev.lladdr, dst=MacAddress.BROADCAST)), tid)
        return
    neigh_resolve(ns, dev, nexthop, packet, tid, skb.packet.ip.src if skb.packet.ip else None,
                   lambda lladdr: datapath.dev_xmit(ns, dev, packet.evolve(eth=Ethernet(src=dev.lladdr, dst=lladdr)), tid))


def neigh_resolve(ns: "NetNamespace", dev: Device, nexthop: IPv4Address, packet: Packet, tid: int,
                   saddr: IPv4Address | None, send: Callable[[MacAddress], None]) -> None:
    """__neigh_event_send: ``send`` the packet to the next hop's lladdr now if it is known,
    else queue it (the kernel's arp_queue) and ask; a failed resolution answers it with ICMP."""
    now = ns.world.now
    entry = ns.neigh.get(nexthop, dev.ifname)
    lladdr = ns.neigh.usable_entry(entry, now)
    if lladdr is not None:
        assert entry is not None
        if ns.world.tracer.recording:
            ns.world.tracer.step(tid, NeighbourLookup(netns=ns.name, dev=dev.ifname, address=ip_text(nexthop),
                                                       lladdr=str(lladdr), state=str(entry.state)))
        send(lladdr)
        return
    if entry is None or entry.state is NudState.FAILED:
        entry = ns.neigh.create(nexthop, dev.ifname, now)
    entry.queue.append((packet, tid, send))
    ns.world.tracer.step(tid, NeighbourLookup(netns=ns.name, dev=dev.ifname, address=str(nexthop),
                                               lladdr=None, state="INCOMPLETE"))
    if entry.probes == 0:
        arp_solicit(ns, dev, nexthop, saddr, entry)


def arp_solicit(ns: "NetNamespace", dev: Device, target: IPv4Address, saddr: IPv4Address | None,
                 entry: NeighbourEntry) -> None:
    """arp_solicit: broadcast a request, retry every retrans_time, fail after mcast_solicit."""
    if ns.neigh.get(target, dev.ifname) is not entry or entry.state is not NudState.INCOMPLETE:
        return
    if dev.ifname not in ns.devices:
        return
    if entry.probes >= MCAST_SOLICIT:
        entry.state = NudState.FAILED
        entry.updated = ns.world.now
        queued, entry.queue = entry.queue, []
        for packet, qtid, _send in queued:
            ns.world.tracer.step(qtid, NeighbourLookup(netns=ns.name, dev=dev.ifname, address=str(target),
                                                        lladdr=None, state="FAILED"))
            ns.world.tracer.drop(qtid, ns.name, f"no ARP reply for {target} on {dev.ifname} after {MCAST_SOLICIT} requests",
                  Disposition.NEIGH_FAILED)
            # arp_error_report -> datapath.icmp_send(HOST_UNREACH) to the packet's source
            datapath.icmp_send(ns, Skb(packet=packet.without_eth(), outdev=dev.ifname), IcmpType.DEST_UNREACH,
                      UnreachCode.HOST, qtid, reason=f"ARP for {target} failed")
        return
    entry.probes += 1
    if saddr is None or ns.addr_type(saddr) is not AddrType.LOCAL or ns.sysctls.conf(dev.ifname, "arp_announce") >= 2:
        saddr = select_source(ns.addrs, dev.ifname, target) or saddr
    request = Packet(eth=Ethernet(src=dev.lladdr, dst=MacAddress.BROADCAST, ethertype=EtherType.ARP),
                     arp=Arp(op=ArpOp.REQUEST, sha=dev.lladdr, spa=saddr or IPv4Address(0),
                             tha=MacAddress(0), tpa=target))
    rtid = ns.world.tracer.new(request, ns.name)
    datapath.dev_xmit(ns, dev, request, rtid)
    ns.world.schedule(RETRANS_TIME, arp_solicit, ns, dev, target, saddr, entry)
