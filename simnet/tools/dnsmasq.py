"""``dnsmasq -k ... &``: a DNS server in the foreground of a background job (:mod:`simnet.dns.dnsmasq`)."""

from __future__ import annotations

from typing import Any

from simnet.dns.dnsmasq import DnsmasqError, answer, parse_args, records
from simnet.dns.resolver import read_etc
from simnet.dns.server import DnsServer
from simnet.errors import KernelError
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun, script_error
from simnet.tools.ip.common import IpError

__all__ = ["compile_dnsmasq"]


def compile_dnsmasq(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``dnsmasq -k|--no-daemon [--listen-address=A] [--port=N] [--address=/D/IP] [--host-record=N,IP]
    [--server=IP[#PORT]] [--local=/D/] [--no-resolv] [--no-hosts] [--addn-hosts=FILE] [--bind-interfaces] &``."""
    try:
        config = parse_args(argv)
    except DnsmasqError as e:
        raise script_error(cmd, f"dnsmasq: {e}") from None
    if not config.foreground:
        raise script_error(cmd, "dnsmasq without -k (--no-daemon) forks a daemon the script cannot stop: "
                                "run it as 'dnsmasq -k ... &'")
    if not cmd.background:
        raise script_error(cmd, "dnsmasq -k runs until killed: end the line with '&'")

    def start(run: ToolRun) -> list[Any]:
        n = run.ns(ns)

        def read(path: str) -> str | None:
            if path.startswith("/etc/") and path.count("/") == 2:
                return read_etc(run.world, path[5:], ns)
            files = getattr(run.world, "files", None)
            try:
                return None if files is None else bytes(files.read(path, netns=ns)).decode("utf-8", "replace")
            except (OSError, ValueError):
                return None

        rec = records(config, read, frozenset(n.local_addresses()))
        addrs = tuple(config.listen) if config.bind_interfaces and config.listen else (None,)
        try:
            server = DnsServer(n, lambda q, c: answer(rec, q, c), addresses=addrs, port=config.port,
                               name="dnsmasq", forward_ports=(config.min_port, config.max_port), tcp=True)
        except KernelError:
            raise IpError(f"dnsmasq: failed to create listening socket for port {config.port}: "
                          "Address already in use", 2) from None
        return list(server.listeners)
    return Compiled(start, StepKind.JOB)
