"""TCP segment sizes: the MSS a SYN advertises and the largest segment each side sends.

Kernel: net/ipv4/route.c (ipv4_mtu, ipv4_default_advmss), include/net/dst.h
(dst_metric_advmss), net/ipv4/tcp_output.c (tcp_advertise_mss, __tcp_mtu_to_mss,
tcp_sync_mss), net/ipv4/tcp_input.c (tcp_parse_options: an MSS option of 0 is ignored and
RFC 1122's 536 stays). Checked on 6.18 with ``ss -tin`` (``mss``/``advmss``/``pmtu``) and
``-m tcpmss`` counters: a route ``advmss 1200`` makes the SYN carry 1200; a peer behind a
1400-byte device answers 1360; with timestamps each data segment carries 12 bytes less.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ipaddress import IPv4Address

    from simnet.netns import NetNamespace
    from simnet.routing import Route

IP_MAX_MTU = 0xFFFF
TCPIP_HEADERS = 40
"""sizeof(struct iphdr) + sizeof(struct tcphdr): MTU minus this is an MSS (no options)."""
IPV4_MAX_ADVMSS = IP_MAX_MTU - TCPIP_HEADERS
"""65495: ipv4_default_advmss's ceiling (loopback's 65536-byte MTU advertises this)."""
IP_RT_MIN_ADVMSS = 256
"""net.ipv4.route.min_adv_mss: the floor of an MSS derived from a small MTU."""
TCP_MSS_DEFAULT = 536
"""RFC 1122: the MSS assumed when a SYN carried none (or an MSS of 0)."""
TCP_MIN_SND_MSS = 48
"""__tcp_mtu_to_mss's floor for the send MSS."""
TCP_TS_LEN = 12
"""NOP NOP TIMESTAMP: what every segment after a handshake that agreed on timestamps carries."""


def route_mtu(ns: "NetNamespace", route: "Route") -> int:
    """ipv4_mtu: the route's learnt path MTU, else its device's MTU (:func:`simnet.pmtu.route_mtu`)."""
    from simnet.pmtu import route_mtu as ipv4_mtu

    return min(ipv4_mtu(ns, route), IP_MAX_MTU)


def advertised_mss(ns: "NetNamespace", route: "Route") -> int:
    """dst_metric_advmss: the route's ``advmss`` metric, else its MTU less 40 (at least 256, at
    most 65495): the MSS option of a SYN or SYN-ACK sent by this route."""
    if route.advmss:
        return route.advmss
    return min(max(route_mtu(ns, route) - TCPIP_HEADERS, IP_RT_MIN_ADVMSS), IPV4_MAX_ADVMSS)


def received_mss(option: int | None) -> int:
    """tcp_parse_options: the peer's MSS clamp; a SYN without the option, or with 0, gives 536."""
    return option if option else TCP_MSS_DEFAULT


def send_mss(pmtu: int, peer_mss: int, *, timestamps: bool) -> int:
    """tcp_mtu_to_mss: payload bytes per segment for a path MTU and the peer's MSS.

    The path MTU less 40, no more than the peer's MSS, then less the options every segment
    carries (12 with timestamps), at least 48 before the options.

    >>> send_mss(1500, 1460, timestamps=True), send_mss(1500, 1000, timestamps=True)
    (1448, 988)
    >>> send_mss(1400, 1460, timestamps=False), send_mss(1500, 536, timestamps=True)
    (1360, 524)
    """
    return max(min(pmtu - TCPIP_HEADERS, peer_mss), TCP_MIN_SND_MSS) - (TCP_TS_LEN if timestamps else 0)


def route_mss(ns: "NetNamespace", dst: "IPv4Address", src: "IPv4Address | None" = None) -> int:
    """The MSS a SYN (or SYN-ACK) from this namespace to ``dst`` advertises: the output route's
    (tcp_connect_init, tcp_make_synack); 1460 when there is no route (nothing is sent then)."""
    from simnet.datapath import SendError, route_output

    try:
        route = route_output(ns, dst, src=src)
    except SendError:
        return 1500 - TCPIP_HEADERS
    return advertised_mss(ns, route)
