"""Path MTU: which MTU a datagram must fit, when DF is set, and what an ICMP "fragmentation
needed" teaches the sender.

Kernel: net/ipv4/ip_output.c (``__ip_make_skb`` sets DF per the socket's IP_MTU_DISCOVER mode,
``ip_append_data`` refuses with EMSGSIZE what IP_PMTUDISC_DO cannot send whole), route.c
(``ipv4_mtu``: a next-hop exception's PMTU, else the device's MTU; ``__ip_rt_update_pmtu``),
include/net/ip.h (``ip_dst_mtu_maybe_forward``: a router forwards by the device's MTU, not a
learnt PMTU, unless ``ip_forward_use_pmtu``), ip_forward.c (``ip_exceeds_mtu``) and icmp.c
(``icmp_unreach``: ``ip_no_pmtu_disc`` 0 takes the ICMP's MTU, 1 takes none so the PMTU
drops to ``min_pmtu``, 2 and 3 drop the ICMP before any socket sees it).

Seen on Linux 6.18: a frag-needed (mtu 1400) from a router makes ``ip route get`` print
``cache expires 599sec mtu 1400`` at once; ping's default mode (want) then fragments to 1400,
``-M do`` fails locally with "ping: local error: message too long, mtu=1400".
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from simnet.packet import Icmp, Packet, Tcp, Udp

if TYPE_CHECKING:
    from simnet.link import Device
    from simnet.netns import NetNamespace
    from simnet.routing import Route
    from simnet.skb import Skb

__all__ = ["PmtuDisc", "default_pmtudisc", "route_mtu", "forward_mtu", "output_mtu", "exceeds_mtu", "set_df",
           "frag_needed"]


class PmtuDisc(enum.IntEnum):
    """IP_MTU_DISCOVER's values (``ping -M dont|want|do|probe``)."""

    DONT = 0
    WANT = 1
    DO = 2
    PROBE = 3

    @classmethod
    def parse(cls, word: str) -> "PmtuDisc":
        """ping's ``-M`` word (ValueError for another)."""
        return {"dont": cls.DONT, "want": cls.WANT, "do": cls.DO, "probe": cls.PROBE}[word]


def default_pmtudisc(ns: "NetNamespace") -> PmtuDisc:
    """inet_create: a new socket wants PMTU discovery unless ``ip_no_pmtu_disc`` is set."""
    return PmtuDisc.DONT if ns.sysctls.get_int("net.ipv4.ip_no_pmtu_disc") else PmtuDisc.WANT


def _dev_mtu(ns: "NetNamespace", route: "Route") -> int:
    dev = ns.devices.get(route.dev) if route.dev is not None else None
    return dev.mtu if dev is not None else 1500


def route_mtu(ns: "NetNamespace", route: "Route") -> int:
    """ipv4_mtu: the learnt path MTU bound to the route, else its device's MTU."""
    return route.pmtu or _dev_mtu(ns, route)


def forward_mtu(ns: "NetNamespace", route: "Route") -> int:
    """ip_dst_mtu_maybe_forward(forwarding=true): the device's MTU; a learnt PMTU only with
    ``ip_forward_use_pmtu`` or when it is locked."""
    if route.pmtu and (route.pmtu_locked or ns.sysctls.get_int("net.ipv4.ip_forward_use_pmtu")):
        return route.pmtu
    return _dev_mtu(ns, route)


def output_mtu(ns: "NetNamespace", skb: "Skb", route: "Route", dev: "Device") -> int:
    """ip_skb_dst_mtu: forwarded datagrams by :func:`forward_mtu`, local ones by the path MTU."""
    if route.dev != dev.ifname:
        return dev.mtu
    return forward_mtu(ns, route) if skb.indev is not None else route_mtu(ns, route)


def exceeds_mtu(skb: "Skb", mtu: int) -> bool:
    """ip_exceeds_mtu: too long for ``mtu`` with DF set (a reassembled datagram by its largest
    fragment)."""
    pkt = skb.packet
    assert pkt.ip is not None
    if pkt.length <= mtu or not pkt.ip.df:
        return False
    return True


def set_df(ns: "NetNamespace", pkt: Packet, route: "Route", mode: PmtuDisc) -> Packet | None:
    """__ip_make_skb's DF for a socket in ``mode``; None when ip_append_data refuses (EMSGSIZE).

    do: DF, and nothing larger than the path MTU; probe: DF, up to the device's MTU; want: DF
    when the datagram fits the path MTU and that MTU is not locked, else it is fragmented;
    dont: never DF.
    """
    assert pkt.ip is not None
    if mode is PmtuDisc.DONT:
        df = False
    elif mode is PmtuDisc.WANT:
        df = pkt.length <= route_mtu(ns, route) and not route.pmtu_locked
    else:
        mtu = _dev_mtu(ns, route) if mode is PmtuDisc.PROBE else route_mtu(ns, route)
        if pkt.length > mtu:
            return None
        df = True
    return pkt if pkt.ip.df == df else pkt.with_ip(df=df)


def frag_needed(ns: "NetNamespace", skb: "Skb", tid: int) -> str | None:
    """icmp_unreach for ICMP 3/4, then the quoted protocol's ``ipv4_update_pmtu``: learn the
    next hop's MTU for the quoted destination. Returns why the ICMP goes no further (no socket
    sees it), or None when sockets get it (whether or not a PMTU was learnt)."""
    from simnet.datapath import SendError
    from simnet.trace import Note

    icmp = skb.packet.l4
    assert isinstance(icmp, Icmp)
    q = icmp.quoted
    if q is None or q.ip is None:
        return "malformed"
    mode = ns.sysctls.get_int("net.ipv4.ip_no_pmtu_disc")
    if mode in (2, 3):
        # mode 3 accepts it only for protocols that validate a tag (none simnet models)
        return f"net.ipv4.ip_no_pmtu_disc = {mode}: fragmentation-needed ignored"
    mtu = (icmp.mtu or 0) if mode == 0 else 0
    if isinstance(q.l4, (Tcp, Udp)) and not ns.sockets.owns_quote(q):
        return None  # tcp_v4_err / __udp4_lib_err find no socket: no PMTU update
    route = ns.fib.lookup(q.ip.dst, src=q.ip.src, usable=ns.route_usable)
    if route is None:
        return None
    try:
        from simnet.datapath import route_output

        bound = route_output(ns, q.ip.dst, src=q.ip.src)
    except SendError:
        return None
    why = _update_pmtu(ns, route, bound, q.ip.dst, mtu)
    ns.world.tracer.step(tid, Note(netns=ns.name, message=why))
    return None


def _update_pmtu(ns: "NetNamespace", route: "Route", bound: "Route", dst: object, mtu: int) -> str:
    """__ip_rt_update_pmtu on the route to ``dst`` (``bound``: with its exception applied)."""
    from ipaddress import IPv4Address

    assert isinstance(dst, IPv4Address)
    now = ns.world.now
    if bound.pmtu_locked:
        return f"pmtu: {dst}'s path MTU is locked at {bound.pmtu}: frag-needed ignored"
    old = route_mtu(ns, bound)
    if old < mtu:
        return f"pmtu: mtu {mtu} is above {dst}'s path MTU {old}: ignored"
    lock = False
    min_pmtu = ns.sysctls.get_int("net.ipv4.route.min_pmtu")
    if mtu < min_pmtu:
        lock, mtu = True, min(old, min_pmtu)
    expires = float(ns.sysctls.get_int("net.ipv4.route.mtu_expires"))
    exc = ns.fib.exceptions.get((route, dst))
    if exc is not None and exc.pmtu == mtu and not lock and now < exc.expires - expires / 2:
        return f"pmtu: {dst}'s path MTU is {mtu} already"
    ns.fib.learn_pmtu(route, dst, mtu, lock, now, expires)
    return f"pmtu: learns path MTU {'lock ' if lock else ''}{mtu} for {dst} (expires in {expires:g} s)"
