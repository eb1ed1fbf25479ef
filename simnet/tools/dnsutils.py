"""bind9-dnsutils 9.18 (``dig``, ``host``, ``nslookup``) as probes: real queries through the stack.

Each tool sends its DNS queries in UDP datagrams from the namespace (so routing, netfilter,
conntrack and NAT apply, and the packets show in the probe's trace and counters) and prints
what the installed tools print (Debian 12's 9.18.49): the answer, NXDOMAIN/SERVFAIL/REFUSED,
``connection refused`` for an ICMP port unreachable, and ``no servers could be reached`` when
nothing answered.  dig's variable parts (id, query time, date, the client cookie) are whatever
this run drew; :func:`stable_dig_lines` drops them for comparisons with the kernel.
"""

from __future__ import annotations

import re
from ipaddress import AddressValueError, IPv4Address


from simnet.dns.message import DecodeError, EdnsOption, Message, QType, Question, Rcode, Record, decode, opt_record
from simnet.dns.resolver import exchange, parse_resolv_conf, read_etc, reverse_name
from simnet.probe import IcmpReport, ProbeResult, _collect
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun, script_error

__all__ = ["DIG_VERSION", "compile_dig", "compile_host", "compile_nslookup", "stable_dig_lines"]

DIG_VERSION = "9.18.49-1~deb12u3-Debian"
"""What dig's banner names (the installed bind9-dnsutils on the reference machine)."""

_TYPES = {t.name: int(t) for t in QType if t not in (QType.OPT,)}


def _indent(line: str, col: int) -> str:
    """BIND's column layout: tabs to column ``col``, or one space when already past it."""
    width = len(line.expandtabs(8))
    if width >= col:
        return line + " "
    while width < col:
        line += "\t"
        width = (width // 8 + 1) * 8
    return line


def _rdata(r: Record) -> str:
    if isinstance(r.data, str):
        return r.data.rstrip(".") + "."
    if isinstance(r.data, bytes):
        return "\\# " + str(len(r.data)) + (" " + r.data.hex().upper() if r.data else "")
    return str(r.data)


def _type_name(t: int) -> str:
    return QType(t).name if t in _TYPES.values() else f"TYPE{t}"


def record_line(r: Record) -> str:
    """One record as dig prints it (``web.\\t\\t\\t0\\tIN\\tA\\t10.0.0.5``)."""
    line = _indent(r.name.rstrip(".") + ".", 24) + str(r.ttl)
    line = _indent(line, 32) + "IN"
    line = _indent(line, 40) + _type_name(r.rtype)
    return _indent(line, 48) + _rdata(r)


def question_line(q: Question) -> str:
    """``;NAME.`` and the class and type in their columns, counted without the ``;`` (as dig
    counts them: ``;up.lab.`` takes four tabs, like ``;web.``)."""
    line = _indent(q.name.rstrip(".") + ".", 32) + "IN"
    return ";" + _indent(line, 40) + _type_name(q.qtype)


_EDE = {14: "Not Ready", 0: "Other", 20: "Not Authoritative", 18: "Prohibited", 22: "No Reachable Authority"}


def _flags(m: Message) -> str:
    names = [n for n, on in (("qr", m.qr), ("aa", m.aa), ("tc", m.tc), ("rd", m.rd), ("ra", m.ra), ("ad", m.ad),
                             ("cd", m.cd)) if on]
    return " ".join(names)


def _rcode(m: Message) -> str:
    return Rcode(m.rcode).name if m.rcode in set(Rcode) else f"RESERVED{m.rcode}"


DIG_SECTIONS = ("cmd", "comments", "question", "answer", "authority", "additional", "stats")
"""dig's display options (+[no]NAME, +[no]all): what parts of its output it prints."""


def dig_answer_text(m: Message, shown: frozenset[str] = frozenset(DIG_SECTIONS)) -> list[str]:
    """The answer as dig prints it under its display options (``shown``), from ``;; Got answer:``
    to the last section: the comments are the header, the OPT pseudo-section, the section titles
    and the blank line after each section (as 9.18 prints ``+noall +comments``, ``+nocomments``)."""
    comments = "comments" in shown
    out: list[str] = []
    if comments:
        out += [";; Got answer:", f";; ->>HEADER<<- opcode: QUERY, status: {_rcode(m)}, id: {m.id}",
                f";; flags: {_flags(m)}; QUERY: {len(m.questions)}, ANSWER: {len(m.answers)}, "
                f"AUTHORITY: {len(m.authority)}, ADDITIONAL: {len(m.additional)}"]
        if m.qr and m.rd and not m.ra:  # dig.c: a reply with RD echoed but no RA (Docker's SERVFAIL)
            out.append(";; WARNING: recursion requested but not available")
        out.append("")
    opt = m.opt
    if opt is not None and comments:
        out += [";; OPT PSEUDOSECTION:", f"; EDNS: version: 0, flags:; udp: {opt.rclass}"]
        for o in opt.data:  # type: ignore[attr-defined]
            if o.code == 15 and len(o.data) >= 2:
                code = int.from_bytes(o.data[:2], "big")
                out.append(f"; EDE: {code} ({_EDE.get(code, 'Unknown')})")
            elif o.code == 10:
                out.append(f"; COOKIE: {o.data.hex()}")
    if "question" in shown:
        out += [";; QUESTION SECTION:"] * comments + [question_line(q) for q in m.questions] + [""] * comments
    for title, section in (("ANSWER", m.answers), ("AUTHORITY", m.authority),
                           ("ADDITIONAL", tuple(r for r in m.additional if r.rtype != QType.OPT))):
        if section and title.lower() in shown:
            out += [f";; {title} SECTION:"] * comments + [record_line(r) for r in section] + [""] * comments
    return out


def stable_dig_lines(text: str) -> list[str]:
    """dig/host/nslookup output without what differs run to run (id, query time, date, cookie).

    >>> stable_dig_lines(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 6\\n;; Query time: 3 msec\\nx\\n")
    [';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: *', 'x']
    """
    out = []
    for line in text.splitlines():
        if line.startswith((";; Query time:", ";; WHEN:", "; COOKIE:")):
            continue
        out.append(re.sub(r"(, id: )\d+", r"\1*", line))
    return out


# ----------------------------------------------------------------------------- shared sending


def _servers(run: ToolRun, ns: str | None, server: IPv4Address | None) -> list[IPv4Address]:
    if server is not None:
        return [server]
    return list(parse_resolv_conf(read_etc(run.world, "resolv.conf", ns) or "").servers)


def _result(run: ToolRun, netns: str, dst: IPv4Address, port: int, first: int, outcome: str,
            icmp: IcmpReport | None = None, errno: str | None = None, proto: str = "udp") -> ProbeResult:
    return ProbeResult(proto=proto, netns=netns, dst=dst, dport=port, outcome=outcome, icmp=icmp, errno=errno,
                       traces=_collect(run.world, first))


def _ask(run: ToolRun, netns: str, server: IPv4Address, port: int, query: Message, timeout: float, tries: int,
         by: str, errors: list[str]) -> tuple[Message | None, int, str]:
    """dig's loop over tries: (the reply, its size, how the last try ended)."""
    how = "timeout"
    for _ in range(max(tries, 1)):
        got = exchange(run.world, netns, server, port, [query], timeout=timeout, by=by)
        if got.replies:
            reply = next(iter(got.replies.values()))
            return reply, len(reply.encode()), "reply"
        if got.errno == "ENETUNREACH":
            errors.append(f";; UDP setup with {server}#{port}({server}) for {query.questions[0].name} failed: "
                          "network unreachable.")
            return None, 0, "error"
        if got.errors:
            type_, code, _src = got.errors[0]
            how = "refused" if (type_, code) == (3, 3) else "unreachable"
            errors.append(f";; communications error to {server}#{port}: "
                          + ("connection refused" if how == "refused" else "host unreachable"))
        else:
            how = "timeout"
            errors.append(f";; communications error to {server}#{port}: timed out")
    return None, 0, how


def _ask_tcp(run: ToolRun, netns: str, server: IPv4Address, port: int, query: Message, timeout: float,
             tries: int, shown_name: str, errors: list[str]) -> tuple[Message | None, int, str]:
    """dig +tcp's loop over tries: each try a connection that writes the query with its 2-byte
    length prefix, reads one length-prefixed answer and closes with FIN (10 segments on 6.18).

    A failed try prints its two lines at once (9.18: ``;; Connection to S#P(S) for NAME failed:
    connection refused.`` and ``;; no servers could be reached``, on stdout, every try)."""
    from simnet.probe import tcp_connect

    wire = query.encode()

    def answered(got: bytes) -> bool:
        return len(got) >= 2 and len(got) >= 2 + int.from_bytes(got[:2], "big")

    how = "timeout"
    for _ in range(max(tries, 1)):
        res = tcp_connect(run.world, netns, server, port, timeout=timeout, data=len(wire).to_bytes(2, "big") + wire,
                          answered=answered, by="dig +tcp")
        got = b"".join(r.data for r in (res.reply,) if r is not None) if res.reply is not None else b""
        if res.outcome == "connected" and answered(got):
            size = int.from_bytes(got[:2], "big")
            try:
                return decode(got[2:2 + size]), size, "reply"
            except DecodeError:
                pass
        how = {"refused": "refused", "error": "error"}.get(res.outcome, "timeout")
        word = {"refused": "connection refused", "error": "network unreachable"}.get(how, "timed out")
        errors += [f";; Connection to {server}#{port}({server}) for {shown_name} failed: {word}.",
                   ";; no servers could be reached"]
    return None, 0, how


def _attempts(run: ToolRun, ns: str | None, default: int) -> int:
    """resolv.conf's ``options attempts:N`` is dig's tries unless +tries says otherwise (seen on 9.18
    over TCP: attempts:2 gave two refused connections, none three)."""
    text = read_etc(run.world, "resolv.conf", ns) or ""
    found = re.findall(r"^\s*options\s.*\battempts:(\d+)", text, re.M)
    return max(int(found[-1]), 1) if found else default


def _new_query(run: ToolRun, name: str, qtype: int, *, edns: bool) -> Message:
    """dig's query: AD set, EDNS0 (1232) with an 8-byte client cookie; host's and nslookup's:
    no EDNS at all (their 20-byte query for a 2-letter name, as counted on Linux 6.18)."""
    rng = run.world.rng
    extra = (opt_record(EdnsOption(10, rng.getrandbits(64).to_bytes(8, "big"))),) if edns else ()
    return Message(id=rng.randint(0, 0xFFFF), rd=True, ad=edns, questions=(Question(name.rstrip("."), qtype),),
                   additional=extra)


# ----------------------------------------------------------------------------- dig


def compile_dig(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``dig [@SERVER] [-p PORT] NAME [TYPE] [+short] [+time=N] [+tries=N|+retry=N] [+[no]all|cmd|comments|
    question|answer|authority|additional|stats]``."""
    server: IPv4Address | None = None
    port, name, qtype, short, timeout, tries = 53, None, int(QType.A), False, 5, 3
    tcp, timed, tried = False, False, False
    typed = False
    shown = set(DIG_SECTIONS)
    server_name: str | None = None
    """@NAME: dig looks the server up with getaddrinfo first (A and AAAA, through the stack)."""
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w.startswith("@"):
            from simnet.dns.names import host_word

            found = host_word(cmd, w[1:], "dig")
            server, server_name = (found, None) if isinstance(found, IPv4Address) else (None, found)
        elif w == "-p" or (w.startswith("-p") and w[2:].isdigit()):
            value = w[2:] or (words[i] if i < len(words) else "")
            if not w[2:]:
                i += 1
            if not value.isdigit() or not 0 <= int(value) <= 65535:
                raise script_error(cmd, f"dig: port number invalid: {value}" if value else "dig: option requires an argument -- 'p'")
            port = int(value)
        elif w == "-x":
            if i >= len(words):
                raise script_error(cmd, "dig: option requires an argument -- 'x'")
            try:
                name, qtype, typed = reverse_name(IPv4Address(words[i])), int(QType.PTR), True
            except AddressValueError:
                raise script_error(cmd, f"dig: '{words[i]}' is not a legal IPv4 address (simnet's dig -x)") from None
            i += 1
        elif w.startswith("+"):
            key, _, value = w[1:].partition("=")
            if key in ("short",):
                short = True
            elif key in ("noshort",):
                short = False
            elif key in ("time", "timeout"):
                if not value.isdigit():
                    raise script_error(cmd, f"dig: extra argument {w}" if not value else f"dig: invalid timeout '{value}'")
                timeout, timed = max(int(value), 1), True
            elif key in ("tries", "retry"):
                if not value.isdigit():
                    raise script_error(cmd, f"dig: invalid {key} '{value}'")
                tries, tried = int(value) + (1 if key == "retry" else 0), True
            elif key in ("tcp", "vc", "notcp", "novc"):
                tcp = not key.startswith("no")
            elif key in DIG_SECTIONS or key.startswith("no") and key[2:] in DIG_SECTIONS:
                (shown.discard if key.startswith("no") else shown.add)(key.removeprefix("no"))
            elif key in ("all", "noall"):
                shown.clear() if key == "noall" else shown.update(DIG_SECTIONS)
            elif key in ("search", "nosearch", "recurse", "norecurse", "edns", "noedns", "cookie", "nocookie"):
                raise script_error(cmd, f"dig {w}: simnet's dig sends its default query (EDNS0 with a cookie, "
                                        "recursion desired, no search list)")
            else:
                raise script_error(cmd, f"Invalid option: {w}")
        elif w.startswith("-"):
            raise script_error(cmd, f"Invalid option: {w}")
        elif w.upper() in _TYPES:
            # dig reads any word that names a type as the type, wherever it stands: `dig @S a`
            # asks the root for A (seen on 9.18: a 40-byte query for ".")
            qtype = _TYPES[w.upper()]
            typed = True
        elif w.upper() == "IN":
            pass
        elif name is None:
            name = w
        else:
            raise script_error(cmd, f"dig: simnet's dig takes one name (extra argument {w!r})")
    if name is None:  # no name: the root, for NS unless a type was given
        name, qtype = ".", qtype if typed else int(QType.NS)
    args = " ".join(argv[1:])

    def probe(run: ToolRun) -> ProbeResult:
        netns = run.ns(ns).name
        first = run.world.tracer.begin()
        server_addr = server
        if server_name is not None:
            from simnet.dns.resolver import getaddrinfo

            found = getaddrinfo(run.world, netns, ns, server_name, by="dig (getaddrinfo for @server)",
                                addrconfig=True)
            if found.ipv4 is None:
                why = "not found" if found.error in ("EAI_NONAME", "EAI_NODATA") else "failure"
                run.output(cmd, f"dig: couldn't get address for '{server_name}': {why}\n")
                return ProbeResult(proto="udp", netns=netns, dst=IPv4Address(0), dport=port, outcome="error",
                                   errno=found.error, traces=_collect(run.world, first))
            server_addr = found.ipv4
        servers = _servers(run, ns, server_addr)
        query = _new_query(run, name, qtype, edns=True)
        errors: list[str] = []
        head = ["", f"; <<>> DiG {DIG_VERSION} <<>> {args}"]
        if server_addr is not None:
            head.append("; (1 server found)")
        head.append(";; global options: +cmd")
        reply, size, how, used = None, 0, "timeout", servers[0]
        for srv in servers:
            used = srv
            if tcp:  # dig's TCP timeout is 10 s unless +time says otherwise (dighost.c TCP_TIMEOUT)
                reply, size, how = _ask_tcp(run, netns, srv, port, query, float(timeout if timed else 10),
                                            tries if tried else _attempts(run, ns, tries), name, errors)
            else:
                reply, size, how = _ask(run, netns, srv, port, query, float(timeout), tries, "dig", errors)
            if reply is not None:
                break
        if reply is None and tcp:
            run.output(cmd, "\n".join(errors) + "\n")
            return _result(run, netns, used, port, first, how, errno={"refused": "ECONNREFUSED",
                                                                        "error": "ENETUNREACH"}.get(how), proto="tcp")
        if reply is None:
            # +short implies +nocmd: no "<<>> DiG" header (dig 9.18 on the kernel prints none)
            text = errors + (head + [";; no servers could be reached"] if how != "error" and not short else
                             [";; no servers could be reached"])
            run.output(cmd, "\n".join(text) + "\n")
            return _result(run, netns, used, port, first, "timeout" if how == "timeout" else how,
                           errno={"refused": "ECONNREFUSED", "error": "ENETUNREACH"}.get(how))
        if short:
            lines = [_rdata(r) for r in reply.answers]
        else:
            lines = errors + (head if "cmd" in shown else []) + dig_answer_text(reply, frozenset(shown))
            if "stats" in shown:
                lines += [";; Query time: 0 msec", f";; SERVER: {used}#{port}({server_name or used}) ({'TCP' if tcp else 'UDP'})",
                          f";; WHEN: {_when(run)}", f";; MSG SIZE  rcvd: {size}", ""]
        run.output(cmd, "\n".join(lines) + "\n" if lines else "")
        return _result(run, netns, used, port, first, "reply", proto="tcp" if tcp else "udp")
    return Compiled(probe, StepKind.PROBE)


def _when(run: ToolRun) -> str:
    """dig's WHEN line: the simulated clock from the epoch of simnet's world (a fixed date)."""
    import time

    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(1_700_000_000 + run.world.now))


# ----------------------------------------------------------------------------- host and nslookup


def _name_server_args(cmd: Command, argv: tuple[str, ...],
                      tool: str) -> tuple[str, IPv4Address | None, float | None, bool]:
    """NAME [SERVER], the wait option and whether the tool asks over TCP (``host -T``,
    ``nslookup -vc``)."""
    pos: list[str] = []
    wait: float | None = None
    tcp = False
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if tool == "host" and w == "-W":
            if i >= len(words) or not words[i].isdigit():
                raise script_error(cmd, "host: invalid argument for -W")
            wait = float(words[i])
            i += 1
        elif tool == "nslookup" and re.fullmatch(r"-timeout=\d+", w):
            wait = float(w.split("=")[1])
        elif (tool, w) in (("host", "-T"), ("nslookup", "-vc"), ("nslookup", "-novc")):
            tcp = w != "-novc"
        elif w.startswith("-"):
            raise script_error(cmd, f"unsupported {tool} option {w!r}")
        else:
            pos.append(w)
    if not 1 <= len(pos) <= 2:
        raise script_error(cmd, f"{tool}: give a name and optionally a server: {tool} NAME [SERVER]")
    server = None
    if len(pos) == 2:
        try:
            server = IPv4Address(pos[1])
        except AddressValueError:
            raise script_error(cmd, f"{tool}: simnet takes the server as an IPv4 address, not {pos[1]!r}") from None
    return pos[0], server, wait, tcp


def _ask_either(run: ToolRun, netns: str, srv: IPv4Address, query: Message, wait: float, tcp: bool, by: str,
                errors: list[str]) -> tuple[Message | None, str]:
    """host's and nslookup's question, over UDP or (``-T``/``-vc``) over TCP, two tries; over TCP
    a failed try prints dig's two lines (``;; Connection to S#53(S) for NAME failed: WHY.``,
    ``;; no servers could be reached``), as 9.18's host -T and nslookup -vc did on Linux 6.18."""
    if tcp:
        reply, _, how = _ask_tcp(run, netns, srv, 53, query, wait, 2, query.questions[0].name, errors)
    else:
        reply, _, how = _ask(run, netns, srv, 53, query, wait, 2, by, errors)
    return reply, how


def _failed(errors: list[str], tcp: bool) -> list[str]:
    """The lines a host/nslookup that got no answer prints (UDP: the errors, then one summary)."""
    return errors if tcp else errors + [";; no servers could be reached"]


def _reverse(name: str) -> str | None:
    """host and nslookup turn an IPv4 address into its in-addr.arpa name (a PTR question)."""
    try:
        return reverse_name(IPv4Address(name))
    except AddressValueError:
        return None


def compile_host(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``host [-T] [-W N] NAME [SERVER]``: A, then AAAA and MX, as ``host`` asks them (``-T``: over TCP)."""
    name, server, wait, tcp = _name_server_args(cmd, argv, "host")
    reverse = _reverse(name)
    proto = "tcp" if tcp else "udp"

    def probe(run: ToolRun) -> ProbeResult:
        netns = run.ns(ns).name
        first = run.world.tracer.begin()
        srv = _servers(run, ns, server)[0]
        lines: list[str] = []
        if server is not None:
            lines += ["Using domain server:", f"Name: {server}", f"Address: {server}#53", "Aliases: ", ""]
        outcome = "reply"
        errors: list[str] = []
        if reverse is not None:  # host ADDR: one PTR question
            reply, how = _ask_either(run, netns, srv, _new_query(run, reverse, QType.PTR, edns=False),
                                     wait if wait is not None else 10.0, tcp, "host", errors)
            if reply is None:
                run.output(cmd, "\n".join(_failed(errors, tcp)) + "\n")
                return _result(run, netns, srv, 53, first, how, proto=proto,
                               errno="ECONNREFUSED" if how == "refused" else None)
            if reply.rcode != Rcode.NOERROR:
                lines.append(f"Host {reverse} not found: {reply.rcode}({_rcode(reply)})")
            lines += [f"{reverse} domain name pointer {_rdata(r)}" for r in reply.answers if r.rtype == QType.PTR]
            run.output(cmd, "\n".join(lines) + "\n")
            return _result(run, netns, srv, 53, first, outcome, proto=proto)
        asked = name  # after a CNAME, host asks the canonical name for AAAA and MX (seen on 9.18)
        for qtype in (QType.A, QType.AAAA, QType.MX):
            errors = []
            reply, how = _ask_either(run, netns, srv, _new_query(run, asked, qtype, edns=False),
                                     wait if wait is not None else 10.0, tcp, "host", errors)
            if reply is None and qtype != QType.A:
                # an answered A, then AAAA/MX unanswered: host prints what it has, each failure's
                # lines and goes on to the next type (9.18, dnsmasq forwarding to a dead upstream)
                lines += _failed(errors, tcp)
                outcome = how
                continue
            if reply is None:
                run.output(cmd, "\n".join(_failed(errors, tcp)) + "\n")
                return _result(run, netns, srv, 53, first, how, proto=proto,
                               errno="ECONNREFUSED" if how == "refused" else None)
            if reply.rcode != Rcode.NOERROR:
                lines.append(f"Host {asked} not found: {reply.rcode}({_rcode(reply)})")
                if qtype == QType.A:  # host asks no more after the A question fails (seen on 9.18)
                    break
                continue
            for r in reply.answers:
                owner = r.name.rstrip(".")
                if r.rtype == QType.A:
                    lines.append(f"{owner} has address {r.data}")
                elif r.rtype == QType.AAAA:
                    lines.append(f"{owner} has IPv6 address {r.data}")
                elif r.rtype == QType.CNAME and qtype == QType.A:
                    lines.append(f"{owner} is an alias for {_rdata(r)}")
                    asked = _rdata(r).rstrip(".")
        run.output(cmd, "\n".join(lines) + "\n")
        return _result(run, netns, srv, 53, first, outcome, proto=proto,
                       errno="ECONNREFUSED" if outcome == "refused" else None)
    return Compiled(probe, StepKind.PROBE)


def compile_nslookup(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``nslookup [-vc] [-timeout=N] NAME [SERVER]``: A, then AAAA unless the A answer was an error
    (``-vc``: over TCP)."""
    name, server, wait, tcp = _name_server_args(cmd, argv, "nslookup")
    reverse = _reverse(name)
    proto = "tcp" if tcp else "udp"

    def probe(run: ToolRun) -> ProbeResult:
        netns = run.ns(ns).name
        first = run.world.tracer.begin()
        srv = _servers(run, ns, server)[0]
        errors: list[str] = []
        if reverse is not None:  # nslookup ADDR: one PTR question, printed without the Server lines
            reply, how = _ask_either(run, netns, srv, _new_query(run, reverse, QType.PTR, edns=False),
                                     wait if wait is not None else 2.0, tcp, "nslookup", errors)
            if reply is None:
                run.output(cmd, "\n".join(_failed(errors, tcp) + [""]) + "\n")
                return _result(run, netns, srv, 53, first, how, proto=proto,
                               errno="ECONNREFUSED" if how == "refused" else None)
            found = [f"{reverse}\tname = {_rdata(r)}" for r in reply.answers if r.rtype == QType.PTR]
            if reply.rcode != Rcode.NOERROR or not found:
                found = [f"** server can't find {reverse}: {_rcode(reply)}"]
            run.output(cmd, "\n".join(found) + "\n\n")
            return _result(run, netns, srv, 53, first, "reply", proto=proto)
        lines = [f"Server:\t\t{srv}", f"Address:\t{srv}#53", ""]
        authoritative: bool | None = None
        asked = name  # after a CNAME, the AAAA question is for the canonical name (seen on 9.18)
        for qtype in (QType.A, QType.AAAA):
            errors = []
            reply, how = _ask_either(run, netns, srv, _new_query(run, asked, qtype, edns=False),
                                     wait if wait is not None else 2.0, tcp, "nslookup", errors)
            if reply is None and qtype == QType.AAAA:
                # the A answer printed, then the AAAA question's failure (9.18 with dnsmasq
                # forwarding it to an upstream that never answers)
                run.output(cmd, "\n".join(lines + _failed(errors, tcp) + [""]) + "\n")
                return _result(run, netns, srv, 53, first, how, proto=proto,
                               errno="ECONNREFUSED" if how == "refused" else None)
            if reply is None:
                run.output(cmd, "\n".join(_failed(errors, tcp) + [""]) + "\n")
                return _result(run, netns, srv, 53, first, how, proto=proto,
                               errno="ECONNREFUSED" if how == "refused" else None)
            if reply.rcode != Rcode.NOERROR:
                lines.append(f"** server can't find {asked}: {_rcode(reply)}")
                if qtype == QType.A:
                    break
                continue
            for r in reply.answers:
                if authoritative is None:
                    authoritative = reply.aa
                    if not reply.aa:
                        lines.append("Non-authoritative answer:")
                if r.rtype in (QType.A, QType.AAAA):
                    lines += [f"Name:\t{r.name.rstrip('.')}", f"Address: {r.data}"]
                elif r.rtype == QType.CNAME and qtype == QType.A:
                    lines.append(f"{r.name.rstrip('.')}\tcanonical name = {_rdata(r)}")
                    asked = _rdata(r).rstrip(".")
        run.output(cmd, "\n".join(lines) + "\n\n")
        return _result(run, netns, srv, 53, first, "reply", proto=proto)
    return Compiled(probe, StepKind.PROBE)



