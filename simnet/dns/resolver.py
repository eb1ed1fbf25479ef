"""The stub resolver of a namespace: glibc's reading of resolv.conf and /etc/hosts, and its queries.

What a program run as ``ip netns exec NAME PROG`` resolves with: ``/etc/resolv.conf`` and
``/etc/hosts`` as that command sees them (``/etc/netns/NAME/...`` bind-mounted over
``/etc/...``; :mod:`simnet.files`), looked up as nsswitch's default ``hosts: files dns``
does.  Queries are real UDP datagrams from the namespace (through its routing, netfilter,
conntrack and NAT), sent as glibc 2.36 sends them: no EDNS unless ``options edns0``, the A
and AAAA questions of a ``getaddrinfo(AF_UNSPEC)`` back to back on one socket, each
nameserver ``timeout`` seconds, the list ``attempts`` times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address, IPv6Address
from typing import TYPE_CHECKING

from simnet.dns.message import DecodeError, Message, QType, Question, Rcode, decode, opt_record

if TYPE_CHECKING:
    from simnet.world import World

__all__ = ["Exchange", "HostsEntry", "Lookup", "ResolvConf", "exchange", "getaddrinfo", "gethostbyaddr",
           "gethostbyname2", "ptr_address", "reverse_name",
           "parse_hosts", "parse_resolv_conf", "read_etc"]

MAXNS = 3
"""glibc uses the first three nameserver lines (resolv.h MAXNS)."""
RES_TIMEOUT = 5
RES_DFLRETRY = 2
GLIBC_EDNS_SIZE = 1200
"""The UDP size glibc advertises under ``options edns0`` (RESOLV_EDNS_BUFFER_SIZE)."""


@dataclass(frozen=True, slots=True)
class ResolvConf:
    """What glibc's res_init keeps of ``/etc/resolv.conf``."""

    nameservers: tuple[IPv4Address, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1
    timeout: int = RES_TIMEOUT
    attempts: int = RES_DFLRETRY
    edns0: bool = False

    @property
    def servers(self) -> tuple[IPv4Address, ...]:
        """The servers asked: without any nameserver line, glibc asks the local host (127.0.0.1)."""
        return self.nameservers or (IPv4Address("127.0.0.1"),)


def parse_resolv_conf(text: str) -> ResolvConf:
    """res_init's reading: the first three ``nameserver`` lines, the last ``search``/``domain``,
    ``options ndots:N`` (at most 15), ``timeout:N`` (at most 30), ``attempts:N`` (at most 5), ``edns0``.

    >>> parse_resolv_conf("nameserver 10.0.0.53\\nsearch lab example\\noptions ndots:2 timeout:1 attempts:9")
    ResolvConf(nameservers=(IPv4Address('10.0.0.53'),), search=('lab', 'example'), ndots=2, timeout=1, attempts=5, edns0=False)
    """
    servers: list[IPv4Address] = []
    lines = 0
    search: tuple[str, ...] = ()
    ndots, timeout, attempts, edns0 = 1, RES_TIMEOUT, RES_DFLRETRY, False
    for line in text.splitlines():
        words = line.split()
        if not words or words[0][0] in "#;":
            continue
        key, args = words[0], words[1:]
        if key == "nameserver" and args and lines < MAXNS:
            lines += 1
            try:
                servers.append(IPv4Address(args[0]))
            except AddressValueError:
                pass  # an IPv6 server: simnet's stack is IPv4 only
        elif key == "domain" and args:
            search = (args[0],)
        elif key == "search":
            search = tuple(args[:6])
        elif key == "options":
            for opt in args:
                m = re.fullmatch(r"(ndots|timeout|attempts):(\d+)", opt)
                if m and m[1] == "ndots":
                    ndots = min(int(m[2]), 15)
                elif m and m[1] == "timeout":
                    timeout = min(int(m[2]), 30)
                elif m and m[1] == "attempts":
                    attempts = min(int(m[2]), 5)
                elif opt == "edns0":
                    edns0 = True
    return ResolvConf(tuple(servers), search, ndots, timeout, attempts, edns0)


@dataclass(frozen=True, slots=True)
class HostsEntry:
    """One line of a hosts file: an address and its names (canonical first)."""

    addr: IPv4Address | IPv6Address
    names: tuple[str, ...]


def parse_hosts(text: str) -> tuple[HostsEntry, ...]:
    """A hosts file's entries (comments and malformed lines skipped, as glibc skips them).

    >>> parse_hosts("127.0.0.1 localhost  # loopback\\n10.0.0.5 web www\\nbad line\\n")[1]
    HostsEntry(addr=IPv4Address('10.0.0.5'), names=('web', 'www'))
    """
    out: list[HostsEntry] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        try:
            addr: IPv4Address | IPv6Address = IPv4Address(words[0])
        except AddressValueError:
            try:
                addr = IPv6Address(words[0])
            except ValueError:
                continue
        out.append(HostsEntry(addr, tuple(words[1:])))
    return tuple(out)


def read_etc(world: "World", name: str, netns: str | None) -> str | None:
    """``/etc/NAME`` as a command run under ``ip netns exec NETNS`` reads it (None: absent)."""
    files = getattr(world, "files", None)
    if files is None:
        return None
    try:
        return bytes(files.read(f"/etc/{name}", netns=netns)).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- queries on the wire


@dataclass(slots=True)
class Exchange:
    """What one socket's queries got: replies (by question type), ICMP errors, a local errno."""

    replies: dict[int, Message] = field(default_factory=dict)
    errors: list[tuple[int, int, IPv4Address]] = field(default_factory=list)
    errno: str | None = None
    sent: int = 0
    lport: int | None = None


def exchange(world: "World", netns: str, server: IPv4Address, port: int, queries: list[Message], *,
             timeout: float, by: str, stop_on_error: bool = True, lport: int | None = None) -> Exchange:
    """Send ``queries`` back to back from one connected UDP socket in ``netns`` and wait up to
    ``timeout`` seconds for an answer to each (matched by id); an ICMP error ends the wait.
    ``lport`` reuses a source port (a socket kept open across attempts)."""
    from simnet.datapath import SendError, route_output
    from simnet.dns.server import send_udp
    from simnet.socket import ClientSocket

    ns = world.netns(netns)
    out = Exchange()
    try:
        route = route_output(ns, server)
        src = ns.source_for(route, server) or IPv4Address(0)
    except SendError as e:
        out.errno = e.errno_name
        return out
    lport = lport or ns.sockets.ephemeral_port("udp")
    out.lport = lport
    sock = ClientSocket(proto="udp", laddr=src, lport=lport, raddr=server, rport=port)
    key = ("udp", src, lport, server, port)
    ns.sockets.clients[key] = sock
    want = {q.id: q for q in queries}
    try:
        for q in queries:
            err = send_udp(ns, src, lport, server, port, q.encode(), by=by)
            out.sent += 1
            if err:
                out.errno = err
                break
        deadline = world.now + timeout - 1e-9

        def done() -> bool:
            return len(out.replies) == len(queries) or bool(out.errno) or (stop_on_error and bool(sock.errors))

        def take() -> None:
            while sock.replies:
                _, pkt = sock.replies.pop(0)
                try:
                    msg = decode(pkt.payload)
                except DecodeError:
                    continue
                q = want.get(msg.id)
                if q is not None and msg.qr and msg.question == q.question:
                    out.replies[int(q.questions[0].qtype)] = msg

        while not done() and world.pending() and world._queue[0][0] < deadline:
            world.run(until=world._queue[0][0])
            take()
        if not done():
            world.run(until=deadline)
        take()
        world.run(until=world.now)
        out.errors = list(sock.errors)
    finally:
        del ns.sockets.clients[key]
    return out


# ----------------------------------------------------------------------------- glibc's lookups


@dataclass(frozen=True, slots=True)
class Lookup:
    """A name lookup's result: addresses (IPv4 first as getaddrinfo sorts them here), the
    canonical name, and on failure glibc's error (``EAI_NONAME``/``EAI_AGAIN``, h_errno's
    ``HOST_NOT_FOUND``/``NO_DATA``/``TRY_AGAIN``)."""

    name: str
    addrs: tuple[IPv4Address | IPv6Address, ...] = ()
    canonical: str = ""
    aliases: tuple[str, ...] = ()
    error: str | None = None
    source: str = "dns"
    """files or dns: where the answer came from."""

    @property
    def ok(self) -> bool:
        return bool(self.addrs)

    @property
    def ipv4(self) -> IPv4Address | None:
        return next((a for a in self.addrs if isinstance(a, IPv4Address)), None)

    @property
    def message(self) -> str:
        """gai_strerror's text for the failure."""
        return {"EAI_NONAME": "Name or service not known",
                "EAI_AGAIN": "Temporary failure in name resolution",
                "EAI_NODATA": "No address associated with hostname"}.get(self.error or "", "")


def _files(world: "World", netns: str | None, name: str, family: int | None) -> Lookup | None:
    hosts = parse_hosts(read_etc(world, "hosts", netns) or "")
    want = name.rstrip(".").lower()
    found = [e for e in hosts if any(n.lower() == want for n in e.names)
             and (family is None or e.addr.version == family)]
    if not found:
        return None
    first = found[0]
    return Lookup(name, tuple(e.addr for e in found), first.names[0], first.names[1:], source="files")


def _query(world: "World", ident: int, name: str, qtype: int, conf: ResolvConf) -> Message:
    extra = (opt_record(udp_size=GLIBC_EDNS_SIZE),) if conf.edns0 else ()
    return Message(id=ident, rd=True, questions=(Question(name, qtype),), additional=extra)


def _addresses(reply: Message, qtype: int) -> tuple[tuple[IPv4Address | IPv6Address, ...], str, tuple[str, ...]]:
    """The answer's addresses of ``qtype``, the canonical name (the CNAME chain's end) and the
    aliases on the way (glibc's h_aliases: ``getent hosts www`` prints ``10.0.0.6  db www``)."""
    cname = reply.questions[0].name if reply.questions else ""
    aliases: list[str] = []
    addrs = []
    for r in reply.answers:
        if r.rtype == QType.CNAME and r.name.lower() == cname.lower() and isinstance(r.data, str):
            aliases.append(r.name.rstrip("."))
            cname = r.data.rstrip(".")
        elif r.rtype == qtype and isinstance(r.data, (IPv4Address, IPv6Address)):
            addrs.append(r.data)
    return tuple(addrs), cname, tuple(aliases)


def _nquery(world: "World", netns: str, name: str, qtypes: tuple[int, ...], conf: ResolvConf,
            by: str) -> tuple[Lookup | None, str, int]:
    """res_nquery for one name: every server, ``attempts`` times, until an answer is accepted.

    Returns (the lookup if it found addresses, h_errno, the rcode of the last answer).  A
    SERVFAIL/REFUSED moves on to the next server unless the other question of an A+AAAA pair
    was answered (send_dg), which is then used alone.  The pair keeps its socket across
    attempts; a single question opens a new one each time (seen on glibc 2.36: a new source
    port per attempt for getent's AAAA, the same one for getaddrinfo's pair).
    """
    answered: dict[int, Message] = {}
    rcode = 0
    lport: int | None = None
    for _attempt in range(max(conf.attempts, 1)):
        for server in conf.servers:
            pending = [q for q in qtypes if q not in answered]
            queries = [_query(world, world.rng.randint(0, 0xFFFF), name, q, conf) for q in pending]
            got = exchange(world, netns, server, 53, queries, timeout=conf.timeout, by=by,
                           lport=lport if len(qtypes) > 1 else None)
            lport = got.lport
            for qtype, reply in got.replies.items():
                if reply.rcode in (Rcode.NOERROR, Rcode.NXDOMAIN):
                    answered[qtype] = reply
                else:
                    rcode = int(reply.rcode)
            if answered:
                break
        if answered:
            break
    if not answered:
        return None, "TRY_AGAIN", rcode
    addrs: list[IPv4Address | IPv6Address] = []
    canonical = ""
    aliases: tuple[str, ...] = ()
    for q in qtypes:
        if q in answered:
            found, cn, al = _addresses(answered[q], q)
            addrs.extend(found)
            if found and not canonical:
                canonical, aliases = cn, al
    if addrs:
        return Lookup(name, tuple(addrs), canonical or name, aliases), "", 0
    if all(r.rcode == Rcode.NXDOMAIN for r in answered.values()):
        return None, "HOST_NOT_FOUND", int(Rcode.NXDOMAIN)
    return None, "NO_DATA", 0


_EAI = {"HOST_NOT_FOUND": "EAI_NONAME", "TRY_AGAIN": "EAI_AGAIN", "NO_DATA": "EAI_NODATA"}


def _dns(world: "World", netns: str, name: str, qtypes: tuple[int, ...], conf: ResolvConf,
         by: str) -> Lookup:
    """glibc's res_search (__res_context_search): the name as is first when it has ``ndots``
    dots, then each search domain (a ``.`` domain means the name itself, and then it is not
    tried as is again), stopping at an answer, or at an error other than NXDOMAIN, NODATA and
    SERVFAIL; then the name as is if it was not tried.  The error is the first as-is query's,
    else NODATA if any name had no data, else TRY_AGAIN after a SERVFAIL, else the last one's."""
    dots = name.count(".")
    if name.endswith("."):
        found, herr, _ = _nquery(world, netns, name.rstrip("."), qtypes, conf, by)
        return found or Lookup(name, error=_EAI[herr])
    saved: str | None = None
    tried_as_is = root_on_list = got_nodata = got_servfail = False
    herr = "HOST_NOT_FOUND"
    if dots >= conf.ndots:
        found, herr, _ = _nquery(world, netns, name, qtypes, conf, by)
        if found is not None:
            return found
        saved, tried_as_is = herr, True
    for domain in conf.search:
        bare = domain.strip(".")
        root_on_list = root_on_list or not bare
        found, herr, rcode = _nquery(world, netns, f"{name}.{bare}" if bare else name, qtypes, conf, by)
        if found is not None:
            return found
        got_nodata = got_nodata or herr == "NO_DATA"
        if herr in ("NO_DATA", "HOST_NOT_FOUND"):
            continue
        if herr == "TRY_AGAIN" and rcode == Rcode.SERVFAIL:
            got_servfail = True
            continue
        break
    if not (tried_as_is or root_on_list):
        found, herr, _ = _nquery(world, netns, name, qtypes, conf, by)
        if found is not None:
            return found
    if saved is not None:
        herr = saved
    elif got_nodata:
        herr = "NO_DATA"
    elif got_servfail:
        herr = "TRY_AGAIN"
    return Lookup(name, error=_EAI[herr])


def reverse_name(addr: IPv4Address) -> str:
    """The in-addr.arpa name of an address (``10.0.0.6`` -> ``6.0.0.10.in-addr.arpa``)."""
    return ".".join(reversed(str(addr).split("."))) + ".in-addr.arpa"


def ptr_address(name: str) -> IPv4Address | None:
    """The address an in-addr.arpa name stands for (any case, trailing dot or not), None for any
    other name or a malformed one: the inverse of :func:`reverse_name`."""
    head, sep, tail = name.rstrip(".").lower().rpartition(".in-addr.arpa")
    if not sep or tail:
        return None
    labels = head.split(".")
    if len(labels) != 4 or not all(x.isdigit() and x == str(int(x)) and int(x) < 256 for x in labels):
        return None
    return IPv4Address(".".join(reversed(labels)))


def gethostbyaddr(world: "World", netns: str, exec_ns: str | None, addr: IPv4Address, *, by: str) -> Lookup:
    """``gethostbyaddr`` (``getent hosts ADDR``): the hosts file, then a PTR question."""
    entries = [e for e in parse_hosts(read_etc(world, "hosts", exec_ns) or "") if e.addr == addr]
    if entries:
        return Lookup(str(addr), (addr,), entries[0].names[0], entries[0].names[1:], source="files")
    conf = _conf(world, exec_ns)
    answered: Message | None = None
    for _attempt in range(max(conf.attempts, 1)):
        for server in conf.servers:
            got = exchange(world, netns, server, 53, [_query(world, world.rng.randint(0, 0xFFFF),
                                                             reverse_name(addr), QType.PTR, conf)],
                           timeout=conf.timeout, by=by)
            reply = next(iter(got.replies.values()), None)
            if reply is not None and reply.rcode in (Rcode.NOERROR, Rcode.NXDOMAIN):
                answered = reply
                break
        if answered is not None:
            break
    names = [str(r.data).rstrip(".") for r in (answered.answers if answered else ()) if r.rtype == QType.PTR]
    if names:
        return Lookup(str(addr), (addr,), names[0], tuple(names[1:]))
    return Lookup(str(addr), error="EAI_AGAIN" if answered is None else "EAI_NONAME")


def _conf(world: "World", netns: str | None) -> ResolvConf:
    return parse_resolv_conf(read_etc(world, "resolv.conf", netns) or "")


def getaddrinfo(world: "World", netns: str, exec_ns: str | None, name: str, *, by: str,
                addrconfig: bool = False) -> Lookup:
    """``getaddrinfo(name, AF_UNSPEC)`` as ping, nc and curl call it: a literal address as is,
    else /etc/hosts, else DNS (A and AAAA together).  ``addrconfig`` (AI_ADDRCONFIG, as dig looks
    up its @server) asks no AAAA, since simnet's namespaces have no IPv6 address (one A query
    on the kernel runner's namespaces, whose IPv6 is off)."""
    try:
        return Lookup(name, (IPv4Address(name),), name, source="literal")
    except AddressValueError:
        pass
    found = _files(world, exec_ns, name, None)
    if found is not None:
        return found
    return _dns(world, netns, name, (QType.A,) if addrconfig else (QType.A, QType.AAAA), _conf(world, exec_ns), by)


def gethostbyname2(world: "World", netns: str, exec_ns: str | None, name: str, family: int, *, by: str) -> Lookup:
    """``gethostbyname2(name, AF_INET or AF_INET6)`` (``getent hosts``): files, then DNS (A or AAAA)."""
    found = _files(world, exec_ns, name, family)
    if found is not None:
        return found
    return _dns(world, netns, name, (QType.A if family == 4 else QType.AAAA,), _conf(world, exec_ns), by)

