"""What every part of the daemon shares: its state, its errors and the small helpers.

:class:`DaemonState` declares the attributes :class:`~simnet.docker.daemon.DockerDaemon` sets
up, so the daemon's parts (endpoints, external connectivity, inspection) can be typed as its
bases; it holds the lookups and the command log they all use.
"""

from __future__ import annotations

import hashlib
import re
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING

from simnet.docker.era import Era
from simnet.docker.firewall import Firewaller, PortBinding
from simnet.docker.model import Container, Network
from simnet.docker.portalloc import PortAllocator
from simnet.errors import SimnetError

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["BRIDGE_OPT", "DRIVER_MTU", "DaemonState", "DockerError", "StartError", "network_mtu"]

BRIDGE_OPT = "com.docker.network.bridge."
DRIVER_MTU = "com.docker.network.driver.mtu"
"""netlabel.DriverMTU: the MTU of a bridge network's devices (``-o`` or dockerd's ``--mtu``)."""


class DockerError(SimnetError):
    """What the docker CLI prints as ``docker: Error response from daemon: ...``."""


class StartError(DockerError):
    """Starting a created container failed: it stays, as Created (or Exited), with nothing of its
    sandbox left (daemon/start.go's cleanup: the sandbox, endpoints, rules and proxies go)."""


class DaemonState:
    """The daemon's state (set by ``DockerDaemon.__init__``) and the helpers its parts share."""

    world: "World"
    host: "NetNamespace"
    era: Era
    iptables: bool
    ip_forward: bool
    icc: bool
    ip_masq: bool
    userland_proxy: bool
    bip: IPv4Interface | None
    default_bridge: str
    live_restore: bool
    ip_forward_no_drop: bool
    allow_direct_routing: bool
    default_network_opts: dict[str, str]
    env: dict[str, str]
    fw: Firewaller
    networks: dict[str, Network]
    containers: dict[str, Container]
    commands: list[tuple[str, str]]
    warnings: list[str]
    started: bool
    allocator: PortAllocator

    def _hex(self, n: int) -> str:
        return "".join(f"{self.world.rng.getrandbits(4):x}" for _ in range(n))

    def _cmd(self, ns: str, line: str) -> None:
        self.commands.append((ns, line))

    def _fw_sink(self, line: str) -> None:
        self.commands.append((self.host.name, line))

    def _sysctl(self, key: str, value: int | str) -> None:
        if str(self.host.sysctls.get(key)) != str(value):
            self.host.sysctls.set(key, value)
            self._cmd(self.host.name, f"sysctl -w {key}={value}")

    def _network(self, name: str) -> Network:
        try:
            return self.networks[name]
        except KeyError:
            raise DockerError(f"network {name} not found") from None

    def _container(self, name: str) -> Container:
        for c in self.containers.values():
            if name in (c.name, c.id) or (len(name) >= 4 and c.id.startswith(name)):
                return c
        raise DockerError(f"No such container: {name}")

    def not_running(self, c: Container) -> str:
        """errNotRunning: lower case from 17.x on."""
        return f"{'Container' if self.era is Era.V1_9 else 'container'} {c.id} is not running"

    def _requested(self, c: Container) -> list[PortBinding]:
        """The container's port bindings as requested: ``-p`` specs, then ``-P`` (host port 0) for every
        exposed port not published."""
        out = [b for p in c.publish_specs for b in PortBinding.parse_spec(p)]
        if c.publish_all:
            for cp, proto in c.exposed:
                if not any(b.container_port == cp and b.proto == proto for b in out):
                    out.append(PortBinding(proto=proto, host_ip=None, host_port=0, container_port=cp))
        return out

    def _endpoints(self, c: Container) -> list[tuple[Network, IPv4Address, str]]:
        """(network, address, interface) of each endpoint of the container."""
        out = []
        if c.network is not None and c.address is not None and c.shares_with is None:
            out.append((c.network, c.address, "eth0"))
        out += [(ep.network, ep.address, ep.ifname) for ep in c.extra.values()]
        return out

    def _endpoint_id(self, c: Container, net: Network | None = None) -> str:
        net = net if net is not None else c.network
        return hashlib.sha256(f"{c.id}/{net.id if net else ''}".encode()).hexdigest()

    def _pseudo_id(self, name: str) -> str:
        return hashlib.sha256(f"{self.host.name}/{name}".encode()).hexdigest()


def network_mtu(options: dict[str, str]) -> int:
    """com.docker.network.driver.mtu as the bridge driver reads it (strconv.Atoi, then Validate:
    no negative MTU), with its words; 0 when not given."""
    text = options.get(DRIVER_MTU)
    if text is None:
        return 0
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise DockerError(f'failed to parse {DRIVER_MTU} value: {text} (strconv.Atoi: parsing "{text}": '
                          "invalid syntax)")
    if int(text) < 0:
        raise DockerError(f"invalid MTU number: {int(text)}")
    return int(text)
