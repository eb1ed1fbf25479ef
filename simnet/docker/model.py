"""libnetwork's objects as the daemon keeps them: networks, endpoints and containers (plain state,
changed only by :class:`~simnet.docker.daemon.DockerDaemon`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from simnet.addresses import MacAddress
from simnet.docker.firewall import NetConfig, PortBinding
from simnet.docker.proxy import DockerProxy

__all__ = ["Container", "Endpoint", "Network"]


@dataclass(slots=True, eq=False)
class Network:
    """A libnetwork network (CNM): a Linux bridge, its subnet and its endpoints."""

    name: str
    id: str
    bridge: str
    subnet: IPv4Network
    gateway: IPv4Address | None
    internal: bool
    options: dict[str, str]
    config: NetConfig
    endpoints: dict[str, IPv4Address] = field(default_factory=dict)
    """container name -> its address."""
    user_subnet: bool = False
    """Created with ``--subnet`` (``--ip`` is allowed only then)."""
    ip_range: IPv4Network | None = None
    """``--ip-range``: where addresses are picked from (``--ip`` may be anywhere in the subnet)."""
    aux_addresses: dict[str, IPv4Address] = field(default_factory=dict)
    """``--aux-address NAME=IP``: reserved, never given to a container."""


@dataclass(slots=True, eq=False)
class Endpoint:
    """One extra interface of a container (``docker network connect``)."""

    network: Network
    address: IPv4Address
    mac: MacAddress
    veth: str
    ifname: str


@dataclass(slots=True, eq=False)
class Container:
    """One container: its sandbox (namespace), endpoint and published ports."""

    name: str
    id: str
    network_mode: str
    netns: str
    network: Network | None = None
    address: IPv4Address | None = None
    mac: MacAddress | None = None
    veth: str | None = None
    """The host end of the veth pair (``vethXXXXXXX``)."""
    ports: tuple[PortBinding, ...] = ()
    proxies: list[DockerProxy] = field(default_factory=list)
    running: bool = True
    shares_with: str | None = None
    """``container:NAME`` mode: the container whose namespace this one joined."""
    image: str = "busybox"
    command: tuple[str, ...] = ()
    publish_specs: tuple[str, ...] = ()
    """``-p`` as given (kept for restarts)."""
    publish_all: bool = False
    requested_ip: str | None = None
    requested_mac: str | None = None
    restart: str = "no"
    exposed: tuple[tuple[int, str], ...] = ()
    """The image's EXPOSE ports plus ``--expose``: (port, proto)."""
    listeners: list[Any] = field(default_factory=list)
    """Sockets the container's process listens on (from the image or the command)."""
    extra: dict[str, "Endpoint"] = field(default_factory=dict)
    """Endpoints added by ``docker network connect`` (network name -> endpoint)."""
    created: float = 0.0
    restart_on_boot: bool = False
    started_once: bool = False
    """It has run at least once (``docker ps`` says Exited, not Created, when it is down)."""
    gw_net: "Network | None" = None
    """The network whose endpoint holds the NAT port bindings (the container's gateway endpoint)."""
    error: str = ""
    """The last start failure (``State.Error``)."""
    routed: dict[str, tuple[PortBinding, ...]] = field(default_factory=dict)
    """29: routed-mode bindings on endpoints other than the gateway (network name -> bindings)."""
    sysctls: tuple[tuple[str, str], ...] = ()
    """``--sysctl K=V``: set in the container's namespace once its interfaces exist."""
    names: Any = None
    """``--hostname``, ``--dns*``, ``--add-host``, ``--link`` (:class:`~simnet.docker.resolver.DnsSettings`)."""
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """``--network-alias``/``--alias`` per network name."""
    anonymous: bool = False
    """Started without ``--name`` (1.9 gives such containers no service records)."""
    resolver: Any = None
    """The embedded DNS server of its sandbox (:class:`~simnet.docker.resolver.EmbeddedResolver`)."""
    etc: dict[str, str] = field(default_factory=dict)
    """What Docker wrote for it: resolv.conf and hosts."""
