"""NAT: choosing a binding for a new connection and applying it to every packet.

Kernel: nf_nat_core.c.  The nat table is consulted only for the first packet
of a connection, once per manip type (destination at PRE_ROUTING/LOCAL_OUT,
source at POST_ROUTING/LOCAL_IN); the result (a new reply tuple, or the null
binding when no rule matched) is stored on the conntrack entry.
``nf_nat_packet`` then rewrites every packet of the connection from the
entry, in both directions; ICMP errors have their quoted header rewritten
too (``nf_nat_icmp_reply_translation``).
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from simnet.link import Scope
from simnet.netfilter import targets as T
from simnet.netfilter.conntrack import Conn, CtDir, CtStatus, CtTuple
from simnet.packet import Icmp, Packet, Tcp, Udp
from simnet.routing import select_source
from simnet.trace import FieldDiff

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.skb import Skb

class Manip(Enum):
    """``enum nf_nat_manip_type``: which end of the tuple a NAT binding rewrites."""

    SRC = "src"
    DST = "dst"


SRC, DST = Manip.SRC, Manip.DST


def _with(t: CtTuple, **kw: Any) -> CtTuple:
    return replace(t, **kw)


def bind(ns: "NetNamespace", conn: Conn, manip: Manip, target: Any, skb: "Skb") -> bool:
    """Set up the binding a NAT target asks for; False when no address can be had."""
    cur = conn.reply.inverted()  # the original tuple as it will look after earlier manips
    proto = cur.proto
    if isinstance(target, T.Netmap):  # netmap_tg4: one address, mapped from the tuple's own
        target = (T.Dnat(ranges=(target.mapped(cur.dst),)) if manip is DST
                  else T.Snat(ranges=(target.mapped(cur.src),)))
    if manip is DST:
        if isinstance(target, T.Redirect):
            if skb.indev is None:
                addr: IPv4Address | None = IPv4Address("127.0.0.1")
            else:
                addr = select_source(ns.addrs, skb.indev, cur.src, Scope.GLOBAL) if any(
                    a.dev == skb.indev for a in ns.addrs) else None
            if addr is None:
                return False
            port = _pick_port(target.min_port, target.max_port, cur.dport) if proto in (6, 17) else cur.dport
            new = _with(cur, dst=addr, dport=port)
        else:
            rng = _choose_range(ns, target.ranges, cur)
            addr = rng.min_ip or cur.dst
            if rng.max_ip is not None and rng.min_ip is not None and rng.max_ip > rng.min_ip:
                span = int(rng.max_ip) - int(rng.min_ip) + 1
                addr = IPv4Address(int(rng.min_ip) + _hash(cur) % span)
            new = _with(cur, dst=addr)
            if proto in (6, 17) and rng.min_port is not None:
                new = _unique_dest_port(ns, conn, new, rng.min_port, rng.max_port, rng.base_port)
        if new != cur:
            conn.status |= CtStatus.DST_NAT
        ns.conntrack.rehash(conn, new.inverted())
        return True
    # source NAT
    if isinstance(target, T.Masquerade):
        # nf_nat_masquerade_ipv4: inet_select_addr(out, rt_nexthop(rt, daddr)): a primary address
        # of the device in the gateway's subnet (not the route's src, not a secondary)
        outdev = skb.outdev
        towards = skb.gateway if skb.gateway is not None else cur.dst
        addr = select_source(ns.addrs, outdev, towards, Scope.GLOBAL) if outdev else None
        if addr is None or not any(a.dev == outdev for a in ns.addrs):
            return False
        lo, hi, base = target.min_port, target.max_port, target.base_port
        fully = target.random_fully
        conn.masq_dev = outdev
    else:
        rng = _choose_range(ns, target.ranges, cur)
        addr = rng.min_ip or cur.src
        if rng.max_ip is not None and rng.min_ip is not None and rng.max_ip > rng.min_ip:
            span = int(rng.max_ip) - int(rng.min_ip) + 1
            addr = IPv4Address(int(rng.min_ip) + _hash(cur) % span)
        lo, hi, base = rng.min_port, rng.max_port, rng.base_port
        fully = target.random_fully
    new = _with(cur, src=addr)
    if proto in (6, 17, 1):
        new = _unique_source_port(ns, conn, new, lo, hi, fully, base)
    if new != cur:
        conn.status |= CtStatus.SRC_NAT
    ns.conntrack.rehash(conn, new.inverted())
    return True


def _choose_range(ns: "NetNamespace", ranges: tuple[Any, ...], cur: CtTuple) -> Any:
    return ranges[_hash(cur) % len(ranges)] if len(ranges) > 1 else ranges[0]


def _hash(t: CtTuple) -> int:
    # deterministic stand-in for the kernel's jhash-based choice
    return (int(t.src) * 31 + int(t.dst) * 17 + t.sport * 7 + t.dport) & 0x7FFFFFFF


def _pick_port(lo: int | None, hi: int | None, default: int) -> int:
    if lo is None:
        return default
    return lo


def _unique_dest_port(ns: "NetNamespace", conn: Conn, new: CtTuple, lo: int, hi: int | None,
                      base: int | None) -> CtTuple:
    """get_unique_tuple for DNAT's ports: a port already in range stays if the tuple is free (or
    the range is one port); otherwise nf_nat_l4proto_unique_tuple walks the range from its start
    (offset 0) or, port-shifted, from the port's offset from the base, to the first free tuple."""
    hi = hi if hi is not None else lo
    port = new.dport
    if base is None and lo <= port <= hi and (lo == hi or not ns.conntrack.tuple_taken(new.inverted(), conn)):
        return new
    span = hi - lo + 1
    start = (port - base) & 0xFFFF if base is not None else 0
    for i in range(min(span, 128)):  # NF_NAT_MAX_ATTEMPTS
        candidate = _with(new, dport=lo + (start + i) % span)
        if not ns.conntrack.tuple_taken(candidate.inverted(), conn):
            return candidate
    return _with(new, dport=lo + start % span)


def _shifted(port: int, lo: int, hi: int | None, base: int) -> int:
    """NF_NAT_RANGE_PROTO_OFFSET: the port's offset from the base, into [lo, hi] (a u16 offset)."""
    span = (hi if hi is not None else lo) - lo + 1
    return lo + ((port - base) & 0xFFFF) % span


def _unique_source_port(ns: "NetNamespace", conn: Conn, new: CtTuple, lo: int | None, hi: int | None,
                        fully: bool, base: int | None = None) -> CtTuple:
    """nf_nat_l4proto_unique_tuple: keep the source port unless it clashes or is out of range;
    a port-shifted range (``base``) always maps by the port's offset from the base."""
    port = new.sport
    in_range = lo is None or (lo <= port <= (hi or lo))
    if base is not None and lo is not None and new.proto != 1:
        span = (hi or lo) - lo + 1
        start = (port - base) & 0xFFFF
        for i in range(span):
            candidate = _with(new, sport=lo + (start + i) % span)
            if not ns.conntrack.tuple_taken(candidate.inverted(), conn):
                return candidate
        return new
    if in_range and not fully and not ns.conntrack.tuple_taken(new.inverted(), conn):
        return new
    if lo is None:
        # keep the port's class: <512, 512-1023, >=1024 (nf_nat_l4proto_unique_tuple)
        lo, hi = (1, 511) if port < 512 else (600, 1023) if port < 1024 else (1024, 65535)
    hi = hi or lo
    span = hi - lo + 1
    start = ns.world.rng.randrange(span) if fully else (port - lo) % span
    for i in range(span):
        candidate = _with(new, sport=lo + (start + i) % span)
        if not ns.conntrack.tuple_taken(candidate.inverted(), conn):
            return candidate
    return new


def nat_packet(conn: Conn, direction: CtDir, manip: Manip, pkt: Packet) -> tuple[Packet, tuple[FieldDiff, ...]]:
    """nf_nat_packet: rewrite one packet of a NATed connection for one manip type."""
    statusbit = CtStatus.SRC_NAT if manip is SRC else CtStatus.DST_NAT
    if direction is CtDir.REPLY:
        statusbit = CtStatus.DST_NAT if manip is SRC else CtStatus.SRC_NAT
    if not conn.status & statusbit:
        return pkt, ()
    other = conn.reply if direction is CtDir.ORIGINAL else conn.orig
    target = other.inverted()
    if isinstance(pkt.l4, Icmp) and pkt.l4.is_error:
        return _icmp_error(conn, direction, manip, pkt, target)
    return _manip(pkt, manip, target)


def _manip(pkt: Packet, manip: Manip, target: CtTuple) -> tuple[Packet, tuple[FieldDiff, ...]]:
    ip = pkt.ip
    assert ip is not None
    diffs: list[FieldDiff] = []
    if manip is DST:
        addr, port = target.dst, target.dport
        old_addr, old_port = ip.dst, pkt.dport
    else:
        addr, port = target.src, target.sport
        old_addr, old_port = ip.src, pkt.sport
    if addr != old_addr:
        pkt = pkt.with_ip(**{manip.value: addr})
        diffs.append(FieldDiff(field=manip.value, old=str(old_addr), new=str(addr)))
    if isinstance(pkt.l4, (Tcp, Udp)) and old_port is not None and port != old_port:
        pkt = pkt.with_l4(**{"dport" if manip is DST else "sport": port})
        diffs.append(FieldDiff(field="dport" if manip is DST else "sport", old=str(old_port), new=str(port)))
    if isinstance(pkt.l4, Icmp) and not pkt.l4.is_error and manip is SRC and pkt.l4.id != target.sport:
        diffs.append(FieldDiff(field="icmp id", old=str(pkt.l4.id), new=str(target.sport)))
        pkt = pkt.with_l4(id=target.sport)
    return pkt, tuple(diffs)


def _icmp_error(conn: Conn, direction: CtDir, manip: Manip, pkt: Packet, target: CtTuple
                ) -> tuple[Packet, tuple[FieldDiff, ...]]:
    """nf_nat_icmp_reply_translation: the quoted header with the opposite manip, then the outer one."""
    icmp = pkt.l4
    assert isinstance(icmp, Icmp) and icmp.quoted is not None
    inner_target = conn.reply if direction is CtDir.ORIGINAL else conn.orig
    inner, inner_diffs = _manip(icmp.quoted, SRC if manip is DST else DST, inner_target)
    pkt = replace(pkt, l4=replace(icmp, quoted=inner))
    outer_target = CtTuple(target.src, target.dst, 1, 0, 0)
    pkt, outer_diffs = _manip(pkt, manip, outer_target)
    return pkt, outer_diffs + tuple(FieldDiff(field="quoted " + d.field, old=d.old, new=d.new) for d in inner_diffs)
