"""A namespace's conntrack table: lookup and classification, confirmation, listing.

Kernel: nf_conntrack_core.c (``nf_conntrack_in``: find the entry by tuple and
zone or create an unconfirmed one; ``__nf_conntrack_confirm`` at the last
hook inserts it), nf_conntrack_proto_tcp.c (the TCP state machine, reduced to
what handshakes, RST and FIN need), nf_conntrack_proto_icmp.c (errors are
RELATED to the connection whose packet they quote).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Iterator

from simnet.netfilter.conntrack import (DEFAULT_ZONE, Conn, CtDir, CtInfo, CtState, CtStatus, CtTuple, CtZone,
                                       TcpCtState)
from simnet.packet import Icmp, IcmpType, Packet, Tcp, TcpFlags, Udp

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.skb import Skb

ICMP_REQUESTS = {IcmpType.ECHO_REQUEST: IcmpType.ECHO_REPLY, IcmpType.TIMESTAMP_REQUEST: IcmpType.TIMESTAMP_REPLY}
TIMEOUTS: dict[str, int] = {
    TcpCtState.SYN_SENT: 120, TcpCtState.SYN_RECV: 60, TcpCtState.ESTABLISHED: 432000, TcpCtState.FIN_WAIT: 120,
    TcpCtState.CLOSE_WAIT: 60, TcpCtState.LAST_ACK: 30, TcpCtState.TIME_WAIT: 120, TcpCtState.CLOSE: 10,
    "udp": 30, "udp-stream": 120, "icmp": 30}
PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp"}
_AFTER_FIN = {TcpCtState.ESTABLISHED: TcpCtState.FIN_WAIT, TcpCtState.FIN_WAIT: TcpCtState.LAST_ACK,
              TcpCtState.CLOSE_WAIT: TcpCtState.LAST_ACK}
"""A FIN's transition (simplified tcp_conntracks table); from any other state, TIME_WAIT."""


def packet_tuple(pkt: Packet) -> CtTuple | None:
    """nf_ct_get_tuple: the tuple a packet belongs to (None: not trackable)."""
    ip = pkt.ip
    if ip is None:
        return None
    match pkt.l4:
        case Tcp(sport=s, dport=d) | Udp(sport=s, dport=d):
            return CtTuple(ip.src, ip.dst, ip.proto, s, d)
        case Icmp() as icmp:
            return CtTuple(ip.src, ip.dst, 1, icmp.id, icmp.type)
    return CtTuple(ip.src, ip.dst, ip.proto, 0, 0)


class ConntrackTable:
    """Confirmed connections, each keyed by both of its tuples in its zone (``conntrack -L``).

    The kernel's hash keys a tuple together with its zone id for that direction
    (hash_conntrack_raw(tuple, nf_ct_zone_id(zone, dir))); :attr:`_hash` is that table with
    one bucket per key, newest entry first (hlist_nulls_add_head_rcu).
    """

    def __init__(self, ns: "NetNamespace") -> None:
        self.ns = ns
        self._hash: dict[tuple[CtTuple, int], list[tuple[Conn, CtDir]]] = {}
        self._conns: dict[int, Conn] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._conns)

    def __iter__(self) -> Iterator[Conn]:
        now = self.ns.world.now
        for conn in [c for c in self._conns.values() if c.expires <= now]:
            self.remove(conn)
        return iter(sorted(self._conns.values(), key=lambda c: c.id))

    def _equal(self, t: CtTuple, zone_id: int, zone: CtZone) -> Iterator[tuple[Conn, CtDir]]:
        """The live entries of one bucket that nf_ct_key_equal accepts for ``zone``, newest first.

        Every entry there has ``t`` keyed by ``zone_id`` in its direction; it is equal when the
        looked-up zone gives that direction the same id (nf_ct_zone_equal).  An entry past its
        timeout is gone (the gc would have reaped it).
        """
        for conn, direction in list(self._hash.get((t, zone_id), ())):
            if conn.expires <= self.ns.world.now:
                self.remove(conn)
            elif zone.id_for(direction) == zone_id:
                yield conn, direction

    def _bucket(self, t: CtTuple, zone_id: int, zone: CtZone) -> tuple[Conn, CtDir] | None:
        return next(self._equal(t, zone_id, zone), None)

    def lookup(self, t: CtTuple, zone: CtZone = DEFAULT_ZONE) -> tuple[Conn, CtDir] | None:
        """nf_conntrack_find_get / resolve_normal_ct: the bucket of the zone's original-direction
        id, then (a directional zone) the one of its reply-direction id."""
        orig_id, reply_id = zone.id_for(CtDir.ORIGINAL), zone.id_for(CtDir.REPLY)
        found = self._bucket(t, orig_id, zone)
        if found is None and reply_id != orig_id:
            found = self._bucket(t, reply_id, zone)
        return found

    def tuple_taken(self, reply: CtTuple, ignore: Conn) -> bool:
        """nf_conntrack_tuple_taken (nf_nat_used_tuple): would ``ignore``, with this reply tuple,
        clash with an entry in its zone?  Not one with the same original tuple in the same
        original-direction zone: that is the same flow (nf_ct_resolve_clash deals with it)."""
        zone = ignore.zone
        for conn, _ in self._equal(reply, zone.id_for(CtDir.REPLY), zone):
            if conn is ignore or (conn.orig == ignore.orig
                                  and conn.zone.id_for(CtDir.ORIGINAL) == zone.id_for(CtDir.ORIGINAL)):
                continue
            return True
        return False

    def _refresh(self, conn: Conn) -> None:
        """Restart the entry's timeout for its protocol state (nf_ct_refresh_acct)."""
        proto = conn.orig.proto
        if proto == 6:
            timeout = TIMEOUTS.get(conn.tcp_state or "", 120)
        elif proto == 17:
            timeout = TIMEOUTS["udp-stream"] if conn.status & CtStatus.ASSURED else TIMEOUTS["udp"]
        elif proto == 1:
            timeout = TIMEOUTS["icmp"]
        else:
            timeout = 600
        conn.timeout = timeout
        conn.expires = self.ns.world.now + timeout

    def remaining(self, conn: Conn) -> int:
        """Whole seconds left, as ``conntrack -L`` prints them (the kernel rounds down)."""
        return max(0, int(conn.expires - self.ns.world.now - 1e-6))

    # -- nf_conntrack_in ---------------------------------------------------------------
    def classify(self, skb: "Skb") -> tuple[Conn | None, CtInfo | None]:
        """The entry and ctinfo of a packet; a new unconfirmed entry when it starts one.

        The lookup is in the zone of the CT template the raw table attached, else in the
        default zone (nf_ct_zone_tmpl; a ``--zone mark`` template reads the mark now).
        """
        pkt = skb.packet
        zone = DEFAULT_ZONE if skb.ct_template is None else skb.ct_template.resolve(skb.mark)
        if isinstance(pkt.l4, Icmp) and pkt.l4.is_error:
            return self._related(pkt.l4, zone)
        t = packet_tuple(pkt)
        if t is None:
            return None, None
        found = self.lookup(t, zone)
        if found is not None:
            conn, direction = found
            if isinstance(pkt.l4, Tcp):
                if pkt.l4.flags & TcpFlags.SYN and not pkt.l4.flags & TcpFlags.ACK and direction is CtDir.ORIGINAL \
                        and conn.tcp_state in (TcpCtState.CLOSE, TcpCtState.TIME_WAIT):
                    self.remove(conn)  # a new SYN re-opens a closed connection
                    return self._new(t, pkt, zone)
                if not self._tcp_valid(conn, direction, pkt.l4):
                    return None, None
            if direction is CtDir.REPLY:
                return conn, CtInfo(CtState.ESTABLISHED, CtDir.REPLY)
            if conn.status & CtStatus.SEEN_REPLY:
                return conn, CtInfo(CtState.ESTABLISHED, CtDir.ORIGINAL)
            return conn, CtInfo(CtState.NEW, CtDir.ORIGINAL)
        return self._new(t, pkt, zone)

    def _new(self, t: CtTuple, pkt: Packet, zone: CtZone) -> tuple[Conn | None, CtInfo | None]:
        match pkt.l4:
            case Tcp(flags=f):
                if f & TcpFlags.RST or (f & TcpFlags.SYN and f & TcpFlags.ACK) or f & TcpFlags.FIN:
                    return None, None  # tcp_new: no connection starts with these
                state: TcpCtState | None
                if f & TcpFlags.SYN:
                    state = TcpCtState.SYN_SENT
                else:
                    state = TcpCtState.ESTABLISHED  # nf_conntrack_tcp_loose=1 picks up mid-stream
            case Icmp(type=ty):
                if ty not in ICMP_REQUESTS:
                    return None, None  # icmp_new: only requests start a connection
                state = None
            case _:
                state = None
        conn = Conn(id=0, orig=t, reply=t.inverted(), tcp_state=state, zone=zone,
                    stream_ts=self.ns.world.now + 2.0)
        return conn, CtInfo(CtState.NEW, CtDir.ORIGINAL)

    def _related(self, icmp: Icmp, zone: CtZone) -> tuple[Conn | None, CtInfo | None]:
        quoted = icmp.quoted
        if quoted is None:
            return None, None
        t = packet_tuple(quoted)
        if t is None:
            return None, None
        # nf_conntrack_inet_error: the error travels against the quoted packet, so the entry is
        # found by the *inverted* quoted tuple, and the direction it is found in is the error's.
        # (A quote that a NAT further on rewrote, e.g. after this host's MASQUERADE, matches
        # only this way: its inverse is the entry's reply tuple.) The error's own zone applies.
        found = self.lookup(t.inverted(), zone)
        if found is None:
            return None, None
        conn, direction = found
        return conn, CtInfo(CtState.RELATED, direction)

    def _tcp_valid(self, conn: Conn, direction: CtDir, tcp: Tcp) -> bool:
        state = conn.tcp_state
        if tcp.flags & TcpFlags.SYN and tcp.flags & TcpFlags.ACK:
            return direction is CtDir.REPLY and state in (TcpCtState.SYN_SENT, TcpCtState.SYN_RECV,
                                                          TcpCtState.ESTABLISHED)
        if tcp.flags & TcpFlags.RST and state is TcpCtState.SYN_SENT and direction is CtDir.ORIGINAL \
                and not conn.status & CtStatus.SEEN_REPLY:
            # tcp_in_window: nothing of the other side seen (its SYN-ACK went untracked), so the
            # RST's acknowledgement cannot be checked: INVALID, the entry stays SYN_SENT (seen)
            return False
        return True

    def set_closing(self, conn: Conn) -> None:
        """nf_conntrack_tcp_set_closing: a REJECT sent a RST for this connection (Linux 6.2+):
        a confirmed entry goes to CLOSE with CLOSE's timeout."""
        if conn.orig.proto != 6 or not conn.status & CtStatus.CONFIRMED or conn.tcp_state is TcpCtState.CLOSE:
            return
        conn.tcp_state = TcpCtState.CLOSE
        self._refresh(conn)

    # -- after the packet passed (conntrack state updates and confirmation) ------------------
    def seen(self, conn: Conn, info: CtInfo, pkt: Packet) -> None:
        """Update protocol state for a packet of a tracked connection (tcp_packet, udp_packet)."""
        if info.state is CtState.RELATED:
            return
        had_reply = bool(conn.status & CtStatus.SEEN_REPLY)
        if info.direction is CtDir.REPLY and not had_reply:
            conn.status |= CtStatus.SEEN_REPLY
        match pkt.l4:
            case Tcp(flags=f):
                self._tcp_state(conn, info.direction, f)
            case Udp():
                # nf_conntrack_udp_packet: traffic both ways is a stream, but only a packet more
                # than 2 s after the first one makes it ASSURED (and its timeout 120 s); the
                # first reply itself does not count (SEEN_REPLY is set after this handler)
                if had_reply and self.ns.world.now > conn.stream_ts:
                    conn.status |= CtStatus.ASSURED
            case _:
                pass
        if conn.id in self._conns:
            self._refresh(conn)

    def _tcp_state(self, conn: Conn, direction: CtDir, f: TcpFlags) -> None:
        state = conn.tcp_state
        if f & TcpFlags.RST:
            conn.tcp_state = TcpCtState.CLOSE
            if not conn.status & CtStatus.ASSURED and conn.id:
                self.remove(conn)  # a refused connection is forgotten at once
            return
        if f & TcpFlags.SYN and f & TcpFlags.ACK and direction is CtDir.REPLY and state is TcpCtState.SYN_SENT:
            conn.tcp_state = TcpCtState.SYN_RECV
        elif f & TcpFlags.ACK and not f & TcpFlags.SYN and direction is CtDir.ORIGINAL and state is TcpCtState.SYN_RECV:
            conn.tcp_state = TcpCtState.ESTABLISHED
            conn.status |= CtStatus.ASSURED
        elif f & TcpFlags.ACK and not f & TcpFlags.FIN and state is TcpCtState.LAST_ACK:
            conn.tcp_state = TcpCtState.TIME_WAIT  # tcp_conntracks: sLA --ack--> sTW
        elif f & TcpFlags.FIN:
            conn.tcp_state = _AFTER_FIN.get(state, TcpCtState.TIME_WAIT) if state else TcpCtState.TIME_WAIT

    def confirm(self, conn: Conn) -> bool:
        """__nf_conntrack_confirm: insert a new entry; False when another entry took a tuple.

        A clash is an entry in the bucket each tuple goes to that nf_ct_key_equal accepts
        for the new entry's zone.
        """
        if conn.status & CtStatus.CONFIRMED:
            return True
        for t, direction in ((conn.orig, CtDir.ORIGINAL), (conn.reply, CtDir.REPLY)):
            if self._bucket(t, conn.zone.id_for(direction), conn.zone) is not None:
                return False
        conn.id = next(self._ids)
        self._refresh(conn)
        conn.status |= CtStatus.CONFIRMED
        self._conns[conn.id] = conn
        self._insert(conn, conn.orig, CtDir.ORIGINAL)
        self._insert(conn, conn.reply, CtDir.REPLY)
        return True

    def _insert(self, conn: Conn, t: CtTuple, direction: CtDir) -> None:
        self._hash.setdefault((t, conn.zone.id_for(direction)), []).insert(0, (conn, direction))

    def _unlink(self, conn: Conn, t: CtTuple, direction: CtDir) -> None:
        key = (t, conn.zone.id_for(direction))
        bucket = [e for e in self._hash.get(key, ()) if e[0] is not conn]
        if bucket:
            self._hash[key] = bucket
        else:
            self._hash.pop(key, None)

    def rehash(self, conn: Conn, new_reply: CtTuple) -> None:
        if conn.status & CtStatus.CONFIRMED:
            self._unlink(conn, conn.reply, CtDir.REPLY)
            self._insert(conn, new_reply, CtDir.REPLY)
        conn.reply = new_reply

    def remove(self, conn: Conn) -> None:
        if self._conns.pop(conn.id, None) is None:
            return
        self._unlink(conn, conn.orig, CtDir.ORIGINAL)
        self._unlink(conn, conn.reply, CtDir.REPLY)

    def flush(self) -> int:
        n = len(self._conns)
        self._conns.clear()
        self._hash.clear()
        return n

    # -- conntrack -L ---------------------------------------------------------------------
    def listing(self) -> list[str]:
        """``conntrack -L`` lines as probe reports carry them, sorted.

        The kernel runner's normalisation (:func:`simnet.conformance.normalise_conntrack`):
        single spaces, no ageing timeout (it depends on wall time) and no ``id=``,
        ``mark=`` or ``use=`` words; zones stay.
        """
        return sorted(normalise_line(format_conn(c)) for c in self)


def format_conn(c: Conn, timeout: int | None = None) -> str:
    """One entry as conntrack-tools 1.4.7 prints it, up to ``mark=`` (and ``zone=``).

    A directional zone follows its tuple (``zone-orig=N`` before ``[UNREPLIED]``,
    ``zone-reply=N`` before ``[ASSURED]``); a zone of both directions is ``zone=N`` after
    ``mark=`` (seen on 6.18 with conntrack v1.4.7).
    """
    proto = PROTO_NAMES.get(c.orig.proto, "unknown")
    words = [f"{proto:<8} {int(c.orig.proto)}"]
    if timeout is not None:
        words.append(str(timeout))
    if c.tcp_state:
        words.append(c.tcp_state)
    zone_orig, zone_reply, zone = c.zone.listing()
    words.append(_tuple_text(c.orig))
    if zone_orig:
        words.append(zone_orig)
    if not c.status & CtStatus.SEEN_REPLY:
        words.append("[UNREPLIED]")
    words.append(_tuple_text(c.reply))
    if zone_reply:
        words.append(zone_reply)
    if c.status & CtStatus.ASSURED:
        words.append("[ASSURED]")
    words.append(f"mark={c.mark}")
    if zone:
        words.append(zone)
    return " ".join(words)


_NORMALISED_OUT = ("id=", "mark=", "use=", "secctx=")


def normalise_line(line: str) -> str:
    """One ``conntrack -L`` line as :func:`simnet.conformance.normalise_conntrack` keeps it."""
    words = line.split()
    head, rest = words[:2], words[2:]
    if rest and rest[0].isdigit():
        rest = rest[1:]  # the ageing timeout
    return " ".join(head + [w for w in rest if not w.startswith(_NORMALISED_OUT)])


def _tuple_text(t: CtTuple) -> str:
    if t.proto == 1:
        return f"src={t.src} dst={t.dst} type={t.dport} code=0 id={t.sport}"
    if t.proto in (6, 17):
        return f"src={t.src} dst={t.dst} sport={t.sport} dport={t.dport}"
    return f"src={t.src} dst={t.dst}"
