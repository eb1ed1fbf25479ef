"""Host names where tools take hosts (``ping web``, ``nc -z web 80``, ``curl http://web:8080/``).

A tool that is given a name resolves it as the real one does, through ``getaddrinfo``
(:func:`simnet.dns.resolver.getaddrinfo`: /etc/hosts, then A and AAAA queries to the
namespace's nameservers, sent through its stack), before its own packets; the lookup's
packets join the probe's trace and counters.  A name that does not resolve ends the probe
with outcome ``error`` and glibc's error (``EAI_NONAME``, ``EAI_AGAIN``, ``EAI_NODATA``) as
errno, and the tool's own words on its output.
"""

from __future__ import annotations

import dataclasses
import re
from ipaddress import AddressValueError, IPv4Address
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from simnet.probe import ProbeResult
    from simnet.script.lexer import Command
    from simnet.tools.base import ToolRun

__all__ = ["host_word", "resolving"]

_NAME = re.compile(r"(?=.{1,253}\Z)(?!-)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?")


def host_word(cmd: "Command", word: str, tool: str) -> IPv4Address | str:
    """A literal IPv4 address, or a host name to resolve when the probe runs."""
    from simnet.tools.base import script_error

    try:
        return IPv4Address(word)
    except AddressValueError:
        pass
    if re.fullmatch(r"[0-9.]+", word) or not _NAME.fullmatch(word):
        raise script_error(cmd, f"{tool}: {word!r} is neither an IPv4 address nor a host name")
    return word


def resolving(run: "ToolRun", cmd: "Command", ns: str | None, host: IPv4Address | str, tool: str,
              failed: Callable[[str, str | None], str], probe: Callable[[IPv4Address], "ProbeResult"], *,
              stderr: bool = True) -> "ProbeResult":
    """Run ``probe`` on ``host``'s address, resolving a name first (its packets join the trace).

    ``failed(name, gai_strerror)`` is the line the tool prints when the name does not resolve
    (``gai_strerror`` None: it resolved to IPv6 addresses only), on stderr: ping, nc, ncat and
    curl all print it there (``ping: NAME: Name or service not known``, ``nc: getaddrinfo for
    host "NAME" port P: Temporary failure in name resolution``, seen on Linux 6.18 / glibc 2.36);
    ``stderr`` is kept for callers that name it.
    """
    from simnet.probe import ProbeResult, _collect

    if isinstance(host, IPv4Address):
        return probe(host)
    from simnet.dns.resolver import getaddrinfo, parse_resolv_conf, read_etc  # only for a name: not at start-up

    world = run.world
    netns = run.ns(ns).name
    first = world.tracer.begin()
    found = getaddrinfo(world, netns, ns, host, by=f"{tool} (getaddrinfo)")
    addr = found.ipv4
    if addr is None and found.ok:
        # only AAAA records: the tool connects over IPv6, which simnet's namespaces (and the
        # kernel runner's, IPv6 disabled) do not have: EADDRNOTAVAIL (ping: "connect: Cannot
        # assign requested address", checked on Linux 6.18)
        line = failed(host, None)
        if line:
            run.output(cmd, "", stderr=line + "\n")
        return ProbeResult(proto="udp", netns=netns, dst=IPv4Address(0), dport=None, outcome="error",
                           errno="EADDRNOTAVAIL", traces=_collect(world, first))
    if addr is None:
        line = failed(host, found.message)
        if line:
            run.output(cmd, "", stderr=line + "\n")
        # the probe is about the lookup then: its destination is the nameserver asked first
        server = parse_resolv_conf(read_etc(world, "resolv.conf", ns) or "").servers[0]
        return ProbeResult(proto="udp", netns=netns, dst=server, dport=53, outcome="error",
                           errno=found.error, traces=_collect(world, first))
    result = probe(addr)
    return dataclasses.replace(result, traces=_collect(world, first))
