"""``ss -t|-u [-l|-a] -n [-H] [-4]``: a namespace's TCP and UDP sockets, as ss (iproute2 6.1) prints them.

simnet's sockets that outlive a command are its listeners: ``nc -l`` (a backlog of 1, as
OpenBSD nc listens), ``python3 -m http.server`` (5, socketserver's request_queue_size) and the
kernel's own VXLAN sockets; probes abort their connections with a RST, so no connection is
left to list.  ss's columns are as wide as their widest entry (the header counts unless
``-H``; Recv-Q and Send-Q are printed ``%-6d``), joined by one space except around the port
columns, and the last column (Process, empty) is padded too.

The kernel dumps listening sockets in the order of a hash seeded per namespace
(``net_hash_mix``): ss's row order changes from one namespace to the next.  simnet prints
them by port, then address.

Refused: ``-p`` (simnet has no processes, so no ``users:(("nc",pid=...,fd=3))`` to print),
names without ``-n`` (they come from /etc/services), other socket kinds and filters.

>>> for line in format_sockets([("tcp", "LISTEN", 0, 1, "0.0.0.0", 80)], netid=False, header=True).splitlines():
...     print(line + "|")
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess|
LISTEN 0      1            0.0.0.0:80        0.0.0.0:*          |
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from simnet.script.lexer import Command
from simnet.tools.base import Compiled, ToolRun, script_error

__all__ = ["SsOptions", "compile_ss", "format_sockets", "parse", "ss"]

_LONG = {"--tcp": "t", "--udp": "u", "--listening": "l", "--all": "a", "--numeric": "n", "--no-header": "H",
         "--ipv4": "4", "--processes": "p", "--extended": "e", "--memory": "m", "--info": "i", "--options": "o",
         "--summary": "s", "--unix": "x", "--raw": "w", "--ipv6": "6", "--resolve": "r", "--kill": "K"}
_WHY = {"p": "-p: simnet has no processes, so there is no users:((\"nc\",pid=...,fd=3)) column to print; drop -p",
        "e": "-e (socket details)", "m": "-m (socket memory)", "i": "-i (TCP internals)", "o": "-o (timers)",
        "s": "-s (summary)", "x": "-x (unix sockets)", "w": "-w (raw sockets)", "6": "-6 (simnet has no IPv6)",
        "r": "-r (name resolution)", "K": "-K (killing sockets)"}


@dataclass(frozen=True, slots=True)
class SsOptions:
    tcp: bool
    udp: bool
    listening: bool
    all: bool
    header: bool


def parse(argv: Sequence[str]) -> SsOptions:
    """Read ss's options (short ones bundled, as getopt does).

    Raises:
        ValueError: for what simnet cannot print faithfully (see the module docstring).
    """
    letters: list[str] = []
    for w in argv[1:]:
        if w in _LONG:
            letters.append(_LONG[w])
        elif re.fullmatch(r"-[A-Za-z0-9]+", w):
            letters.extend(w[1:])
        else:
            raise ValueError(f"ss: simnet does not take filters or arguments ({w!r}); use -t/-u, -l/-a, -n, -H, -4")
    for c in letters:
        if c in _WHY:
            raise ValueError(f"ss {_WHY[c]}" if c == "p" else f"ss: simnet does not model {_WHY[c]}")
        if c not in "tulanH4":
            raise ValueError(f"ss: unsupported option -{c}")
    if "t" not in letters and "u" not in letters:
        raise ValueError("ss without -t or -u lists unix, netlink and raw sockets too; give -t and/or -u")
    if "n" not in letters:
        raise ValueError("ss without -n names ports from /etc/services; simnet prints numbers: add -n")
    return SsOptions(tcp="t" in letters, udp="u" in letters, listening="l" in letters, all="a" in letters,
                     header="H" not in letters)


Row = tuple[str, str, int, int, str, int]
"""(netid, state, Recv-Q, Send-Q, local address, local port)."""


def format_sockets(rows: Sequence[Row], *, netid: bool, header: bool) -> str:
    """ss's table: columns sized to their widest entry (the header too unless ``-H``)."""
    table = [[n, st, f"{rq:<6d}", f"{sq:<6d}", f"{addr}:", str(port), "0.0.0.0:", "*", ""]
             for n, st, rq, sq, addr, port in rows]
    heads = ["Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port", "Peer Address:", "Port", "Process"]
    right = {4, 6}
    first = 0 if netid else 1
    cols = range(first, len(heads))
    widths = {c: max([len(r[c]) for r in table] + ([len(heads[c])] if header else []), default=0) for c in cols}
    # ss prints a space before State, the queues and each address (ldelim), none before a port or Process
    spaced = {1, 2, 3, 4, 6} - {first}

    def line(cells: Sequence[str]) -> str:
        out = []
        for c in cols:
            cell = cells[c].rjust(widths[c]) if c in right else cells[c].ljust(widths[c])
            out.append((" " if c in spaced else "") + cell)
        return "".join(out) + "\n"
    return (line(heads) if header else "") + "".join(line(r) for r in table)


def ss(ns: Any, opts: SsOptions, backlog: Callable[[Any], int]) -> str:
    """``ss`` in ``ns``: its open listeners (``backlog(listener)`` gives a TCP one's Send-Q)."""
    rows: list[Row] = []
    shown = opts.listening or opts.all
    for proto, state in (("udp", "UNCONN"), ("tcp", "LISTEN")):
        if not shown or not getattr(opts, proto):
            continue
        socks = sorted((s for s in ns.sockets.listeners if s.open and s.proto == proto),
                       key=lambda s: (s.port, int(s.addr) if s.addr is not None else 0))
        rows += [(proto, state, 0, backlog(s) if proto == "tcp" else 0, str(s.addr or "0.0.0.0"), s.port)
                 for s in socks]
    return format_sockets(rows, netid=opts.tcp and opts.udp, header=opts.header)


def compile_ss(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """Check an ``ss`` line; its step prints the namespace's listeners."""
    try:
        opts = parse(argv)
    except ValueError as e:
        raise script_error(cmd, str(e)) from None

    def step(run: ToolRun) -> None:
        http = {id(lst) for _, lst in run.http}
        # Send-Q of a listener is its backlog: python's socketserver listens with 5, OpenBSD nc with 1
        other = getattr(run.world, "listen_backlogs", {})  # servers' own (dnsmasq: 32; simnet.dns.server)
        run.output(cmd, ss(run.ns(ns), opts, lambda lst: 5 if id(lst) in http else other.get(id(lst), 1)))
    return Compiled(step)
