"""Network devices and their addresses, in ``ip link`` / ``ip addr`` terms.

Kernel: net/core/dev.c (admin state, carrier), drivers/net/veth.c (a frame
sent on one end is received on the peer; carrier needs both ends up),
net/bridge (a bridge device and its ports), drivers/net/vxlan (a VXLAN device:
its configuration and FDB, see :mod:`simnet.vxlan`), net/ipv4/devinet.c
(addresses, primary and secondary).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING, Callable

from simnet.addresses import MacAddress

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.netfilter.conntrack import CtRef
    from simnet.packet import Packet
    from simnet.vxlan import VxlanDev


class LinkKind(Enum):
    """``ip link add ... type KIND``."""

    LOOPBACK = "loopback"
    VETH = "veth"
    BRIDGE = "bridge"
    DUMMY = "dummy"
    VXLAN = "vxlan"

    def __str__(self) -> str:
        return self.value


class Scope(Enum):
    """Address and route scopes (``enum rt_scope_t``); str is iproute2's word."""

    GLOBAL = 0
    SITE = 200
    LINK = 253
    HOST = 254
    NOWHERE = 255

    def __str__(self) -> str:
        return {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}[self.value]

    @classmethod
    def parse(cls, word: str) -> "Scope":
        for scope in cls:
            if str(scope) == word:
                return scope
        if word == "universe":
            return cls.GLOBAL
        if word.isdigit() and int(word) in {s.value for s in cls}:
            return cls(int(word))
        raise ValueError(f'Error: argument "{word}" is wrong: invalid scope value.')


@dataclass(frozen=True, slots=True, kw_only=True)
class IfAddr:
    """One IPv4 address on a device (``struct in_ifaddr``)."""

    interface: IPv4Interface
    dev: str
    scope: Scope = Scope.GLOBAL
    secondary: bool = False
    broadcast: IPv4Address | None = None

    @property
    def address(self) -> IPv4Address:
        return self.interface.ip

    def __str__(self) -> str:
        out = f"inet {self.interface.with_prefixlen}"
        if self.broadcast is not None:
            out += f" brd {self.broadcast}"
        out += f" scope {self.scope}"
        if self.secondary:
            out += " secondary"
        return out + f" {self.dev}"


XmitFn = Callable[["NetNamespace", "Device", "Packet", int, "CtRef | None"], None]
"""``ndo_start_xmit``: (netns, device, frame, trace id, the looped-back skb's conntrack reference)."""
PortRxFn = Callable[["NetNamespace", "Device", "Packet", int], None]
"""A master's ``rx_handler``: (netns, the port the frame arrived on, frame, trace id)."""


@dataclass(frozen=True, slots=True)
class LinkOps:
    """What a kind of device's driver does with frames (``net_device_ops`` and ``rx_handler``).

    The datapath calls these and names no driver: ``xmit`` takes every frame sent on a device
    of this kind; ``port_rx``, for a kind that has ports (a bridge), takes every frame that
    arrives on one of its ports (``br_add_if`` registers ``br_handle_frame`` so).  The drivers'
    table is :data:`simnet.drivers.LINK_OPS`; a device gets its entry when it is created.
    """

    xmit: XmitFn
    port_rx: PortRxFn | None = None


class Device:
    """A network device in one namespace (``struct net_device``); mutable, owned by its netns."""

    __slots__ = ("ifindex", "ifname", "kind", "lladdr", "mtu", "admin_up", "master",
                 "peer", "netns", "hairpin", "mac_set", "mtu_set", "ports", "learning", "flood", "activated",
                 "vxlan", "promisc", "ops")

    def __init__(self, *, ifindex: int, ifname: str, kind: LinkKind, lladdr: MacAddress,
                 netns: "NetNamespace", mtu: int = 1500) -> None:
        self.ifindex = ifindex
        self.ifname = ifname
        self.kind = kind
        self.lladdr = lladdr
        self.mtu = mtu
        self.admin_up = False
        self.master: str | None = None
        """The bridge this device is a port of (``ip link set dev X master BR``)."""
        self.peer: Device | None = None
        self.netns = netns
        self.hairpin = False
        """As a bridge port: send frames back out the port they came in on."""
        self.mac_set = False
        self.mtu_set = False
        """For a bridge: its MTU was changed by hand, so it no longer follows its ports'."""
        self.ports: list[str] = []
        """For a bridge: its ports, in the order they were enslaved."""
        self.learning = True
        self.flood = True
        self.activated = False
        """Has been up once: its qdisc is attached (``ip link`` prints noqueue, not noop, from then on)."""
        self.vxlan: "VxlanDev | None" = None
        """For a VXLAN device: its configuration and FDB (``struct vxlan_dev``)."""
        self.promisc = False
        """``ip link set DEV promisc on``: shown as PROMISC; changes no IP delivery (see ip.py)."""
        self.ops: LinkOps | None = None
        """Its driver's entry points (:data:`simnet.drivers.LINK_OPS`), set by the namespace."""

    @property
    def carrier(self) -> bool:
        """LOWER_UP: can frames pass?  Kernel: netif_carrier_ok()."""
        if not self.admin_up:
            return False
        if self.kind is LinkKind.VETH:
            return self.peer is not None and self.peer.admin_up
        if self.kind is LinkKind.BRIDGE and self.ports:
            # br_port_carrier_check: a bridge with ports has carrier only while one forwards
            return any(self.netns.devices[p].carrier for p in self.ports)
        return True

    @property
    def operstate(self) -> str:
        if self.kind in (LinkKind.LOOPBACK, LinkKind.DUMMY, LinkKind.VXLAN) and self.admin_up:
            return "UNKNOWN"
        if not self.admin_up:
            return "DOWN"
        if self.kind is LinkKind.BRIDGE and not self.ports:
            return "UNKNOWN"
        if self.carrier:
            return "UP"
        return "LOWERLAYERDOWN" if self.kind is LinkKind.VETH else "DOWN"

    @property
    def flags(self) -> str:
        """The ``<...>`` flag list ``ip link`` prints."""
        words: list[str] = []
        if self.admin_up and not self.carrier:
            words.append("NO-CARRIER")
        words.append("LOOPBACK" if self.kind is LinkKind.LOOPBACK else "BROADCAST,MULTICAST")
        if self.promisc:
            words.append("PROMISC")
        if self.admin_up:
            words.append("UP")
            if self.carrier:
                words.append("LOWER_UP")
        # iproute2 prints M-DOWN when the IFLA_LINK device, looked up in the same
        # namespace, is not up: so only for a veth whose peer is here and down
        if self.peer is not None and self.peer.netns is self.netns and not self.peer.admin_up:
            words.append("M-DOWN")
        return ",".join(words)

    def __repr__(self) -> str:
        return f"Device({self.ifname!r}, {self.kind}, ifindex={self.ifindex})"
