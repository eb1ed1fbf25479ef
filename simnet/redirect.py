"""ICMP redirects: a router that forwards a packet back out of the device it came in on tells the
sender of the better next hop, and the sender may learn it as a next-hop exception.

Kernel: net/ipv4/route.c (``__mkroute_input`` sets IPSKB_DOREDIRECT, ``ip_forward`` calls
``ip_rt_send_redirect`` before the FORWARD hook, ``__ip_do_redirect`` accepts one), icmp.c
(``icmp_redirect`` hands it to the quoted protocol's error handler). What a Linux 6.18
namespace does with the sysctls the kernel runner pins (send/accept/secure_redirects=1,
shared_media=1) was read off the kernel: the redirect is sent even when FORWARD then drops the
packet; ``conf.all.send_redirects=0`` alone does not stop it (``IN_DEV_TX_REDIRECTS`` ORs all
with the device); the sender learns the gateway only once it has a valid neighbour entry for it
(the first redirect usually starts ARP, the second is learnt); a forwarding namespace ignores
redirects (turning ip_forward on turns ``conf.all.accept_redirects`` off, and
``IN_DEV_RX_REDIRECTS`` ANDs them there).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from simnet import arp, datapath
from simnet.netfilter.context import AddrType
from simnet.packet import Icmp, IcmpType, Tcp, Udp
from simnet.routing import REDIRECT_LOAD, REDIRECT_NUMBER, REDIRECT_SILENCE, Route, RouteType
from simnet.trace import ExceptionLearnt, Note, RedirectDecision

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.skb import Skb

REDIR_HOST = 1
"""ICMP_REDIR_HOST: the only code Linux sends."""


def wanted(ns: "NetNamespace", skb: "Skb", route: Route) -> bool:
    """__mkroute_input's IPSKB_DOREDIRECT: out device == in device, send_redirects on it, and
    the source directly connected there (fib_validate_source's positive answer) and on-link
    with the gateway, or the device is shared media (the default)."""
    ip = skb.packet.ip
    dev = route.dev
    if ip is None or dev is None or skb.indev != dev or not ns.sysctls.conf(dev, "send_redirects"):
        return False
    if not _source_directly_connected(ns, ip.src, ip.dst, dev):
        return False
    return bool(ns.sysctls.conf(dev, "shared_media")) or _on_link(ns, dev, ip.src, route.via)


def _source_directly_connected(ns: "NetNamespace", src: IPv4Address, dst: IPv4Address, dev: str) -> bool:
    """__fib_validate_source's return value: the way back to ``src`` is a route without a
    gateway (next-hop scope host) through ``dev``: the plain lookup when it uses ``dev``, else
    (rp_filter not strict) a lookup bound to ``dev``."""
    back = ns.fib.lookup(src, src=dst, iif=dev, usable=ns.route_usable)
    if back is None or back.type is not RouteType.UNICAST:
        return False
    if back.dev == dev:
        return back.via is None
    back = ns.fib.lookup(src, src=dst, iif=dev, oif=dev, usable=ns.route_usable)
    return back is not None and back.type is RouteType.UNICAST and back.dev == dev and back.via is None


def _on_link(ns: "NetNamespace", dev: str, a: IPv4Address, b: IPv4Address | None) -> bool:
    """inet_addr_onlink: one subnet of ``dev`` holds ``a`` and (when given) ``b``."""
    return any(x.dev == dev and a in x.interface.network and (b is None or b in x.interface.network)
               for x in ns.addrs)


def ip_rt_send_redirect(ns: "NetNamespace", skb: "Skb", route: Route, tid: int) -> None:
    """Send a host redirect (the gateway: this route's next hop) to the packet's source, unless
    the per-peer backoff holds it back: the first at once, then only after 20 ms << the number
    already sent, none after 9 until the peer has been quiet for 20.48 s."""
    ip = skb.packet.ip
    assert ip is not None
    gateway = route.via if route.via is not None else ip.dst  # rt_nexthop
    now = ns.world.now
    peer = ns.fib.peer(ip.src, now)
    if now > peer.rate_last + REDIRECT_SILENCE:
        peer.n_redirects = 0

    def decide(sent: bool, reason: str) -> None:
        ns.world.tracer.step(tid, RedirectDecision(netns=ns.name, to=str(ip.src), dst=str(ip.dst),
                                                   gateway=str(gateway), sent=sent, reason=reason))

    if peer.n_redirects >= REDIRECT_NUMBER:
        peer.rate_last = now
        decide(False, f"{ip.src} ignored {REDIRECT_NUMBER} redirects: none until it is quiet for "
                      f"{REDIRECT_SILENCE:g} s")
        return
    gap = REDIRECT_LOAD * (1 << peer.n_redirects)
    if peer.n_redirects and not now - peer.rate_last > gap + 1e-9:
        decide(False, f"backoff: redirect {peer.n_redirects + 1} to {ip.src} waits {gap * 1000:g} ms "
                      "after the last one")
        return
    decide(True, f"{ip.dst} leaves {route.dev}, where it came in")
    peer.rate_last = now
    peer.n_redirects += 1
    datapath.icmp_send(ns, skb, IcmpType.REDIRECT, REDIR_HOST, tid, gateway=gateway,
              reason=f"redirect: {ip.dst} is reachable via {gateway} on {route.dev}")


def icmp_redirect(ns: "NetNamespace", skb: "Skb", tid: int) -> str:
    """icmp_redirect: a redirect reached this host's ICMP layer; returns what took it.

    icmp_socket_deliver hands it to the quoted protocol's error handler: ICMP's
    (``icmp_err`` -> ``ipv4_redirect``) always acts, TCP's and UDP's only for a socket of
    theirs. No socket is told (ping, TCP and UDP ignore redirects but for the route).
    """
    icmp = skb.packet.l4
    assert isinstance(icmp, Icmp)
    q = icmp.quoted
    if q is None or q.ip is None or icmp.gateway is None or skb.indev is None:
        return "kernel: icmp redirect (malformed, ignored)"
    if isinstance(q.l4, (Tcp, Udp)) and not ns.sockets.owns_quote(q):
        return "kernel: icmp redirect (no socket sent the quoted datagram: ignored)"
    why = _do_redirect(ns, skb, tid)
    if why is not None:
        ns.world.tracer.step(tid, Note(netns=ns.name, message=f"redirect ignored: {why}"))
        return "kernel: icmp redirect (ignored)"
    return "kernel: icmp redirect"


def _do_redirect(ns: "NetNamespace", skb: "Skb", tid: int) -> str | None:
    """__ip_do_redirect: learn the new gateway for the quoted destination; why not, or None."""
    ip, icmp = skb.packet.ip, skb.packet.l4
    assert ip is not None and isinstance(icmp, Icmp) and icmp.quoted is not None
    q = icmp.quoted.ip
    assert q is not None and icmp.gateway is not None and skb.indev is not None
    if icmp.code & 7 > 3:
        return f"code {icmp.code} is not a redirect code"
    try:
        # the route this host uses for the quoted datagram, exceptions included
        route = datapath.route_output(ns, q.dst, src=q.src)
    except datapath.SendError:
        return f"no route to {q.dst}"
    old_gw, new_gw, dev = ip.src, icmp.gateway, skb.indev
    if route.type is not RouteType.UNICAST or route.via != old_gw:
        return f"it comes from {old_gw}, which is not the gateway to {q.dst}"
    if new_gw == old_gw or not ns.sysctls.conf(dev, "accept_redirects"):
        return f"accept_redirects is off on {dev}" if new_gw != old_gw else "the new gateway is the old one"
    if new_gw.is_multicast or int(new_gw) == 0xFFFFFFFF or int(new_gw) >> 24 == 0:
        return f"{new_gw} cannot be a gateway"
    if not ns.sysctls.conf(dev, "shared_media"):
        if not _on_link(ns, dev, new_gw, old_gw):
            return f"{new_gw} is not on-link with {old_gw} on {dev}"
        if ns.sysctls.conf(dev, "secure_redirects") and not any(
                r.via == new_gw and r.dev == dev for entries in ns.fib.tables.values() for r in entries):
            # ip_fib_check_default: only a gateway some route already uses on this device
            return f"secure_redirects: {new_gw} is no gateway of a route on {dev}"
    elif ns.addr_type(new_gw) is not AddrType.UNICAST:
        return f"{new_gw} is not a unicast address here"
    assert route.dev is not None
    out = ns.devices.get(route.dev)
    if out is None:
        return f"{route.dev} vanished"
    if ns.neigh.usable(new_gw, route.dev, ns.world.now) is None:
        # neigh_event_send: resolve the new gateway first; the redirect itself is not learnt
        entry = ns.neigh.get(new_gw, route.dev)
        if entry is None or entry.state is arp.NudState.FAILED:
            entry = ns.neigh.create(new_gw, route.dev, ns.world.now)
            arp.arp_solicit(ns, out, new_gw, None, entry)
        return f"no valid neighbour entry for {new_gw} yet (ARP started)"
    fib_route = ns.fib.lookup(q.dst, src=q.src, usable=ns.route_usable)
    if fib_route is None:
        return f"no route to {q.dst}"
    exc = ns.fib.learn_exception(fib_route, q.dst, new_gw, ns.world.now)
    ns.world.tracer.step(tid, ExceptionLearnt(netns=ns.name, dst=str(q.dst), gateway=str(new_gw),
                                              dev=route.dev, old_gateway=str(old_gw), expires=exc.expires))
    return None
