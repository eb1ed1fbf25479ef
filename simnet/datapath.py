"""The packet walk: the kernel's device, IPv4 receive, forward and output paths.

Kernel flow (net/core/dev.c, net/ipv4/ip_input.c, ip_forward.c, ip_output.c)::

    wire -> netif_receive -> [a port? its master's rx_handler: simnet.bridge.br_handle_frame]
         -> arp_rcv (simnet.arp) | ip_rcv -> PRE_ROUTING -> route_input (simnet.routing)
              -> local:   LOCAL_IN  -> transport (sockets, ICMP, RST)
              -> forward: TTL check -> FORWARD -> ip_output
    socket -> route output -> LOCAL_OUT (re-route if DNAT) -> ip_output
    ip_output -> POST_ROUTING -> neigh_output (simnet.arp) -> dev_xmit -> dev.ops.xmit (simnet.drivers)

Netfilter is a library below this module: :func:`nf_hook` runs it and sends what a REJECT
asks for.  Every frame hop is an event on the world's queue, so flooding and ARP exchanges
interleave deterministically and any topology terminates: TTL ends routing loops, and a
trace never revisits the same (namespace, device, frame).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, assert_never

from simnet import arp, pmtu, redirect
from simnet.fragment import ip_fragment
from simnet.addresses import IPProto, ip_text
from simnet.errors import SendError
from simnet.link import Device, LinkKind
from simnet.netfilter.conntrack import CtDir, CtInfo, CtRef, CtState
from simnet.netfilter.context import AddrType
from simnet.netfilter import targets as T
from simnet.netfilter.engine import HookResult, Verdict
from simnet.netfilter.engine import nf_hook as _netfilter
from simnet.netfilter.hooks import Hook
from simnet.packet import Ethernet, Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, UnreachCode
from simnet.routing import Route, RouteInput, route_input, route_output
from simnet.skb import PktType, Skb
from simnet.trace import Disposition, IcmpSent, Note, Received, RouteLookup, Transmitted

if TYPE_CHECKING:
    from simnet.netns import NetNamespace

__all__ = ["SendError", "nf_hook", "dev_xmit", "netif_receive", "l2_deliver", "ip_rcv", "ip_forward", "ip_output",
           "ip_local_deliver", "route_output", "ip_local_out", "send_ip", "icmp_send", "send_tcp_reset",
           "eth_type_trans", "defrag", "ip_finish_fragment"]


def nf_hook(ns: "NetNamespace", hook: Hook, skb: Skb, tid: int, *, bridged: bool = False) -> Skb | None:
    """NF_HOOK: the skb as it continues past ``hook``, or None when netfilter stopped it.

    A REJECT's answer (``nf_send_reset``/``nf_send_unreach``) is sent from here, before the
    stopped packet's trace ends, as the kernel sends it from inside the hook.
    """
    if not ns.ruleset.tables:  # no table, no hook registered (nf_hook's own first test, inlined)
        return skb
    return nf_hook_finish(ns, _netfilter(ns, hook, skb, tid, bridged=bridged), tid)


def nf_hook_finish(ns: "NetNamespace", result: "HookResult", tid: int) -> Skb | None:
    """The rest of NF_HOOK once the hook decided: the skb, or None after sending a REJECT's answer."""
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
def dev_xmit(ns: "NetNamespace", dev: Device, packet: Packet, tid: int, *, ct: CtRef | None = None) -> None:
    """dev_queue_xmit: put a frame on a device's wire.

    ``ct``: (entry, ctinfo) a looped-back skb keeps (``loopback_xmit`` does not reset
    it), so conntrack and NAT at PREROUTING/INPUT do not look the packet up again.
    """
    tracer = ns.world.tracer
    if not dev.carrier:
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname} is {'down' if not dev.admin_up else 'without carrier'}",
              Disposition.LINK_DOWN)
        return
    if tracer.recording:  # an untraced sweep builds no step
        tracer.step(tid, Transmitted(netns=ns.name, dev=dev.ifname, packet=packet))
    assert dev.ops is not None
    dev.ops.xmit(ns, dev, packet, tid, ct)


def netif_receive(ns: "NetNamespace", ifname: str, packet: Packet, tid: int, ct: CtRef | None = None) -> None:
    """A frame arrives on a device."""
    tracer = ns.world.tracer
    dev = ns.devices.get(ifname)
    if dev is None:
        ns.world.tracer.drop(tid, ns.name, f"device {ifname} vanished", Disposition.LINK_DOWN)
        return
    if not tracer.first_visit(tid, (ns.name, ifname, packet)):
        ns.world.tracer.drop(tid, ns.name, f"frame seen on {ifname} before: an L2 loop", Disposition.LOOP)
        return
    if tracer.recording:
        tracer.step(tid, Received(netns=ns.name, dev=ifname, packet=packet))
    elif tracer.touched is not None:  # every namespace a packet reaches passes here (reach's restore)
        tracer.touched.add(ns.name)
    if not dev.admin_up:
        ns.world.tracer.drop(tid, ns.name, f"{ifname} is down", Disposition.LINK_DOWN)
        return
    if dev.master is not None:
        ops = ns.devices[dev.master].ops
        assert ops is not None and ops.port_rx is not None
        ops.port_rx(ns, dev, packet, tid)
        return
    l2_deliver(ns, dev, packet, tid, ct=ct)


def eth_type_trans(dev: Device, eth: Ethernet | None) -> PktType:
    """eth_type_trans: how the frame was addressed to ``dev`` (host, broadcast, multicast, other)."""
    if eth is None or dev.kind is LinkKind.LOOPBACK:
        return PktType.HOST
    if eth.dst.is_broadcast:
        return PktType.BROADCAST
    if eth.dst.is_multicast:
        return PktType.MULTICAST
    return PktType.HOST if eth.dst == dev.lladdr else PktType.OTHERHOST


def l2_deliver(ns: "NetNamespace", dev: Device, packet: Packet, tid: int, *,
               prerouted: Skb | None = None, ct: CtRef | None = None) -> None:
    """eth_type_trans + the protocol handlers: ARP or IPv4."""
    pkt_type = eth_type_trans(dev, packet.eth)
    if pkt_type is PktType.OTHERHOST:
        ns.world.tracer.drop(tid, ns.name, f"{packet.eth.dst if packet.eth else '?'} is not {dev.ifname}'s address",
              Disposition.NOT_FOR_US)
        return
    if packet.arp is not None:
        arp.arp_rcv(ns, dev, packet, tid)
        return
    if packet.ip is None:
        ns.world.tracer.drop(tid, ns.name, "not IPv4", Disposition.NOT_FOR_US)
        return
    skb = prerouted or Skb(packet=packet, indev=dev.ifname, pkt_type=pkt_type)
    if ct is not None and prerouted is None:
        skb = skb.evolve(ct=ct.conn, ctinfo=ct.info)
    ip_rcv(ns, dev, skb, tid, prerouted=prerouted is not None)


# -- IPv4 receive and forward -------------------------------------------------------------
def ip_rcv(ns: "NetNamespace", dev: Device, skb: Skb, tid: int, *, prerouted: bool = False) -> None:
    tracer = ns.world.tracer
    if not prerouted:
        if skb.packet.fragment is not None and ns.conntrack_active():
            # nf_defrag_ipv4 (priority -400, before raw and conntrack): rules see the datagram
            whole = defrag(ns, skb, tid, "conntrack")
            if whole is None:
                return
            skb = whole
        passed = nf_hook(ns, Hook.PRE_ROUTING, skb, tid)
        if passed is None:
            return
        skb = passed
    ip = skb.packet.ip
    assert ip is not None
    kind, route = route_input(ns, skb, dev)
    if tracer.recording:
        tracer.step(tid, RouteLookup(netns=ns.name, dst=ip_text(ip.dst), route=str(route) if route else None,
                                     result=str(kind)))
    match kind:
        case RouteInput.LOCAL | RouteInput.BROADCAST:
            # a broadcast destination is delivered locally too (ip_route_input_slow's brd_input):
            # INPUT runs, and each protocol decides what a broadcast gets (SocketTable.deliver)
            ip_local_deliver(ns, skb, tid)
        case RouteInput.FORWARDING_OFF:
            tracer.drop(tid, ns.name, f"{ip.dst} is not local and net.ipv4.ip_forward is 0 "
                        f"(forwarding on {dev.ifname} is off)", Disposition.NOT_FOR_US)
        case RouteInput.MARTIAN:
            tracer.drop(tid, ns.name, f"martian source {ip.src} (rp_filter or invalid source)", Disposition.DROPPED)
        case RouteInput.UNREACHABLE | RouteInput.PROHIBIT | RouteInput.BLACKHOLE | RouteInput.NO_ROUTE:
            code = _ROUTE_ERRORS.get(kind)
            tracer.drop(tid, ns.name, f"no usable route to {ip.dst} ({kind})", Disposition.NO_ROUTE)
            if code is not None and ns.fib.error_allowed(ip.src, ns.world.now):
                icmp_send(ns, skb, IcmpType.DEST_UNREACH, code, tid, reason=f"route: {kind}")
            elif code is not None:
                tracer.step(tid, Note(netns=ns.name, message=f"ip_error: no ICMP to {ip.src}, its token "
                                      "bucket is empty (1 s per error, refilled since its last error or redirect)"))
        case RouteInput.FORWARD:
            assert route is not None
            ip_forward(ns, skb, route, tid)
        case _:
            assert_never(kind)


_ROUTE_ERRORS = {RouteInput.UNREACHABLE: UnreachCode.HOST, RouteInput.PROHIBIT: UnreachCode.ADMIN_PROHIBITED,
                 RouteInput.NO_ROUTE: UnreachCode.NET}
"""ip_error's ICMP answer per route kind (a blackhole answers nothing)."""


def ip_forward(ns: "NetNamespace", skb: Skb, route: Route, tid: int) -> None:
    ip = skb.packet.ip
    assert ip is not None
    if ip.ttl <= 1:
        ns.world.tracer.drop(tid, ns.name, f"TTL {ip.ttl} would reach 0", Disposition.TTL_EXCEEDED)
        icmp_send(ns, skb, IcmpType.TIME_EXCEEDED, 0, tid, reason="TTL exceeded in transit")
        return
    mtu = pmtu.forward_mtu(ns, route) if ip.df else 0
    if ip.df and pmtu.exceeds_mtu(skb, mtu):
        # ip_forward: before the TTL decrement and the FORWARD hook (FORWARD never counts it)
        ns.world.tracer.drop(tid, ns.name, f"{skb.packet.length} bytes with DF set do not fit {route.dev}'s "
                             f"MTU {mtu}: fragmentation needed", Disposition.DROPPED)
        icmp_send(ns, skb, IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, tid, mtu=mtu,
                  reason=f"fragmentation needed (mtu {mtu})")
        return
    skb = skb.evolve(packet=skb.packet.with_ip(ttl=ip.ttl - 1), outdev=route.dev)
    if skb.indev == route.dev and redirect.wanted(ns, skb, route):
        # ip_forward: the redirect goes before the FORWARD hook (sent even if FORWARD drops)
        redirect.ip_rt_send_redirect(ns, skb, route, tid)
    passed = nf_hook(ns, Hook.FORWARD, skb, tid)
    if passed is None:
        return
    ip_output(ns, passed, route, tid)


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
        ns.world.tracer.drop(tid, ns.name, f"route device {route.dev} vanished", Disposition.LINK_DOWN)
        return
    nexthop = route.via if route.via is not None else ip.dst
    if not route.pmtu and not out.frag_max_size and out.packet.length <= dev.mtu:
        arp.neigh_output(ns, dev, nexthop, out, tid)  # fits (the common case: no learnt PMTU)
        return
    ip_finish_fragment(ns, out, dev, nexthop, pmtu.output_mtu(ns, out, route, dev), tid)


def ip_finish_fragment(ns: "NetNamespace", skb: Skb, dev: Device, nexthop: IPv4Address, mtu: int, tid: int) -> None:
    """ip_fragment: a datagram larger than ``mtu`` leaves in fragments, or, with DF, not at
    all (ICMP 3/4 to its source; a reassembled one leaves in pieces no larger than it came)."""
    pkt = skb.packet
    assert pkt.ip is not None
    if skb.frag_max_size and skb.frag_max_size < mtu:
        mtu = skb.frag_max_size  # ip_do_fragment keeps the original fragment boundaries
    if pkt.length <= mtu:
        arp.neigh_output(ns, dev, nexthop, skb, tid)
        return
    if pkt.ip.df:
        ns.world.tracer.drop(tid, ns.name, f"{pkt.length} bytes with DF set do not fit {dev.ifname}'s MTU {mtu}",
                             Disposition.DROPPED)
        icmp_send(ns, skb, IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, tid, mtu=mtu,
                  reason=f"fragmentation needed (mtu {mtu})")
        return
    ident = pkt.ip.id
    if not ident:
        ns.ip_id = ns.ip_id % 0xFFFF + 1
        ident = ns.ip_id
    pieces = ip_fragment(pkt, mtu, ident)
    ns.world.tracer.step(tid, Note(netns=ns.name, message=f"ip_fragment: {pkt.length} bytes > {dev.ifname}'s MTU "
                                   f"{mtu}: {len(pieces)} fragments of " + ", ".join(str(p.length) for p in pieces)
                                   + " bytes"))
    for piece in pieces:
        arp.neigh_output(ns, dev, nexthop, skb.evolve(packet=piece), tid)


def defrag(ns: "NetNamespace", skb: Skb, tid: int, user: str) -> Skb | None:
    """ip_defrag: queue a fragment; the reassembled datagram once its last piece arrived."""
    pkt = skb.packet
    assert pkt.ip is not None and pkt.fragment is not None
    done = ns.frags.add(pkt, ns.world.now, user)
    if done is None:
        ns.world.tracer.step(tid, Note(netns=ns.name, message=f"ip_defrag ({user}): fragment "
                                       f"{pkt.ip.frag_off}+{pkt.fragment.size} of id {pkt.ip.id} queued"))
        return None
    whole, max_size = done
    ns.world.tracer.step(tid, Note(netns=ns.name, message=f"ip_defrag ({user}): id {pkt.ip.id} reassembled, "
                                   f"{whole.length} bytes"))
    return skb.evolve(packet=whole, frag_max_size=max_size)


# -- local delivery and output ---------------------------------------------------------------
def ip_local_deliver(ns: "NetNamespace", skb: Skb, tid: int) -> None:
    if skb.packet.fragment is not None:
        whole = defrag(ns, skb, tid, "local")
        if whole is None:
            return
        skb = whole
    out = nf_hook(ns, Hook.LOCAL_IN, skb, tid)
    if out is None:
        return
    ns.sockets.deliver(out, tid)


def ip_local_out(ns: "NetNamespace", skb: Skb, route: Route, tid: int) -> str | None:
    """__ip_local_out: LOCAL_OUT (re-route when nat changed the destination), then ip_output.

    Returns the errno name when netfilter dropped the packet (the sender sees EPERM).
    """
    before = skb.packet.ip
    if not ns.ruleset.tables:  # no hook registered: nothing can drop, NAT or re-route it
        ip_output(ns, skb, route, tid)  # which sets outdev itself
        return None
    result = _netfilter(ns, Hook.LOCAL_OUT, skb.evolve(outdev=route.dev), tid)
    out = nf_hook_finish(ns, result, tid)
    if out is None:
        return result.errno or "EPERM"  # NF_DROP_ERR (the nat hook's failed re-route) or EPERM
    if out.packet.ip is not None and before is not None and out.packet.ip.dst != before.dst:
        try:  # the nat hook routed it already (nf_nat_ipv4_local_fn): this finds that route
            route = route_output(ns, out.packet.ip.dst, src=out.packet.ip.src, mark=out.mark)
        except SendError as err:
            ns.world.tracer.drop(tid, ns.name, f"re-route after DNAT: {err}", Disposition.NO_ROUTE)
            return err.errno_name
        ns.world.tracer.step(tid, RouteLookup(netns=ns.name, dst=str(out.packet.ip.dst), route=str(route),
                                              result="re-route after nat"))
    ip_output(ns, out, route, tid)
    return None


def send_ip(ns: "NetNamespace", packet: Packet, tid: int, *, oif: str | None = None, mark: int = 0,
            ct: CtRef | None = None, pmtudisc: "pmtu.PmtuDisc | None" = None) -> str | None:
    """Route and send a locally generated datagram; returns an errno name on local failure.

    ``pmtudisc``: the socket's IP_MTU_DISCOVER mode, which decides DF against the route's
    path MTU (ip_append_data, __ip_make_skb); None sends the packet's DF as it is.
    """
    ip = packet.ip
    assert ip is not None
    try:
        route = route_output(ns, ip.dst, src=ip.src, oif=oif, mark=mark)
    except SendError as err:
        ns.world.tracer.step(tid, RouteLookup(netns=ns.name, dst=str(ip.dst), route=None, result=str(err)))
        ns.world.tracer.drop(tid, ns.name, f"no route to {ip.dst}: {err}", Disposition.NO_ROUTE)
        return err.errno_name
    if ns.world.tracer.recording:
        ns.world.tracer.step(tid, RouteLookup(netns=ns.name, dst=ip_text(ip.dst), route=str(route), result="output"))
    if pmtudisc is not None:
        sized = pmtu.set_df(ns, packet, route, pmtudisc)
        if sized is None:
            mtu = pmtu.route_mtu(ns, route)
            ns.world.tracer.drop(tid, ns.name, f"message too long: {packet.length} bytes, mtu={mtu} "
                                 f"(IP_PMTUDISC_{pmtudisc.name})", Disposition.DROPPED)
            return "EMSGSIZE"
        packet = sized
    skb = Skb(packet=packet, mark=mark)
    if ct is not None:
        skb = skb.evolve(ct=ct.conn, ctinfo=ct.info)
    failed = ip_local_out(ns, skb, route, tid)
    if failed is None and ns.world.xmit_dropped == tid:
        return "ENOBUFS"  # the driver refused it while sendmsg was still on the stack
    return failed


def icmp_send(ns: "NetNamespace", skb: Skb, type_: int, code: int, tid: int, *, reason: str,
              src: IPv4Address | None = None, gateway: IPv4Address | None = None, mtu: int | None = None) -> None:
    """icmp_send: answer an offending datagram with an ICMP error, from this namespace.

    Never about an ICMP error, a broadcast or a non-initial fragment (RFC 1122).
    """
    ip = skb.packet.ip
    if ip is None or ip.frag_off:
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
                  l4=Icmp(type=type_, code=code, quoted=quoted, gateway=gateway, mtu=mtu))
    ns.world.tracer.step(tid, IcmpSent(netns=ns.name, type=type_, code=code, to=str(ip.src), reason=reason))
    etid = ns.world.tracer.new(icmp, ns.name, caused_by=tid)
    ct = None
    if skb.ct is not None:
        ct = CtRef(skb.ct, CtInfo(CtState.RELATED, CtDir.REPLY if skb.ctinfo and skb.ctinfo.direction is CtDir.ORIGINAL
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
        ct = CtRef(skb.ct, CtInfo(CtState.RELATED, CtDir.REPLY if skb.ctinfo and
                             skb.ctinfo.direction is CtDir.ORIGINAL else CtDir.ORIGINAL))
        # nf_send_reset: nf_ct_set_closing(), the segment's entry is closing now
        ns.conntrack.set_closing(skb.ct)
    send_ip(ns, rst, rtid, ct=ct)
