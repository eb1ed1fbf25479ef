"""The ``bridge`` command (iproute2 6.x): ``bridge link`` and ``bridge fdb`` over a simulated world.

Checked at compile time as iproute2's bridge.c parses it, run later against a namespace (see
:mod:`simnet.tools.ip` for the compile-then-run contract and :class:`IpError`).
"""

from __future__ import annotations

import errno as _errno
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Callable, Sequence

from simnet.addresses import MacAddress
from simnet.errors import KernelError
from simnet.link import LinkKind
from simnet.tools.ip.common import Args, IpCommand, IpError, Unsupported, any_addr, devices, matches, subcommand
from simnet.vxlan import vxlan_devices

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["bridge", "compile_bridge"]


def compile_bridge(argv: Sequence[str]) -> IpCommand:
    """``bridge link set dev X hairpin on|off``, ``bridge link [show]``, ``bridge fdb show [br BR] [dev X]``,
    ``bridge fdb add|append|replace|del`` on a VXLAN device."""
    words = list(argv)
    if words and words[0] == "bridge":
        words = words[1:]
    netns: str | None = None
    if len(words) >= 2 and words[0] in ("-n", "-netns"):
        netns = words[1]
        words = words[2:]
    if not words:
        raise IpError("Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }", 255)
    obj = words.pop(0)
    args = Args(words)
    if matches(obj, "link"):
        sub = subcommand(args, ("set", "show", "list", "lst"), "link")
        if sub == "set":
            name: str | None = None
            flags: dict[str, bool] = {}
            while args.more():
                w = args.peek()
                if w == "dev":
                    name = args.next_arg()
                elif w in ("hairpin", "learning", "flood"):
                    v = args.next_arg()
                    if v not in ("on", "off"):
                        raise IpError(f'Error: argument of "{w}" must be "on" or "off", not "{v}"', 255)
                    flags[w] = v == "on"
                else:
                    raise Unsupported(f"bridge link set ... {w}")
            if name is None:
                raise IpError("Device is a required argument.", 255)

            def set_(world: "World", ns: "NetNamespace") -> str:
                dev = ns.dev(name)
                if dev.master is None:
                    raise KernelError(_errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")
                for k, v in flags.items():
                    setattr(dev, k, v)
                return ""
            return IpCommand(tuple(argv), netns, set_)
        if args.more():
            raise Unsupported("bridge link show with filters")

        def show(world: "World", ns: "NetNamespace") -> str:
            out = []
            for d in devices(ns):
                if d.master is None:
                    continue
                name = d.ifname
                if d.peer is not None:
                    # iproute2 resolves the peer's ifindex in this namespace (so a peer elsewhere
                    # may print as a local device's name)
                    local = next((x for x in ns.devices.values() if x.ifindex == d.peer.ifindex), None)
                    name += "@" + (local.ifname if local is not None else f"if{d.peer.ifindex}")
                state = "forwarding" if d.carrier else "disabled"
                out.append(f"{d.ifindex}: {name}: <{d.flags}> mtu {d.mtu} master {d.master} state {state} "
                           f"priority 32 cost {100 if d.kind is LinkKind.DUMMY else 2} \n")
            return "".join(out)
        return IpCommand(tuple(argv), netns, show)
    if matches(obj, "fdb"):
        sub = subcommand(args, ("show", "list", "lst", "add", "append", "replace", "delete", "del"), "fdb")
        if sub in ("add", "append", "replace", "delete", "del"):
            return IpCommand(tuple(argv), netns, _compile_fdb_modify("delete" if sub == "del" else sub, args))
        br: str | None = None
        port: str | None = None
        while args.more():
            w = args.peek()
            if w == "br":
                br = args.next_arg()
            elif w == "brport" or w == "dev":
                port = args.next_arg()
            else:
                raise Unsupported(f"bridge fdb {sub} ... {w}")

        def fdb(world: "World", ns: "NetNamespace") -> str:
            if br is not None:
                ns.dev(br)
            if port is not None:
                ns.dev(port)
            # rtnl_fdb_dump: device by device (ifindex order), a port's entries in its master's
            # FDB first, then the device's own ('self': a VXLAN device's FDB)
            rows: list[tuple[int, int, int, int, str]] = []
            where_dev = "" if port is not None else "dev {} "
            for bname in ns.fdbs:
                if br is not None and bname != br:
                    continue
                bridge_dev = ns.devices[bname]
                for n, e in enumerate(ns.fdbs[bname].entries()):
                    where = e.port
                    if where == bname:
                        owner = next((p for p in bridge_dev.ports if ns.devices[p].lladdr == e.mac), None)
                        if owner is not None:
                            where = owner
                    if port is not None and where != port:
                        continue
                    idx = ns.devices[where].ifindex if where in ns.devices else 0
                    text = f"{e.mac} {where_dev.format(where)}master {bname} " + ("permanent" if e.local else "")
                    rows.append((idx, 0, 1 if e.local else 0, n, text))
            for d in vxlan_devices(ns):
                if port is not None and d.ifname != port or br is not None and d.master != br:
                    continue
                assert d.vxlan is not None  # vxlan_devices yields only VXLAN devices
                for n, v in enumerate(d.vxlan.fdb.entries()):
                    for remote in v.remotes:
                        rows.append((d.ifindex, 1, 0, n, f"{v.mac} {where_dev.format(d.ifname)}dst {remote} self "
                                     + ("permanent" if v.static else "")))
            return "".join(r[-1] + "\n" for r in sorted(rows, key=lambda r: r[:4]))
        return IpCommand(tuple(argv), netns, fdb)
    raise Unsupported(f"bridge {obj}")


def _compile_fdb_modify(sub: str, args: Args) -> Callable[["World", "NetNamespace"], str]:
    """``bridge fdb add|append|replace|del LLADDR dev DEV [dst IP] [self] [permanent]`` (fdb_modify):
    modelled for VXLAN devices' own FDB, where ``self`` and ``permanent`` are the defaults."""
    mac: MacAddress | None = None
    dev_name: str | None = None
    dst: IPv4Address | None = None
    while args.more():
        w = args.peek()
        if w == "dev":
            dev_name = args.next_arg()
        elif w == "dst":
            dst = any_addr(args.next_arg())
        elif w in ("self", "permanent", "local"):
            args.take()
        elif w in ("master", "static", "temp", "dynamic", "vlan", "port", "vni", "via", "src_vni", "use",
                   "router", "extern_learn", "sticky", "nhid", "activity_notify", "norefresh", "inactive"):
            raise Unsupported(f"bridge fdb {sub} ... {w}")
        else:
            if mac is not None:
                raise IpError(f'Error: either "lladdr" is duplicate, or "{w}" is a garbage.', 255)
            word = args.take()
            try:
                mac = MacAddress(word)
            except ValueError:
                raise IpError(f"Invalid mac address {word}", 255) from None
    if mac is None or dev_name is None:
        raise IpError("Device and address are required arguments.", 255)

    def modify(world: "World", ns: "NetNamespace") -> str:
        dev = ns.devices.get(dev_name)
        if dev is None:
            raise IpError(f'Cannot find device "{dev_name}"', 255)
        if dev.vxlan is None:
            raise Unsupported(f"bridge fdb {sub} on a {dev.kind} device (only a VXLAN device's FDB is modelled)")
        try:
            if sub == "delete":
                dev.vxlan.fdb.delete(mac, dst)
            elif dst is None:
                # vxlan_fdb_parse: no NDA_DST
                raise KernelError(_errno.EINVAL, "RTNETLINK answers: Invalid argument")
            else:
                dev.vxlan.fdb.add(mac, dst, how=sub, now=world.now)
        except KernelError as e:
            raise IpError(str(e), 255) from None
        return ""
    return modify


def bridge(world: "World", argv: Sequence[str], *, netns: str | None = None) -> str:
    """``bridge ARGV``; returns stdout, raises :class:`IpError`."""
    return compile_bridge(argv).run(world, netns)
