"""``ip link add|delete|set|show`` (iproute2's iplink.c, with ``type bridge`` options as iplink_bridge.c)."""

from __future__ import annotations

import errno as _errno
import re
from typing import Any, Callable, TYPE_CHECKING

from simnet.addresses import MacAddress
from simnet.errors import KernelError, NoSuchNamespace
from simnet.link import LinkKind
from simnet.tools.ip.common import (
    ROOT, Args, brief_link, devices, garbage, get_integer, INCOMPLETE, invarg, IpError, link_details, link_ether,
    link_header, ll_addr, Opts, subcommand, Unsupported,
)

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["compile_link", "no_vlan_filtering", "parse_bridge"]

_UNMODELLED_KINDS = frozenset({"vlan", "macvlan", "macvtap", "ipvlan", "bond", "team", "gre", "gretap",
                               "ipip", "sit", "tun", "tap", "wireguard", "vrf", "geneve", "ifb", "nlmon",
                               "can", "veth-pair", "erspan", "xfrm", "netkit"})


def compile_link(args: Args, opts: Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = subcommand(args, ("add", "delete", "set", "show", "list", "lst", "change", "replace", "help"), "link")
    if sub in ("show", "list", "lst"):
        dev_name: str | None = None
        up_only = False
        master: str | None = None
        while args.more():
            w = args.peek()
            if w == "dev":
                dev_name = args.next_arg()
            elif w == "up":
                args.take()
                up_only = True
            elif w == "master":
                master = args.next_arg()
            elif w in ("type",):
                raise Unsupported("ip link show type")
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
                if up_only and not d.admin_up or master is not None and d.master != master:
                    continue
                if opts.brief:
                    out.append(brief_link(ns, d))
                    continue
                out.append(link_header(ns, d, mode=True) + link_ether(ns, d))
                if opts.details:
                    out.append(link_details(d))
            return "".join(out)
        return show
    if sub == "add":
        return _compile_link_add(args)
    if sub == "delete":
        name: str | None = None
        while args.more():
            w = args.peek()
            if w == "dev":
                name = args.next_arg()
            elif w == "type":
                args.next_arg()
            else:
                if name is not None:
                    raise garbage("dev", w)
                name = args.take()
        if name is None:
            raise IpError("Not enough information: \"dev\" argument is required.", 255)

        def delete(world: "World", ns: "NetNamespace") -> str:
            ns.link_del(name)
            return ""
        return delete
    if sub == "set":
        return _compile_link_set(args)
    if sub == "help":
        raise Unsupported("ip link help")
    raise Unsupported(f"ip link {sub}")


def _netns_name(word: str) -> str:
    if word.isascii() and word.isdigit():
        raise Unsupported(f"netns {word} (a process id: simnet has no processes; name the namespace)")
    return word


def _netns(world: "World", name: str) -> "NetNamespace":
    if name not in world.namespaces or name == ROOT:  # ROOT: simnet's own name for the script's namespace
        raise invarg('Invalid "netns" value', name)
    return world.namespaces[name]


def _compile_link_add(args: Args) -> Callable[["World", "NetNamespace"], str]:
    name: str | None = None
    kind: str | None = None
    address: MacAddress | None = None
    mtu: int | None = None
    peer: str | None = None
    peer_ns: str | None = None
    peer_addr: MacAddress | None = None
    peer_mtu: int | None = None
    vxlan_opts: dict[str, Any] | None = None
    vlan_filtering = False
    link_ns: str | None = None
    while args.more():
        w = args.peek()
        if kind is None:
            if w in ("name", "dev"):
                name = args.next_arg()
            elif w == "type":
                kind = args.next_arg()
            elif w == "address":
                address = ll_addr(args.next_arg())
            elif w == "mtu":
                mtu = _mtu(args.next_arg())
            elif w == "netns":
                word = args.next_arg()
                if link_ns is not None:
                    raise IpError(f'Error: duplicate "netns": "{word}" is the second value.', 255)
                link_ns = _netns_name(word)
            elif w in ("link", "txqueuelen", "txqlen", "qlen", "numtxqueues", "numrxqueues", "group",
                       "index", "alias"):
                raise Unsupported(f"ip link add ... {w}")
            else:
                if name is not None:
                    raise garbage("name", w)
                name = args.take()
            continue
        if kind == "veth" and w == "peer":
            args.take()
            while args.more():
                p = args.peek()
                if p in ("name", "dev"):
                    peer = args.next_arg()
                elif p == "netns":
                    word = args.next_arg()
                    if peer_ns is not None:
                        raise IpError(f'Error: duplicate "netns": "{word}" is the second value.', 255)
                    peer_ns = _netns_name(word)
                elif p == "address":
                    peer_addr = ll_addr(args.next_arg())
                elif p == "mtu":
                    peer_mtu = _mtu(args.next_arg())
                elif p == "type":
                    raise Unsupported("a type for the veth peer")
                else:
                    if peer is not None:
                        raise garbage("name", p)
                    peer = args.take()
            continue
        if kind == "vxlan":
            from simnet.tools.ip.vxlan import parse_vxlan  # VXLAN's modules load with its first device

            vxlan_opts = parse_vxlan(args)
            continue
        if kind == "bridge":
            vlan_filtering = parse_bridge(args)
            continue
        raise Unsupported(f"the {kind} option {w!r}")
    if kind is None:
        raise IpError("Not enough information: \"type\" argument is required", 255)
    if kind in _UNMODELLED_KINDS:
        raise Unsupported(f"links of type {kind}")
    if name is None:
        raise Unsupported("ip link add without a name (the kernel would pick one)")
    if kind == "vxlan":
        if link_ns is not None:
            # its UDP socket stays in the namespace that created it (vxlan->net)
            raise Unsupported("creating a VXLAN device in another namespace")
        from simnet.tools.ip.vxlan import vxlan_add

        return vxlan_add(name, vxlan_opts, address, mtu)

    def add(world: "World", ns: "NetNamespace") -> str:
        try:
            lk = LinkKind(kind)
        except ValueError:
            raise IpError("Error: Unknown device type.", 2) from None
        if lk is LinkKind.LOOPBACK:
            raise IpError("Error: Unknown device type.", 2)
        if vlan_filtering:
            raise no_vlan_filtering()
        # netns_get_fd fails while ip parses its words (nothing created): argument ... is wrong
        target = ns if link_ns is None else _netns(world, link_ns)
        # a veth peer without its own netns is made where ip runs, not beside the link (veth_newlink
        # resolves it against the request's source net; seen on 6.18)
        pns = ns if peer_ns is None else _netns(world, peer_ns)
        target.link_add(name, lk, peer=peer, peer_netns=pns if lk is LinkKind.VETH else None,
                        address=address, peer_address=peer_addr, mtu=mtu, peer_mtu=peer_mtu)
        return ""
    return add


def _mtu(word: str) -> int:
    """iplink's ``get_integer(&mtu, *argv, 0)``: C strtol in base 0 (``0x600`` is 1536, ``010`` is
    8), the whole word, within an int; else 'Invalid "mtu" value' (its own newline too)."""
    m = re.fullmatch(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", word)
    if m is None:
        raise invarg('Invalid "mtu" value\n', word)
    digits = m.group(2)
    value = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 8) if digits[0] == "0" else int(digits)
    value = -value if m.group(1) == "-" else value
    if not -2**31 <= value < 2**31:
        raise invarg('Invalid "mtu" value\n', word)
    return value


_BRIDGE_UNMODELLED = frozenset({
    "fdb_flush", "forward_delay", "hello_time", "max_age", "ageing_time", "priority", "group_fwd_mask",
    "group_address", "no_linklocal_learn", "vlan_protocol", "vlan_default_pvid", "vlan_stats_enabled",
    "vlan_stats_per_port", "mcast_snooping", "mcast_vlan_snooping", "mcast_router", "mcast_query_use_ifaddr",
    "mcast_querier", "mcast_hash_elasticity", "mcast_hash_max", "mcast_last_member_count",
    "mcast_startup_query_count", "mcast_last_member_interval", "mcast_membership_interval",
    "mcast_querier_interval", "mcast_query_interval", "mcast_query_response_interval",
    "mcast_startup_query_interval", "mcast_stats_enabled", "mcast_igmp_version", "mcast_mld_version",
    "nf_call_iptables", "nf_call_ip6tables", "nf_call_arptables"})


def parse_bridge(args: Args) -> bool:
    """The words after ``type bridge`` (iproute2's bridge_parse_opt); refuses what simnet does not model.

    ``stp_state 0`` is the default and accepted; any other value starts STP (br_stp_set_enabled:
    kernel STP without a bridge-stp helper), whose listening and learning states hold every port
    back for twice forward_delay: not modelled.  ``vlan_filtering`` of any value is refused
    by this machine's kernel (built without CONFIG_BRIDGE_VLAN_FILTERING: EOPNOTSUPP, exit 2):
    returns whether it was given, for the command to fail when it runs.
    """
    vlan_filtering = False
    while args.more():
        w = args.take()
        if w in ("stp_state", "vlan_filtering"):
            if not args.more():
                raise IpError(INCOMPLETE, 255)
            word = args.take()
            try:
                value = int(word, 0)
            except ValueError:
                value = -1
            if not 0 <= value < (1 << 32 if w == "stp_state" else 1 << 8):
                raise invarg(f"invalid {w}", word)
            if w == "vlan_filtering":
                vlan_filtering = True
            elif value:
                raise Unsupported(f"stp_state {word} (STP: ports held in listening and learning for twice "
                                  "forward_delay)")
        elif w in _BRIDGE_UNMODELLED:
            raise Unsupported(f"the bridge option {w!r}")
        else:
            raise IpError(f'bridge: unknown command "{w}"?', 1)
    return vlan_filtering


def no_vlan_filtering() -> KernelError:
    return KernelError(_errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")



def _compile_link_set(args: Args) -> Callable[["World", "NetNamespace"], str]:
    name: str | None = None
    ops: dict[str, Any] = {}
    while args.more():
        w = args.peek()
        if w == "dev":
            name = args.next_arg()
        elif w in ("up", "down"):
            args.take()
            ops["up"] = w == "up"
        elif w == "master":
            ops["master"] = args.next_arg()
        elif w == "nomaster":
            args.take()
            ops["master"] = None
        elif w == "netns":
            ops["netns"] = args.next_arg()
        elif w == "name":
            ops["name"] = args.next_arg()
        elif w in ("address", "addr"):
            ops["address"] = ll_addr(args.next_arg())
        elif w == "mtu":
            ops["mtu"] = _mtu(args.next_arg())
        elif w == "type":
            t = args.next_arg()
            if t == "bridge":
                ops["bridge"] = parse_bridge(args)
                continue
            if t != "bridge_slave":
                raise Unsupported(f"ip link set ... type {t}")
            while args.more():
                k = args.peek()
                if k == "hairpin":
                    v = args.next_arg()
                    if v not in ("on", "off"):
                        raise IpError(f'Error: argument of "hairpin" must be "on" or "off", not "{v}"', 255)
                    ops["hairpin"] = v == "on"
                elif k in ("learning", "flood"):
                    v = args.next_arg()
                    if v not in ("on", "off"):
                        raise IpError(f'Error: argument of "{k}" must be "on" or "off", not "{v}"', 255)
                    ops[k] = v == "on"
                else:
                    raise Unsupported(f"the bridge_slave option {k!r}")
        elif w == "promisc":
            v = args.next_arg()
            if v not in ("on", "off"):
                raise IpError(f'Error: argument of "promisc" must be "on" or "off", not "{v}"', 1)
            ops["promisc"] = v == "on"
        elif w in ("arp", "multicast", "allmulticast", "txqueuelen", "qlen", "alias", "group",
                   "dynamic", "trailers", "xdp", "vf", "protodown", "carrier", "link-netns", "link-netnsid"):
            raise Unsupported(f"ip link set ... {w}")
        else:
            if name is not None:
                raise garbage("dev", w)
            name = args.take()
    if name is None:
        raise IpError("Not enough of information: \"dev\" argument is required.", 255)

    def set_(world: "World", ns: "NetNamespace") -> str:
        dev_name = name
        ns.dev(dev_name)
        if "netns" in ops:
            if ns.dev(dev_name).kind is LinkKind.VXLAN:
                # its socket would stay behind in the namespace that created it (vxlan->net)
                raise Unsupported("moving a VXLAN device to another namespace")
            try:
                target = world.netns(str(ops["netns"]))
            except NoSuchNamespace:
                raise IpError(f'Invalid "netns" value "{ops["netns"]}"', 255) from None
            ns.set_netns(dev_name, target)
            ns = target
        if "name" in ops:
            ns.set_name(dev_name, str(ops["name"]))
            dev_name = str(ops["name"])
        if "mtu" in ops:
            ns.set_mtu(dev_name, int(ops["mtu"]))
        if "address" in ops:
            ns.set_address(dev_name, ops["address"])
        if "master" in ops:
            ns.set_master(dev_name, ops["master"])
        if "up" in ops:
            ns.set_up(dev_name, bool(ops["up"]))
        dev = ns.dev(dev_name)
        if "bridge" in ops and (dev.kind is not LinkKind.BRIDGE or ops["bridge"]):
            raise no_vlan_filtering()  # a bridge's options on another kind: the same refusal
        if "promisc" in ops:
            # IFF_PROMISC as the user set it (dev->gflags): a bridge port is promiscuous anyway
            # (br_add_if), and IP drops PACKET_OTHERHOST frames whatever the flag (ip_rcv_core)
            dev.promisc = bool(ops["promisc"])
        for key in ("hairpin", "learning", "flood"):
            if key in ops:
                if dev.master is None:
                    raise KernelError(_errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")
                setattr(dev, key, bool(ops[key]))
        return ""
    return set_
