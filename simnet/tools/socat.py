"""``socat`` and ``ncat`` listeners as people start echo services: ``socat UDP-LISTEN:7,fork EXEC:cat``,
``socat TCP-LISTEN:7,fork,reuseaddr EXEC:cat``, ``ncat -l -k [-u] -p 7 --exec /bin/cat``.

An echo service writes back every byte it reads, from its own socket, so the answer is a real
packet through the namespace's routing, netfilter, conntrack and NAT.  Without ``fork`` (socat)
or ``-k`` (ncat) the service serves one client: TCP accepts one connection, UDP connects its
socket to the first sender (another sender then finds no socket and gets port unreachable).
``socat ... STDOUT`` (or ``-``/``STDIO``) and an ncat listener without ``--exec`` only read.

``ncat`` without ``-l`` is Ncat's client (:func:`compile_ncat_client`).

>>> parse_socat_address("udp-l:53,fork,bind=10.0.0.1")
('UDP-L', '53', {'fork': '', 'bind': '10.0.0.1'})
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from simnet.errors import KernelError
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun, decimal, parse_ipv4, script_error
from simnet.tools.ip.common import IpError

if TYPE_CHECKING:
    from simnet.probe import ProbeResult

__all__ = ["compile_ncat", "compile_ncat_client", "compile_socat", "parse_socat_address"]

_LISTEN = {"TCP-LISTEN": "tcp", "TCP-L": "tcp", "TCP4-LISTEN": "tcp", "TCP4-L": "tcp",
           "UDP-LISTEN": "udp", "UDP-L": "udp", "UDP4-LISTEN": "udp", "UDP4-L": "udp"}
_LISTEN_OPTS = frozenset({"fork", "reuseaddr", "reuseport", "bind", "so-reuseaddr", "so-reuseport", "crlf"})
_SINKS = frozenset({"-", "STDIO", "STDOUT", "STDIN"})
_CATS = frozenset({"cat", "/bin/cat", "/usr/bin/cat"})


def parse_socat_address(text: str) -> tuple[str, str | None, dict[str, str]]:
    """``TYPE[:PARAM][,OPT[=VALUE]]...`` as socat splits it: (TYPE upper-cased, PARAM, options)."""
    head, *opts = text.split(",")
    kind, colon, param = head.partition(":")
    options = {}
    for o in opts:
        k, _, v = o.partition("=")
        options[k.lower()] = v
    return ("-" if kind == "-" else kind.upper()), (param if colon else None), options


def _echo_program(words: str) -> bool:
    return words.strip().strip("'\"") in _CATS


def compile_socat(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``socat [-d...] [-v] [-u] LISTEN-ADDRESS SERVICE-ADDRESS &`` (either order)."""
    addresses: list[str] = []
    unidirectional = False
    for w in argv[1:]:
        if re.fullmatch(r"-d+|-v|-x|-D", w):
            continue
        if w == "-u":
            unidirectional = True
        elif w.startswith("-") and w != "-":
            raise script_error(cmd, f"socat E unknown option \"{w}\"; use option \"-h\" for help")
        else:
            addresses.append(w)
    if len(addresses) != 2:
        raise script_error(cmd, f"socat E exactly 2 addresses required (there are {len(addresses)}); "
                                "use option \"-h\" for help")
    parsed = [parse_socat_address(a) for a in addresses]
    listen = [p for p in parsed if p[0] in _LISTEN]
    if len(listen) != 1:
        kind = next((p[0] for p in parsed if p[0] not in _LISTEN and p[0] not in _SINKS | {"EXEC", "SYSTEM", "PIPE"}),
                    None)
        if kind is not None:
            raise script_error(cmd, f"socat E unknown device/address \"{kind}\"")
        raise script_error(cmd, "simnet's socat runs a service: one TCP-LISTEN or UDP-LISTEN address and one "
                                "of EXEC:cat, SYSTEM:cat, PIPE or STDOUT")
    kind, param, options = listen[0]
    service = parsed[1] if parsed[0] is listen[0] else parsed[0]
    if param is None:
        raise script_error(cmd, f"socat E {kind}: wrong number of parameters (0 instead of 1)")
    proto = _LISTEN[kind]
    port = decimal(param) if param.isascii() and param.isdigit() else None
    if port is None:
        raise script_error(cmd, f"socat E cannot resolve service \"{param}/{6 if proto == 'tcp' else 17}\"")
    port &= 0xFFFF  # socat keeps the low 16 bits of a larger number (99999 listens on 34463)
    if port == 0:
        raise script_error(cmd, "socat: port 0 asks the kernel for any free port: give the port to listen on")
    for o in options:
        if o not in _LISTEN_OPTS:
            raise script_error(cmd, f"socat E parseopts_table(): unknown option \"{o}\"")
    bind: IPv4Address | None = None
    if options.get("bind"):
        bind = parse_ipv4(cmd, options["bind"].split(":")[0], "socat")
    skind, sparam, _ = service
    if skind in ("EXEC", "SYSTEM"):
        if sparam is None or not _echo_program(sparam):
            raise script_error(cmd, f"simnet's socat runs cat as its program (an echo service), not {sparam!r}")
        echo = True
    elif skind == "PIPE" and sparam is None:
        echo = True  # an unnamed pipe: what is written to it is read back
    elif skind in _SINKS:
        echo = False
    else:
        raise script_error(cmd, f"socat E unknown device/address \"{skind}\"" if skind not in _LISTEN
                           else "simnet's socat runs one listening address")
    # -u: data flows from the first address to the second only; the listener never writes back
    echo = echo and not (unidirectional and parsed[0] is listen[0])
    return _listener(cmd, ns, proto, port, bind, keep="fork" in options, echo=echo, tool="socat")


def _listener(cmd: Command, ns: str | None, proto: str, port: int, bind: IPv4Address | None, *, keep: bool,
              echo: bool, tool: str) -> Compiled:
    if not cmd.background:
        raise script_error(cmd, f"a listener ({tool}) must run in the background: end the line with '&'")

    def listen(run: ToolRun) -> list[Any]:
        n = run.ns(ns)
        try:
            lst = n.sockets.listen(proto, port, bind, keep=keep, job=0)
        except KernelError:
            what = "Address already in use"
            raise IpError(f"{tool}: {what}" if tool == "socat" else f"Ncat: bind to {bind or '0.0.0.0'}:{port}: "
                                                                     f"{what}. QUITTING.", 1) from None
        lst.echo = echo
        return [lst]
    return Compiled(listen, StepKind.JOB)


def compile_ncat(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``ncat -l [-k] [-u] [-p PORT | [ADDR] PORT] [--exec|-e|--sh-exec|-c PROGRAM] &``; a client otherwise."""
    words = list(argv[1:])
    if not any(w in ("-l", "--listen") or re.fullmatch(r"-[a-z]*l[a-z]*", w) for w in words):
        return compile_ncat_client(cmd, ns, argv)
    flags: set[str] = set()
    port_word: str | None = None
    program: str | None = None
    pos: list[str] = []
    long_flags = {"--listen": "l", "--keep-open": "k", "--udp": "u", "--verbose": "v", "--nodns": "n"}
    i = 0
    while i < len(words):
        w = words[i]
        if w in long_flags:
            flags.add(long_flags[w])
        elif w in ("-p", "--source-port", "-e", "--exec", "-c", "--sh-exec") or w.startswith(("--exec=", "--sh-exec=")):
            if "=" in w:
                name, value = w.split("=", 1)
            else:
                if i + 1 >= len(words):
                    raise script_error(cmd, f"ncat: option requires an argument -- '{w[1]}'" if len(w) == 2
                                       else f"ncat: option '{w}' requires an argument")
                name, value = w, words[i + 1]
                i += 1
            if name in ("-p", "--source-port"):
                port_word = value
            else:
                program = value
        elif re.fullmatch(r"-[lkuvn46]+", w):
            flags.update(w[1:])
        elif w.startswith("-"):
            raise script_error(cmd, f"ncat: unrecognized option '{w}'" if w.startswith("--")
                               else f"ncat: invalid option -- '{w[1]}'")
        else:
            pos.append(w)
        i += 1
    bind: IPv4Address | None = None
    if port_word is None and pos:
        port_word = pos.pop()
    if pos:
        bind = parse_ipv4(cmd, pos.pop(0), "ncat")
    if pos:
        raise script_error(cmd, "Ncat: Got more than one port specification. QUITTING.")
    if port_word is None:
        port_word = "31337"  # ncat's default listening port
    port = decimal(port_word) if port_word.isascii() and port_word.isdigit() else None
    if port is None:
        raise script_error(cmd, f"Ncat: Invalid source port number \"{port_word}\". QUITTING.")
    if not 0 < port < 65536:
        raise script_error(cmd, f"Ncat: Invalid source port {port_word}. QUITTING.")
    if program is not None and not _echo_program(program):
        raise script_error(cmd, f"simnet's ncat runs cat as --exec (an echo service), not {program!r}")
    return _listener(cmd, ns, "udp" if "u" in flags else "tcp", port, bind, keep="k" in flags,
                     echo=program is not None, tool="ncat")


def compile_ncat_client(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``[echo DATA |] ncat [-u] [-w SECONDS] HOST PORT``: Ncat 7.93 as a client, as it behaved on
    Linux 6.18 against socat echo services.

    TCP: it connects, writes its input, shuts down its side at the input's end (FIN) and prints
    what comes back until the server closes (10 segments for an echo: the counters dig +tcp
    shows). UDP: it sends its input and exits at the input's end, before an answer can come back
    (the echo's reply meets a closed port), printing nothing; a port-unreachable error that is
    already there is read: ``Ncat: Connection refused.`` (exit 1). Errors go to stderr:
    ``Ncat: Connection refused.``, ``Ncat: TIMEOUT.`` (-w expired connecting) and
    ``Ncat: Could not resolve hostname "NAME": WHY. QUITTING.``."""
    from simnet.dns.names import host_word, resolving
    from simnet.probe import MAX_TIMEOUT, ProbeResult, tcp_connect
    from simnet.tools.base import within

    words = list(argv[1:])
    udp = False
    timeout: float | None = None
    pos: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w in ("-u", "--udp"):
            udp = True
        elif w in ("-w", "--wait") or w.startswith("--wait="):
            value = w.split("=", 1)[1] if "=" in w else (words[i] if i < len(words) else "")
            i += 0 if "=" in w else 1
            m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", value)
            if not m:
                raise script_error(cmd, f"Ncat: Invalid -w timeout (must be greater than 0). QUITTING."
                                   if value else "ncat: option requires an argument -- 'w'")
            timeout = float(m.group(1)) * {"ms": 0.001, "m": 60.0}.get(m.group(2) or "s", 1.0)
        elif w in ("-n", "--nodns", "-4", "-v", "--verbose"):
            pass
        elif w.startswith("-"):
            raise script_error(cmd, f"ncat: unrecognized option '{w}'" if w.startswith("--")
                               else f"ncat: invalid option -- '{w[1]}'")
        else:
            pos.append(w)
    if cmd.background:
        raise script_error(cmd, "only listeners may run in the background (ncat -l ... &)")
    if len(pos) != 2:
        raise script_error(cmd, "ncat needs a host and a port: ncat [-u] [-w S] HOST PORT")
    port = decimal(pos[1]) if pos[1].isascii() and pos[1].isdigit() else None
    if port is None or not 0 < port < 65536:
        raise script_error(cmd, f"Ncat: Invalid port number \"{pos[1]}\". QUITTING.")
    dst = host_word(cmd, pos[0], "ncat")
    data = (cmd.stdin or "").encode()
    wait = min(within(cmd, timeout), MAX_TIMEOUT)

    def failed(host: str, why: str | None) -> str:
        return f'Ncat: Could not resolve hostname "{host}": {why}. QUITTING.' if why else \
            "Ncat: Cannot assign requested address."

    def probe(run: ToolRun) -> ProbeResult:
        netns = run.ns(ns).name
        if udp:
            def send(addr: IPv4Address) -> ProbeResult:
                result: ProbeResult = _ncat_udp(run, netns, addr, port, data)
                return result
            result = resolving(run, cmd, ns, dst, "ncat", failed, send)
            if result.errno == "ECONNREFUSED":
                run.output(cmd, "", stderr="Ncat: Connection refused.\n")
            return result

        def answered(got: bytes) -> bool:
            return len(got) >= len(data)  # an echo service answers with what it read

        def connect(addr: IPv4Address) -> ProbeResult:
            return tcp_connect(run.world, netns, addr, port, timeout=wait, data=data or None,
                               answered=answered if data else None, by="ncat")
        result = resolving(run, cmd, ns, dst, "ncat", failed, connect)
        if result.reply is not None:
            run.output(cmd, result.reply.data.decode("utf-8", "replace"))
        elif result.outcome == "refused":
            run.output(cmd, "", stderr="Ncat: Connection refused.\n")
        elif result.outcome == "timeout":
            run.output(cmd, "", stderr="Ncat: TIMEOUT.\n")
        return result
    return Compiled(probe, StepKind.PROBE)


def _ncat_udp(run: ToolRun, netns: str, dst: IPv4Address, port: int, data: bytes) -> "ProbeResult":
    """ncat -u's one datagram on a connected socket, then its exit at the input's end: the
    kernel's own ICMP error comes back at once and is read (refused); an application's answer
    comes later and meets a closed port (seen on 6.18 with a socat echo: its reply drew a port
    unreachable and socat logged "Connection refused")."""
    from simnet.addresses import IPProto
    from simnet.datapath import SendError, route_output, send_ip
    from simnet.packet import IPv4, Packet, Udp
    from simnet.probe import ProbeResult, _collect, _error_outcome, _seen_since, socket_errno
    from simnet.socket import ClientSocket
    from simnet.trace import Sent

    world = run.world
    ns = world.netns(netns)
    first = world.tracer.begin()
    before = world.seen_seq
    errno = "EADDRNOTAVAIL"
    try:
        saddr = ns.source_for(route_output(ns, dst), dst)
    except SendError as e:
        saddr, errno = None, e.errno_name
    if saddr is None:  # connect() fails: nothing is sent
        return ProbeResult(proto="udp", netns=netns, dst=dst, dport=port, outcome="error", errno=errno,
                           traces=_collect(world, first))
    lport = ns.sockets.ephemeral_port("udp")
    sock = ClientSocket(proto="udp", laddr=saddr, lport=lport, raddr=dst, rport=port, read_closed=True)
    key = ("udp", saddr, lport, dst, port)
    ns.sockets.clients[key] = sock
    pkt = Packet(ip=IPv4(src=saddr, dst=dst, proto=IPProto.UDP), l4=Udp(sport=lport, dport=port), payload=data)
    tid = world.tracer.new(pkt, ns.name)
    world.tracer.step(tid, Sent(netns=ns.name, packet=pkt, by="ncat -u"))
    err = send_ip(ns, pkt, tid)
    world.run(until=world.now)
    del ns.sockets.clients[key]
    base: dict[str, Any] = dict(proto="udp", netns=netns, dst=dst, dport=port, traces=_collect(world, first))
    if sock.errors:
        outcome, report = _error_outcome(sock.errors, ping=False)
        return ProbeResult(outcome=outcome, icmp=report, errno=err or socket_errno(report), **base)
    if err:
        return ProbeResult(outcome="error", errno=err, **base)
    seen = next(iter(_seen_since(world, before)), None)
    return ProbeResult(outcome="delivered" if seen is not None else "lost", received=seen, **base)
