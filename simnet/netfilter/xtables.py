"""libxtables for simnet: how iptables reads and prints the values every extension shares.

Kernel/iptables: ``libxtables/xtables.c`` (``xtables_strtoui``, ``xtables_parse_port``,
``xtables_ipparse_any``, ``xtables_parse_protocol``, ``xtables_parse_interface``,
``xtables_save_string``) and iptables-restore's word splitting.  Protocols, interfaces,
networks, ports, marks, quoting and bounded numbers live here, below the rule, match and
target modules that all use them, so none of those imports another for a helper.

Numbers are parsed as the C library does (``strtoul`` base 0 with a bound): never with a
bare ``int()`` on user text, which raises ``ValueError`` past 4,300 digits; a number of any
length out of range gets the caller's iptables wording.
"""

from __future__ import annotations

import re
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network
from _socket import inet_aton as _inet_aton  # socket.inet_aton itself; the socket module costs start-up (#16)

from simnet.errors import RuleSyntaxError

__all__ = [
    "Opts", "U32", "err", "save_string", "parse_int", "parse_mark", "mark_text", "strtoui", "quad_to_int",
    "parse_network", "net_text", "parse_port", "parse_port_range", "range_text", "port_name",
    "parse_proto", "proto_name", "check_iface", "iface_matches", "split_words", "ULONG_MAX", "INT_MAX",
    "is_digits", "decimal", "scan_ull", "parse_rulenumber", "getportbyname", "parse_mport",
]


Opts = dict[str, tuple[bool, tuple[str, ...]]]
"""Parsed options of one module: canonical option -> (inverted, arguments)."""

U32 = 0xFFFFFFFF


# --------------------------------------------------------------------------- helpers


def err(msg: str) -> RuleSyntaxError:
    return RuleSyntaxError(msg)


def save_string(value: str) -> str:
    """Quote like ``xtables_save_string``: bare if only ``[A-Za-z0-9_-]``, else quoted."""
    if value and not value.strip(_NO_QUOTE):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'") + '"'


_NO_QUOTE = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_int(text: str, what: str, lo: int = 0, hi: int = U32) -> int:
    """strtoul(base 0) with bounds, iptables-style message on failure."""
    try:
        value = int(text, 0) if not (len(text) > 1 and text[0] == "0" and text[1].isdigit()) else int(text, 8)
    except ValueError:
        raise err(f"Bad {what} value \"{text}\"") from None
    if not lo <= value <= hi:
        raise err(f"Bad {what} value \"{text}\"")
    return value


def parse_mark(text: str, what: str = "mark") -> tuple[int, int]:
    """``value[/mask]`` (mask defaults to 0xffffffff)."""
    value, _, mask = text.partition("/")
    return parse_int(value, what), (parse_int(mask, what) if mask else U32)


def mark_text(value: int, mask: int) -> str:
    return f"0x{value:x}" if mask == U32 else f"0x{value:x}/0x{mask:x}"


ULONG_MAX = (1 << 64) - 1
INT_MAX = (1 << 31) - 1


def is_digits(text: str) -> bool:
    """Only ASCII decimal digits (``str.isdigit`` also takes other scripts' digits, C does not)."""
    return text.isdigit() and text.isascii()


def decimal(digits: str) -> int:
    """The value of an ASCII digit string of any length, saturated at ``ULONG_MAX + 1``.

    C's strtoul saturates where Python's ``int()`` raises past 4,300 digits; every bound
    simnet checks is below the saturated value, so it is refused with the tool's own words.
    """
    d = digits.lstrip("0")
    return ULONG_MAX + 1 if len(d) > 20 else int(d or "0")


def strtoui(text: str, hi: int, lo: int = 0) -> int | None:
    """xtables_strtoui(text, NULL, &v, lo, hi): strtoumax base 0 (0x hex, leading-0 octal,
    leading blanks and a sign allowed), the whole string consumed, lo <= v <= hi; None if not.

    >>> strtoui("0x50", 65535), strtoui("010", 65535), strtoui("9" * 5000, 65535), strtoui("-1", 9)
    (80, 8, None, None)
    """
    t = text.lstrip(" \t\n\r\f\v")
    neg = False
    if t[:1] in ("+", "-"):
        neg = t[0] == "-"
        t = t[1:]
    if not t:
        return None
    if t[:2] in ("0x", "0X"):
        h = t[2:].lstrip("0")
        if not t[2:] or any(c not in _HEX for c in t[2:]):
            return None
        v = int(h, 16) if len(h) <= 16 else ULONG_MAX + 1
    elif t[0] == "0" and len(t) > 1:
        o = t.lstrip("0")
        if any(c not in "01234567" for c in t):
            return None
        v = int(o, 8) if len(o) <= 22 else ULONG_MAX + 1
    elif is_digits(t):
        v = decimal(t)
    else:
        return None
    if neg and v:
        return None  # strtoumax("-n") wraps to a huge value
    return v if lo <= v <= hi else None


_HEX = frozenset("0123456789abcdefABCDEF")


def scan_ull(text: str) -> int | None:
    """sscanf(text, "%llu"): blanks, a sign, then at least one decimal digit (what follows is
    ignored); saturated at ULONG_MAX, a minus sign wraps.  iptables' ``-c`` counters.

    >>> scan_ull("5"), scan_ull("-1") == ULONG_MAX, scan_ull("0x10"), scan_ull("9" * 5000) == ULONG_MAX, scan_ull("x")
    (5, True, 0, True, None)
    """
    t = text.lstrip(" \t\n\r\f\v")
    neg = t[:1] == "-"
    if t[:1] in ("+", "-"):
        t = t[1:]
    end = 0
    while end < len(t) and t[end] in "0123456789":
        end += 1
    if not end:
        return None
    v = decimal(t[:end])
    if v > ULONG_MAX:
        return ULONG_MAX
    return (-v) & ULONG_MAX if neg else v


def parse_rulenumber(text: str) -> int:
    """iptables' parse_rulenumber: 1 to INT_MAX, base 0."""
    num = strtoui(text, INT_MAX, 1)
    if num is None:
        raise err(f"Invalid rule number `{text}'")
    return num


def getportbyname(text: str) -> int | None:
    """xtables_getportbyname, through glibc's getaddrinfo: a decimal service (strtoul, blanks
    and sign allowed) kept as a C int, refused when negative, then cut to 16 bits (``99999``
    is 34463, ``4294967295`` is refused; checked with iptables 1.8.9), else a service name.

    >>> getportbyname("99999"), getportbyname("http"), getportbyname("-1"), getportbyname("0x50")
    (34463, 80, None, None)
    """
    t = text.lstrip(" \t\n\r\f\v")
    digits = t[1:] if t[:1] in ("+", "-") else t
    if not text:
        return 0
    if is_digits(digits):
        v = decimal(digits)
        if v > ULONG_MAX:
            v = ULONG_MAX
        elif t[0] == "-":
            v = (-v) & ULONG_MAX
        v &= 0xFFFFFFFF
        return None if v >= 0x80000000 else v & 0xFFFF
    return _services("tcp")[0].get(text, _services("udp")[0].get(text))


def parse_mport(text: str) -> tuple[int, int]:
    """xtopt_parse_mport: ``port[:port]`` through :func:`getportbyname`; no order check."""
    lo_s, colon, hi_s = text.partition(":")
    lo = getportbyname(lo_s)
    if lo is None:
        raise err(f"Port \"{lo_s}\" does not resolve to anything.\n")
    if not colon:
        return lo, lo
    hi = getportbyname(hi_s)
    if hi is None:
        raise err(f"Port \"{hi_s}\" does not resolve to anything.\n")
    return lo, hi


_QUAD = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")


def quad_to_int(text: str) -> int | None:
    """A plain dotted quad (decimal, no leading zeros) as an int, else None (quickly)."""
    if _QUAD.fullmatch(text) is None:
        return None
    return int.from_bytes(_inet_aton(text), "big")


def _dotted(text: str, is_mask: bool) -> int | None:
    """xtables' __numeric_to_ipaddr: up to four dot-separated bytes (strtoui base 0 each);
    an address with fewer is completed with zero bytes (``10.1`` is 10.1.0.0), a mask is not."""
    if _QUAD.fullmatch(text) is not None:
        return int.from_bytes(_inet_aton(text), "big")
    parts = text[:19].split(".")  # iptables copies the text into a 20-byte buffer
    if len(parts) > 4 or (is_mask and len(parts) != 4):
        return None
    value = 0
    for p in parts:
        b = strtoui(p, 255)
        if b is None:
            return None
        value = (value << 8) | b
    return value << (8 * (4 - len(parts)))


_NETS: dict[str, IPv4Network] = {}
_PLEN_TEXT = {str(n): n for n in range(33)}
"""A prefix length as its canonical decimal text (strtoul base 0 reads these as decimal)."""


def _network_quick(ip: int, plen: int) -> IPv4Network:
    """``IPv4Network((ip, plen))`` for host bits already clear, without its ``__init__``.

    The constructor re-parses its argument and looks the mask up through two class methods
    (about 5 us; a 100,000-rule restore makes 40,000 networks); this sets the same instance
    fields directly.  Used only when :func:`_quick_agrees` found it equal to the constructor's
    result on this Python (ipaddress internals are not an API).
    """
    net = _new(IPv4Network)
    d = net.__dict__
    d["network_address"] = IPv4Address(ip)
    d["netmask"], d["_prefixlen"] = _NETMASKS[plen]
    if plen == 31:
        d["hosts"] = net.__iter__
    elif plen == 32:
        d["hosts"] = lambda: [IPv4Address(ip)]
    return net


def _quick_agrees() -> bool:
    try:
        for ip, plen in ((0, 0), (0x0A000000, 8), (0x0A000002, 31), (0x0A000001, 32), (0xC0A80100, 24)):
            slow, quick = IPv4Network((ip, plen)), _network_quick(ip, plen)
            a, b = dict(vars(slow)), dict(vars(quick))
            if (a.pop("hosts", None) is None) != (b.pop("hosts", None) is None) or a != b:
                return False
            if (slow != quick or hash(slow) != hash(quick) or str(slow) != str(quick)
                    or (plen >= 24 and list(slow.hosts()) != list(quick.hosts()))):
                return False
        return True
    except Exception:  # pragma: no cover - another Python's ipaddress
        return False


_new = object.__new__
_NETMASKS = {n: IPv4Network._make_netmask(n) for n in range(33)}  # type: ignore[attr-defined]
_network = _network_quick if _quick_agrees() else (lambda ip, plen: IPv4Network((ip, plen)))


def parse_network(text: str) -> IPv4Network:
    """``-s``/``-d`` address as iptables reads it (xtables_ipparse_any): ``a[.b[.c[.d]]]`` with
    strtoul-style bytes (``0/0``, ``10.1``, ``010.1.2.3`` are all addresses), ``/len`` (base 0)
    or ``/a.b.c.d``; host bits cleared.  Results are memoised by text (rules repeat them)."""
    net = _NETS.get(text)
    if net is not None:
        return net
    addr, slash, mask = text.partition("/")
    plen_given = _PLEN_TEXT.get(mask) if slash else 32
    if plen_given is not None and _QUAD.fullmatch(addr) is not None:  # the common a.b.c.d[/len]
        quad = int.from_bytes(_inet_aton(addr), "big")
        net = _network(quad & ((U32 << (32 - plen_given)) & U32), plen_given)
        if len(_NETS) >= 1 << 18:
            _NETS.clear()
        _NETS[text] = net
        return net
    ip = _dotted(addr, False)
    if ip is None:
        raise err(f"host/network `{addr}' not found")
    if not slash:
        plen = 32
    elif (m := _dotted(mask, True)) is not None:
        inv = (~m) & U32
        if inv & (inv + 1):
            raise err(f"non-contiguous mask `{mask}' is not supported by simnet")
        plen = 32 - inv.bit_length()
    else:
        given = strtoui(mask, 32) if mask else None
        if given is None:
            raise err(f"invalid mask `{mask}' specified")
        plen = given
    net = _network(ip & ((U32 << (32 - plen)) & U32), plen)
    if len(_NETS) >= 1 << 18:
        _NETS.clear()
    _NETS[text] = net
    return net


def net_text(net: IPv4Network) -> str:
    """How conntrack/addresses print a network: ``/32`` omitted."""
    return str(net.network_address) if net.prefixlen == 32 else str(net)


@lru_cache(maxsize=4096)
def parse_port(text: str, proto: str = "tcp") -> int:
    """xtables_parse_port: a number (base 0, up to 65535) or a service name."""
    value: int | None = strtoui(text, 65535)
    if value is None:
        value = _services(proto)[0].get(text)
    if value is None:
        raise err(f"invalid port/service `{text}' specified")
    return value


def parse_port_range(text: str, proto: str = "tcp", reversed_msg: str = "invalid portrange (min > max)"
                     ) -> tuple[int, int]:
    """libxt_tcp's parse_tcp_ports (libxt_sctp's alike): ``[lo]:[hi]``; min > max refused with ``reversed_msg``
    (libxt_multiport words it "invalid portrange specified")."""
    lo_s, colon, hi_s = text.partition(":")
    lo = parse_port(lo_s, proto) if lo_s else 0
    hi = (parse_port(hi_s, proto) if hi_s else 65535) if colon else lo
    if lo > hi:
        raise err(reversed_msg)
    return lo, hi


def range_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}:{hi}"


def port_name(port: int, proto: str, numeric: bool) -> str:
    if numeric:
        return str(port)
    return _services(proto)[1].get(port, str(port))


@lru_cache(maxsize=4)
def _services(proto: str) -> tuple[dict[str, int], dict[int, str]]:
    text = _TCP_SERVICES if proto != "udp" else _UDP_SERVICES
    by_name: dict[str, int] = {}
    by_port: dict[int, str] = {}
    for item in text.split():
        name, _, port = item.partition("=")
        by_name.setdefault(name, int(port))
        by_port.setdefault(int(port), name)
    return by_name, by_port


# iptables' own protocol names first (xtables_chain_protos), then /etc/protocols.
_CHAIN_PROTOS = {"tcp": 6, "sctp": 132, "udp": 17, "udplite": 136, "icmp": 1, "icmpv6": 58,
                 "esp": 50, "ah": 51, "mh": 135, "all": 0}
_ETC_PROTOCOLS = (
    "0:ip 0:hopopt 1:icmp 2:igmp 3:ggp 4:ipencap 5:st 6:tcp 8:egp 9:igp 12:pup 17:udp 20:hmp "
    "22:xns-idp 27:rdp 29:iso-tp4 33:dccp 36:xtp 37:ddp 38:idpr-cmtp 41:ipv6 43:ipv6-route "
    "44:ipv6-frag 45:idrp 46:rsvp 47:gre 50:esp 51:ah 57:skip 58:ipv6-icmp 59:ipv6-nonxt "
    "60:ipv6-opts 73:rspf 81:vmtp 88:eigrp 89:ospf 93:ax.25 94:ipip 97:etherip 98:encap 103:pim "
    "108:ipcomp 112:vrrp 115:l2tp 124:isis 132:sctp 133:fc 135:mobility-header 136:udplite "
    "137:mpls-in-ip 138:manet 139:hip 140:shim6 141:wesp 142:rohc 143:ethernet 262:mptcp"
)
_PROTO_BY_NAME: dict[str, int] = {}
_PROTO_NAME: dict[int, str] = {}
for _item in _ETC_PROTOCOLS.split():
    _num, _name = _item.split(":")
    _PROTO_BY_NAME.setdefault(_name, int(_num))
    _PROTO_NAME.setdefault(int(_num), _name)
for _cname, _cnum in _CHAIN_PROTOS.items():
    _PROTO_BY_NAME[_cname] = _cnum
    if _cnum:
        _PROTO_NAME[_cnum] = _cname


def parse_proto(text: str) -> int | None:
    """``-p`` value -> protocol number (None for ``all``/``0``)."""
    if text.isdigit():
        num = int(text)
        if num > 255:
            raise RuleSyntaxError(f"unknown protocol \"{text}\" specified")
        return num or None
    named = _PROTO_BY_NAME.get(text.lower())
    if named is None:
        raise RuleSyntaxError(f"unknown protocol \"{text}\" specified")
    return named or None


def proto_name(num: int) -> str:
    """How iptables prints a protocol number: its name when it has one."""
    return _PROTO_NAME.get(num, str(num))


def check_iface(name: str) -> str:
    if len(name) > 15:
        raise RuleSyntaxError(f"interface name `{name}' must be shorter than IFNAMSIZ (16)")
    return name


def iface_matches(pattern: str, name: str | None) -> bool:
    """iptables' interface test: exact, or a prefix when ``pattern`` ends in ``+``.

    >>> iface_matches("veth+", "veth12ab"), iface_matches("eth0", "eth01"), iface_matches("+", "lo")
    (True, False, True)
    """
    if name is None:
        return False
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


def split_words(line: str) -> list[str]:
    """Split a rule line like iptables-restore: whitespace, ``"..."`` quoting with
    backslash escapes inside quotes; single quotes are ordinary characters."""
    if '"' not in line:
        return line.split()
    if "\\" not in line:
        # quotes only around whole words: split on the quotes, no per-character loop
        segs = line.split('"')
        last = len(segs) - 1
        if last % 2 == 0:
            head = segs[0]
            fast = head.split()
            ok = not head or head[-1].isspace()
            i = 1
            while ok and i < last:
                fast.append(segs[i])
                seg = segs[i + 1]
                if seg:
                    if not seg[0].isspace() or (i + 1 < last and not seg[-1].isspace()):
                        ok = False
                        break
                    fast.extend(seg.split())
                i += 2
            if ok:
                return fast
    words: list[str] = []
    buf: list[str] = []
    in_quote = escaped = False
    have = False
    for ch in line:
        if in_quote:
            if escaped:
                buf.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quote = False
                words.append("".join(buf))
                buf.clear()
                have = False
            else:
                buf.append(ch)
            continue
        if ch == '"':
            in_quote = True
            have = True
        elif ch in " \t\n\r":
            if buf or have:
                words.append("".join(buf))
                buf.clear()
                have = False
        else:
            buf.append(ch)
            have = True
    if in_quote:
        raise RuleSyntaxError("unterminated quoted string")
    if buf:
        words.append("".join(buf))
    return words



# Service names of this machine's /etc/services (netbase), for port names in
# rules and in ``iptables -L`` without ``-n``.
_TCP_SERVICES = (
    "tcpmux=1 echo=7 discard=9 sink=9 null=9 systat=11 users=11 daytime=13 netstat=15 qotd=17 "
    "quote=17 chargen=19 ttytst=19 source=19 ftp-data=20 ftp=21 ssh=22 telnet=23 smtp=25 mail=25 "
    "time=37 timserver=37 whois=43 nicname=43 tacacs=49 domain=53 gopher=70 finger=79 http=80 www=80 "
    "kerberos=88 kerberos5=88 krb5=88 kerberos-sec=88 iso-tsap=102 tsap=102 acr-nema=104 dicom=104 "
    "pop3=110 pop-3=110 sunrpc=111 portmapper=111 auth=113 authentication=113 tap=113 ident=113 "
    "nntp=119 readnews=119 untp=119 epmap=135 loc-srv=135 netbios-ssn=139 imap2=143 imap=143 snmp=161 "
    "snmp-trap=162 snmptrap=162 cmip-man=163 cmip-agent=164 mailq=174 bgp=179 smux=199 qmtp=209 "
    "z3950=210 wais=210 pawserv=345 zserv=346 rpc2portmap=369 codaauth2=370 ldap=389 svrloc=427 "
    "https=443 snpp=444 microsoft-ds=445 kpasswd=464 submissions=465 ssmtp=465 smtps=465 urd=465 "
    "saft=487 rtsp=554 nqs=607 qmqp=628 ipp=631 ldp=646 exec=512 login=513 shell=514 cmd=514 "
    "syslog=514 printer=515 spooler=515 gdomap=538 uucp=540 uucpd=540 klogin=543 kshell=544 krcmd=544 "
    "afpovertcp=548 nntps=563 snntp=563 submission=587 ldaps=636 tinc=655 silc=706 kerberos-adm=749 "
    "domain-s=853 rsync=873 ftps-data=989 ftps=990 telnets=992 imaps=993 pop3s=995 socks=1080 "
    "proofd=1093 rootd=1094 openvpn=1194 rmiregistry=1099 lotusnote=1352 lotusnotes=1352 "
    "ms-sql-s=1433 ingreslock=1524 datametrics=1645 old-radius=1645 sa-msg-port=1646 old-radacct=1646 "
    "kermit=1649 groupwise=1677 radius=1812 radius-acct=1813 radacct=1813 cisco-sccp=2000 nfs=2049 "
    "gnunet=2086 rtcm-sc104=2101 gsigatekeeper=2119 gris=2135 cvspserver=2401 venus=2430 "
    "venus-se=2431 codasrv=2432 codasrv-se=2433 mon=2583 dict=2628 f5-globalsite=2792 gsiftp=2811 "
    "gpsd=2947 gds-db=3050 gds_db=3050 isns=3205 iscsi-target=3260 mysql=3306 ms-wbt-server=3389 "
    "nut=3493 distcc=3632 daap=3689 svn=3690 subversion=3690 suucp=4031 sysrqd=4094 sieve=4190 "
    "epmd=4369 remctl=4373 f5-iquery=4353 ntske=4460 mtn=4691 radmin-port=4899 sip=5060 sip-tls=5061 "
    "xmpp-client=5222 jabber-client=5222 xmpp-server=5269 jabber-server=5269 cfengine=5308 "
    "postgresql=5432 postgres=5432 freeciv=5556 rptp=5556 amqps=5671 amqp=5672 x11=6000 x11-0=6000 "
    "x11-1=6001 x11-2=6002 x11-3=6003 x11-4=6004 x11-5=6005 x11-6=6006 x11-7=6007 gnutella-svc=6346 "
    "gnutella-rtr=6347 redis=6379 sge-qmaster=6444 sge_qmaster=6444 sge-execd=6445 sge_execd=6445 "
    "mysql-proxy=6446 ircs-u=6697 bbs=7000 font-service=7100 xfs=7100 http-alt=8080 webcache=8080 "
    "puppet=8140 bacula-dir=9101 bacula-fd=9102 bacula-sd=9103 xmms2=9667 nbd=10809 "
    "zabbix-agent=10050 zabbix-trapper=10051 amanda=10080 hkp=11371 db-lsp=17500 dcap=22125 "
    "gsidcap=22128 wnn6=22273 kerberos4=750 kerberos-iv=750 kdc=750 kerberos-master=751 krb-prop=754 "
    "krb_prop=754 krb5_prop=754 hprop=754 iprop=2121 supfilesrv=871 supfiledbg=1127 poppassd=106 "
    "moira-db=775 moira_db=775 moira-update=777 moira_update=777 spamd=783 skkserv=1178 rmtcfg=1236 "
    "xtel=1313 xtelw=1314 zebrasrv=2600 zebra=2601 ripd=2602 ripngd=2603 ospfd=2604 bgpd=2605 "
    "ospf6d=2606 ospfapi=2607 isisd=2608 fax=4557 hylafax=4559 munin=4949 lrrd=4949 nrpe=5666 "
    "nsca=5667 canna=5680 syslog-tls=6514 sane-port=6566 sane=6566 saned=6566 ircd=6667 zope-ftp=8021 "
    "tproxy=8081 omniorb=8088 clc-build-daemon=8990 xinetd=9098 git=9418 zope=9673 webmin=10000 "
    "kamanda=10081 amandaidx=10082 amidxtape=10083 sgi-cad=17004 binkp=24554 asp=27374 csync2=30865 "
    "dircproxy=57000 tfido=60177 fido=60179 "
)
_UDP_SERVICES = (
    "echo=7 discard=9 sink=9 null=9 daytime=13 chargen=19 ttytst=19 source=19 fsp=21 fspd=21 time=37 "
    "timserver=37 tacacs=49 domain=53 bootps=67 bootpc=68 tftp=69 kerberos=88 kerberos5=88 krb5=88 "
    "kerberos-sec=88 sunrpc=111 portmapper=111 ntp=123 netbios-ns=137 netbios-dgm=138 snmp=161 "
    "snmp-trap=162 snmptrap=162 cmip-man=163 cmip-agent=164 xdmcp=177 ipx=213 ptp-event=319 "
    "ptp-general=320 rpc2portmap=369 codaauth2=370 clearcase=371 Clearcase=371 ldap=389 svrloc=427 "
    "https=443 kpasswd=464 isakmp=500 rtsp=554 asf-rmcp=623 ldp=646 biff=512 comsat=512 who=513 "
    "whod=513 syslog=514 talk=517 ntalk=518 route=520 router=520 routed=520 gdomap=538 "
    "dhcpv6-client=546 dhcpv6-server=547 ldaps=636 tinc=655 domain-s=853 openvpn=1194 ms-sql-m=1434 "
    "datametrics=1645 old-radius=1645 sa-msg-port=1646 old-radacct=1646 l2f=1701 l2tp=1701 "
    "radius=1812 radius-acct=1813 radacct=1813 nfs=2049 gnunet=2086 rtcm-sc104=2101 venus=2430 "
    "venus-se=2431 codasrv=2432 codasrv-se=2433 mon=2583 icpv2=3130 icp=3130 isns=3205 nut=3493 "
    "ipsec-nat-t=4500 iax=4569 sip=5060 sip-tls=5061 mdns=5353 gnutella-svc=6346 gnutella-rtr=6347 "
    "babel=6696 afs3-fileserver=7000 afs3-callback=7001 afs3-prserver=7002 afs3-vlserver=7003 "
    "afs3-kaserver=7004 afs3-volser=7005 afs3-bos=7007 afs3-update=7008 afs3-rmtsys=7009 "
    "kerberos4=750 kerberos-iv=750 kdc=750 kerberos-master=751 kerberos_master=751 passwd-server=752 "
    "passwd_server=752 zephyr-srv=2102 zephyr-clt=2103 zephyr-hm=2104 moira-ureg=779 moira_ureg=779 "
    "predict=1210 rplay=5555 sgi-cmsd=17001 sgi-crsd=17002 sgi-gcd=17003 asp=27374 "
)
