"""``ip link add NAME type vxlan ...`` (iproute2's iplink_vxlan.c)."""

from __future__ import annotations

import errno as _errno
from typing import Any, Callable, TYPE_CHECKING

from simnet.addresses import MacAddress
from simnet.errors import KernelError
from simnet.tools.ip.common import any_addr, Args, garbage, INCOMPLETE, invarg, IpError, Unsupported
from simnet.vxlan import LINUX_PORT, vxlan_newlink, VxlanConfig

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["parse_vxlan", "vxlan_add"]

_VXLAN_UNMODELLED = frozenset({"group", "tos", "dsfield", "df", "flowlabel", "proxy", "noproxy", "rsc", "norsc",
                                "l2miss", "nol2miss", "l3miss", "nol3miss", "ageing", "maxaddress", "udpcsum",
                                "noudpcsum", "udp6zerocsumtx", "noudp6zerocsumtx", "udp6zerocsumrx",
                                "noudp6zerocsumrx", "remcsumtx", "noremcsumtx", "remcsumrx", "noremcsumrx",
                                "external", "noexternal", "gbp", "gpe", "vnifilter", "novnifilter", "localbypass",
                                "nolocalbypass", "hoplimit"})


def parse_vxlan(args: Args) -> dict[str, Any]:
    """iproute2's vxlan_parse_opt for ``id``, ``remote``, ``local``, ``dev``, ``ttl``, ``dstport``,
    ``srcport``, ``[no]learning``; the words and exit codes of iproute2 6.1."""
    opts: dict[str, Any] = {}

    def value(key: str) -> str:
        # NEXT_ARG, then check_duplicate_and_exit(attrs, ATTR, key, value)
        word = args.next_arg()
        if key in opts:
            raise garbage(key, word)
        return word

    def u(word: str, limit: int, what: str) -> int:
        try:
            n = int(word, 0)
        except ValueError:
            raise invarg(what, word) from None
        if not 0 <= n <= limit:
            raise invarg(what, word)
        return n

    while args.more():
        w = args.peek()
        if w in ("id", "vni"):
            opts["id"] = u(value("id"), (1 << 24) - 1, "invalid id")
        elif w in ("remote", "local"):
            word = value(w)
            if word == "any":
                raise invarg(f"invalid {w} address", word)
            addr = any_addr(word)
            if addr.is_multicast:
                raise invarg(f"invalid {w} address", word)
            opts[w] = addr if int(addr) else None  # 0.0.0.0: as if not given
        elif w == "dev":
            opts["dev"] = value("dev")
        elif w == "ttl":
            word = value("ttl")
            if word in ("inherit", "auto"):
                opts["ttl"] = None if word == "inherit" else 0
                continue
            try:
                n = int(word, 0)
            except ValueError:
                raise invarg("invalid TTL", word) from None
            if n < 0:
                raise invarg("invalid TTL", word)
            if n > 255:
                raise invarg("TTL must be <= 255", word)
            opts["ttl"] = n
        elif w == "dstport":
            opts["dstport"] = u(value("dstport"), 65535, "dst port")
        elif w == "srcport":
            low = u(value("srcport"), 65535, "min port")
            if not args.more():
                raise IpError(INCOMPLETE, 255)
            opts["srcport"] = (low, u(args.take(), 65535, "max port"))
        elif w in ("learning", "nolearning"):
            args.take()
            if "learning" in opts:
                raise garbage(w, w)
            opts["learning"] = w == "learning"
        elif w in _VXLAN_UNMODELLED:
            raise Unsupported(f"the vxlan option {w!r}")
        elif w == "help":
            raise Unsupported("ip link add type vxlan help")
        else:
            raise IpError(f'vxlan: unknown command "{w}"?', 1)
    if "id" not in opts:
        raise IpError("vxlan: missing virtual network identifier", 1)
    return opts


def vxlan_add(name: str, opts: dict[str, Any] | None, address: MacAddress | None,
               mtu: int | None) -> Callable[["World", "NetNamespace"], str]:
    """``ip link add NAME type vxlan ...``: ``dev`` resolves in the namespace (iproute2's ll_name_to_index)."""
    def add(world: "World", ns: "NetNamespace") -> str:
        if opts is None:
            # no words after 'type vxlan': iproute2 sends no IFLA_VXLAN_ID and the kernel refuses
            raise KernelError(_errno.EINVAL, "Error: Required attributes not provided to perform the operation.")
        lower = None
        if "dev" in opts:
            dev = ns.devices.get(str(opts["dev"]))
            if dev is None:
                raise IpError(f'Cannot find device "{opts["dev"]}"', 255)
            lower = dev.ifindex
        low, high = opts.get("srcport", (0, 0))
        config = VxlanConfig(vni=int(opts["id"]), remote=opts.get("remote"), local=opts.get("local"),
                             lower=lower, dstport=int(opts.get("dstport", 0)) or LINUX_PORT,
                             port_min=low, port_max=high, learning=bool(opts.get("learning", True)),
                             ttl=opts.get("ttl", 0))
        vxlan_newlink(ns, name, config, address=address, mtu=mtu)
        return ""
    return add
