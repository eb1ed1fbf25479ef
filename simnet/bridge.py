"""The Linux bridge's forwarding database and forwarding decision.

Kernel: net/bridge/br_input.c (``br_handle_frame_finish``), br_fdb.c,
br_forward.c.  The bridge learns the source MAC of every frame on the port it
came in on; frames to the bridge's own or a port's MAC go up to the bridge
device's IP stack; broadcast and multicast flood to every other port and go
up; known unicast goes to one port; unknown unicast floods.  A frame is
never sent back out of its ingress port unless that port has hairpin mode
on (``br_allowed_egress`` / ``should_deliver``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from simnet import arp, datapath
from simnet.addresses import MacAddress
from simnet.link import Device
from simnet.netfilter.hooks import Hook
from simnet.packet import Packet
from simnet.routing import RouteInput, route_input
from simnet.skb import PktType, Skb
from simnet.trace import BridgeDecision, Disposition

if TYPE_CHECKING:
    from simnet.netns import NetNamespace

AGEING_TIME = 300.0


@dataclass(slots=True)
class FdbEntry:
    mac: MacAddress
    port: str
    local: bool = False
    """A permanent entry for the bridge's own or a port's address (``bridge fdb`` 'permanent')."""
    updated: float = 0.0


class Fdb:
    """A bridge's forwarding database (``bridge fdb show``)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[MacAddress, FdbEntry] = {}

    def learn(self, mac: MacAddress, port: str, now: float) -> None:
        if mac.is_multicast:
            return
        entry = self._entries.get(mac)
        if entry is not None and entry.local:
            return
        self._entries[mac] = FdbEntry(mac, port, updated=now)

    def lookup(self, mac: MacAddress, now: float) -> FdbEntry | None:
        entry = self._entries.get(mac)
        if entry is None:
            return None
        if not entry.local and now - entry.updated > AGEING_TIME:
            del self._entries[mac]
            return None
        return entry

    def set_local(self, mac: MacAddress, port: str) -> None:
        self._entries[mac] = FdbEntry(mac, port, local=True)

    def forget_port(self, port: str) -> None:
        for mac in [m for m, e in self._entries.items() if e.port == port]:
            del self._entries[mac]

    def rename_port(self, old: str, new: str) -> None:
        for entry in self._entries.values():
            if entry.port == old:
                entry.port = new

    def entries(self) -> list[FdbEntry]:
        return sorted(self._entries.values(), key=lambda e: (e.port, int(e.mac)))


# -- the bridge device's packet path (br_input.c, br_forward.c, br_device.c) ----------------
def br_handle_frame(ns: "NetNamespace", port: Device, packet: Packet, tid: int) -> None:
    """A frame entered a bridge port (br_handle_frame_finish, with br_netfilter)."""
    tracer = ns.world.tracer
    assert port.master is not None  # only a bridge port's frames come here
    br = ns.devices[port.master]
    fdb = ns.fdbs[br.ifname]
    if not br.admin_up:
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname,
                                        action="drop", reason="bridge is down"))
        tracer.end(tid, Disposition.LINK_DOWN)
        return
    eth = packet.eth
    assert eth is not None
    if port.learning:
        fdb.learn(eth.src, port.ifname, ns.world.now)

    skb: Skb | None = None
    if packet.ip is not None and ns.sysctls.bridge_nf_call_iptables:
        skb = Skb(packet=packet.without_eth(), indev=br.ifname, physindev=port.ifname, bridged=True,
                  pkt_type=datapath.eth_type_trans(br, eth) if eth.dst != br.lladdr else PktType.HOST)
        if packet.fragment is not None and ns.conntrack_active():
            # br_netfilter runs the IPv4 hooks, nf_defrag_ipv4 first: rules see the datagram
            skb = datapath.defrag(ns, skb, tid, "conntrack")
            if skb is None:
                return
            packet = replace(skb.packet, eth=eth)
        skb = datapath.nf_hook(ns, Hook.PRE_ROUTING, skb, tid, bridged=True)
        if skb is None:
            return
        if skb.packet.ip != packet.ip:
            assert skb.packet.ip is not None and packet.ip is not None
            dnat = skb.packet.ip.dst != packet.ip.dst
            packet = replace(packet, ip=skb.packet.ip, l4=skb.packet.l4)
            if dnat:
                # br_nf_pre_routing_finish: DNAT changed the destination and ip_route_input
                # decides. Forwarded out of this same bridge, the frame stays bridged (no
                # ip_forward, no TTL decrement): br_nf_pre_routing_finish_bridge gives it the
                # new next hop's MAC and bridging resumes from the ingress port, hairpin rule
                # included. Anything else goes up to be routed (dst MAC := the bridge's).
                kind, route = route_input(ns, skb, br)
                if kind is RouteInput.FORWARD and route is not None and route.dev == br.ifname:
                    nexthop = route.via if route.via is not None else skb.packet.ip.dst
                    arp.neigh_resolve(ns, br, nexthop, packet, tid, skb.packet.ip.src,
                                   lambda lladdr: br_handle_frame_finish(
                                       ns, br, port, replace(packet, eth=replace(eth, dst=lladdr)), tid, skb))
                    return
                packet = replace(packet, eth=replace(eth, dst=br.lladdr))
    br_handle_frame_finish(ns, br, port, packet, tid, skb)


def br_handle_frame_finish(ns: "NetNamespace", br: Device, port: Device, packet: Packet, tid: int,
                           skb: Skb | None) -> None:
    """br_handle_frame_finish: the FDB decides (local, one port, flood) for a frame from a port."""
    tracer = ns.world.tracer
    eth = packet.eth
    assert eth is not None
    entry = ns.fdbs[br.ifname].lookup(eth.dst, ns.world.now)
    if eth.dst.is_multicast:
        ports = [p for p in br.ports if p != port.ifname or port.hairpin]
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname,
                                        action="flood", ports=tuple(ports) + (br.ifname,),
                                        reason="broadcast/multicast"))
        br_pass_frame_up(ns, br, packet, tid, skb)
        for p in ports:
            br_forward(ns, br, port, ns.devices[p], packet, tid, skb)
        return
    if entry is not None and entry.local:
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname,
                                        action="local", reason=f"{eth.dst} is the bridge's own address"))
        br_pass_frame_up(ns, br, packet, tid, skb)
        return
    if entry is not None:
        if entry.port == port.ifname and not port.hairpin:
            tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname,
                                            action="drop", reason=f"{eth.dst} is behind the ingress port "
                                            "and hairpin mode is off"))
            tracer.end(tid, Disposition.DROPPED)
            return
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname,
                                        action="forward", ports=(entry.port,), reason=f"fdb: {eth.dst}"))
        br_forward(ns, br, port, ns.devices[entry.port], packet, tid, skb)
        return
    ports = [p for p in br.ports if p != port.ifname or port.hairpin]
    tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname, action="flood",
                                    ports=tuple(ports), reason=f"{eth.dst} unknown"))
    if not ports:
        tracer.end(tid, Disposition.NOT_FOR_US)
    for p in ports:
        br_forward(ns, br, port, ns.devices[p], packet, tid, skb)


def br_pass_frame_up(ns: "NetNamespace", br: Device, packet: Packet, tid: int, prerouted: Skb | None) -> None:
    """br_pass_frame_up: the bridge device's own stack receives the frame."""
    if prerouted is not None:
        prerouted = prerouted.evolve(bridged=False, physoutdev=None, pkt_type=datapath.eth_type_trans(br, packet.eth))
    datapath.l2_deliver(ns, br, packet, tid, prerouted=prerouted)


def br_forward(ns: "NetNamespace", br: Device, inport: Device | None, out: Device, packet: Packet,
               tid: int, skb: Skb | None) -> None:
    """br_forward: FORWARD and POST_ROUTING (br_netfilter) then out of one port."""
    if packet.ip is not None and ns.sysctls.bridge_nf_call_iptables:
        fwd = (skb or Skb(packet=packet.without_eth(), indev=br.ifname, bridged=True)).evolve(
            outdev=br.ifname, physoutdev=out.ifname, physindev=inport.ifname if inport else None,
            indev=br.ifname if inport else None, bridged=True)
        if inport is not None:
            forwarded = datapath.nf_hook(ns, Hook.FORWARD, fwd, tid, bridged=True)
            if forwarded is None:
                return
            fwd = forwarded
        posted = datapath.nf_hook(ns, Hook.POST_ROUTING, fwd, tid, bridged=True)
        if posted is None:
            return
        packet = packet.evolve(ip=posted.packet.ip, l4=posted.packet.l4, fragment=posted.packet.fragment)
        mtu = min(out.mtu, posted.frag_max_size or out.mtu)
        if (packet.length > mtu or posted.frag_max_size) and not packet.gso:
            _br_nf_fragment(ns, out, packet, mtu, tid)
            return
    elif not _forwardable(ns, out, packet, tid):
        return
    datapath.dev_xmit(ns, out, packet, tid)


def _forwardable(ns: "NetNamespace", out: Device, packet: Packet, tid: int) -> bool:
    """br_dev_queue_push_xmit's is_skb_forwardable: a datagram up to the port's MTU plus a
    VLAN tag's 4 bytes leaves; a longer one is dropped without a word."""
    if packet.ip is not None and packet.length > out.mtu + 4 and not packet.gso:
        ns.world.tracer.drop(tid, ns.name, f"{packet.length} bytes are too long for port {out.ifname}'s MTU "
                             f"{out.mtu}", Disposition.DROPPED)
        return False
    return True


def _br_nf_fragment(ns: "NetNamespace", out: Device, packet: Packet, mtu: int, tid: int) -> None:
    """br_nf_dev_queue_xmit: with br_netfilter a bridged datagram must fit the port's MTU
    exactly: DF set (or a reassembled one whose pieces were larger) drops it silently, else
    br_nf_ip_fragment cuts it (to the pieces it came in, when nf_defrag reassembled it)."""
    from simnet.fragment import ip_fragment

    assert packet.ip is not None
    if packet.length <= mtu:
        datapath.dev_xmit(ns, out, packet, tid)
        return
    if packet.ip.df:
        ns.world.tracer.drop(tid, ns.name, f"{packet.length} bytes with DF set are too long for port {out.ifname}'s "
                             f"MTU {mtu} (br_netfilter drops it, no ICMP)", Disposition.DROPPED)
        return
    ident = packet.ip.id
    if not ident:
        ns.ip_id = ns.ip_id % 0xFFFF + 1
        ident = ns.ip_id
    for piece in ip_fragment(packet, mtu, ident):
        datapath.dev_xmit(ns, out, piece, tid)


def br_dev_xmit(ns: "NetNamespace", brname: str, packet: Packet, tid: int) -> None:
    """The bridge device transmits: FDB lookup or flood to every port (no netfilter again)."""
    tracer = ns.world.tracer
    br = ns.devices.get(brname)
    if br is None:
        ns.world.tracer.drop(tid, ns.name, f"bridge {brname} vanished", Disposition.LINK_DOWN)
        return
    eth = packet.eth
    assert eth is not None
    entry = None if eth.dst.is_multicast else ns.fdbs[brname].lookup(eth.dst, ns.world.now)
    if entry is not None and not entry.local:
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=brname, in_port=brname, action="forward",
                                        ports=(entry.port,), reason=f"fdb: {eth.dst}"))
        if _forwardable(ns, ns.devices[entry.port], packet, tid):
            datapath.dev_xmit(ns, ns.devices[entry.port], packet, tid)
        return
    ports = list(br.ports)
    tracer.step(tid, BridgeDecision(netns=ns.name, bridge=brname, in_port=brname, action="flood",
                                    ports=tuple(ports), reason="broadcast" if eth.dst.is_multicast
                                    else f"{eth.dst} unknown"))
    if not ports:
        tracer.end(tid, Disposition.NOT_FOR_US)
    for p in ports:
        if _forwardable(ns, ns.devices[p], packet, tid):
            datapath.dev_xmit(ns, ns.devices[p], packet, tid)
