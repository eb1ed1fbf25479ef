"""What ``docker ps``, ``docker inspect``, ``docker network ls`` and ``network inspect`` show."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from simnet.docker.firewall import PortBinding
from simnet.docker.images import IMAGES
from simnet.docker.images import image_key as _image_key
from simnet.docker.model import Container, Network
from simnet.docker.state import BRIDGE_OPT, DaemonState

__all__ = ["Inspection"]


class Inspection(DaemonState):
    """The daemon's listings and inspect documents (a base of :class:`~simnet.docker.daemon.DockerDaemon`)."""

    def ports_text(self, c: Container) -> str:
        """The PORTS column of ``docker ps``."""
        out = [f"{b.host_ip or '0.0.0.0'}:{b.host_port}->{b.container_port}/{b.proto}" for b in c.ports]
        published = {(b.container_port, b.proto) for b in c.ports}
        out += [f"{p}/{proto}" for p, proto in c.exposed if (p, proto) not in published]
        return ", ".join(out)

    def command_text(self, c: Container) -> str:
        return " ".join(c.command) if c.command else IMAGES.get(_image_key(c.image), {}).get("cmd", "sh")

    def ps(self, all: bool = False) -> list[dict[str, Any]]:
        """``docker ps [-a]``: containers, newest first, as the CLI's template fields."""
        return [{"ID": c.id[:12], "Image": c.image, "Command": self.command_text(c), "Names": c.name,
                 "Status": "Up Less than a second" if c.running else
                 ("Exited (137) Less than a second ago" if c.started_once else "Created"),
                 "Ports": self.ports_text(c) if c.running else "", "Networks": c.network_mode}
                for c in sorted(self.containers.values(), key=lambda c: -c.created)
                if all or c.running]

    def _endpoint_json(self, c: Container, net: Network, addr: IPv4Address, mac: Any) -> dict[str, Any]:
        return {"NetworkID": net.id, "EndpointID": self._endpoint_id(c, net),
                "Gateway": str(net.gateway or "") if not net.internal else "", "IPAddress": str(addr),
                "IPPrefixLen": net.subnet.prefixlen, "MacAddress": str(mac)}

    def inspect(self, name: str) -> dict[str, Any]:
        """``docker inspect NAME``: the NetworkSettings a user looks up."""
        c = self._container(name)
        nets: dict[str, Any] = {}
        if c.network is not None and c.address is not None and c.shares_with is None:
            nets[c.network.name] = self._endpoint_json(c, c.network, c.address, c.mac)
        for netname, ep in c.extra.items():
            nets[netname] = self._endpoint_json(c, ep.network, ep.address, ep.mac)
        if c.network_mode in ("host", "none"):
            nets[c.network_mode] = {"NetworkID": self._pseudo_id(c.network_mode), "Gateway": "", "IPAddress": "",
                                    "IPPrefixLen": 0, "MacAddress": ""}
        primary = nets.get("bridge", {})
        ports: dict[str, Any] = {f"{p}/{proto}": None for p, proto in c.exposed}
        for b in c.ports:
            ports.setdefault(f"{b.container_port}/{b.proto}", None)
            ports[f"{b.container_port}/{b.proto}"] = (ports[f"{b.container_port}/{b.proto}"] or []) + [
                {"HostIp": str(b.host_ip or "0.0.0.0"), "HostPort": str(b.host_port)}]
        return {
            "Id": c.id, "Name": "/" + c.name,
            "State": {"Status": "running" if c.running else ("exited" if c.started_once else "created"),
                      "Running": c.running, "Error": c.error},
            "Config": {"Image": c.image, "Cmd": list(c.command) or self.command_text(c).split()},
            "HostConfig": {"NetworkMode": c.network_mode, "RestartPolicy": {"Name": c.restart},
                           "PortBindings": self._port_bindings_config(c),
                           "PublishAllPorts": c.publish_all},
            "NetworkSettings": {
                "SandboxKey": f"/var/run/docker/netns/{c.netns}" if c.running and c.network_mode != "host"
                else ("/var/run/docker/netns/default" if c.network_mode == "host" else ""),
                "Ports": ports if c.running else {},
                "HostVeth": c.veth,
                "Gateway": primary.get("Gateway", ""), "IPAddress": primary.get("IPAddress", ""),
                "IPPrefixLen": primary.get("IPPrefixLen", 0), "MacAddress": primary.get("MacAddress", ""),
                "Networks": nets if c.running else {},
            },
        }

    def _port_bindings_config(self, c: Container) -> dict[str, list[dict[str, str]]]:
        """``HostConfig.PortBindings``: the ``-p`` specs as given (one list per container port)."""
        out: dict[str, list[dict[str, str]]] = {}
        for b in (b for p in c.publish_specs for b in PortBinding.parse_spec(p)):
            out.setdefault(f"{b.container_port}/{b.proto}", []).append(
                {"HostIp": str(b.host_ip or ""), "HostPort": b.hostconfig_port})
        return out

    def network_ls(self) -> list[dict[str, str]]:
        """``docker network ls``: sorted by name, with the ``host`` and ``none`` networks."""
        rows = [{"NETWORK ID": n.id[:12], "NAME": n.name, "DRIVER": "bridge", "SCOPE": "local"}
                for n in self.networks.values()]
        rows += [{"NETWORK ID": self._pseudo_id("host")[:12], "NAME": "host", "DRIVER": "host", "SCOPE": "local"},
                 {"NETWORK ID": self._pseudo_id("none")[:12], "NAME": "none", "DRIVER": "null", "SCOPE": "local"}]
        return sorted(rows, key=lambda r: r["NAME"])

    @staticmethod
    def _ipam_json(n: Network) -> dict[str, Any]:
        """One ``IPAM.Config`` entry (IPRange and AuxiliaryAddresses only when set)."""
        out: dict[str, Any] = {"Subnet": str(n.subnet)}
        if n.ip_range is not None:
            out["IPRange"] = str(n.ip_range)
        out["Gateway"] = str(n.gateway) if n.gateway else ""
        if n.aux_addresses:
            out["AuxiliaryAddresses"] = {k: str(v) for k, v in n.aux_addresses.items()}
        return out

    def network_inspect(self, name: str) -> dict[str, Any]:
        """``docker network inspect NAME``: the network, its endpoints and their sandboxes (CNM)."""
        n = self._network(name)
        opts = dict(n.options)
        opts.setdefault(BRIDGE_OPT + "name", n.bridge)
        members = {}
        for cname, a in n.endpoints.items():
            c = self.containers[cname]
            ep = c.extra.get(n.name)
            mac = ep.mac if ep is not None else c.mac
            members[c.id] = {"Name": cname, "EndpointID": self._endpoint_id(c, n), "MacAddress": str(mac),
                             "IPv4Address": f"{a}/{n.subnet.prefixlen}", "IPv6Address": ""}
        return {
            "Name": n.name, "Id": n.id, "Scope": "local", "Driver": "bridge", "Internal": n.internal,
            "IPAM": {"Driver": "default", "Config": [self._ipam_json(n)]},
            "Containers": members,
            "Options": opts,
        }

