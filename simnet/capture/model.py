"""What a capture holds: one host's namespaces as the kernel's tools described them.

Small frozen values (addresses stay ``ipaddress`` objects); :mod:`simnet.capture.iproute` and
friends build them from the tools' output, :mod:`simnet.capture.writer` turns them into a script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network


@dataclass(frozen=True, slots=True, kw_only=True)
class Vxlan:
    """``ip -d link`` of a VXLAN device (the settings simnet models)."""

    vni: int
    remote: IPv4Address | None = None
    local: IPv4Address | None = None
    dev: str | None = None  # the lower device
    dstport: int = 8472
    srcport: tuple[int, int] = (0, 0)
    ttl: int | None = 0  # None: inherit
    learning: bool = True
    group: IPv4Address | None = None  # multicast group: not modelled


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One device of ``ip -d -j link``."""

    ifindex: int
    name: str
    kind: str  # info_kind ("veth", "bridge", "vxlan", "tun", ...); "loopback"; "" for a device without one (a NIC)
    mac: str
    mtu: int
    up: bool
    master: str | None = None
    peer_index: int | None = None  # link_index: a veth's peer (or a macvlan's lower device)
    peer_nsid: int | None = None  # link_netnsid: the peer's namespace, as this namespace numbers it
    hairpin: bool = False
    learning: bool = True
    flood: bool = True
    vxlan: Vxlan | None = None
    options: tuple[tuple[str, str], ...] = ()  # a bridge's non-default settings simnet does not model


@dataclass(frozen=True, slots=True, kw_only=True)
class Addr:
    """One IPv4 address of ``ip -j addr``."""

    dev: str
    interface: IPv4Interface
    broadcast: IPv4Address | None = None
    scope: str = "global"
    secondary: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One IPv4 route of ``ip -j route show table all``."""

    dst: IPv4Network
    table: str = "main"
    type: str = "unicast"
    via: IPv4Address | None = None
    dev: str | None = None
    protocol: str = "boot"
    scope: str | None = None
    prefsrc: IPv4Address | None = None
    metric: int | None = None
    onlink: bool = False
    unmodelled: str | None = None  # why simnet cannot hold this route (multipath, ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class FibRule:
    """One IPv4 policy rule of ``ip -j rule``."""

    priority: int
    table: str
    src: IPv4Network | None = None
    dst: IPv4Network | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    unmodelled: str | None = None

    @property
    def is_default(self) -> bool:
        return (self.priority, self.table) in DEFAULT_RULES and self.src is None and self.dst is None \
            and self.iif is None and self.oif is None and self.fwmark is None and self.unmodelled is None


DEFAULT_RULES = frozenset({(0, "local"), (32766, "main"), (32767, "default")})


@dataclass(frozen=True, slots=True, kw_only=True)
class Neigh:
    """One IPv4 neighbour entry of ``ip -j neigh``."""

    dst: IPv4Address
    dev: str
    lladdr: str | None
    state: str  # PERMANENT, REACHABLE, STALE, ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Fdb:
    """One entry of ``bridge -j fdb`` worth keeping (a static bridge entry or a VXLAN destination)."""

    mac: str
    dev: str
    dst: IPv4Address | None = None  # VXLAN remote
    master: bool = False  # in the bridge's FDB (else the device's own, as VXLAN's)
    state: str = "permanent"  # permanent | static


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """One listening socket of ``ss -H -ltnu``."""

    proto: str  # tcp | udp
    addr: IPv4Address | None  # None: any
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Something the capture could not read, or simnet cannot model: said on stderr and in the script."""

    netns: str | None
    what: str
    skipped: bool = False  # could not be read (privileges, missing tool), as opposed to not modelled


@dataclass(frozen=True, slots=True, kw_only=True)
class Namespace:
    """Everything captured from one network namespace."""

    name: str
    identity: str = ""  # the namespace's inode (``/proc/PID/ns/net``), to tell namespaces apart
    nsids: tuple[tuple[int, str], ...] = ()  # (nsid, name) as this namespace numbers the named ones
    links: tuple[Link, ...] = ()
    addrs: tuple[Addr, ...] = ()
    routes: tuple[Route, ...] = ()
    rules: tuple[FibRule, ...] = ()
    neighbours: tuple[Neigh, ...] = ()
    fdb: tuple[Fdb, ...] = ()
    sysctls: tuple[tuple[str, str], ...] = ()  # (key, value) of the keys simnet models
    iptables: str | None = None  # iptables-save output; None: not read
    ipsets: str | None = None  # ipset save output; None: not read
    listeners: tuple[Listener, ...] = ()
    ipv6: tuple[str, ...] = ()  # IPv6 state seen (not modelled)
    vlans: tuple[str, ...] = ()  # bridge port VLANs of VLAN-filtering bridges (not modelled)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """A host: its namespaces (the root one first) and what could not be taken over."""

    host: str
    kernel: str
    time: str
    namespaces: tuple[Namespace, ...]
    notes: tuple[Note, ...] = field(default=())
    root: str = "host"  # the root namespace's name in the script
