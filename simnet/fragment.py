"""IPv4 fragmentation and reassembly: a datagram larger than the next hop's MTU leaves as
fragments, and a host puts them back together before anything that needs the whole datagram.

Kernel: net/ipv4/ip_output.c (``ip_fragment``/``ip_do_fragment``: every fragment but the last
carries ``(mtu - 20) & ~7`` data bytes and MF; the first keeps the L4 header), ip_fragment.c
(``ip_defrag``: a queue per (source, destination, protocol, id), complete once the last
fragment and every byte before it arrived), netfilter/nf_defrag_ipv4.c (reassembly before
conntrack at PREROUTING/OUTPUT, so rules see whole datagrams) and ip_input.c
(``ip_local_deliver`` reassembles before LOCAL_IN).  Seen on Linux 6.18: a 1500-byte echo
request on a 1400-byte link leaves as 1396 + 124 bytes; a forwarding namespace without
conntrack counts the 124-byte pieces in ``-f`` rules, the receiver's INPUT counts one
1500-byte datagram.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from simnet.packet import Fragment, Packet

__all__ = ["IP_HEADER", "ip_fragment", "FragQueue", "Reassembly"]

IP_HEADER = 20
"""Simnet's IPv4 headers carry no options."""


def _datagram(pkt: Packet) -> tuple[Packet, int, int, bool]:
    """(the whole datagram, first data byte, data bytes, MF of the piece) of a packet or fragment."""
    assert pkt.ip is not None
    if pkt.fragment is None:
        return pkt, 0, pkt.length - IP_HEADER, False
    return pkt.fragment.whole, pkt.ip.frag_off, pkt.fragment.size, pkt.ip.mf


def ip_fragment(pkt: Packet, mtu: int, ident: int) -> list[Packet]:
    """ip_do_fragment: ``pkt`` (a datagram, or a fragment being fragmented again) as the pieces
    that fit ``mtu``; each but the last carries a multiple of 8 data bytes and MF.

    ``ident`` is the IP id every piece carries (the datagram's own when it has one).

    >>> from ipaddress import IPv4Address as A
    >>> from simnet.packet import IPv4, Icmp
    >>> echo = Packet(ip=IPv4(src=A("10.0.0.1"), dst=A("10.0.0.2"), proto=1), l4=Icmp(type=8),
    ...               payload=bytes(1472))
    >>> [(f.length, f.ip.frag_off, f.ip.mf) for f in ip_fragment(echo, 1400, 7)]
    [(1396, 0, True), (124, 1376, False)]
    """
    assert pkt.ip is not None and mtu >= IP_HEADER + 8
    whole, start, size, last_mf = _datagram(pkt)
    step = (mtu - IP_HEADER) & ~7
    ip = replace(pkt.ip, id=pkt.ip.id or ident, df=False)
    out: list[Packet] = []
    off = 0
    while off < size:
        n = min(step, size - off)
        more = off + n < size or last_mf
        frag_off = start + off
        out.append(Packet(eth=pkt.eth, ip=replace(ip, mf=more, frag_off=frag_off),
                          l4=whole.l4 if frag_off == 0 else None,
                          fragment=Fragment(whole=whole, size=n)))
        off += n
    return out


@dataclass(slots=True)
class FragQueue:
    """``struct ipq``: the pieces of one datagram received so far, by offset."""

    first_seen: float
    pieces: dict[int, int] = field(default_factory=dict)
    """Offset -> data bytes."""
    end: int | None = None
    """The datagram's data length, once its last fragment (MF clear) arrived."""
    head: Packet | None = None
    """The fragment at offset 0 (its IP header becomes the datagram's)."""
    max_size: int = 0
    """The largest fragment's length (``IPCB(skb)->frag_max_size``)."""

    def complete(self) -> bool:
        if self.end is None or self.head is None:
            return False
        covered = 0
        for off in sorted(self.pieces):
            if off > covered:
                return False
            covered = max(covered, off + self.pieces[off])
        return covered >= self.end


IPFRAG_TIME = 30.0
"""net.ipv4.ipfrag_time: an incomplete queue is dropped after 30 s."""


@dataclass(slots=True)
class Reassembly:
    """A namespace's reassembly queues (``net->ipv4.fqdir``), shared by ip_defrag's users
    (nf_defrag_ipv4 and ip_local_deliver keep separate queues in the kernel: ``user``)."""

    queues: dict[tuple[object, ...], FragQueue] = field(default_factory=dict)

    def add(self, pkt: Packet, now: float, user: str) -> tuple[Packet, int] | None:
        """ip_defrag: queue a fragment; the reassembled datagram and its largest fragment's
        size once complete, else None."""
        ip = pkt.ip
        assert ip is not None and pkt.fragment is not None
        key = (user, ip.src, ip.dst, ip.proto, ip.id)
        q = self.queues.get(key)
        if q is not None and now - q.first_seen > IPFRAG_TIME:
            del self.queues[key]  # ip_expire
            q = None
        if q is None:
            q = self.queues[key] = FragQueue(first_seen=now)
        q.pieces[ip.frag_off] = max(q.pieces.get(ip.frag_off, 0), pkt.fragment.size)
        q.max_size = max(q.max_size, pkt.length)
        if not ip.mf:
            q.end = ip.frag_off + pkt.fragment.size
        if ip.frag_off == 0:
            q.head = pkt
        if not q.complete():
            return None
        del self.queues[key]
        assert q.head is not None and q.head.ip is not None
        whole = pkt.fragment.whole
        # the head fragment's header (its TTL, its addresses as they arrived), the datagram's data
        head_ip = replace(q.head.ip, mf=False, frag_off=0)
        return replace(whole, eth=pkt.eth, ip=head_ip), q.max_size
