"""``dockerd`` on a simulated host: networks, containers, published ports.

A :class:`DockerDaemon` drives one host namespace the way the daemon of an
era does (docker-rules.md §§2-9): the default bridge and user networks as
Linux bridges, containers as namespaces joined by veth pairs, and the era's
iptables rules issued through :class:`~simnet.docker.firewall.Firewaller`.

>>> from simnet.world import World
>>> w = World(seed=1); _ = w.add_netns("h1")
>>> d = DockerDaemon(w, "h1", era="29"); d.start()
>>> c = d.run("web", publish=["1180:5000"])
>>> str(c.address), d.network_inspect("bridge")["IPAM"]["Config"][0]["Gateway"]
('172.17.0.2', '172.17.0.1')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING, Any, Iterable

from simnet.addresses import MacAddress
from simnet.docker.firewall import ERAS, Firewaller, NetConfig, PortBinding
from simnet.docker.proxy import DockerProxy
from simnet.errors import SimnetError
from simnet.routing import Route

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["Container", "DockerDaemon", "DockerError", "Network"]

BRIDGE_OPT = "com.docker.network.bridge."


class DockerError(SimnetError):
    """What the docker CLI prints as ``docker: Error response from daemon: ...``."""


def _default_pools() -> list[IPv4Network]:
    """ipamutils' local-scope default pools: 172.17-31.0.0/16, then 192.168.N.0/20."""
    pools = [IPv4Network(f"172.{i}.0.0/16") for i in range(17, 32)]
    pools += [IPv4Network(f"192.168.{i}.0/20") for i in range(0, 256, 16)]
    return pools


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


class DockerDaemon:
    """A Docker daemon of one era, running in the namespace ``host_ns_name``."""

    def __init__(self, world: "World", host_ns_name: str, *, era: str = "29", iptables: bool = True,
                 ip_forward: bool = True, icc: bool = True, ip_masq: bool = True, userland_proxy: bool = True,
                 bip: str | None = None, bridge: str = "docker0") -> None:
        if era not in ERAS:
            raise DockerError(f"unknown era {era!r}: choose one of {', '.join(ERAS)}")
        self.world = world
        self.host: "NetNamespace" = world.netns(host_ns_name)
        self.era = era
        self.iptables = iptables
        self.ip_forward = ip_forward
        self.icc = icc
        self.ip_masq = ip_masq
        self.userland_proxy = userland_proxy
        self.bip = IPv4Interface(bip) if bip else None
        self.default_bridge = bridge
        """``--bridge``: ``none`` starts the daemon without the default network."""
        self.fw = Firewaller(self.host, era, hairpin=not userland_proxy)
        self.networks: dict[str, Network] = {}
        self.containers: dict[str, Container] = {}
        self.commands: list[tuple[str, str]] = []
        """What the daemon did, as (namespace, shell command) pairs in real tool syntax (for export)."""
        self.warnings: list[str] = []
        self.started = False

    # -- helpers -------------------------------------------------------------------------
    def _hex(self, n: int) -> str:
        return "".join(f"{self.world.rng.getrandbits(4):x}" for _ in range(n))

    def _cmd(self, ns: str, line: str) -> None:
        self.commands.append((ns, line))

    def _sysctl(self, key: str, value: int | str) -> None:
        if str(self.host.sysctls.get(key)) != str(value):
            self.host.sysctls.set(key, value)
            self._cmd(self.host.name, f"sysctl -w {key}={value}")

    def _forwarding(self) -> None:
        """setupIPForwarding: ip_forward=1, and from 1.13 FORWARD policy DROP if Docker turned it on."""
        if not self.ip_forward or self.host.sysctls.get_int("net.ipv4.ip_forward") == 1:
            return
        self._sysctl("net.ipv4.ip_forward", 1)
        if self.iptables and self.era != "1.9":
            self.fw._run(["-t", "filter", "-P", "FORWARD", "DROP"])

    def _allocate_subnet(self) -> IPv4Network:
        taken = [n.subnet for n in self.networks.values()]
        taken += [r.dst for r in self.host.fib.routes(None) if r.dst.prefixlen > 0 and r.table == 254]
        for pool in _default_pools():
            if not any(pool.overlaps(t) for t in taken):
                return pool
        raise DockerError("could not find an available, non-overlapping IPv4 address pool among the defaults "
                          "to assign to the network")

    # -- daemon ----------------------------------------------------------------------------
    def start(self) -> None:
        """Daemon start: driver init, forwarding, DOCKER-USER, and the default ``bridge`` network."""
        if self.iptables:
            self.fw.init()
        if self.era in ("1.9", "27"):
            self._forwarding()
        if self.iptables and self.era in ("28", "29"):
            self.fw.user_chain()
        self.started = True
        if self.default_bridge != "none":
            existing = [a for a in self.host.addrs if a.dev == self.default_bridge]
            if self.bip is not None:
                subnet, gw = self.bip.network, self.bip.ip
            elif existing:
                subnet, gw = existing[0].interface.network, existing[0].address
            else:
                subnet = self._allocate_subnet()
                gw = next(subnet.hosts())
            self._create("bridge", bridge=self.default_bridge, subnet=subnet, gateway=gw, internal=False,
                         options={BRIDGE_OPT + "enable_icc": str(self.icc).lower(),
                                  BRIDGE_OPT + "enable_ip_masquerade": str(self.ip_masq).lower()},
                         net_id=self._hex(64))

    def network_create(self, name: str, *, subnet: str | None = None, internal: bool = False,
                       options: dict[str, str] | None = None) -> Network:
        """``docker network create [--subnet S] [--internal] [-o K=V ...] NAME``."""
        options = dict(options or {})
        if name in self.networks:
            raise DockerError(f"network with name {name} already exists")
        net_id = self._hex(64)
        sub = IPv4Network(subnet) if subnet else self._allocate_subnet()
        for n in self.networks.values():
            if n.subnet.overlaps(sub):
                raise DockerError("invalid pool request: Pool overlaps with other one on this address space")
        bridge = options.get(BRIDGE_OPT + "name", f"br-{net_id[:12]}")
        return self._create(name, bridge=bridge, subnet=sub, gateway=next(sub.hosts()), internal=internal,
                            options=options, net_id=net_id)

    def _create(self, name: str, *, bridge: str, subnet: IPv4Network, gateway: IPv4Address, internal: bool,
                options: dict[str, str], net_id: str) -> Network:
        host_ipv4 = options.get("com.docker.network.host_ipv4")
        icc = options.get(BRIDGE_OPT + "enable_icc", "true") == "true"
        cfg = NetConfig(bridge=bridge, subnet=subnet, internal=internal, icc=icc,
                        masq=options.get(BRIDGE_OPT + "enable_ip_masquerade", "true") == "true",
                        gateway_mode=options.get(BRIDGE_OPT + "gateway_mode_ipv4", "nat"),
                        host_ipv4=IPv4Address(host_ipv4) if host_ipv4 else None)
        if cfg.gateway_mode not in ("nat", "nat-unprotected", "routed"):
            raise DockerError(f"invalid gateway mode {cfg.gateway_mode!r}")
        if cfg.gateway_mode != "nat" and self.era in ("1.9", "27"):
            raise DockerError(f"gateway_mode_ipv4={cfg.gateway_mode} is not simulated for era {self.era}")
        net = Network(name=name, id=net_id, bridge=bridge, subnet=subnet, gateway=gateway, internal=internal,
                      options=options, config=cfg)
        h = self.host.name
        if bridge not in self.host.devices:  # setupDevice
            self.host.link_add(bridge, "bridge")
            self._cmd(h, f"ip link add {bridge} type bridge")
        if not any(a.dev == bridge and a.address == gateway for a in self.host.addrs):  # setupBridgeIPv4
            iface = IPv4Interface(f"{gateway}/{subnet.prefixlen}")
            self.host.addr_add(bridge, iface)
            self._cmd(h, f"ip addr add {iface} dev {bridge}")
        if not self.userland_proxy:  # setupLoopbackAddressesRouting
            self._sysctl(f"net.ipv4.conf.{bridge}.route_localnet", 1)
        if self.era in ("28", "29") and not internal:
            self._forwarding()
        if self.iptables:
            others = [n.config for n in self.networks.values()]
            self.fw.new_network(cfg, others)
        # bridge netfilter: <=27.3 only for icc=false (and ip_forward on); 27.4+ also without the proxy
        wants_brnf = not icc or (self.era != "1.9" and not self.userland_proxy)
        if wants_brnf and (self.era != "1.9" or self.host.sysctls.get_int("net.ipv4.ip_forward") == 1):
            self._sysctl("net.bridge.bridge-nf-call-iptables", 1)
        self.host.set_up(bridge, True)  # setupDeviceUp
        self._cmd(h, f"ip link set {bridge} up")
        self.networks[name] = net
        if self.iptables and self.era == "27":
            self.fw.user_chain()  # setupUserChain after every NewNetwork
        return net

    def network_rm(self, name: str) -> None:
        """``docker network rm NAME``: its rules and its bridge go."""
        net = self._network(name)
        if net.endpoints:
            raise DockerError(f"error while removing network: network {name} id {net.id} has active endpoints")
        if self.iptables:
            self.fw.del_network(net.config)
        self.host.link_del(net.bridge)
        self._cmd(self.host.name, f"ip link del {net.bridge}")
        del self.networks[name]

    def _network(self, name: str) -> Network:
        try:
            return self.networks[name]
        except KeyError:
            raise DockerError(f"network {name} not found") from None

    # -- containers ------------------------------------------------------------------------------
    def run(self, name: str, *, network: str = "bridge", publish: Iterable[str] = (), ip: str | None = None,
            mac: str | None = None) -> Container:
        """``docker run -d --name NAME [--network N] [-p ...] [--ip IP] [--mac-address MAC] IMAGE``."""
        if not self.started:
            raise DockerError("Cannot connect to the Docker daemon. Is the docker daemon running?")
        if name in self.containers:
            raise DockerError(f'Conflict. The container name "/{name}" is already in use')
        ports = tuple(PortBinding.parse(p) for p in publish)
        cid = self._hex(64)
        if network == "host":
            if ports:
                self.warnings.append("WARNING: Published ports are discarded when using host network mode")
            c = Container(name=name, id=cid, network_mode="host", netns=self.host.name)
            self.containers[name] = c
            return c
        if network.startswith("container:"):
            other = self._container(network.split(":", 1)[1])
            if ports:
                raise DockerError("conflicting options: port publishing and the container type network mode")
            c = Container(name=name, id=cid, network_mode=network, netns=other.netns, network=other.network,
                          address=other.address, mac=other.mac, shares_with=other.name)
            self.containers[name] = c
            return c
        ns_name = f"{self.host.name}-{name}"
        cns = self.world.add_netns(ns_name)
        self._cmd(ns_name, f"ip netns add {ns_name}")
        cns.set_up("lo", True)
        self._cmd(ns_name, f"ip -n {ns_name} link set lo up")
        c = Container(name=name, id=cid, network_mode=network, netns=ns_name)
        self.containers[name] = c
        if network == "none":
            return c
        net = self._network(network)
        addr = IPv4Address(ip) if ip else self._lowest_free(net)
        if addr in net.endpoints.values() or addr == net.gateway or addr not in net.subnet:
            raise DockerError(f"Address already in use" if addr in net.endpoints.values()
                              else f"invalid address {addr} for network {net.name}")
        if mac:
            lladdr = MacAddress(mac) if not isinstance(mac, MacAddress) else mac
        elif self.era in ("1.9", "27"):
            lladdr = MacAddress(int.from_bytes(bytes([0x02, 0x42]) + addr.packed, "big"))
        else:
            lladdr = self.world.random_mac()
        veth = "veth" + self._hex(7)
        tmp = "veth" + self._hex(7)
        h = self.host.name
        self.host.link_add(veth, "veth", peer=tmp)
        self.host.set_address(tmp, lladdr)
        self.host.set_netns(tmp, cns)
        cns.set_name(tmp, "eth0")
        self._cmd(h, f"ip link add {veth} type veth peer name eth0 netns {ns_name}")
        self._cmd(ns_name, f"ip -n {ns_name} link set eth0 address {lladdr}")
        self.host.set_master(veth, net.bridge)
        self._cmd(h, f"ip link set {veth} master {net.bridge}")
        if not self.userland_proxy:
            self.host.dev(veth).hairpin = True
            self._cmd(h, f"ip link set {veth} type bridge_slave hairpin on")
        self.host.set_up(veth, True)
        self._cmd(h, f"ip link set {veth} up")
        iface = IPv4Interface(f"{addr}/{net.subnet.prefixlen}")
        cns.addr_add("eth0", iface)
        cns.set_up("eth0", True)
        self._cmd(ns_name, f"ip -n {ns_name} addr add {iface} dev eth0")
        self._cmd(ns_name, f"ip -n {ns_name} link set eth0 up")
        if not net.internal and net.gateway is not None:
            cns.route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=net.gateway, dev="eth0"))
            self._cmd(ns_name, f"ip -n {ns_name} route add default via {net.gateway} dev eth0")
        net.endpoints[name] = addr
        c.network, c.address, c.mac, c.veth, c.ports = net, addr, lladdr, veth, ports
        if self.iptables:
            self.fw.add_endpoint(net.config, addr)
            if ports and not net.internal:
                self.fw.add_ports(net.config, addr, list(ports), nat=net.config.gateway_mode != "routed")
        if self.userland_proxy and not net.internal and net.config.gateway_mode != "routed":
            for b in ports:
                c.proxies.append(DockerProxy.start(self.host, b, addr))
        return c

    def _lowest_free(self, net: Network) -> IPv4Address:
        used = set(net.endpoints.values()) | {net.gateway}
        for a in net.subnet.hosts():
            if a not in used:
                return a
        raise DockerError(f"no available IPv4 addresses on this network's address pools: {net.name}")

    def _container(self, name: str) -> Container:
        try:
            return self.containers[name]
        except KeyError:
            raise DockerError(f"No such container: {name}") from None

    def stop(self, name: str) -> None:
        """``docker stop``: the sandbox, endpoint, rules and proxies the container added go."""
        c = self._container(name)
        if not c.running:
            return
        c.running = False
        for p in c.proxies:
            p.stop()
        c.proxies.clear()
        if c.network_mode in ("host",) or c.shares_with is not None:
            return
        net, addr = c.network, c.address
        if net is not None and addr is not None:
            if self.iptables:
                if c.ports and not net.internal:
                    self.fw.del_ports(net.config, addr, list(c.ports))
                self.fw.del_endpoint(net.config, addr)
            del net.endpoints[name]
        self.world.del_netns(c.netns)
        self._cmd(c.netns, f"ip netns del {c.netns}")

    def rm(self, name: str) -> None:
        """``docker rm -f``."""
        self.stop(name)
        del self.containers[name]

    # -- inspection ----------------------------------------------------------------------------------
    def ps(self) -> list[dict[str, Any]]:
        """``docker ps``: running containers."""
        return [{"ID": c.id[:12], "Names": c.name, "Ports": ", ".join(
            f"{b.host_ip or '0.0.0.0'}:{b.host_port}->{b.container_port}/{b.proto}" for b in c.ports),
            "Networks": c.network_mode} for c in self.containers.values() if c.running]

    def inspect(self, name: str) -> dict[str, Any]:
        """``docker inspect NAME``: the NetworkSettings a user looks up."""
        c = self._container(name)
        nets = {}
        if c.network is not None:
            nets[c.network.name] = {
                "NetworkID": c.network.id, "EndpointID": self._endpoint_id(c),
                "Gateway": str(c.network.gateway or ""), "IPAddress": str(c.address),
                "IPPrefixLen": c.network.subnet.prefixlen, "MacAddress": str(c.mac)}
        return {
            "Id": c.id, "Name": "/" + c.name, "State": {"Running": c.running},
            "HostConfig": {"NetworkMode": c.network_mode},
            "NetworkSettings": {
                "SandboxKey": f"/var/run/docker/netns/{c.netns}",
                "Ports": {f"{b.container_port}/{b.proto}": [{"HostIp": str(b.host_ip or "0.0.0.0"),
                                                             "HostPort": str(b.host_port)}] for b in c.ports},
                "HostVeth": c.veth,
                "Networks": nets,
            },
        }

    def _endpoint_id(self, c: Container) -> str:
        import hashlib

        return hashlib.sha256(f"{c.id}/{c.network.id if c.network else ''}".encode()).hexdigest()

    def network_ls(self) -> list[dict[str, str]]:
        return [{"NETWORK ID": n.id[:12], "NAME": n.name, "DRIVER": "bridge", "SCOPE": "local"}
                for n in self.networks.values()]

    def network_inspect(self, name: str) -> dict[str, Any]:
        """``docker network inspect NAME``."""
        n = self._network(name)
        opts = dict(n.options)
        opts.setdefault(BRIDGE_OPT + "name", n.bridge)
        return {
            "Name": n.name, "Id": n.id, "Driver": "bridge", "Internal": n.internal,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": str(n.subnet),
                                                      "Gateway": str(n.gateway) if n.gateway else ""}]},
            "Containers": {self.containers[c].id: {
                "Name": c, "EndpointID": self._endpoint_id(self.containers[c]),
                "MacAddress": str(self.containers[c].mac),
                "IPv4Address": f"{a}/{n.subnet.prefixlen}"} for c, a in n.endpoints.items()},
            "Options": opts,
        }
