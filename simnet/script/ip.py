"""The ``ip`` and ``bridge`` commands (iproute2 6.x) over a simulated world.

:func:`compile_ip` checks a command's words the way iproute2's argument
parser does and returns an :class:`IpCommand`; running it against a world
changes the namespace and returns what ``ip`` prints on stdout.  A command
line ``ip`` itself refuses fails at compile time, so a script can be checked
before anything runs; what the kernel refuses (``Cannot find device``,
``RTNETLINK answers: File exists``) fails at run time.  Both raise
:class:`IpError` with the tool's stderr text and exit status.

simnet models IPv4 only: ``ip addr`` prints no ``inet6`` lines (as on a host
with ``net.ipv6.conf.all.disable_ipv6=1``, which the conformance runner sets).
Commands outside namespaces act on the world's root namespace, named
:data:`ROOT`, created on first use.

Example:
    >>> from simnet.world import World
    >>> w = World()
    >>> _ = ip(w, ["netns", "add", "a"])
    >>> _ = ip(w, ["-n", "a", "addr", "add", "10.0.0.1/24", "dev", "lo"])
    >>> print(ip(w, ["-n", "a", "-4", "addr", "show", "lo"]), end="")
    1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
        inet 10.0.0.1/24 scope global lo
           valid_lft forever preferred_lft forever
"""

from __future__ import annotations

import errno as _errno
import math
from dataclasses import dataclass, replace
from ipaddress import AddressValueError, IPv4Address, IPv4Interface, IPv4Network, NetmaskValueError
from typing import TYPE_CHECKING, Callable, Sequence

from simnet.addresses import MacAddress
from simnet.arp import NudState
from simnet.errors import ConfigError, KernelError, NoSuchDevice, NoSuchNamespace, SimnetError
from simnet.link import Device, LinkKind, Scope
from simnet.routing import FibRule, Route, RouteProto, RouteTable, RouteType
from simnet.vxlan import LINUX_PORT, VxlanConfig, vxlan_devices, vxlan_newlink

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["ROOT", "IpCommand", "IpError", "Unsupported", "bridge", "compile_bridge", "compile_ip", "ip",
           "root_netns"]

ROOT = "root"
"""The name under which the world's root namespace (the script's own) is kept."""

_INCOMPLETE = 'Command line is not complete. Try option "help"'
_UNMODELLED_KINDS = frozenset({"vlan", "macvlan", "macvtap", "ipvlan", "bond", "team", "gre", "gretap",
                               "ipip", "sit", "tun", "tap", "wireguard", "vrf", "geneve", "ifb", "nlmon",
                               "can", "veth-pair", "erspan", "xfrm", "netkit"})


class IpError(SimnetError):
    """A failed ``ip``/``bridge`` call: ``str()`` is its stderr, ``exit_code`` its status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Unsupported(IpError):
    """A valid iproute2 command that simnet does not model (a script error, not a tool error)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"simnet does not model {what}", 255)


def root_netns(world: "World") -> "NetNamespace":
    """The root namespace of a script's world (created with lo down, like a fresh netns)."""
    if ROOT not in world.namespaces:
        world.add_netns(ROOT)
    return world.namespaces[ROOT]


@dataclass(frozen=True, slots=True)
class IpCommand:
    """A checked ``ip`` command line, ready to run against a world."""

    argv: tuple[str, ...]
    netns: str | None
    """``-n NS`` if given."""
    run_fn: Callable[["World", "NetNamespace"], str]
    needs_ns: bool = True
    """False for ``ip netns ...``, which must not create the root namespace."""

    def run(self, world: "World", netns: str | None = None) -> str:
        """Run in ``-n NS``, else ``netns`` (from ``ip netns exec``), else the root namespace."""
        name = self.netns or netns
        try:
            if not self.needs_ns:
                ns = None
            else:
                ns = world.netns(name) if name is not None else root_netns(world)
        except NoSuchNamespace as e:
            raise IpError(str(e), 1) from None
        try:
            return self.run_fn(world, ns)  # type: ignore[arg-type]
        except IpError:
            raise
        except NoSuchDevice as e:
            raise IpError(str(e), 1) from None
        except KernelError as e:
            raise IpError(str(e), 2) from None
        except ConfigError as e:
            raise IpError(str(e), 2) from None


def ip(world: "World", argv: Sequence[str], *, netns: str | None = None) -> str:
    """``ip ARGV`` in ``netns`` (default: the root namespace); returns stdout, raises :class:`IpError`."""
    return compile_ip(argv).run(world, netns)


# ----------------------------------------------------------------------------- parsing helpers

def _matches(word: str, full: str) -> bool:
    """iproute2's ``matches()``: a non-empty prefix of the keyword."""
    return bool(word) and full.startswith(word)


class _Args:
    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self.i = 0

    def more(self) -> bool:
        return self.i < len(self.words)

    def peek(self) -> str:
        return self.words[self.i]

    def take(self) -> str:
        w = self.words[self.i]
        self.i += 1
        return w

    def next_arg(self) -> str:
        """NEXT_ARG(): the value after a keyword, or 'Command line is not complete'."""
        self.i += 1
        if self.i >= len(self.words):
            raise IpError(_INCOMPLETE, 255)
        w = self.words[self.i]
        self.i += 1
        return w


def _garbage(key: str, word: str) -> IpError:
    return IpError(f'Error: either "{key}" is duplicate, or "{word}" is a garbage.', 255)


def _invarg(what: str, word: str) -> IpError:
    return IpError(f'Error: argument "{word}" is wrong: {what}\n', 255)


def _prefix(word: str) -> IPv4Network:
    if word == "default" or word == "all" or word == "any":
        return IPv4Network("0.0.0.0/0")
    try:
        return IPv4Network(word, strict=False)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise IpError(f'Error: any valid prefix is expected rather than "{word}".', 1) from None


def _address(word: str, what: str = "address") -> IPv4Address:
    try:
        return IPv4Address(word)
    except (AddressValueError, ValueError):
        if ":" in word:
            raise Unsupported(f"IPv6 ({word})") from None
        raise IpError(f'Error: inet {what} is expected rather than "{word}".', 1) from None


def _any_address(word: str) -> IPv4Address:
    """get_addr(AF_UNSPEC): what ``vxlan remote``/``local`` and ``bridge fdb ... dst`` take."""
    try:
        return IPv4Address(word)
    except (AddressValueError, ValueError):
        if ":" in word:
            raise Unsupported(f"IPv6 ({word})") from None
        raise IpError(f'Error: any valid address is expected rather than "{word}".', 1) from None


def _iface(word: str) -> IPv4Interface:
    if ":" in word:
        raise Unsupported(f"IPv6 ({word})")
    try:
        return IPv4Interface(word)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise IpError(f'Error: any valid prefix is expected rather than "{word}".', 1) from None


def _mac(word: str) -> MacAddress:
    try:
        return MacAddress(word)
    except ValueError:
        raise IpError(f'"{word}" is invalid lladdr.', 1) from None


def _int(word: str, what: str) -> int:
    try:
        return int(word, 0)
    except ValueError:
        raise _invarg(f'"{what}" value is invalid', word) from None


def _table(word: str) -> int:
    try:
        return RouteTable.parse(word)
    except ValueError:
        raise _invarg("table id value is invalid", word) from None


# ----------------------------------------------------------------------------- the front door

_OBJECTS = ("address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl",
            "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics",
            "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop",
            "mptcp", "ioam", "help", "stats")


@dataclass(slots=True)
class _Opts:
    family4: bool = False
    brief: bool = False
    details: bool = False


def compile_ip(argv: Sequence[str]) -> IpCommand:
    """Check ``ip ARGV`` (with or without the leading ``ip``) and return the runnable command."""
    words = list(argv)
    if words and words[0] == "ip":
        words = words[1:]
    opts = _Opts()
    netns: str | None = None
    while words and words[0].startswith("-") and len(words[0]) > 1:
        opt = words.pop(0)
        o = opt[2:] if opt.startswith("--") else opt[1:]
        if o in ("4",):
            opts.family4 = True
        elif o in ("6",) or o == "family" and words and words[0] == "inet6":
            raise Unsupported("IPv6 (ip -6)")
        elif o == "family":
            if not words:
                raise IpError(_INCOMPLETE, 255)
            fam = words.pop(0)
            if fam != "inet":
                raise Unsupported(f"address family {fam}")
            opts.family4 = True
        elif o in ("n", "netns") or (len(o) > 1 and "netns".startswith(o)):
            if not words:
                raise IpError(_INCOMPLETE, 255)
            netns = words.pop(0)
        elif o in ("br", "brief") or (len(o) > 1 and "brief".startswith(o)):
            opts.brief = True
        elif o in ("d",) or (len(o) > 1 and "details".startswith(o)):
            opts.details = True
        elif o in ("s", "stats", "statistics", "j", "json", "p", "pretty", "o", "oneline", "c", "color",
                   "color=auto", "color=always", "t", "timestamp", "a", "all", "h", "human", "r", "resolve"):
            raise Unsupported(f"the ip option {opt}")
        elif o in ("V", "Version"):
            return IpCommand(tuple(argv), None, lambda w, ns: "ip utility, iproute2-6.1.0, libbpf 1.1.2\n")
        else:
            raise IpError(f'Option "{opt}" is unknown, try "ip -help".', 255)
    if not words:
        raise IpError("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }", 255)
    obj_word = words.pop(0)
    obj = next((o for o in _OBJECTS if _matches(obj_word, o)), None)
    if obj is None:
        raise IpError(f'Object "{obj_word}" is unknown, try "ip help".', 255)
    args = _Args(words)
    if obj == "address":
        fn = _compile_addr(args, opts)
    elif obj == "link":
        fn = _compile_link(args, opts)
    elif obj == "route":
        fn = _compile_route(args, opts)
    elif obj in ("neighbor", "neighbour"):
        fn = _compile_neigh(args, opts)
    elif obj == "rule":
        fn = _compile_rule(args, opts)
    elif obj == "netns":
        if netns is not None:
            raise Unsupported("ip -n NS netns ...")
        fn = _compile_netns(args)
    else:
        raise Unsupported(f"ip {obj}")
    return IpCommand(tuple(argv), netns, fn, needs_ns=obj != "netns")


def _subcommand(args: _Args, choices: Sequence[str], obj: str, default: str = "show") -> str:
    if not args.more():
        return default
    w = args.take()
    for c in choices:
        if _matches(w, c):
            return c
    raise IpError(f'Command "{w}" is unknown, try "ip {obj} help".', 255)


# ----------------------------------------------------------------------------- ip link

def _peer_name(ns: "NetNamespace", dev: Device) -> str:
    name = dev.ifname
    if dev.peer is not None:
        name += "@" + (dev.peer.ifname if dev.peer.netns is ns else f"if{dev.peer.ifindex}")
    return name


def _qdisc(dev: Device) -> str:
    return "noqueue" if dev.admin_up or getattr(dev, "activated", False) else "noop"


def _link_header(ns: "NetNamespace", dev: Device, *, mode: bool) -> str:
    master = f" master {dev.master}" if dev.master else ""
    tail = " mode DEFAULT" if mode else ""
    return (f"{dev.ifindex}: {_peer_name(ns, dev)}: <{dev.flags}> mtu {dev.mtu} qdisc {_qdisc(dev)}{master} "
            f"state {dev.operstate}{tail} group default qlen 1000\n")


def _link_ether(ns: "NetNamespace", dev: Device) -> str:
    if dev.kind is LinkKind.LOOPBACK:
        return f"    link/loopback {dev.lladdr} brd 00:00:00:00:00:00\n"
    out = f"    link/ether {dev.lladdr} brd ff:ff:ff:ff:ff:ff"
    if dev.peer is not None and dev.peer.netns is not ns:
        other = dev.peer.netns.name
        out += " link-netnsid 0" if other == ROOT else f" link-netns {other}"
    return out + "\n"


def _link_details(dev: Device) -> str:
    """``ip -d``: simnet prints the link kind (a VXLAN device's settings as iproute2 does) and
    bridge-port settings only (not the kernel's tunables)."""
    words = []
    if dev.vxlan is not None:
        words.append(dev.vxlan.config.details(dev.netns))
    elif dev.kind is not LinkKind.LOOPBACK:
        words.append(str(dev.kind))
    if dev.master is not None:
        words += ["bridge_slave", "hairpin", "on" if dev.hairpin else "off"]
    return ("    " + " ".join(words) + " \n") if words else ""


def _devices(ns: "NetNamespace") -> list[Device]:
    return sorted(ns.devices.values(), key=lambda d: d.ifindex)


def _brief_link(ns: "NetNamespace", dev: Device) -> str:
    return f"{_peer_name(ns, dev):<16} {dev.operstate:<14} {dev.lladdr} <{dev.flags}> \n"


def _compile_link(args: _Args, opts: _Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = _subcommand(args, ("add", "delete", "set", "show", "list", "lst", "change", "replace", "help"), "link")
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
                    raise _garbage("dev", w)
                dev_name = args.take()

        def show(world: "World", ns: "NetNamespace") -> str:
            if dev_name is not None:
                if dev_name not in ns.devices:
                    raise IpError(f'Device "{dev_name}" does not exist.', 1)
                devs = [ns.devices[dev_name]]
            else:
                devs = _devices(ns)
            out = []
            for d in devs:
                if up_only and not d.admin_up or master is not None and d.master != master:
                    continue
                if opts.brief:
                    out.append(_brief_link(ns, d))
                    continue
                out.append(_link_header(ns, d, mode=True) + _link_ether(ns, d))
                if opts.details:
                    out.append(_link_details(d))
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
                    raise _garbage("dev", w)
                name = args.take()
        if name is None:
            raise IpError("Not enough information: \"dev\" argument is required.", 255)

        def delete(world: "World", ns: "NetNamespace") -> str:
            ns.link_del(name)  # type: ignore[arg-type]
            return ""
        return delete
    if sub == "set":
        return _compile_link_set(args)
    if sub == "help":
        raise Unsupported("ip link help")
    raise Unsupported(f"ip link {sub}")


def _compile_link_add(args: _Args) -> Callable[["World", "NetNamespace"], str]:
    name: str | None = None
    kind: str | None = None
    address: MacAddress | None = None
    mtu: int | None = None
    peer: str | None = None
    peer_ns: str | None = None
    peer_addr: MacAddress | None = None
    vxlan_opts: dict[str, object] | None = None
    vlan_filtering = False
    while args.more():
        w = args.peek()
        if kind is None:
            if w in ("name", "dev"):
                name = args.next_arg()
            elif w == "type":
                kind = args.next_arg()
            elif w == "address":
                address = _mac(args.next_arg())
            elif w == "mtu":
                mtu = _int(args.next_arg(), "mtu")
            elif w in ("link", "txqueuelen", "txqlen", "qlen", "numtxqueues", "numrxqueues", "group",
                       "netns", "index", "alias"):
                raise Unsupported(f"ip link add ... {w}")
            else:
                if name is not None:
                    raise _garbage("name", w)
                name = args.take()
            continue
        if kind == "veth" and w == "peer":
            args.take()
            while args.more():
                p = args.peek()
                if p in ("name", "dev"):
                    peer = args.next_arg()
                elif p == "netns":
                    peer_ns = args.next_arg()
                elif p == "address":
                    peer_addr = _mac(args.next_arg())
                elif p == "mtu":
                    args.next_arg()
                elif p == "type":
                    raise Unsupported("a type for the veth peer")
                else:
                    if peer is not None:
                        raise _garbage("name", p)
                    peer = args.take()
            continue
        if kind == "vxlan":
            vxlan_opts = _parse_vxlan(args)
            continue
        if kind == "bridge":
            vlan_filtering = _parse_bridge(args)
            continue
        raise Unsupported(f"the {kind} option {w!r}")
    if kind is None:
        raise IpError("Not enough information: \"type\" argument is required", 255)
    if kind in _UNMODELLED_KINDS:
        raise Unsupported(f"links of type {kind}")
    if name is None:
        raise Unsupported("ip link add without a name (the kernel would pick one)")
    if kind == "vxlan":
        return _vxlan_add(name, vxlan_opts, address, mtu)

    def add(world: "World", ns: "NetNamespace") -> str:
        try:
            lk = LinkKind(kind)
        except ValueError:
            raise IpError("Error: Unknown device type.", 2) from None
        if lk is LinkKind.LOOPBACK:
            raise IpError("Error: Unknown device type.", 2)
        if vlan_filtering:
            raise _no_vlan_filtering()
        pns = None
        if peer_ns is not None:
            try:
                pns = world.netns(peer_ns)
            except NoSuchNamespace as e:
                raise IpError(str(e), 1) from None
        ns.link_add(name, lk, peer=peer, peer_netns=pns, address=address,  # type: ignore[arg-type]
                    peer_address=peer_addr, mtu=mtu)
        return ""
    return add


_BRIDGE_UNMODELLED = frozenset({
    "fdb_flush", "forward_delay", "hello_time", "max_age", "ageing_time", "priority", "group_fwd_mask",
    "group_address", "no_linklocal_learn", "vlan_protocol", "vlan_default_pvid", "vlan_stats_enabled",
    "vlan_stats_per_port", "mcast_snooping", "mcast_vlan_snooping", "mcast_router", "mcast_query_use_ifaddr",
    "mcast_querier", "mcast_hash_elasticity", "mcast_hash_max", "mcast_last_member_count",
    "mcast_startup_query_count", "mcast_last_member_interval", "mcast_membership_interval",
    "mcast_querier_interval", "mcast_query_interval", "mcast_query_response_interval",
    "mcast_startup_query_interval", "mcast_stats_enabled", "mcast_igmp_version", "mcast_mld_version",
    "nf_call_iptables", "nf_call_ip6tables", "nf_call_arptables"})


def _parse_bridge(args: _Args) -> bool:
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
                raise IpError(_INCOMPLETE, 255)
            word = args.take()
            try:
                value = int(word, 0)
            except ValueError:
                value = -1
            if not 0 <= value < (1 << 32 if w == "stp_state" else 1 << 8):
                raise _invarg(f"invalid {w}", word)
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


def _no_vlan_filtering() -> KernelError:
    return KernelError(_errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")


_VXLAN_UNMODELLED = frozenset({"group", "tos", "dsfield", "df", "flowlabel", "proxy", "noproxy", "rsc", "norsc",
                                "l2miss", "nol2miss", "l3miss", "nol3miss", "ageing", "maxaddress", "udpcsum",
                                "noudpcsum", "udp6zerocsumtx", "noudp6zerocsumtx", "udp6zerocsumrx",
                                "noudp6zerocsumrx", "remcsumtx", "noremcsumtx", "remcsumrx", "noremcsumrx",
                                "external", "noexternal", "gbp", "gpe", "vnifilter", "novnifilter", "localbypass",
                                "nolocalbypass", "hoplimit"})


def _parse_vxlan(args: _Args) -> dict[str, object]:
    """iproute2's vxlan_parse_opt for ``id``, ``remote``, ``local``, ``dev``, ``ttl``, ``dstport``,
    ``srcport``, ``[no]learning``; the words and exit codes of iproute2 6.1."""
    opts: dict[str, object] = {}

    def value(key: str) -> str:
        # NEXT_ARG, then check_duplicate_and_exit(attrs, ATTR, key, value)
        word = args.next_arg()
        if key in opts:
            raise _garbage(key, word)
        return word

    def u(word: str, limit: int, what: str) -> int:
        try:
            n = int(word, 0)
        except ValueError:
            raise _invarg(what, word) from None
        if not 0 <= n <= limit:
            raise _invarg(what, word)
        return n

    while args.more():
        w = args.peek()
        if w in ("id", "vni"):
            opts["id"] = u(value("id"), (1 << 24) - 1, "invalid id")
        elif w in ("remote", "local"):
            word = value(w)
            if word == "any":
                raise _invarg(f"invalid {w} address", word)
            addr = _any_address(word)
            if addr.is_multicast:
                raise _invarg(f"invalid {w} address", word)
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
                raise _invarg("invalid TTL", word) from None
            if n < 0:
                raise _invarg("invalid TTL", word)
            if n > 255:
                raise _invarg("TTL must be <= 255", word)
            opts["ttl"] = n
        elif w == "dstport":
            opts["dstport"] = u(value("dstport"), 65535, "dst port")
        elif w == "srcport":
            low = u(value("srcport"), 65535, "min port")
            if not args.more():
                raise IpError(_INCOMPLETE, 255)
            opts["srcport"] = (low, u(args.take(), 65535, "max port"))
        elif w in ("learning", "nolearning"):
            args.take()
            if "learning" in opts:
                raise _garbage(w, w)
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


def _vxlan_add(name: str, opts: dict[str, object] | None, address: MacAddress | None,
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
        low, high = opts.get("srcport", (0, 0))  # type: ignore[misc]
        config = VxlanConfig(vni=int(opts["id"]), remote=opts.get("remote"), local=opts.get("local"),  # type: ignore
                             lower=lower, dstport=int(opts.get("dstport", 0)) or LINUX_PORT,  # type: ignore
                             port_min=low, port_max=high, learning=bool(opts.get("learning", True)),
                             ttl=opts.get("ttl", 0))  # type: ignore[arg-type]
        vxlan_newlink(ns, name, config, address=address, mtu=mtu)
        return ""
    return add


def _compile_link_set(args: _Args) -> Callable[["World", "NetNamespace"], str]:
    name: str | None = None
    ops: dict[str, object] = {}
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
            ops["address"] = _mac(args.next_arg())
        elif w == "mtu":
            ops["mtu"] = _int(args.next_arg(), "mtu")
        elif w == "type":
            t = args.next_arg()
            if t == "bridge":
                ops["bridge"] = _parse_bridge(args)
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
                raise _garbage("dev", w)
            name = args.take()
    if name is None:
        raise IpError("Not enough of information: \"dev\" argument is required.", 255)

    def set_(world: "World", ns: "NetNamespace") -> str:
        dev_name = name
        ns.dev(dev_name)  # type: ignore[arg-type]
        if "netns" in ops:
            if ns.dev(dev_name).kind is LinkKind.VXLAN:  # type: ignore[arg-type]
                # its socket would stay behind in the namespace that created it (vxlan->net)
                raise Unsupported("moving a VXLAN device to another namespace")
            try:
                target = world.netns(str(ops["netns"]))
            except NoSuchNamespace:
                raise IpError(f'Invalid "netns" value "{ops["netns"]}"', 255) from None
            ns.set_netns(dev_name, target)  # type: ignore[arg-type]
            ns = target
        if "name" in ops:
            ns.set_name(dev_name, str(ops["name"]))  # type: ignore[arg-type]
            dev_name = str(ops["name"])
        if "mtu" in ops:
            ns.set_mtu(dev_name, int(ops["mtu"]))  # type: ignore[arg-type, call-overload]
        if "address" in ops:
            ns.set_address(dev_name, ops["address"])  # type: ignore[arg-type]
        if "master" in ops:
            ns.set_master(dev_name, ops["master"])  # type: ignore[arg-type]
        if "up" in ops:
            ns.set_up(dev_name, bool(ops["up"]))  # type: ignore[arg-type]
        dev = ns.dev(dev_name)  # type: ignore[arg-type]
        if "bridge" in ops and (dev.kind is not LinkKind.BRIDGE or ops["bridge"]):
            raise _no_vlan_filtering()  # a bridge's options on another kind: the same refusal
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


# ----------------------------------------------------------------------------- ip addr

def _addrs_of(ns: "NetNamespace", dev: str) -> list:
    mine = [a for a in ns.addrs if a.dev == dev]
    return [a for a in mine if not a.secondary] + [a for a in mine if a.secondary]


def _inet_line(a: object) -> str:
    return f"    {a}\n       valid_lft forever preferred_lft forever\n"


def _compile_addr(args: _Args, opts: _Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = _subcommand(args, ("add", "change", "replace", "delete", "flush", "show", "list", "lst", "save",
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
                    raise _garbage("dev", w)
                dev_name = args.take()

        def show(world: "World", ns: "NetNamespace") -> str:
            if dev_name is not None:
                if dev_name not in ns.devices:
                    raise IpError(f'Device "{dev_name}" does not exist.', 1)
                devs = [ns.devices[dev_name]]
            else:
                devs = _devices(ns)
            out = []
            for d in devs:
                if up_only and not d.admin_up:
                    continue
                addrs = _addrs_of(ns, d.ifname)
                if opts.brief:
                    out.append(f"{_peer_name(ns, d):<16} {d.operstate:<14} "
                               + "".join(f"{a.interface.with_prefixlen} " for a in addrs) + "\n")
                    continue
                if opts.family4 and not addrs:
                    continue
                out.append(_link_header(ns, d, mode=False))
                if not opts.family4:
                    out.append(_link_ether(ns, d))
                    if opts.details:
                        out.append(_link_details(d))
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
                iface = _iface(args.next_arg())
            elif w in ("broadcast", "brd"):
                brd = args.next_arg()
            elif w == "scope":
                word = args.next_arg()
                try:
                    scope = Scope.parse(word)
                except ValueError:
                    raise _invarg("invalid scope value.", word) from None
            elif w in ("label", "peer", "anycast", "valid_lft", "preferred_lft", "noprefixroute", "metric",
                       "home", "nodad", "mngtmpaddr", "autojoin", "proto"):
                raise Unsupported(f"ip addr {sub} ... {w}")
            else:
                if iface is not None:
                    raise _garbage("local", w)
                iface = _iface(args.take())
        if iface is None and sub != "delete":
            raise IpError(_INCOMPLETE, 255)
        if dev_name is None:
            raise IpError('Not enough information: "dev" argument is required.', 255)
        if sub in ("replace", "change"):
            raise Unsupported(f"ip addr {sub}")
        if iface is None:
            raise IpError(_INCOMPLETE, 255)

        def addr(world: "World", ns: "NetNamespace") -> str:
            ns.dev(dev_name)  # type: ignore[arg-type]
            if sub == "add":
                broadcast = None
                if brd == "+":
                    broadcast = iface.network.broadcast_address  # type: ignore[union-attr]
                elif brd == "-":
                    broadcast = IPv4Address(int(iface.network.network_address))  # type: ignore[union-attr]
                elif brd is not None:
                    broadcast = _address(brd)
                ns.addr_add(dev_name, iface, scope=scope, broadcast=broadcast)  # type: ignore[arg-type]
            else:
                ns.addr_del(dev_name, iface)  # type: ignore[arg-type]
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
                    raise _garbage("dev", w)
                dev_name = args.take()
        if dev_name is None:
            raise IpError('Flush requires arguments.', 1)

        def flush(world: "World", ns: "NetNamespace") -> str:
            if dev_name not in ns.devices:
                raise IpError(f'Device "{dev_name}" does not exist.', 1)
            ns.addr_flush(dev_name)  # type: ignore[arg-type]
            return ""
        return flush
    raise Unsupported(f"ip addr {sub}")


# ----------------------------------------------------------------------------- ip route

_TYPES = {t.value: t for t in RouteType}


@dataclass(slots=True)
class _RouteSpec:
    dst: IPv4Network | None = None
    type: RouteType = RouteType.UNICAST
    via: IPv4Address | None = None
    dev: str | None = None
    src: IPv4Address | None = None
    metric: int | None = None
    table: int | None = None
    proto: RouteProto | None = None
    scope: Scope | None = None
    onlink: bool = False


def _parse_route(args: _Args, *, for_show: bool = False) -> _RouteSpec:
    spec = _RouteSpec()
    while args.more():
        w = args.peek()
        if w == "via":
            v = args.next_arg()
            if v == "inet":
                v = args.take() if args.more() else ""
            spec.via = _address(v)
        elif w in ("dev", "oif"):
            spec.dev = args.next_arg()
        elif w == "src":
            spec.src = _address(args.next_arg())
        elif w in ("metric", "priority", "preference"):
            spec.metric = _int(args.next_arg(), "metric")
        elif w in ("table", "lookup"):
            word = args.next_arg()
            spec.table = 0 if (for_show and word == "all") else _table(word)
        elif w in ("proto", "protocol"):
            word = args.next_arg()
            try:
                spec.proto = RouteProto.parse(word)
            except ValueError:
                raise _invarg('"protocol" value is invalid', word) from None
        elif w == "scope":
            word = args.next_arg()
            try:
                spec.scope = Scope.parse(word)
            except ValueError:
                raise _invarg('invalid "scope" value', word) from None
        elif w == "onlink":
            args.take()
            spec.onlink = True
        elif w in _TYPES and spec.dst is None and w not in ("local", "broadcast") or \
                w in ("local", "broadcast") and spec.dst is None:
            args.take()
            spec.type = _TYPES[w]
        elif w in ("root", "match", "exact") and for_show:
            word = args.next_arg()
            spec.dst = _prefix(word)
        elif w in ("to",):
            word = args.next_arg()
            spec.dst = _prefix(word)
        elif w in ("mtu", "advmss", "weight", "nexthop", "realm", "realms", "rtt", "rttvar", "window", "cwnd",
                   "initcwnd", "initrwnd", "expires", "encap", "tos", "dsfield", "pref", "ttl-propagate",
                   "features", "quickack", "congctl", "fastopen_no_cookie", "nhid", "from", "cached", "cloned"):
            raise Unsupported(f"the route option {w!r}")
        else:
            if spec.dst is not None:
                raise _garbage("to", w)
            spec.dst = _prefix(args.take())
    return spec


def _route_text(route: Route, ns: "NetNamespace", *, show_table: bool, show_dev: bool) -> str:
    linkdown = False
    if route.dev is not None and route.table != RouteTable.LOCAL:
        dev = ns.devices.get(route.dev)
        linkdown = dev is not None and dev.admin_up and not dev.carrier
    r = replace(route, linkdown=linkdown)
    if not show_dev:
        r = replace(r, dev=None)
    text = r.format(show_table=show_table)
    return text + "\n"


def _table_order(t: int) -> tuple[int, int]:
    # the kernel dumps its table hash (256 buckets, id & 0xff) bucket by bucket
    return (t & 0xFF, t)


def _compile_route(args: _Args, opts: _Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = _subcommand(args, ("add", "append", "change", "replace", "delete", "show", "list", "lst", "flush",
                             "get", "save", "restore", "showdump", "help", "prepend", "test"), "route")
    if sub in ("show", "list", "lst", "flush"):
        spec = _parse_route(args, for_show=True)

        def show(world: "World", ns: "NetNamespace") -> str:
            if spec.dev is not None:
                ns.dev(spec.dev)
            table = RouteTable.MAIN if spec.table is None else spec.table
            if table != 0 and table not in ns.fib.tables:
                raise IpError("Error: ipv4: FIB table does not exist.\nDump terminated", 2)
            tables = sorted(ns.fib.tables, key=_table_order) if table == 0 else [table]
            chosen: list[Route] = []
            for t in tables:
                for r in ns.fib.routes(t):
                    if spec.dst is not None and r.dst != spec.dst:
                        continue
                    if spec.dev is not None and r.dev != spec.dev:
                        continue
                    if spec.via is not None and r.via != spec.via:
                        continue
                    if spec.proto is not None and r.proto is not spec.proto:
                        continue
                    if spec.scope is not None and r.scope is not spec.scope:
                        continue
                    if spec.type is not RouteType.UNICAST and r.type is not spec.type:
                        continue
                    if spec.src is not None and r.src != spec.src:
                        continue
                    if spec.metric is not None and r.metric != spec.metric:
                        continue
                    chosen.append(r)
            if sub == "flush":
                ids = {id(r) for r in chosen}
                ns.fib.remove_where(lambda r: id(r) in ids)
                return ""
            return "".join(_route_text(r, ns, show_table=table == 0, show_dev=spec.dev is None)
                           for r in chosen)
        return show
    if sub == "get":
        return _compile_route_get(args)
    if sub in ("add", "replace", "delete", "append", "change", "prepend"):
        spec = _parse_route(args)
        if spec.dst is None:
            raise IpError(_INCOMPLETE, 255)
        if sub in ("append", "change", "prepend"):
            raise Unsupported(f"ip route {sub}")

        def change(world: "World", ns: "NetNamespace") -> str:
            if spec.dev is not None:
                ns.dev(spec.dev)
            if sub == "delete":
                table = spec.table if spec.table is not None else (
                    RouteTable.LOCAL if spec.type in (RouteType.LOCAL, RouteType.BROADCAST) else RouteTable.MAIN)
                if table not in ns.fib.tables:
                    raise IpError("Error: FIB table does not exist.", 2)
                ns.route_del(spec.dst, table=table, via=spec.via, dev=spec.dev,  # type: ignore[arg-type]
                             metric=spec.metric,
                             type=spec.type if spec.type is not RouteType.UNICAST else None)
                return ""
            ns.route_add(_build_route(spec), replace=sub == "replace")
            return ""
        return change
    raise Unsupported(f"ip route {sub}")


def _build_route(spec: _RouteSpec) -> Route:
    assert spec.dst is not None
    t = spec.type
    if t in (RouteType.LOCAL, RouteType.BROADCAST):
        table = RouteTable.LOCAL if spec.table is None else spec.table
    else:
        table = RouteTable.MAIN if spec.table is None else spec.table
    if spec.scope is not None:
        scope = spec.scope
    elif t is RouteType.LOCAL:
        scope = Scope.HOST
    elif t is RouteType.BROADCAST:
        scope = Scope.LINK
    elif t is RouteType.UNICAST and spec.via is None:
        scope = Scope.LINK
    else:
        scope = Scope.GLOBAL
    return Route(dst=spec.dst, type=t, dev=spec.dev, via=spec.via, src=spec.src, metric=spec.metric or 0,
                 table=table, proto=spec.proto or RouteProto.BOOT, scope=scope, onlink=spec.onlink)


_GET_ERRORS = {
    RouteType.BLACKHOLE: "RTNETLINK answers: Invalid argument",
    RouteType.UNREACHABLE: "RTNETLINK answers: No route to host",
    RouteType.PROHIBIT: "RTNETLINK answers: Permission denied",
    RouteType.THROW: "RTNETLINK answers: Network is unreachable",
}


def _compile_route_get(args: _Args) -> Callable[["World", "NetNamespace"], str]:
    dst: IPv4Address | None = None
    src: IPv4Address | None = None
    oif: str | None = None
    mark = 0
    while args.more():
        w = args.peek()
        if w == "from":
            src = _address(args.next_arg())
        elif w in ("oif", "dev"):
            oif = args.next_arg()
        elif w in ("mark", "fwmark"):
            mark = _int(args.next_arg(), "mark")
        elif w == "to":
            dst = _address(args.next_arg())
        elif w in ("iif", "tos", "dsfield", "ipproto", "sport", "dport", "uid", "vrf", "connected",
                   "fibmatch", "as", "notify", "oif"):
            raise Unsupported(f"ip route get ... {w}")
        else:
            if dst is not None:
                raise _garbage("to", w)
            word = args.take()
            dst = _address(word.split("/")[0])
    if dst is None:
        raise IpError(_INCOMPLETE, 255)

    def get(world: "World", ns: "NetNamespace") -> str:
        if oif is not None:
            ns.dev(oif)
        route = ns.lookup(dst, src=src, oif=oif, mark=mark)  # type: ignore[arg-type]
        if route is None:
            raise IpError("RTNETLINK answers: Network is unreachable", 2)
        if route.type in _GET_ERRORS:
            raise IpError(_GET_ERRORS[route.type], 2)
        words: list[str] = []
        if route.type is not RouteType.UNICAST:
            words.append(str(route.type))
        words.append(str(dst))
        if src is not None:
            words += ["from", str(src)]
        if route.via is not None:
            words += ["via", str(route.via)]
        dev = "lo" if route.type is RouteType.LOCAL else route.dev
        if dev is not None:
            words += ["dev", dev]
        if route.table not in (RouteTable.MAIN, RouteTable.LOCAL):
            words += ["table", RouteTable.name(route.table)]
        if src is None:
            prefsrc = ns.source_for(route, dst)  # type: ignore[arg-type]
            if prefsrc is not None:
                words += ["src", str(prefsrc)]
        if mark:
            # iproute2's print_route: RTA_MARK in hex from 16 on, in decimal below
            words += ["mark", f"{mark:#x}" if mark >= 16 else str(mark)]
        words += ["uid", "0"]
        flags = {RouteType.LOCAL: "<local> ", RouteType.BROADCAST: "<local,brd> "}.get(route.type, "")
        fib_route = ns.fib.lookup(dst, src=src, oif=oif, mark=mark, usable=ns.route_usable)  # type: ignore[arg-type]
        exc = ns.fib.exception_for(fib_route, dst, world.now) if fib_route is not None else None  # type: ignore[arg-type]
        if exc is not None:
            # rt_fill_info: RTCF_REDIRECTED and the seconds left, rounded down; the kernel's clock
            # has always moved on a little since the redirect (299 right after one, on 6.18)
            flags = f"<redirected> expires {max(0, math.ceil(exc.expires - world.now) - 1)}sec "
        return " ".join(words) + " \n    cache " + flags + "\n"
    return get


# ----------------------------------------------------------------------------- ip neigh

_NUD = {"permanent": NudState.PERMANENT, "reachable": NudState.REACHABLE, "stale": NudState.STALE,
        "noarp": NudState.NOARP, "delay": NudState.DELAY, "probe": NudState.PROBE, "failed": NudState.FAILED,
        "incomplete": NudState.INCOMPLETE}


def _neigh_text(e: object, show_dev: bool) -> str:
    words = [str(e.address)]  # type: ignore[attr-defined]
    if show_dev:
        words += ["dev", e.dev]  # type: ignore[attr-defined]
    if e.lladdr is not None and e.state not in (NudState.FAILED, NudState.INCOMPLETE):  # type: ignore[attr-defined]
        words += ["lladdr", str(e.lladdr)]  # type: ignore[attr-defined]
    words.append(str(e.state))  # type: ignore[attr-defined]
    return " ".join(words) + " \n"


def _compile_neigh(args: _Args, opts: _Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = _subcommand(args, ("add", "change", "replace", "delete", "show", "list", "lst", "flush", "get",
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
            lladdr = _mac(args.next_arg())
        elif w == "nud":
            word = args.next_arg()
            if word not in _NUD:
                raise _invarg("nud state is bad", word)
            nud = _NUD[word]
        elif w == "all" and sub in ("flush", "show", "list", "lst"):
            args.take()
            flush_all = True
        elif w in ("to",):
            addr = _address(args.next_arg().split("/")[0])
        elif w in ("proxy", "router", "extern_learn", "protocol", "unused", "nomaster", "master", "vrf",
                   "use", "managed"):
            raise Unsupported(f"ip neigh {sub} ... {w}")
        else:
            if addr is not None:
                raise _garbage("to", w)
            addr = _address(args.take().split("/")[0])
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
            ns.dev(dev)  # type: ignore[arg-type]
            if sub == "delete":
                ns.neigh.delete(addr, dev)  # type: ignore[arg-type]
                return ""
            state = nud or NudState.PERMANENT
            if lladdr is None:
                raise IpError("Error: No link layer address given.", 2)
            if state is NudState.PERMANENT:
                ns.neigh.add_permanent(addr, dev, lladdr, replace=sub == "replace")  # type: ignore[arg-type]
            else:
                existing = ns.neigh.get(addr, dev)  # type: ignore[arg-type]
                if existing is not None and sub == "add":
                    raise KernelError(_errno.EEXIST, "RTNETLINK answers: File exists")
                if existing is not None:
                    ns.neigh.delete(addr, dev)  # type: ignore[arg-type]
                ns.neigh.update(addr, dev, lladdr, state, world.now)  # type: ignore[arg-type]
            return ""
        return change
    raise Unsupported(f"ip neigh {sub}")


# ----------------------------------------------------------------------------- ip rule

def _compile_rule(args: _Args, opts: _Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = _subcommand(args, ("add", "delete", "show", "list", "lst", "flush", "save", "restore", "help"),
                      "rule")
    fields: dict[str, object] = {}
    while args.more():
        w = args.peek()
        if w == "from":
            word = args.next_arg()
            fields["src"] = None if word == "all" else _prefix(word)
        elif w == "to":
            word = args.next_arg()
            fields["dst"] = None if word == "all" else _prefix(word)
        elif w in ("iif", "dev"):
            fields["iif"] = args.next_arg()
        elif w == "oif":
            fields["oif"] = args.next_arg()
        elif w in ("fwmark",):
            word = args.next_arg()
            mark, _, mask = word.partition("/")
            fields["fwmark"] = _int(mark, "fwmark")
            # fib_nl2rule: a mark given alone is compared in full, but 0 alone compares nothing
            fields["fwmask"] = _int(mask, "fwmask") if mask else 0xFFFFFFFF if fields["fwmark"] else 0
        elif w in ("table", "lookup"):
            fields["table"] = _table(args.next_arg())
        elif w in ("priority", "pref", "preference", "prio"):
            fields["priority"] = _int(args.next_arg(), "preference")
        else:
            raise Unsupported(f"the ip rule selector {w!r}")
    if sub in ("show", "list", "lst"):
        if fields:
            raise Unsupported("ip rule show with selectors")

        def show(world: "World", ns: "NetNamespace") -> str:
            return "".join(f"{r}\n" for r in sorted(ns.fib.rules, key=lambda r: r.priority))
        return show
    if sub == "add":
        def add(world: "World", ns: "NetNamespace") -> str:
            prio = fields.get("priority")
            if prio is None:
                rules = sorted(ns.fib.rules, key=lambda r: r.priority)
                prio = (rules[1].priority - 1) if len(rules) > 1 and rules[1].priority > 0 else 0
            kw = {k: v for k, v in fields.items() if k != "priority"}
            kw.setdefault("table", RouteTable.MAIN)
            rule = FibRule(priority=int(prio), **kw)  # type: ignore[arg-type, call-overload]
            if rule.table not in ns.fib.tables:
                ns.fib.tables[rule.table] = []
            ns.fib.add_rule(rule)
            return ""
        return add
    if sub == "delete":
        if not fields:
            raise Unsupported("ip rule del without selectors")

        # rule_find: "from all", "to all" and a zero mark or mask leave that field unconstrained
        wanted = {k: v for k, v in fields.items() if v is not None and (k not in ("fwmark", "fwmask") or v)}

        def delete(world: "World", ns: "NetNamespace") -> str:
            for i, r in enumerate(sorted(ns.fib.rules, key=lambda r: r.priority)):
                if all(getattr(r, k) == v for k, v in wanted.items()):
                    ns.fib.rules.remove(r)
                    return ""
            raise KernelError(_errno.ENOENT, "RTNETLINK answers: No such file or directory")
        return delete
    raise Unsupported(f"ip rule {sub}")


# ----------------------------------------------------------------------------- ip netns

def _compile_netns(args: _Args) -> Callable[["World", "NetNamespace"], str]:
    sub = _subcommand(args, ("list", "add", "attach", "set", "delete", "identify", "pids", "exec", "monitor",
                             "list-id", "help"), "netns", default="list")
    if sub == "list":
        def list_(world: "World", ns: "NetNamespace") -> str:
            ids: dict[str, int] = {}
            root = world.namespaces.get(ROOT)
            if root is not None:
                for d in _devices(root):
                    if d.peer is not None and d.peer.netns is not root:
                        ids.setdefault(d.peer.netns.name, len(ids))
            names = [n for n in world.namespaces if n != ROOT][::-1]
            return "".join(n + (f" (id: {ids[n]})" if n in ids else "") + "\n" for n in names)
        return list_
    if sub in ("add", "delete"):
        if not args.more():
            raise IpError("No netns name specified", 255)
        name = args.take()
        if args.more():
            raise Unsupported(f"ip netns {sub} with more than a name")

        def change(world: "World", ns: "NetNamespace") -> str:
            if sub == "add":
                if name == ROOT:
                    raise Unsupported(f"a namespace named {ROOT!r} (simnet's name for the root namespace)")
                world.add_netns(name)
            else:
                if name not in world.namespaces or name == ROOT:
                    raise IpError(f'Cannot remove namespace file "/run/netns/{name}": No such file or directory', 1)
                world.del_netns(name)
            return ""
        return change
    if sub == "exec":
        raise Unsupported("ip netns exec outside a script line (the interpreter runs it)")
    raise Unsupported(f"ip netns {sub}")


# ----------------------------------------------------------------------------- bridge

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
    args = _Args(words)
    if _matches(obj, "link"):
        sub = _subcommand(args, ("set", "show", "list", "lst"), "link")
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
                dev = ns.dev(name)  # type: ignore[arg-type]
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
            for d in _devices(ns):
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
    if _matches(obj, "fdb"):
        sub = _subcommand(args, ("show", "list", "lst", "add", "append", "replace", "delete", "del"), "fdb")
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
                for n, v in enumerate(d.vxlan.fdb.entries()):  # type: ignore[union-attr]
                    for remote in v.remotes:
                        rows.append((d.ifindex, 1, 0, n, f"{v.mac} {where_dev.format(d.ifname)}dst {remote} self "
                                     + ("permanent" if v.static else "")))
            return "".join(r[-1] + "\n" for r in sorted(rows, key=lambda r: r[:4]))
        return IpCommand(tuple(argv), netns, fdb)
    raise Unsupported(f"bridge {obj}")


def _compile_fdb_modify(sub: str, args: _Args) -> Callable[["World", "NetNamespace"], str]:
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
            dst = _any_address(args.next_arg())
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
        dev = ns.devices.get(dev_name)  # type: ignore[arg-type]
        if dev is None:
            raise IpError(f'Cannot find device "{dev_name}"', 255)
        if dev.vxlan is None:
            raise Unsupported(f"bridge fdb {sub} on a {dev.kind} device (only a VXLAN device's FDB is modelled)")
        try:
            if sub == "delete":
                dev.vxlan.fdb.delete(mac, dst)  # type: ignore[arg-type]
            elif dst is None:
                # vxlan_fdb_parse: no NDA_DST
                raise KernelError(_errno.EINVAL, "RTNETLINK answers: Invalid argument")
            else:
                dev.vxlan.fdb.add(mac, dst, how=sub, now=world.now)  # type: ignore[arg-type]
        except KernelError as e:
            raise IpError(str(e), 255) from None
        return ""
    return modify


def bridge(world: "World", argv: Sequence[str], *, netns: str | None = None) -> str:
    """``bridge ARGV``; returns stdout, raises :class:`IpError`."""
    return compile_bridge(argv).run(world, netns)
