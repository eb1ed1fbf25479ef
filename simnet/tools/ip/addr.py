"""``ip addr add|del|show|flush`` (iproute2's ipaddress.c)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from typing import Callable, TYPE_CHECKING

from simnet.link import IfAddr, Scope
from simnet.tools.ip.common import (
    Args, devices, garbage, INCOMPLETE, inet_addr, inet_iface, invarg, IpError, link_details, link_ether,
    link_header, Opts, peer_name, subcommand, Unsupported,
)

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["compile_addr"]

def _addrs_of(ns: "NetNamespace", dev: str) -> list[IfAddr]:
    mine = [a for a in ns.addrs if a.dev == dev]
    return [a for a in mine if not a.secondary] + [a for a in mine if a.secondary]


def _inet_line(a: object) -> str:
    return f"    {a}\n       valid_lft forever preferred_lft forever\n"


def compile_addr(args: Args, opts: Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = subcommand(args, ("add", "change", "replace", "delete", "flush", "show", "list", "lst", "save",
                             "restore", "showdump", "help"), "address")
    if sub in ("show", "list", "lst"):
        dev_name: str | None = None
        up_only = False
        while args.more():
            w = args.peek()
            if w == "dev":
                dev_name = args.next_arg()
            elif w == "up":
                args.take()
                up_only = True
            elif w in ("scope", "to", "label", "master", "type", "primary", "secondary", "permanent"):
                raise Unsupported(f"ip addr show {w}")
            else:
                if dev_name is not None:
                    raise garbage("dev", w)
                dev_name = args.take()

        def show(world: "World", ns: "NetNamespace") -> str:
            if dev_name is not None:
                if dev_name not in ns.devices:
                    raise IpError(f'Device "{dev_name}" does not exist.', 1)
                devs = [ns.devices[dev_name]]
            else:
                devs = devices(ns)
            out = []
            for d in devs:
                if up_only and not d.admin_up:
                    continue
                addrs = _addrs_of(ns, d.ifname)
                if opts.brief:
                    out.append(f"{peer_name(ns, d):<16} {d.operstate:<14} "
                               + "".join(f"{a.interface.with_prefixlen} " for a in addrs) + "\n")
                    continue
                if opts.family4 and not addrs:
                    continue
                out.append(link_header(ns, d, mode=False))
                if not opts.family4:
                    out.append(link_ether(ns, d))
                    if opts.details:
                        out.append(link_details(d))
                out.extend(_inet_line(a) for a in addrs)
            return "".join(out)
        return show
    if sub in ("add", "delete", "replace", "change"):
        iface: IPv4Interface | None = None
        dev_name = None
        scope = Scope.GLOBAL
        brd: str | None = None
        while args.more():
            w = args.peek()
            if w == "dev":
                dev_name = args.next_arg()
            elif w in ("local",):
                iface = inet_iface(args.next_arg())
            elif w in ("broadcast", "brd"):
                brd = args.next_arg()
            elif w == "scope":
                word = args.next_arg()
                try:
                    scope = Scope.parse(word)
                except ValueError:
                    raise invarg("invalid scope value.", word) from None
            elif w == "nodad":
                # IFA_F_NODAD: the kernel adds an IPv4 address anyway, warning on stderr "Warning: nodad
                # option can be set only for IPv6 addresses" (exit 0; iproute2 6.1 on 6.18)
                args.take()
            elif w in ("label", "peer", "anycast", "valid_lft", "preferred_lft", "noprefixroute", "metric",
                       "home", "mngtmpaddr", "autojoin", "proto"):
                raise Unsupported(f"ip addr {sub} ... {w}")
            else:
                if iface is not None:
                    raise garbage("local", w)
                iface = inet_iface(args.take())
        if iface is None and sub != "delete":
            raise IpError(INCOMPLETE, 255)
        if dev_name is None:
            raise IpError('Not enough information: "dev" argument is required.', 255)
        if sub in ("replace", "change"):
            raise Unsupported(f"ip addr {sub}")
        if iface is None:
            raise IpError(INCOMPLETE, 255)

        dev: str = dev_name
        target: IPv4Interface = iface

        def addr(world: "World", ns: "NetNamespace") -> str:
            ns.dev(dev)
            if sub == "add":
                broadcast = None
                if brd == "+":
                    broadcast = target.network.broadcast_address
                elif brd == "-":
                    broadcast = IPv4Address(int(target.network.network_address))
                elif brd is not None:
                    broadcast = inet_addr(brd)
                ns.addr_add(dev, target, scope=scope, broadcast=broadcast)
            else:
                ns.addr_del(dev, target)
            return ""
        return addr
    if sub == "flush":
        dev_name = None
        while args.more():
            w = args.peek()
            if w == "dev":
                dev_name = args.next_arg()
            elif w in ("scope", "to", "label", "primary", "secondary", "permanent", "dynamic"):
                raise Unsupported(f"ip addr flush {w}")
            else:
                if dev_name is not None:
                    raise garbage("dev", w)
                dev_name = args.take()
        if dev_name is None:
            raise IpError('Flush requires arguments.', 1)

        def flush(world: "World", ns: "NetNamespace") -> str:
            if dev_name not in ns.devices:
                raise IpError(f'Device "{dev_name}" does not exist.', 1)
            ns.addr_flush(dev_name)
            return ""
        return flush
    raise Unsupported(f"ip addr {sub}")
