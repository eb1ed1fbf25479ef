"""``getent hosts NAME``: glibc's gethostbyname2, IPv6 first then IPv4, through ``files dns``."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address

from simnet.dns.resolver import Lookup, gethostbyaddr, gethostbyname2
from simnet.probe import ProbeResult, _collect
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, StepKind, ToolRun, script_error

__all__ = ["compile_getent"]


def _line(found: Lookup) -> str:
    names = " ".join((found.canonical or found.name, *found.aliases))
    return "".join(f"{str(a):<15} {names}\n" for a in found.addrs)


def compile_getent(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``getent hosts NAME`` (``getent ahosts`` and other databases are not modelled)."""
    if len(argv) != 3 or argv[1] != "hosts":
        raise script_error(cmd, "simnet's getent reads one database and key: getent hosts NAME")
    name = argv[2]
    try:
        literal: IPv4Address | None = IPv4Address(name)
    except AddressValueError:
        literal = None

    def probe(run: ToolRun) -> ProbeResult:
        netns = run.ns(ns).name
        first = run.world.tracer.begin()
        if literal is not None:  # gethostbyaddr: the hosts file, then a PTR question
            found = gethostbyaddr(run.world, netns, ns, literal, by="getent (PTR)")
            if found.ok:
                run.output(cmd, f"{str(literal):<15} {' '.join((found.canonical, *found.aliases))}\n")
            return ProbeResult(proto="udp", netns=netns, dst=literal, dport=None,
                               outcome="reply" if found.ok else "error", traces=_collect(run.world, first))
        found = gethostbyname2(run.world, netns, ns, name, 6, by="getent (AAAA)")
        if not found.ok:
            found = gethostbyname2(run.world, netns, ns, name, 4, by="getent (A)")
        traces = _collect(run.world, first)
        dst = found.ipv4 or IPv4Address(0)
        if found.ok:
            run.output(cmd, _line(found))
            return ProbeResult(proto="udp", netns=netns, dst=dst, dport=None, outcome="reply", traces=traces)
        # getent exits 2 whatever the reason (NXDOMAIN, timeout): no errno to tell them apart
        return ProbeResult(proto="udp", netns=netns, dst=dst, dport=None, outcome="error", traces=traces)
    return Compiled(probe, StepKind.PROBE)
