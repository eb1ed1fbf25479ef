"""dnsmasq 2.90 as a lab DNS server: its options, its records and what it answers.

``dnsmasq -k --listen-address=ADDR --port=N --address=/NAME/IP --host-record=NAME,IP
--server=UPSTREAM --no-resolv --addn-hosts=FILE`` answers, in dnsmasq's order:

1. ``--address=/DOMAIN/IP``: A for DOMAIN and every name under it (other types go on);
   ``--address=/DOMAIN/`` (no address): NXDOMAIN for everything there; ``--cname=ALIAS,TARGET``:
   the CNAME chain and the target's local records of the type asked (none: the chain alone);
2. ``--host-record``, ``/etc/hosts`` (unless ``--no-hosts``) and ``--addn-hosts`` files: A;
3. ``--local=/DOMAIN/`` (or ``--server=/DOMAIN/``): answered only from the records above,
   NODATA for a known name, NXDOMAIN for an unknown one;
4. else forwarded (``--server=/DOMAIN/IP`` for its domain first, then ``--server=IP[#PORT]``
   and, without ``--no-resolv``, the nameservers of ``/etc/resolv.conf``); the upstream's
   reply is relayed as it came (dnsmasq relays the client's query bytes with a new id); which
   upstreams are asked is :meth:`simnet.dns.server.DnsServer._forward`'s (UDP) and
   ``_forward_tcp``'s (a TCP query goes upstream over TCP);
PTR questions for in-addr.arpa names are answered from the hosts files and ``--host-record``.

5. with nowhere to forward: REFUSED, with an Extended DNS Error 14 (Not Ready) when the
   query had EDNS.

Local answers have TTL 0 and the AA flag; NXDOMAIN and NODATA do not.  Checked on dnsmasq 2.90
(Debian 12) in a namespace: answers, rcodes, flags and every message size.
"""

from __future__ import annotations


from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address, IPv6Address
from typing import Callable

from simnet.dns.message import EdnsOption, Message, QType, Rcode, Record, opt_record
from simnet.dns.resolver import parse_hosts, parse_resolv_conf, ptr_address
from simnet.dns.server import Client, Forward

__all__ = ["DnsmasqConfig", "DnsmasqError", "answer", "parse_args"]

EDE_NOT_READY = 14


class DnsmasqError(ValueError):
    """A bad command line, worded as dnsmasq words it (``dnsmasq: bad address at line ...``)."""


@dataclass(frozen=True, slots=True)
class DnsmasqConfig:
    """dnsmasq's options as parsed (files are read when it starts: :func:`records`)."""

    listen: tuple[IPv4Address, ...] = ()
    port: int = 53
    bind_interfaces: bool = False
    addresses: tuple[tuple[str, IPv4Address | IPv6Address | None], ...] = ()
    host_records: tuple[tuple[str, IPv4Address | IPv6Address], ...] = ()
    cnames: tuple[tuple[str, str], ...] = ()
    """--cname=ALIAS[,ALIAS...],TARGET: (alias, target)."""
    servers: tuple[tuple[IPv4Address, int], ...] = ()
    domain_servers: tuple[tuple[str, tuple[IPv4Address, int] | None], ...] = ()
    no_resolv: bool = False
    no_hosts: bool = False
    addn_hosts: tuple[str, ...] = ()
    foreground: bool = False
    min_port: int = 1024
    max_port: int = 65535
    """--min-port/--max-port: where forwarded queries' random source ports come from."""


_FLAGS = {"-k": "foreground", "--no-daemon": "foreground", "--keep-in-foreground": "foreground",
          "-d": "foreground", "-R": "no_resolv", "--no-resolv": "no_resolv", "-h": "no_hosts",
          "--no-hosts": "no_hosts", "-z": "bind_interfaces", "--bind-interfaces": "bind_interfaces",
          "-q": "", "--log-queries": "", "--no-negcache": "", "-N": "", "--bogus-priv": "", "-b": "",
          "--domain-needed": "", "-D": "", "--strict-order": "", "-o": "", "--all-servers": "",
          "--no-poll": "", "-n": "", "--bind-dynamic": "bind_interfaces"}
_VALUED = {"-a": "--listen-address", "--listen-address": "--listen-address", "-p": "--port", "--port": "--port",
           "-A": "--address", "--address": "--address", "--host-record": "--host-record", "-S": "--server",
           "--server": "--server", "--local": "--server", "--cname": "--cname", "-H": "--addn-hosts", "--addn-hosts": "--addn-hosts",
           "--log-facility": "", "-8": "", "--cache-size": "", "-c": "", "--pid-file": "", "-x": "",
           "--user": "", "-u": "", "--group": "", "-g": "", "--conf-file": "--conf-file", "-C": "--conf-file",
           "--log-async": "", "--local-ttl": "", "-T": "", "--min-port": "--min-port", "--max-port": "--max-port"}
_OPTIONAL_VALUE = {"--pid-file", "--conf-file", "--log-async", "-x", "-C"}


def _domains(spec: str, opt: str) -> tuple[list[str], str]:
    """``/D1/D2/REST``: the domains and what follows the last slash."""
    parts = spec.split("/")
    if len(parts) < 3 or parts[0]:
        raise DnsmasqError(f"bad {opt.lstrip('-')} address")  # dnsmasq: "bad address"
    return [d.strip(".").lower() for d in parts[1:-1] if d], parts[-1]


def _server(spec: str) -> tuple[IPv4Address, int]:
    addr, _, port = spec.partition("#")
    try:
        ip = IPv4Address(addr)
    except AddressValueError:
        raise DnsmasqError("bad address") from None
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise DnsmasqError("bad port")
    return ip, int(port) if port else 53


def parse_args(argv: tuple[str, ...]) -> DnsmasqConfig:
    """dnsmasq's command line (``--opt=VALUE``, ``--opt VALUE``, ``-oVALUE``, ``-o VALUE``)."""
    listen: list[IPv4Address] = []
    addresses: list[tuple[str, IPv4Address | IPv6Address | None]] = []
    records: list[tuple[str, IPv4Address | IPv6Address]] = []
    cnames: list[tuple[str, str]] = []
    servers: list[tuple[IPv4Address, int]] = []
    domain_servers: list[tuple[str, tuple[IPv4Address, int] | None]] = []
    addn: list[str] = []
    port = 53
    ports = [1024, 65535]
    flags: set[str] = set()
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w in _FLAGS:
            if _FLAGS[w]:
                flags.add(_FLAGS[w])
            continue
        name, eq, value = w.partition("=") if w.startswith("--") else (w[:2], "", w[2:])
        if name not in _VALUED:
            raise DnsmasqError(f"bad command line options: try --help (unrecognized option '{w}')")
        if not eq and not value:
            if name in _OPTIONAL_VALUE:
                continue
            if i >= len(words):
                raise DnsmasqError(f"option requires an argument -- '{name.lstrip('-')}'")
            value = words[i]
            i += 1
        kind = _VALUED[name]
        if kind == "--listen-address":
            for a in value.split(","):
                try:
                    listen.append(IPv4Address(a))
                except AddressValueError:
                    raise DnsmasqError("bad address") from None
        elif kind == "--port":
            if not value.isdigit() or int(value) > 65535:
                raise DnsmasqError("bad port")
            port = int(value)
        elif kind == "--address":
            doms, rest = _domains(value, name)
            ip: IPv4Address | IPv6Address | None = None
            if rest and rest != "#":
                try:
                    ip = IPv4Address(rest)
                except AddressValueError:
                    try:
                        ip = IPv6Address(rest)
                    except ValueError:
                        raise DnsmasqError("bad address") from None
            elif rest == "#":
                ip = IPv4Address(0)
            addresses.extend((d, ip) for d in doms)
        elif kind == "--host-record":
            parts = value.split(",")
            names: list[str] = []
            ips: list[IPv4Address | IPv6Address] = []
            for p in parts:
                try:
                    ips.append(IPv4Address(p))
                    continue
                except AddressValueError:
                    pass
                try:
                    ips.append(IPv6Address(p))
                    continue
                except ValueError:
                    pass
                if p.isdigit() and names and ips:
                    continue  # the TTL
                names.append(p.strip(".").lower())
            if not names or not ips:
                raise DnsmasqError("bad host-record")
            records.extend((n, a) for n in names for a in ips)
        elif kind == "--cname":
            parts = [p.strip(".").lower() for p in value.split(",")]
            if parts and parts[-1].isdigit():
                parts = parts[:-1]  # the TTL
            if len(parts) < 2 or not all(parts):
                raise DnsmasqError("bad CNAME")
            cnames.extend((alias, parts[-1]) for alias in parts[:-1])
        elif kind == "--server":
            if value.startswith("/"):
                doms, rest = _domains(value, name)
                target = _server(rest) if rest else None
                domain_servers.extend((d, target) for d in doms)
            else:
                servers.append(_server(value))
        elif kind in ("--min-port", "--max-port"):
            if not value.isdigit() or int(value) > 65535:
                raise DnsmasqError("bad port")
            ports[kind == "--max-port"] = int(value)
        elif kind == "--addn-hosts":
            addn.append(value)
        elif kind == "--conf-file":
            raise DnsmasqError("simnet's dnsmasq reads no configuration file: give the options on the command line")
    return DnsmasqConfig(tuple(listen), port, "bind_interfaces" in flags, tuple(addresses), tuple(records),
                         tuple(cnames),
                         tuple(servers), tuple(domain_servers), "no_resolv" in flags, "no_hosts" in flags,
                         tuple(addn), "foreground" in flags, ports[0], ports[1])


@dataclass(frozen=True, slots=True)
class Records:
    """What a started dnsmasq knows: its config, the hosts files it read and its upstreams."""

    config: DnsmasqConfig
    hosts: tuple[tuple[str, IPv4Address | IPv6Address], ...] = ()
    upstreams: tuple[tuple[IPv4Address, int], ...] = ()
    log: tuple[str, ...] = field(default=())


def records(config: DnsmasqConfig, read: Callable[[str], str | None], local: frozenset[IPv4Address]) -> Records:
    """Read the hosts files and resolv.conf as dnsmasq does when it starts (``read(path)`` is the
    file's text as the process sees it, None if absent); ``local`` are the namespace's addresses
    (a resolv.conf nameserver that is dnsmasq itself is ignored)."""
    hosts: list[tuple[str, IPv4Address | IPv6Address]] = list(config.host_records)
    log: list[str] = []
    for path in ((() if config.no_hosts else ("/etc/hosts",)) + config.addn_hosts):
        text = read(path)
        if text is None:
            log.append(f"failed to load names from {path}: No such file or directory")
            continue
        entries = parse_hosts(text)
        hosts.extend((n.lower(), e.addr) for e in entries for n in e.names)
        log.append(f"read {path} - {sum(len(e.names) for e in entries)} names")
    upstreams = list(config.servers)
    if not config.no_resolv:
        text = read("/etc/resolv.conf")
        if text is None:
            log.append("warning: failed to access /etc/resolv.conf: No such file or directory")
        else:
            for ns in parse_resolv_conf(text).nameservers:
                if ns in local and config.port == 53:
                    continue  # "ignoring nameserver X - local interface"
                upstreams.append((ns, 53))
    return Records(config, tuple(hosts), tuple(upstreams), tuple(log))


def _under(name: str, domain: str) -> bool:
    return name == domain or name.endswith("." + domain)


def _best(name: str, table: tuple[tuple[str, object], ...]) -> str | None:
    """The longest domain of ``table`` that ``name`` is in."""
    matches = [d for d, _ in table if _under(name, d)]
    return max(matches, key=len) if matches else None


def answer(rec: Records, query: Message, client: Client) -> Message | Forward | None:
    """What dnsmasq does with ``query`` (see the module's docstring)."""
    config = rec.config
    if not config.bind_interfaces and config.listen and client.local not in config.listen:
        return None  # a wildcard socket: queries to other addresses are ignored
    q = query.question
    if q is None:
        return None
    name = q.name.rstrip(".").lower()
    edns = query.opt is not None

    def reply(rcode: int = Rcode.NOERROR, answers: tuple[Record, ...] = (), aa: bool = False,
              ede: int | None = None) -> Message:
        extra = ((opt_record(*(() if ede is None else (EdnsOption(15, ede.to_bytes(2, "big")),))),)
                 if edns else ())
        return Message(id=query.id, qr=True, aa=aa, rd=query.rd, ra=True, rcode=rcode, questions=query.questions,
                       answers=answers, additional=extra)

    def rr(addr: IPv4Address | IPv6Address) -> Record:
        return Record(q.name, QType.A if addr.version == 4 else QType.AAAA, 1, 0, addr)

    want = 4 if q.qtype == QType.A else 6 if q.qtype == QType.AAAA else None
    if q.qtype == QType.PTR and name.endswith(".in-addr.arpa"):
        # reverse lookups from the hosts files and --host-record (not --address), first name first
        addr = ptr_address(name)
        owner = next((n for n, a in rec.hosts if a == addr), None)
        if owner is not None:
            return reply(answers=(Record(q.name, QType.PTR, 1, 0, owner),), aa=True)
    dom = _best(name, config.addresses)
    if dom is not None:
        ips = [ip for d, ip in config.addresses if d == dom]
        if all(ip is None for ip in ips):
            return reply(Rcode.NXDOMAIN)
        hits = tuple(rr(ip) for ip in ips if ip is not None and ip.version == want)
        if hits:
            return reply(answers=hits, aa=True)
    chain: list[Record] = []
    seen = {name}
    owner = q.name
    target = dict(config.cnames).get(name)
    while target is not None and target not in seen:  # --cname: the chain, then the target's records
        chain.append(Record(owner, QType.CNAME, 1, 0, target))
        seen.add(target)
        owner, name = target, target
        target = dict(config.cnames).get(name)
    if chain:
        local = tuple(Record(owner, QType.A if a.version == 4 else QType.AAAA, 1, 0, a)
                      for n, a in rec.hosts if n == name and a.version == want)
        return reply(answers=(*chain, *local), aa=True)
    known = [a for n, a in rec.hosts if n == name]
    hits = tuple(rr(a) for a in known if a.version == want)
    if hits:
        return reply(answers=hits, aa=True)
    dom = _best(name, config.domain_servers)
    if dom is not None:
        upstream = next(t for d, t in config.domain_servers if d == dom)
        if upstream is None:
            return reply(Rcode.NOERROR if known else Rcode.NXDOMAIN)
        return Forward((upstream,))
    if rec.upstreams:
        return Forward(rec.upstreams)
    return reply(Rcode.REFUSED, ede=EDE_NOT_READY)



