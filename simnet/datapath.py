"""The packet walk: one pipeline of the kernel's receive, forward and output paths.

Kernel flow (net/core/dev.c, net/bridge/br_input.c, net/ipv4/ip_input.c,
ip_forward.c, ip_output.c, arp.c)::

    wire -> netif_receive -> [bridge port? br_handle_frame (br_netfilter hooks)]
         -> arp_rcv | ip_rcv -> PRE_ROUTING -> route input
              -> local:   LOCAL_IN  -> transport (sockets, ICMP, RST)
              -> forward: TTL check -> FORWARD -> ip_output
    socket -> route output -> LOCAL_OUT (re-route if DNAT) -> ip_output
    ip_output -> POST_ROUTING -> neighbour (ARP) -> dev_queue_xmit -> wire
    dev_queue_xmit on a VXLAN device -> vxlan_xmit (simnet.vxlan): UDP from this host -> LOCAL_OUT ...
    LOCAL_IN -> the VXLAN UDP socket -> vxlan_rcv -> the inner frame arrives on the VXLAN device

Every frame hop is an event on the world's queue, so flooding and ARP
exchanges interleave deterministically and any topology terminates: TTL ends
routing loops, and a trace never revisits the same (namespace, device, frame).
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Callable

from simnet import redirect, vxlan
from simnet.addresses import IPProto, MacAddress
from simnet.arp import MCAST_SOLICIT, RETRANS_TIME, NudState, arp_update
from simnet.link import Device, LinkKind
from simnet.netfilter.context import AddrType
from simnet.netfilter import targets as T
from simnet.netfilter.engine import Verdict
from simnet.netfilter.engine import nf_hook as _netfilter
from simnet.netfilter.hooks import Hook
from simnet.packet import Arp, ArpOp, Ethernet, EtherType, Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, UnreachCode
from simnet.routing import Route, RouteType
from simnet.skb import PktType, Skb
from simnet.trace import (BridgeDecision, Delivered, Disposition, Dropped, IcmpSent, NeighbourLookup,
                          Note, Received, RouteLookup, Transmitted)

if TYPE_CHECKING:
    from simnet.netns import NetNamespace


def _drop(ns: "NetNamespace", tid: int, reason: str, disposition: Disposition = Disposition.DROPPED) -> None:
    ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=reason, disposition=disposition))
    ns.world.tracer.end(tid, disposition)


def nf_hook(ns: "NetNamespace", hook: Hook, skb: Skb, tid: int, *, bridged: bool = False) -> Skb | None:
    """NF_HOOK: the skb as it continues past ``hook``, or None when netfilter stopped it.

    A REJECT's answer (``nf_send_reset``/``nf_send_unreach``) is sent from here, before the
    stopped packet's trace ends, as the kernel sends it from inside the hook.
    """
    result = _netfilter(ns, hook, skb, tid, bridged=bridged)
    if result.verdict is Verdict.ACCEPT:
        return result.skb
    if result.reject is not None:
        _send_reject(ns, result.reject, result.skb, tid)
        ns.world.tracer.end(tid, Disposition.REJECTED)
    else:
        ns.world.tracer.end(tid, Disposition.DROPPED)
    return None


def _send_reject(ns: "NetNamespace", rej: T.Reject, skb: Skb, tid: int) -> None:
    """ipt_REJECT's reject_tg: a TCP reset or an ICMP error, as ``--reject-with`` says."""
    if rej.tcp_reset:
        send_tcp_reset(ns, skb, tid, reason="REJECT --reject-with tcp-reset")
        return
    code = rej.icmp_type_code
    if code is not None:
        icmp_send(ns, skb, code[0], code[1], tid, reason=f"REJECT --reject-with {rej.with_}")


# -- the wire ---------------------------------------------------------------------------
def dev_xmit(ns: "NetNamespace", dev: Device, packet: Packet, tid: int, *, ct: tuple | None = None) -> None:
    """dev_queue_xmit: put a frame on a device's wire.

    ``ct``: (entry, ctinfo) a looped-back skb keeps (``loopback_xmit`` does not reset
    it), so conntrack and NAT at PREROUTING/INPUT do not look the packet up again.
    """
    tracer = ns.world.tracer
    if not dev.carrier:
        _drop(ns, tid, f"{dev.ifname} is {'down' if not dev.admin_up else 'without carrier'}",
              Disposition.LINK_DOWN)
        return
    tracer.step(tid, Transmitted(netns=ns.name, dev=dev.ifname, packet=packet))
    match dev.kind:
        case LinkKind.VETH:
            assert dev.peer is not None
            ns.world.schedule(0.0, netif_receive, dev.peer.netns, dev.peer.ifname, packet, tid)
        case LinkKind.LOOPBACK:
            ns.world.schedule(0.0, netif_receive, ns, dev.ifname, packet, tid, ct)
        case LinkKind.BRIDGE:
            # br_dev_xmit: the bridge's own stack sends into the bridge
            ns.world.schedule(0.0, br_dev_xmit, ns, dev.ifname, packet, tid)
        case LinkKind.DUMMY:
            _drop(ns, tid, f"{dev.ifname} is a dummy device: it discards what it sends",
                  Disposition.NOT_FOR_US)
        case LinkKind.VXLAN:
            ns.world.schedule(0.0, vxlan.vxlan_xmit, ns, dev.ifname, packet, tid)


def netif_receive(ns: "NetNamespace", ifname: str, packet: Packet, tid: int, ct: tuple | None = None) -> None:
    """A frame arrives on a device."""
    tracer = ns.world.tracer
    dev = ns.devices.get(ifname)
    if dev is None:
        _drop(ns, tid, f"device {ifname} vanished", Disposition.LINK_DOWN)
        return
    if not tracer.first_visit(tid, (ns.name, ifname, packet)):
        _drop(ns, tid, f"frame seen on {ifname} before: an L2 loop", Disposition.LOOP)
        return
    tracer.step(tid, Received(netns=ns.name, dev=ifname, packet=packet))
    if not dev.admin_up:
        _drop(ns, tid, f"{ifname} is down", Disposition.LINK_DOWN)
        return
    if dev.master is not None:
        br_handle_frame(ns, dev, packet, tid)
        return
    l2_deliver(ns, dev, packet, tid, ct=ct)


def _pkt_type(dev: Device, eth: Ethernet | None) -> PktType:
    if eth is None or dev.kind is LinkKind.LOOPBACK:
        return PktType.HOST
    if eth.dst.is_broadcast:
        return PktType.BROADCAST
    if eth.dst.is_multicast:
        return PktType.MULTICAST
    return PktType.HOST if eth.dst == dev.lladdr else PktType.OTHERHOST


def l2_deliver(ns: "NetNamespace", dev: Device, packet: Packet, tid: int, *,
               prerouted: Skb | None = None, ct: tuple | None = None) -> None:
    """eth_type_trans + the protocol handlers: ARP or IPv4."""
    pkt_type = _pkt_type(dev, packet.eth)
    if pkt_type is PktType.OTHERHOST:
        _drop(ns, tid, f"{packet.eth.dst if packet.eth else '?'} is not {dev.ifname}'s address",
              Disposition.NOT_FOR_US)
        return
    if packet.arp is not None:
        arp_rcv(ns, dev, packet, tid)
        return
    if packet.ip is None:
        _drop(ns, tid, "not IPv4", Disposition.NOT_FOR_US)
        return
    skb = prerouted or Skb(packet=packet, indev=dev.ifname, pkt_type=pkt_type)
    if ct is not None and prerouted is None:
        skb = skb.evolve(ct=ct[0], ctinfo=ct[1])
    ip_rcv(ns, dev, skb, tid, prerouted=prerouted is not None)


# -- the bridge --------------------------------------------------------------------------
def br_handle_frame(ns: "NetNamespace", port: Device, packet: Packet, tid: int) -> None:
    """A frame entered a bridge port (br_handle_frame_finish, with br_netfilter)."""
    tracer = ns.world.tracer
    br = ns.devices[port.master]  # type: ignore[index]
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
                  pkt_type=_pkt_type(br, eth) if eth.dst != br.lladdr else PktType.HOST)
        skb = nf_hook(ns, Hook.PRE_ROUTING, skb, tid, bridged=True)
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
                if kind == "forward" and route is not None and route.dev == br.ifname:
                    nexthop = route.via if route.via is not None else skb.packet.ip.dst
                    _neigh_resolve(ns, br, nexthop, packet, tid, skb.packet.ip.src,
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
        _bridge_up(ns, br, packet, tid, skb)
        for p in ports:
            br_forward(ns, br, port, ns.devices[p], packet, tid, skb)
        return
    if entry is not None and entry.local:
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=br.ifname, in_port=port.ifname,
                                        action="local", reason=f"{eth.dst} is the bridge's own address"))
        _bridge_up(ns, br, packet, tid, skb)
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


def _bridge_up(ns: "NetNamespace", br: Device, packet: Packet, tid: int, prerouted: Skb | None) -> None:
    """br_pass_frame_up: the bridge device's own stack receives the frame."""
    if prerouted is not None:
        prerouted = prerouted.evolve(bridged=False, physoutdev=None, pkt_type=_pkt_type(br, packet.eth))
    l2_deliver(ns, br, packet, tid, prerouted=prerouted)


def br_forward(ns: "NetNamespace", br: Device, inport: Device | None, out: Device, packet: Packet,
               tid: int, skb: Skb | None) -> None:
    """br_forward: FORWARD and POST_ROUTING (br_netfilter) then out of one port."""
    if packet.ip is not None and ns.sysctls.bridge_nf_call_iptables:
        fwd = (skb or Skb(packet=packet.without_eth(), indev=br.ifname, bridged=True)).evolve(
            outdev=br.ifname, physoutdev=out.ifname, physindev=inport.ifname if inport else None,
            indev=br.ifname if inport else None, bridged=True)
        if inport is not None:
            fwd = nf_hook(ns, Hook.FORWARD, fwd, tid, bridged=True)
            if fwd is None:
                return
        fwd = nf_hook(ns, Hook.POST_ROUTING, fwd, tid, bridged=True)
        if fwd is None:
            return
        packet = replace(packet, ip=fwd.packet.ip, l4=fwd.packet.l4)
    dev_xmit(ns, out, packet, tid)


def br_dev_xmit(ns: "NetNamespace", brname: str, packet: Packet, tid: int) -> None:
    """The bridge device transmits: FDB lookup or flood to every port (no netfilter again)."""
    tracer = ns.world.tracer
    br = ns.devices.get(brname)
    if br is None:
        _drop(ns, tid, f"bridge {brname} vanished", Disposition.LINK_DOWN)
        return
    eth = packet.eth
    assert eth is not None
    entry = None if eth.dst.is_multicast else ns.fdbs[brname].lookup(eth.dst, ns.world.now)
    if entry is not None and not entry.local:
        tracer.step(tid, BridgeDecision(netns=ns.name, bridge=brname, in_port=brname, action="forward",
                                        ports=(entry.port,), reason=f"fdb: {eth.dst}"))
        dev_xmit(ns, ns.devices[entry.port], packet, tid)
        return
    ports = list(br.ports)
    tracer.step(tid, BridgeDecision(netns=ns.name, bridge=brname, in_port=brname, action="flood",
                                    ports=tuple(ports), reason="broadcast" if eth.dst.is_multicast
                                    else f"{eth.dst} unknown"))
    if not ports:
        tracer.end(tid, Disposition.NOT_FOR_US)
    for p in ports:
        dev_xmit(ns, ns.devices[p], packet, tid)


# -- ARP ----------------------------------------------------------------------------------
def arp_rcv(ns: "NetNamespace", dev: Device, packet: Packet, tid: int) -> None:
    """arp_process: answer requests for local addresses (arp_ignore), learn senders."""
    tracer = ns.world.tracer
    arp = packet.arp
    assert arp is not None
    now = ns.world.now
    local = _arp_target_local(ns, dev, arp.spa, arp.tpa) and _arp_ignore_allows(ns, dev, arp.tpa)
    if arp.op is ArpOp.REQUEST:
        if local:
            ns.neigh.update(arp.spa, dev.ifname, arp.sha, NudState.STALE, now)
            _resume_queue(ns, dev.ifname, arp.spa)
            reply = Packet(eth=Ethernet(src=dev.lladdr, dst=arp.sha, ethertype=EtherType.ARP),
                           arp=Arp(op=ArpOp.REPLY, sha=dev.lladdr, spa=arp.tpa, tha=arp.sha, tpa=arp.spa))
            tracer.step(tid, Delivered(netns=ns.name, to=f"arp: {arp.tpa} is local, replying"))
            tracer.end(tid, Disposition.DELIVERED)
            rtid = tracer.new(reply, ns.name, caused_by=tid)
            dev_xmit(ns, dev, reply, rtid)
            return
        arp_update(ns, dev.ifname, reply=False, sip=arp.spa, tip=arp.tpa, sha=arp.sha, tha=arp.tha,
                   to_host=False, now=now)
        _resume_queue(ns, dev.ifname, arp.spa)
        _drop(ns, tid, f"arp who-has {arp.tpa}: not a local address", Disposition.NOT_FOR_US)
        return
    entry = arp_update(ns, dev.ifname, reply=True, sip=arp.spa, tip=arp.tpa, sha=arp.sha, tha=arp.tha,
                       to_host=packet.eth is not None and packet.eth.dst == dev.lladdr, now=now)
    if entry is None:
        _drop(ns, tid, "unsolicited arp reply (arp_accept)", Disposition.NOT_FOR_US)
        return
    tracer.step(tid, Delivered(netns=ns.name, to=f"neigh {arp.spa} lladdr {entry.lladdr} {entry.state}"))
    tracer.end(tid, Disposition.DELIVERED)
    _resume_queue(ns, dev.ifname, arp.spa)


def _arp_target_local(ns: "NetNamespace", dev: Device, spa: IPv4Address, tpa: IPv4Address) -> bool:
    """arp_process: a request is answered only if routing the target from the sender, as if it
    were an IP packet arriving on ``dev``, gives a local route (ip_route_input_noref), so
    rp_filter and the martian checks apply to the sender; an ARP probe (sender 0.0.0.0) only
    needs a local target (inet_addr_type_dev_table)."""
    if int(spa) == 0:
        return ns.addr_type(tpa) is AddrType.LOCAL
    skb = Skb(packet=Packet(ip=IPv4(src=spa, dst=tpa, proto=0)), indev=dev.ifname)
    return route_input(ns, skb, dev)[0] == "local"


def _arp_ignore_allows(ns: "NetNamespace", dev: Device, target: IPv4Address) -> bool:
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
        dev_xmit(ns, dev, packet.without_eth(), tid,
                 ct=(skb.ct, skb.ctinfo) if skb.ctinfo is not None else None)
        return
    if dev.kind is LinkKind.DUMMY:
        dev_xmit(ns, dev, packet, tid)
        return
    if nexthop.is_multicast or int(nexthop) == 0xFFFFFFFF or ns.addr_type(nexthop, dev.ifname) is AddrType.BROADCAST:
        dev_xmit(ns, dev, replace(packet, eth=Ethernet(src=dev.lladdr, dst=MacAddress.BROADCAST)), tid)
        return
    _neigh_resolve(ns, dev, nexthop, packet, tid, skb.packet.ip.src if skb.packet.ip else None,
                   lambda lladdr: dev_xmit(ns, dev, replace(packet, eth=Ethernet(src=dev.lladdr, dst=lladdr)), tid))


def _neigh_resolve(ns: "NetNamespace", dev: Device, nexthop: IPv4Address, packet: Packet, tid: int,
                   saddr: IPv4Address | None, send: Callable[[MacAddress], None]) -> None:
    """__neigh_event_send: ``send`` the packet to the next hop's lladdr now if it is known,
    else queue it (the kernel's arp_queue) and ask; a failed resolution answers it with ICMP."""
    now = ns.world.now
    lladdr = ns.neigh.usable(nexthop, dev.ifname, now)
    entry = ns.neigh.get(nexthop, dev.ifname)
    if lladdr is not None:
        assert entry is not None
        ns.world.tracer.step(tid, NeighbourLookup(netns=ns.name, dev=dev.ifname, address=str(nexthop),
                                                   lladdr=str(lladdr), state=str(entry.state)))
        send(lladdr)
        return
    if entry is None or entry.state is NudState.FAILED:
        entry = ns.neigh.create(nexthop, dev.ifname, now)
    entry.queue.append((packet, tid, send))
    ns.world.tracer.step(tid, NeighbourLookup(netns=ns.name, dev=dev.ifname, address=str(nexthop),
                                               lladdr=None, state="INCOMPLETE"))
    if entry.probes == 0:
        _arp_solicit(ns, dev, nexthop, saddr, entry)


def _arp_solicit(ns: "NetNamespace", dev: Device, target: IPv4Address, saddr: IPv4Address | None,
                 entry: object) -> None:
    """arp_solicit: broadcast a request, retry every retrans_time, fail after mcast_solicit."""
    from simnet.arp import NeighbourEntry
    from simnet.routing import select_source

    assert isinstance(entry, NeighbourEntry)
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
            _drop(ns, qtid, f"no ARP reply for {target} on {dev.ifname} after {MCAST_SOLICIT} requests",
                  Disposition.NEIGH_FAILED)
            # arp_error_report -> icmp_send(HOST_UNREACH) to the packet's source
            icmp_send(ns, Skb(packet=packet.without_eth(), outdev=dev.ifname), IcmpType.DEST_UNREACH,
                      UnreachCode.HOST, qtid, reason=f"ARP for {target} failed")
        return
    entry.probes += 1
    if saddr is None or ns.addr_type(saddr) is not AddrType.LOCAL or ns.sysctls.conf(dev.ifname, "arp_announce") >= 2:
        saddr = select_source(ns.addrs, dev.ifname, target) or saddr
    request = Packet(eth=Ethernet(src=dev.lladdr, dst=MacAddress.BROADCAST, ethertype=EtherType.ARP),
                     arp=Arp(op=ArpOp.REQUEST, sha=dev.lladdr, spa=saddr or IPv4Address(0),
                             tha=MacAddress(0), tpa=target))
    rtid = ns.world.tracer.new(request, ns.name)
    dev_xmit(ns, dev, request, rtid)
    ns.world.schedule(RETRANS_TIME, _arp_solicit, ns, dev, target, saddr, entry)


# -- IPv4 receive and forward -------------------------------------------------------------
def ip_rcv(ns: "NetNamespace", dev: Device, skb: Skb, tid: int, *, prerouted: bool = False) -> None:
    tracer = ns.world.tracer
    if not prerouted:
        skb = nf_hook(ns, Hook.PRE_ROUTING, skb, tid)  # type: ignore[assignment]
        if skb is None:
            return
    ip = skb.packet.ip
    assert ip is not None
    kind, route = route_input(ns, skb, dev)
    tracer.step(tid, RouteLookup(netns=ns.name, dst=str(ip.dst), route=str(route) if route else None,
                                 result=kind))
    if kind in ("local", "broadcast"):
        # a broadcast destination is delivered locally too (ip_route_input_slow's brd_input):
        # INPUT runs, and each protocol decides what a broadcast gets (SocketTable.deliver)
        ip_local_deliver(ns, skb, tid)
        return
    if kind == "forwarding off":
        _drop(ns, tid, f"{ip.dst} is not local and net.ipv4.ip_forward is 0 (forwarding on {dev.ifname} is off)",
              Disposition.NOT_FOR_US)
        return
    if kind == "martian":
        _drop(ns, tid, f"martian source {ip.src} (rp_filter or invalid source)", Disposition.DROPPED)
        return
    if route is None or kind in ("unreachable", "prohibit", "blackhole", "no route"):
        code = {"unreachable": UnreachCode.HOST, "prohibit": UnreachCode.ADMIN_PROHIBITED,
                "no route": UnreachCode.NET}.get(kind)
        _drop(ns, tid, f"no usable route to {ip.dst} ({kind})", Disposition.NO_ROUTE)
        if code is not None and ns.fib.error_allowed(ip.src, ns.world.now):
            icmp_send(ns, skb, IcmpType.DEST_UNREACH, code, tid, reason=f"route: {kind}")
        elif code is not None:
            tracer.step(tid, Note(netns=ns.name, message=f"ip_error: no ICMP to {ip.src}, its token "
                                  "bucket is empty (1 s per error, refilled since its last error or redirect)"))
        return
    ip_forward(ns, skb, route, tid)


def route_input(ns: "NetNamespace", skb: Skb, dev: Device) -> tuple[str, Route | None]:
    """ip_route_input_slow: local, forward, or why not."""
    ip = skb.packet.ip
    assert ip is not None
    if ip.src.is_multicast or ip.src.is_loopback and dev.kind is not LinkKind.LOOPBACK and \
            not ns.sysctls.conf(dev.ifname, "route_localnet"):
        return "martian", None
    if int(ip.dst) == 0xFFFFFFFF:
        return ("broadcast" if int(ip.src) == 0 or fib_validate_source(ns, skb, dev) else "martian"), None
    route = ns.lookup(ip.dst, src=ip.src, iif=dev.ifname, mark=skb.mark)
    if route is not None and route.type is RouteType.LOCAL:
        if ip.dst.is_loopback and dev.kind is not LinkKind.LOOPBACK and \
                not ns.sysctls.conf(dev.ifname, "route_localnet"):
            return "martian", route
        if not fib_validate_source(ns, skb, dev):
            return "martian", route
        return "local", route
    if route is not None and route.type is RouteType.BROADCAST:
        return ("broadcast" if int(ip.src) == 0 or fib_validate_source(ns, skb, dev) else "martian"), route
    if ip.dst.is_loopback and dev.kind is not LinkKind.LOOPBACK and not ns.sysctls.conf(dev.ifname, "route_localnet"):
        return "martian", route
    if not ns.sysctls.conf(dev.ifname, "forwarding"):
        return "forwarding off", route
    if route is None:
        return "no route", None
    if route.type in (RouteType.UNREACHABLE, RouteType.PROHIBIT, RouteType.BLACKHOLE):
        return str(route.type), route
    if not fib_validate_source(ns, skb, dev, oif=route.dev):
        return "martian", route
    return "forward", route


def fib_validate_source(ns: "NetNamespace", skb: Skb, dev: Device, oif: str | None = None) -> bool:
    """fib_validate_source: is the source of a packet received on ``dev`` acceptable?

    With rp_filter off (and no redirect to decide: ``oif`` is the forward route's device),
    the kernel only refuses one of the namespace's own addresses, unless accept_local.  But
    once the namespace has had a user-added local route or an ``ip rule`` (flags never
    cleared), and always with rp_filter on, it looks the source up in the FIB instead
    (__fib_validate_source): an own address is then refused because its route is local, so
    an own address without a local route (127.0.0.1 after ``ip route del local 127.0.0.0/8``)
    passes, and a source whose route is broadcast is refused.
    """
    ip = skb.packet.ip
    assert ip is not None
    if dev.kind is LinkKind.LOOPBACK:
        return True
    conf = ns.sysctls.conf
    rpf = conf(dev.ifname, "rp_filter")
    accept_local = bool(conf(dev.ifname, "accept_local"))
    if not rpf and (oif != dev.ifname or not conf(dev.ifname, "send_redirects")):
        if accept_local:
            return True
        if not (ns.fib.custom_local_routes or ns.fib.custom_rules):
            return not any(a.address == ip.src for a in ns.addrs)
    mark = skb.mark if conf(dev.ifname, "src_valid_mark") else 0
    back = ns.lookup(ip.src, src=ip.dst, iif=oif or "lo", mark=mark)
    if back is None or back.type in (RouteType.UNREACHABLE, RouteType.PROHIBIT, RouteType.BLACKHOLE):
        return not rpf  # fib_lookup failed: last_resort
    if back.type is not RouteType.UNICAST and (back.type is not RouteType.LOCAL or not accept_local):
        return False
    if back.dev == dev.ifname:
        return True
    if not any(a.dev == dev.ifname for a in ns.addrs):
        return not rpf  # no_addr: last_resort
    return rpf != 1


def ip_forward(ns: "NetNamespace", skb: Skb, route: Route, tid: int) -> None:
    ip = skb.packet.ip
    assert ip is not None
    if ip.ttl <= 1:
        _drop(ns, tid, f"TTL {ip.ttl} would reach 0", Disposition.TTL_EXCEEDED)
        icmp_send(ns, skb, IcmpType.TIME_EXCEEDED, 0, tid, reason="TTL exceeded in transit")
        return
    skb = skb.evolve(packet=skb.packet.with_ip(ttl=ip.ttl - 1), outdev=route.dev)
    if skb.indev == route.dev and redirect.wanted(ns, skb, route):
        # ip_forward: the redirect goes before the FORWARD hook (sent even if FORWARD drops)
        redirect.ip_rt_send_redirect(ns, skb, route, tid)
    skb = nf_hook(ns, Hook.FORWARD, skb, tid)  # type: ignore[assignment]
    if skb is None:
        return
    ip_output(ns, skb, route, tid)


def ip_output(ns: "NetNamespace", skb: Skb, route: Route, tid: int) -> None:
    """ip_output -> POST_ROUTING -> ip_finish_output2 (neighbour)."""
    skb = skb.evolve(outdev=route.dev, gateway=route.via)
    out = nf_hook(ns, Hook.POST_ROUTING, skb, tid)
    if out is None:
        return
    ip = out.packet.ip
    assert ip is not None and route.dev is not None
    dev = ns.devices.get(route.dev)
    if dev is None:
        _drop(ns, tid, f"route device {route.dev} vanished", Disposition.LINK_DOWN)
        return
    nexthop = route.via if route.via is not None else ip.dst
    neigh_output(ns, dev, nexthop, out, tid)


# -- local delivery and output ---------------------------------------------------------------
def ip_local_deliver(ns: "NetNamespace", skb: Skb, tid: int) -> None:
    out = nf_hook(ns, Hook.LOCAL_IN, skb, tid)
    if out is None:
        return
    ns.sockets.deliver(out, tid)


class SendError(Exception):
    """A local send failed before leaving the socket (the errno an application sees)."""

    def __init__(self, errno_name: str, message: str) -> None:
        super().__init__(message)
        self.errno_name = errno_name


def route_output(ns: "NetNamespace", dst: IPv4Address, *, src: IPv4Address | None = None,
                 oif: str | None = None, mark: int = 0) -> Route:
    """ip_route_output_key: the route for a locally generated packet, or the errno."""
    route = ns.lookup(dst, src=src, oif=oif, mark=mark)
    if route is None:
        raise SendError("ENETUNREACH", "Network is unreachable")
    match route.type:
        case RouteType.BLACKHOLE:
            raise SendError("EINVAL", "Invalid argument")
        case RouteType.UNREACHABLE:
            raise SendError("EHOSTUNREACH", "No route to host")
        case RouteType.PROHIBIT:
            raise SendError("EACCES", "Permission denied")
    if route.type is RouteType.LOCAL:
        return replace(route, dev="lo")
    out = ns.devices.get(route.dev) if route.dev is not None else None
    if src is not None and src.is_loopback and out is not None and out.kind is not LinkKind.LOOPBACK and \
            not ns.sysctls.conf(out.ifname, "route_localnet"):
        # __mkroute_output: a loopback source may leave by a real device only with route_localnet
        raise SendError("EINVAL", "Invalid argument")
    return route


def ip_local_out(ns: "NetNamespace", skb: Skb, route: Route, tid: int) -> str | None:
    """__ip_local_out: LOCAL_OUT (re-route when nat changed the destination), then ip_output.

    Returns the errno name when netfilter dropped the packet (the sender sees EPERM).
    """
    before = skb.packet.ip
    out = nf_hook(ns, Hook.LOCAL_OUT, skb.evolve(outdev=route.dev), tid)
    if out is None:
        return "EPERM"
    if out.packet.ip is not None and before is not None and out.packet.ip.dst != before.dst:
        try:
            route = route_output(ns, out.packet.ip.dst, src=out.packet.ip.src, mark=out.mark)
        except SendError as err:
            _drop(ns, tid, f"re-route after DNAT: {err}", Disposition.NO_ROUTE)
            return err.errno_name
        ns.world.tracer.step(tid, RouteLookup(netns=ns.name, dst=str(out.packet.ip.dst), route=str(route),
                                              result="re-route after nat"))
    ip_output(ns, out, route, tid)
    return None


def send_ip(ns: "NetNamespace", packet: Packet, tid: int, *, oif: str | None = None, mark: int = 0,
            ct: object = None) -> str | None:
    """Route and send a locally generated datagram; returns an errno name on local failure."""
    from simnet.trace import Sent

    ip = packet.ip
    assert ip is not None
    try:
        route = route_output(ns, ip.dst, src=ip.src, oif=oif, mark=mark)
    except SendError as err:
        ns.world.tracer.step(tid, RouteLookup(netns=ns.name, dst=str(ip.dst), route=None, result=str(err)))
        _drop(ns, tid, f"no route to {ip.dst}: {err}", Disposition.NO_ROUTE)
        return err.errno_name
    ns.world.tracer.step(tid, RouteLookup(netns=ns.name, dst=str(ip.dst), route=str(route), result="output"))
    skb = Skb(packet=packet, mark=mark)
    if ct is not None:
        skb = skb.evolve(ct=ct[0], ctinfo=ct[1])  # type: ignore[index]
    return ip_local_out(ns, skb, route, tid)


def icmp_send(ns: "NetNamespace", skb: Skb, type_: int, code: int, tid: int, *, reason: str,
              src: IPv4Address | None = None, gateway: IPv4Address | None = None) -> None:
    """icmp_send: answer an offending datagram with an ICMP error, from this namespace.

    Never about an ICMP error, a broadcast or a non-initial fragment (RFC 1122).
    """
    ip = skb.packet.ip
    if ip is None:
        return
    if isinstance(skb.packet.l4, Icmp) and skb.packet.l4.is_error:
        return
    if skb.indev is None and isinstance(skb.packet.l4, Icmp) and skb.packet.l4.type in (
            IcmpType.ECHO_REPLY, IcmpType.TIMESTAMP_REPLY):
        # The kernel's own ICMP reply is being sent under icmp_xmit_lock (icmp_reply); an error
        # about it from OUTPUT/POSTROUTING (REJECT) finds the lock taken and is never sent.
        return
    if ns.addr_type(ip.dst) in (AddrType.BROADCAST, AddrType.MULTICAST) or skb.pkt_type in (PktType.BROADCAST,
                                                                                      PktType.MULTICAST):
        return
    # The quoted datagram is the packet as it arrived, before this host's own NAT:
    # nf_nat_icmp_reply_translation fixes the quote up on the way out.
    quoted = skb.packet.without_eth()
    if src is None:
        if ns.is_local(ip.dst):
            src = ip.dst
        else:
            try:
                back = route_output(ns, ip.src)
                src = ns.source_for(back, ip.src)
            except SendError:
                src = None
    if src is None:
        return
    icmp = Packet(ip=IPv4(src=src, dst=ip.src, proto=IPProto.ICMP, tos=0xC0),
                  l4=Icmp(type=type_, code=code, quoted=quoted, gateway=gateway))
    ns.world.tracer.step(tid, IcmpSent(netns=ns.name, type=type_, code=code, to=str(ip.src), reason=reason))
    etid = ns.world.tracer.new(icmp, ns.name, caused_by=tid)
    ct = None
    if skb.ct is not None:
        from simnet.netfilter.conntrack import CtDir, CtInfo, CtState

        ct = (skb.ct, CtInfo(CtState.RELATED, CtDir.REPLY if skb.ctinfo and skb.ctinfo.direction.value == "ORIGINAL"
                             else CtDir.ORIGINAL))
    send_ip(ns, icmp, etid, ct=ct)


def send_tcp_reset(ns: "NetNamespace", skb: Skb, tid: int, *, reason: str, attach_ct: bool = True) -> None:
    """nf_send_reset / tcp_v4_send_reset: answer a segment with RST from its destination.

    ``attach_ct``: REJECT's ``nf_send_reset`` attaches the segment's conntrack entry
    (``nf_ct_attach``) as RELATED (``nf_conntrack_attach``: ``IP_CT_RELATED_REPLY`` against an
    original-direction segment), so conntrack lets the RST pass untouched, rules see it as
    RELATED, and an entry never confirmed stays so; the TCP stack's own RST
    (``tcp_v4_send_reset``, a closed port) carries none, so conntrack looks it up and the
    RST closes the connection (a refused connection's entry is removed at once, verified
    on 6.18).
    """
    ip, tcp = skb.packet.ip, skb.packet.l4
    if ip is None or not isinstance(tcp, Tcp) or tcp.flags & TcpFlags.RST:
        return
    if tcp.flags & TcpFlags.ACK:
        flags, seq, ack = TcpFlags.RST, tcp.ack, 0
    else:
        flags, seq, ack = TcpFlags.RST | TcpFlags.ACK, 0, tcp.seq + (1 if tcp.flags & TcpFlags.SYN else 0)
    rst = Packet(ip=IPv4(src=ip.dst, dst=ip.src, proto=IPProto.TCP),
                 l4=Tcp(sport=tcp.dport, dport=tcp.sport, flags=flags, seq=seq, ack=ack))
    ns.world.tracer.step(tid, Note(netns=ns.name, message=f"sends TCP RST to {ip.src} ({reason})"))
    rtid = ns.world.tracer.new(rst, ns.name, caused_by=tid)
    ct = None
    if skb.ct is not None and attach_ct:
        from simnet.netfilter.conntrack import CtDir, CtInfo, CtState

        ct = (skb.ct, CtInfo(CtState.RELATED, CtDir.REPLY if skb.ctinfo and
                             skb.ctinfo.direction.value == "ORIGINAL" else CtDir.ORIGINAL))
        # nf_send_reset: nf_ct_set_closing(), the segment's entry is closing now
        ns.conntrack.set_closing(skb.ct)
    send_ip(ns, rst, rtid, ct=ct)
