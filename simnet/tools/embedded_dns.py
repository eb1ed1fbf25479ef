"""``simnet-embedded-dns ... &``: the stand-in for Docker's resolver that an exported script starts.

:func:`simnet.docker.export.export_scenario` replaces dockerd by the commands it issued; where
dockerd started a container's resolver at 127.0.0.11 the script gets this line, which the kernel
runner runs as its helper (simnet/conformance/inside/embedded_dns.py) and simnet as the same
resolver model the daemon uses (:mod:`simnet.docker.dns_server`): the names given with
``--record``, the upstreams in order, ``host:`` ones asked from ``--host-netns`` (the host's
namespace), so an exported script simulates as its original does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from simnet.conformance.inside.common import EMBEDDED_DNS, parse_embedded_dns
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun, script_error

if TYPE_CHECKING:
    from simnet.dns.message import Message
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["compile_embedded_dns"]


@dataclass(frozen=True, slots=True)
class _Host:
    """What the resolver's forwarding reads of its daemon: the host's namespace and the world."""

    host: "NetNamespace"
    world: "World"


def compile_embedded_dns(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``simnet-embedded-dns --udp-port=N --tcp-port=N [--host-netns=NS] [--record=NAME,IP]...
    [--upstream=[host:]IP]... &`` in a container's namespace."""
    try:
        spec = parse_embedded_dns(list(argv[1:]))
        records = {n: [IPv4Address(a) for a in addrs] for n, addrs in spec["records"].items()}
        upstreams = [(IPv4Address(a), host) for a, host in spec["upstreams"]]
    except ValueError as e:
        raise script_error(cmd, str(e) if str(e).startswith(EMBEDDED_DNS) else f"{EMBEDDED_DNS}: {e}") from None
    if not cmd.background:
        raise script_error(cmd, f"{EMBEDDED_DNS} runs until killed: end the line with '&'")

    def start(run: ToolRun) -> list[Any]:
        from simnet.dns.message import DecodeError, Message, QType, Record, decode
        from simnet.dns.server import Client, DnsServer, send_udp
        from simnet.docker import dns_server
        from simnet.docker.resolver import RESOLVER_IP, RESP_TTL, EmbeddedResolver, ExtServer

        cns = run.ns(ns)
        host = run.ns(spec["host_netns"])
        res = EmbeddedResolver(netns=cns.name, udp_port=spec["udp"], tcp_port=spec["tcp"],
                               ext=tuple(ExtServer(a, h) for a, h in upstreams))
        daemon: Any = _Host(host, run.world)

        def local(query: "Message") -> "Message | None":
            q = query.question
            addrs = records.get(q.name.rstrip(".").lower()) if q is not None else None
            if q is None or q.qtype not in (QType.A, QType.AAAA) or not addrs:
                return None
            reply = Message(id=query.id, qr=True, opcode=query.opcode, rd=query.rd, cd=query.cd, ra=True,
                            questions=query.questions[:1])
            if q.qtype == QType.A:
                reply = replace(reply, answers=tuple(Record(name=q.name, rtype=QType.A, ttl=RESP_TTL, data=a)
                                                     for a in addrs))
            return reply

        def answer(query: "Message", client: Client) -> None:
            reply = local(query)
            if reply is not None:
                send_udp(cns, client.local, client.local_port, client.addr, client.port,
                         dns_server.encode_plain(reply), by=f"{dns_server.NAME} (answer)")
                return None
            dns_server._forward(daemon, cns, res, client, list(res.upstreams()), dns_server.NAME)
            return None

        server = DnsServer(cns, answer, addresses=(RESOLVER_IP,), port=res.udp_port, name=dns_server.NAME)
        tcp = cns.sockets.listen("tcp", res.tcp_port, RESOLVER_IP, keep=True)
        buffers: dict[Any, bytes] = {}

        def stream(conn: Any, data: bytes, tid: int) -> bytes:
            buf, out = buffers.get(conn, b"") + data, b""
            while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                size = int.from_bytes(buf[:2], "big")
                wire, buf = buf[2:2 + size], buf[2 + size:]
                try:
                    reply = local(decode(wire))
                except DecodeError:
                    continue
                if reply is not None:
                    plain = dns_server.encode_plain(reply)
                    out += len(plain).to_bytes(2, "big") + plain
                else:  # over TCP, as the resolver model forwards it
                    dns_server._forward_tcp(daemon, cns, res, conn, wire, list(res.upstreams()), tid)
            buffers[conn] = buf
            return out
        tcp.stream = stream
        res.sockets = [*server.listeners, tcp]
        return list(res.sockets)
    return Compiled(start, StepKind.JOB)
