"""``conntrack -L``, ``-D`` and ``-F`` (conntrack-tools 1.4.7) over a namespace's conntrack table."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address
from typing import Any

from simnet.netfilter.conntrack_table import format_conn
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, ToolRun, script_error
from simnet.tools.ip.common import IpError

__all__ = ["compile_conntrack"]

_CT_FILTERS = {"-s": "src", "--src": "src", "--orig-src": "src", "-d": "dst", "--dst": "dst", "--orig-dst": "dst",
               "-p": "proto", "--proto": "proto", "--sport": "sport", "--orig-port-src": "sport",
               "--dport": "dport", "--orig-port-dst": "dport",
               "-w": "zone", "--zone": "zone", "--orig-zone": "zone-orig", "--reply-zone": "zone-reply",
               "-r": "reply-src", "--reply-src": "reply-src", "-q": "reply-dst", "--reply-dst": "reply-dst"}
"""conntrack-tools 1.4.7 compares a zone filter with the entry's zone attribute of that name,
0 where the entry has none (seen on 6.18: ``-w 0`` lists a zone-orig=5 entry, ``--orig-zone 0``
a zone=5 one)."""
_PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}


def compile_conntrack(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``conntrack -L|-F|-D [FILTERS]`` in the namespace (conntrack-tools 1.4.7's words)."""
    args = list(argv[1:])
    if not args:
        raise script_error(cmd, "conntrack needs a command: -L, -F or -D")
    op = args[0]
    if op not in ("-L", "--dump", "-F", "--flush", "-D", "--delete"):
        raise script_error(cmd, f"unsupported conntrack command {op!r}: simnet knows -L, -F and -D")
    filters: dict[str, object] = {}
    i = 1
    while i < len(args):
        w = args[i]
        if w in _CT_FILTERS and i + 1 < len(args):
            key, val = _CT_FILTERS[w], args[i + 1]
            try:
                if key in ("src", "dst", "reply-src", "reply-dst"):
                    filters[key] = IPv4Address(val)
                elif key == "proto":
                    filters[key] = _PROTOS[val] if val in _PROTOS else int(val)
                else:
                    filters[key] = int(val)
            except (ValueError, AddressValueError, KeyError):
                raise script_error(cmd, f"conntrack: bad value {val!r} for {w}") from None
            i += 2
        elif w in ("-o", "--output") and i + 1 < len(args) or w in ("-n", "-f") and i + 1 < len(args):
            raise script_error(cmd, f"unsupported conntrack option {w!r}")
        else:
            raise script_error(cmd, f"unsupported conntrack argument {w!r}")
    if op in ("-F", "--flush") and filters:
        raise script_error(cmd, "conntrack -F takes no filters")

    def selected(conn: Any) -> bool:
        o = conn.orig
        zones = {w.split("=")[0]: int(w.split("=")[1]) for w in conn.zone.listing() if w}
        return all((zones.get(k, 0) if k.startswith("zone") else getattr(conn.reply, k[6:]) if k.startswith("reply-")
                    else getattr(o, k)) == v for k, v in filters.items())

    def step(run: ToolRun) -> None:
        table = run.ns(ns).conntrack
        if op in ("-F", "--flush"):
            table.flush()
        elif op in ("-L", "--dump"):
            # conntrack-tools prints the seconds left and the reference count; its
            # "N flow entries have been shown." summary goes to stderr
            run.output(cmd, "".join(format_conn(c, timeout=table.remaining(c)) + " use=1\n"
                                    for c in table if selected(c)))
        else:
            doomed = [c for c in table if selected(c)]
            if not doomed:
                raise IpError("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.", 1)
            for c in doomed:
                table.remove(c)
    return Compiled(step)
