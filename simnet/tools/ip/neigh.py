"""``ip neigh add|replace|delete|show|flush`` (iproute2's ipneigh.c)."""

from __future__ import annotations

import errno as _errno
from ipaddress import IPv4Address
from typing import Callable, TYPE_CHECKING

from simnet.addresses import MacAddress
from simnet.arp import NeighbourEntry, NudState
from simnet.errors import KernelError
from simnet.tools.ip.common import Args, garbage, inet_addr, invarg, IpError, ll_addr, Opts, subcommand, Unsupported

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["compile_neigh"]

_NUD = {"permanent": NudState.PERMANENT, "reachable": NudState.REACHABLE, "stale": NudState.STALE,
        "noarp": NudState.NOARP, "delay": NudState.DELAY, "probe": NudState.PROBE, "failed": NudState.FAILED,
        "incomplete": NudState.INCOMPLETE}


def _neigh_text(e: NeighbourEntry, show_dev: bool) -> str:
    words = [str(e.address)]
    if show_dev:
        words += ["dev", e.dev]
    if e.lladdr is not None and e.state not in (NudState.FAILED, NudState.INCOMPLETE):
        words += ["lladdr", str(e.lladdr)]
    words.append(str(e.state))
    return " ".join(words) + " \n"


def compile_neigh(args: Args, opts: Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = subcommand(args, ("add", "change", "replace", "delete", "show", "list", "lst", "flush", "get",
                             "help"), "neigh")
    addr: IPv4Address | None = None
    dev: str | None = None
    lladdr: MacAddress | None = None
    nud: NudState | None = None
    flush_all = False
    while args.more():
        w = args.peek()
        if w == "dev":
            dev = args.next_arg()
        elif w == "lladdr":
            lladdr = ll_addr(args.next_arg())
        elif w == "nud":
            word = args.next_arg()
            if word not in _NUD:
                raise invarg("nud state is bad", word)
            nud = _NUD[word]
        elif w == "all" and sub in ("flush", "show", "list", "lst"):
            args.take()
            flush_all = True
        elif w in ("to",):
            addr = inet_addr(args.next_arg().split("/")[0])
        elif w in ("proxy", "router", "extern_learn", "protocol", "unused", "nomaster", "master", "vrf",
                   "use", "managed"):
            raise Unsupported(f"ip neigh {sub} ... {w}")
        else:
            if addr is not None:
                raise garbage("to", w)
            addr = inet_addr(args.take().split("/")[0])
    if sub in ("show", "list", "lst", "flush"):
        if sub == "flush" and dev is None and addr is None and not flush_all:
            raise IpError("Flush requires arguments.", 255)

        def show(world: "World", ns: "NetNamespace") -> str:
            if dev is not None and dev not in ns.devices:
                raise IpError(f'Cannot find device "{dev}"', 1)
            entries = [e for e in ns.neigh.entries() if (dev is None or e.dev == dev)
                       and (addr is None or e.address == addr)
                       and (e.state is nud if nud is not None else e.state is not NudState.NOARP)]
            if sub == "flush":
                for e in entries:
                    if nud is None and e.state is NudState.PERMANENT:
                        continue
                    ns.neigh.delete(e.address, e.dev)
                return ""
            return "".join(_neigh_text(e, dev is None) for e in entries)
        return show
    if sub in ("add", "replace", "change", "delete"):
        if addr is None or dev is None:
            raise IpError("Device and destination are required arguments.", 255)
        if sub == "change":
            raise Unsupported("ip neigh change")

        def change(world: "World", ns: "NetNamespace") -> str:
            ns.dev(dev)
            if sub == "delete":
                ns.neigh.delete(addr, dev)
                return ""
            state = nud or NudState.PERMANENT
            if lladdr is None:
                raise IpError("Error: No link layer address given.", 2)
            if state is NudState.PERMANENT:
                ns.neigh.add_permanent(addr, dev, lladdr, replace=sub == "replace")
            else:
                existing = ns.neigh.get(addr, dev)
                if existing is not None and sub == "add":
                    raise KernelError(_errno.EEXIST, "RTNETLINK answers: File exists")
                if existing is not None:
                    ns.neigh.delete(addr, dev)
                ns.neigh.update(addr, dev, lladdr, state, world.now)
            return ""
        return change
    raise Unsupported(f"ip neigh {sub}")
