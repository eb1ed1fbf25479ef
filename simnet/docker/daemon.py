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

import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING, Any, Iterable

from simnet.docker import resolver
from simnet.docker.endpoints import Endpoints
from simnet.docker.era import ERAS, Era
from simnet.docker.firewall import Firewaller, NetConfig, PortBinding
from simnet.docker.images import IMAGES, container_listeners, serves_http
from simnet.docker.images import image_key as _image_key
from simnet.docker.inspect import Inspection
from simnet.docker.model import Container, Endpoint, Network
from simnet.docker.portalloc import PortAllocator
from simnet.docker.portmap import ExternalConnectivity
from simnet.docker.state import BRIDGE_OPT, DRIVER_MTU, DockerError, StartError, network_mtu
from simnet.errors import SimnetError

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["BRIDGE_OPT", "IMAGES", "Container", "DockerDaemon", "DockerError", "Endpoint", "Network", "StartError",
           "container_listeners", "serves_http"]


def _parse_bool(label: str, value: str) -> bool:
    """strconv.ParseBool, with the bridge driver's parseErr words."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise DockerError(f'failed to parse {label} value: {value} (strconv.ParseBool: parsing "{value}": invalid syntax)')


def _check_advertise_options(options: dict[str, str]) -> None:
    """libnetwork's validatedAdvertiseAddrNMsgs/Interval (28+), with its words."""
    for key, unit, lo, hi in (("com.docker.network.advertise_addr_nmsgs", "an integer", 0, 3),
                              ("com.docker.network.advertise_addr_ms", "integer milliseconds", 100, 2000)):
        if key not in options:
            continue
        text = options[key]
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise DockerError(f'value for option {key} "{text}" must be {unit}')
        if not lo <= int(text) <= hi:
            raise DockerError(f"{key} must be in the range {lo} to {hi}")


def _port_list(text: str) -> list[int]:
    """``ip_local_reserved_ports``: ``8080,9000-9002``."""
    out: list[int] = []
    for part in filter(None, text.replace(" ", "").split(",")):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def _default_pools() -> list[IPv4Network]:
    """ipamutils' local-scope default pools: 172.17-31.0.0/16, then 192.168.N.0/20."""
    pools = [IPv4Network(f"172.{i}.0.0/16") for i in range(17, 32)]
    pools += [IPv4Network(f"192.168.{i}.0/20") for i in range(0, 256, 16)]
    return pools


class DockerDaemon(Endpoints, ExternalConnectivity, Inspection):
    """A Docker daemon of one era, running in the namespace ``host_ns_name``.

    Its parts are its bases, one module each: endpoint join/leave (:mod:`~simnet.docker.endpoints`),
    the gateway endpoint and published ports (:mod:`~simnet.docker.portmap`), the listings and
    inspect documents (:mod:`~simnet.docker.inspect`), over the shared state
    (:mod:`~simnet.docker.state`); the daemon, its networks and the container lifecycle are here."""

    def __init__(self, world: "World", host_ns_name: str, *, era: Era | str = Era.V29, iptables: bool = True,
                 ip_forward: bool = True, icc: bool = True, ip_masq: bool = True, userland_proxy: bool = True,
                 bip: str | None = None, bridge: str = "docker0", live_restore: bool = False,
                 ip_forward_no_drop: bool = False, allow_direct_routing: bool = False,
                 default_network_opts: dict[str, str] | None = None, env: dict[str, str] | None = None,
                 mtu: int = 0) -> None:
        if era not in ERAS:
            raise DockerError(f"unknown era {era!r}: choose one of {', '.join(ERAS)}")
        self.world = world
        self.host: "NetNamespace" = world.netns(host_ns_name)
        self.era = Era(era)
        self.iptables = iptables
        self.ip_forward = ip_forward
        self.icc = icc
        self.ip_masq = ip_masq
        self.userland_proxy = userland_proxy
        self.bip = IPv4Interface(bip) if bip else None
        self.default_bridge = bridge
        """``--bridge``: ``none`` starts the daemon without the default network."""
        self.live_restore = live_restore
        """``--live-restore``: containers keep running (and their endpoints and rules) across a restart."""
        self.ip_forward_no_drop = ip_forward_no_drop
        """``--ip-forward-no-drop`` (28+): turning ip_forward on leaves the FORWARD policy alone."""
        self.allow_direct_routing = allow_direct_routing
        """``--allow-direct-routing`` (28.2+): no raw-table DROP for direct access to containers."""
        self.default_network_opts = dict(default_network_opts or {})
        self.mtu = mtu
        """``--mtu``: the default bridge network's com.docker.network.driver.mtu (0: the devices' own)."""
        """``--default-network-opt bridge=K=V``: driver options of networks created without them."""
        self.env = dict(env or {})
        """The daemon's environment (``DOCKER_INSECURE_NO_IPTABLES_RAW=1``: no raw-table rules, 28.1+)."""
        self.fw = self._firewaller()
        self.networks: dict[str, Network] = {}
        self.containers: dict[str, Container] = {}
        self.commands: list[tuple[str, str]] = []
        """What the daemon did, as (namespace, shell command) pairs in real tool syntax (for export)."""
        self.warnings: list[str] = []
        self.started = False
        self.allocator = PortAllocator(32768, 60999)
        """The port allocator of the daemon process (made anew at each start)."""

    # -- helpers -------------------------------------------------------------------------
    def _firewaller(self) -> Firewaller:
        fw = Firewaller(self.host, self.era, hairpin=not self.userland_proxy,
                        direct_routing=self.era.at_least(Era.V28) and self.allow_direct_routing,
                        raw_disabled=self.era.at_least(Era.V28) and self.env.get("DOCKER_INSECURE_NO_IPTABLES_RAW")
                        == "1")
        fw.sink = self._fw_sink
        return fw

    def _forwarding(self) -> None:
        """setupIPForwarding: ip_forward=1, and from 1.13 FORWARD policy DROP if Docker turned it on."""
        if not self.ip_forward or self.host.sysctls.get_int("net.ipv4.ip_forward") == 1:
            return
        self._sysctl("net.ipv4.ip_forward", 1)
        if self.iptables and self.era is not Era.V1_9 and not (self.ip_forward_no_drop and self.era.at_least(Era.V28)):
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
        """Daemon start: driver init, forwarding, DOCKER-USER, the networks in the store (after a
        restart) and the default ``bridge`` network."""
        if self.started:
            raise DockerError("the daemon is already running (pid file /var/run/docker.pid exists)")
        lo, hi = (int(x) for x in str(self.host.sysctls.get("net.ipv4.ip_local_port_range")).split())
        reserved = str(self.host.sysctls.get("net.ipv4.ip_local_reserved_ports") or "")
        self.allocator = PortAllocator(lo, hi, frozenset(_port_list(reserved)))
        if self.iptables:
            self.fw.init()
        if self.era.before(Era.V28):
            self._forwarding()
        if self.iptables and self.era.at_least(Era.V28):
            self.fw.user_chain()
        self.started = True
        stale = self.networks.pop("bridge", None)
        stored = sorted(self.networks.values(), key=lambda n: n.id)
        self.networks = {}
        for n in stored:  # restored from the store, in key (network ID) order
            net = self._create(n.name, bridge=n.bridge, subnet=n.subnet, gateway=n.gateway, internal=n.internal,
                               options=n.options, net_id=n.id)
            net.user_subnet, net.ip_range, net.aux_addresses = n.user_subnet, n.ip_range, n.aux_addresses
        if stale is not None and self.era is not Era.V1_9 and self.iptables:
            self.fw.del_network(stale.config)  # "Clear stale bridge network", then create it anew
        if self.default_bridge != "docker0" and self.default_bridge != "none" \
                and self.default_bridge not in self.host.devices:
            self.started = False  # setupDevice: a bridge named with -b must exist
            words = "Error creating" if self.era is Era.V1_9 else "error creating"
            raise DockerError(f"failed to start daemon: Error initializing network controller: {words} default "
                              f'"bridge" network: bridge device with non default name {self.default_bridge} must '
                              "be created manually")
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
                                  BRIDGE_OPT + "enable_ip_masquerade": str(self.ip_masq).lower(),
                                  **({DRIVER_MTU: str(self.mtu)} if self.mtu else {})},
                         net_id=stale.id if stale is not None and self.era is Era.V1_9 else self._hex(64))

    def network_create(self, name: str, *, subnet: str | None = None, internal: bool = False,
                       options: dict[str, str] | None = None, gateway: str | None = None,
                       ip_range: str | None = None, aux_addresses: dict[str, str] | None = None) -> Network:
        """``docker network create [--subnet S [--gateway G] [--ip-range R] [--aux-address N=IP ...]]
        [--internal] [-o K=V ...] NAME``."""
        options = {**self.default_network_opts, **(options or {})} if self.era is not Era.V1_9 else dict(options or {})
        if not self.started:
            raise DockerError("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                              "Is the docker daemon running?")
        if name in self.networks or name in ("host", "none", "bridge"):
            raise DockerError(f"network with name {name} already exists")
        if self.era.at_least(Era.V28):
            _check_advertise_options(options)
        net_id = self._hex(64)
        sub = IPv4Network(subnet) if subnet else self._allocate_subnet()
        for n in self.networks.values():
            if n.subnet.overlaps(sub):
                raise DockerError("invalid pool request: Pool overlaps with other one on this address space")
        bridge = options.get(BRIDGE_OPT + "name", f"br-{net_id[:12]}")
        aux = {k: IPv4Address(v.split("/")[0]) for k, v in (aux_addresses or {}).items()}
        gw = IPv4Address(gateway.split("/")[0]) if gateway else next(
            a for a in sub.hosts() if a not in aux.values())  # the IPAM's first free address
        net = self._create(name, bridge=bridge, subnet=sub, gateway=gw, internal=internal,
                           options=options, net_id=net_id)
        net.user_subnet = subnet is not None
        net.ip_range = IPv4Network(ip_range, strict=False) if ip_range else None
        net.aux_addresses = aux
        return net

    def _create(self, name: str, *, bridge: str, subnet: IPv4Network, gateway: IPv4Address | None, internal: bool,
                options: dict[str, str], net_id: str) -> Network:
        mtu = network_mtu(options)
        host_ipv4 = options.get("com.docker.network.host_ipv4")
        icc = options.get(BRIDGE_OPT + "enable_icc", "true") == "true"
        mode = options.get(BRIDGE_OPT + "gateway_mode_ipv4", "nat") if self.era is not Era.V1_9 else "nat"
        modes = {Era.V27: ("nat", "routed")}.get(self.era, ("nat", "nat-unprotected", "routed", "isolated"))
        if mode not in modes:
            raise DockerError(f"failed to parse {BRIDGE_OPT}gateway_mode_ipv4 value: {mode} (unknown gateway mode "
                              f"{mode})")
        if mode == "isolated" and not internal:
            raise DockerError("gateway mode 'isolated' can only be used for an internal network")
        if mode != "nat" and self.era is Era.V27:
            raise DockerError(f"gateway_mode_ipv4={mode} is not simulated for era 27")
        inhibit = False
        if self.era is not Era.V1_9 and BRIDGE_OPT + "inhibit_ipv4" in options:
            inhibit = _parse_bool(BRIDGE_OPT + "inhibit_ipv4", options[BRIDGE_OPT + "inhibit_ipv4"])
        trusted = tuple(x for x in options.get(BRIDGE_OPT + "trusted_host_interfaces", "").split(":") if x) \
            if self.era.at_least(Era.V28) else ()
        cfg = NetConfig(bridge=bridge, subnet=subnet, internal=internal, icc=icc,
                        masq=options.get(BRIDGE_OPT + "enable_ip_masquerade", "true") == "true",
                        gateway_mode=mode, host_ipv4=IPv4Address(host_ipv4) if host_ipv4 else None,
                        trusted=trusted)
        if mode == "isolated" or (inhibit and internal):  # no gateway at all (bridge_linux.go)
            gateway = None
        net = Network(name=name, id=net_id, bridge=bridge, subnet=subnet, gateway=gateway, internal=internal,
                      options=options, config=cfg)
        h = self.host.name
        if bridge not in self.host.devices:  # setupDevice
            self.host.link_add(bridge, "bridge")
            self._cmd(h, f"ip link add {bridge} type bridge")
        if gateway is not None and not inhibit and not any(a.dev == bridge and a.address == gateway
                                                           for a in self.host.addrs):  # setupBridgeIPv4
            iface = IPv4Interface(f"{gateway}/{subnet.prefixlen}")
            self.host.addr_add(bridge, iface)
            self._cmd(h, f"ip addr add {iface} dev {bridge}")
        if not self.userland_proxy:  # setupLoopbackAddressesRouting
            self._sysctl(f"net.ipv4.conf.{bridge}.route_localnet", 1)
        if self.era.at_least(Era.V28) and not internal:
            self._forwarding()
        if self.iptables:
            others = [n.config for n in self.networks.values()]
            self.fw.new_network(cfg, others)
        # bridge netfilter: <=27.3 only for icc=false (and ip_forward on); 27.4+ also without the proxy
        wants_brnf = not icc or (self.era is not Era.V1_9 and not self.userland_proxy)
        if wants_brnf and (self.era is not Era.V1_9 or self.host.sysctls.get_int("net.ipv4.ip_forward") == 1):
            self._sysctl("net.bridge.bridge-nf-call-iptables", 1)
        if mtu and self.era is not Era.V1_9:
            # setupMTU (bridge driver, 23+): the bridge itself gets the MTU; 1.9 left the bridge
            # to follow its ports, whose veths carry it
            self.host.set_mtu(bridge, mtu)
            self._cmd(h, f"ip link set {bridge} mtu {mtu}")
        self.host.set_up(bridge, True)  # setupDeviceUp
        self._cmd(h, f"ip link set {bridge} up")
        self.networks[name] = net
        if self.iptables and self.era is Era.V27:
            self.fw.user_chain()  # setupUserChain after every NewNetwork
        return net

    def network_rm(self, name: str) -> None:
        """``docker network rm NAME``: its rules and its bridge go."""
        net = self._network(name)
        if net.endpoints:
            if self.era.at_least(Era.V28):  # ActiveEndpointsError lists them from 28
                eps = ", ".join(f'name:"{cn}" id:"{self._endpoint_id(self.containers[cn], net)[:12]}"'
                                for cn in net.endpoints)
                raise DockerError(f"error while removing network: network {name} has active endpoints ({eps})")
            raise DockerError(f"error while removing network: network {name} id {net.id} has active endpoints")
        if self.iptables:
            self.fw.del_network(net.config)
        self.host.link_del(net.bridge)
        self._cmd(self.host.name, f"ip link del {net.bridge}")
        del self.networks[name]

    # -- containers ------------------------------------------------------------------------------
    def run(self, name: str | None = None, *, network: str = "default", publish: Iterable[str] = (),
            ip: str | None = None, mac: str | None = None, image: str = "busybox", command: Iterable[str] = (),
            publish_all: bool = False, restart: str = "no", expose: Iterable[str] = (),
            sysctls: dict[str, str] | None = None, names: Any = None,
            aliases: Iterable[str] = ()) -> Container:
        """``docker run -d --name NAME [--network N] [-p ...] [-P] [--ip IP] [--mac-address MAC] IMAGE [CMD]``.

        Everything that can be checked is checked before anything is created (the CLI parses
        ``-p``, the daemon validates the config at create time).  A failure while starting leaves the
        container as Created with nothing of its sandbox left, as Docker does (:class:`StartError`).
        """
        if not self.started:
            raise DockerError("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                              "Is the docker daemon running?")
        if network in ("default", "bridge") and self.default_bridge == "none":
            network = "none"  # connectToNetwork: bridge disabled -> NetworkDisabled, the container gets only lo
        elif network == "default":
            network = "bridge"
        publish = tuple(publish)
        specs: list[PortBinding] = []
        try:
            for p in publish:
                specs += PortBinding.parse_spec(p)
        except ValueError as bad:
            raise DockerError(str(bad)) from None
        cid = self._hex(64)
        anonymous = name is None
        if name is None:
            name = self._random_name()
        if name in self.containers:
            raise DockerError(f'Conflict. The container name "/{name}" is already in use by container '
                              f'"{self.containers[name].id}". You have to remove (or rename) that container to '
                              "be able to reuse that name.")
        if network.startswith("container:"):
            if publish or publish_all:
                raise DockerError("conflicting options: port publishing and the container type network mode")
            self._container(network.split(":", 1)[1])
        elif network not in ("host", "none"):
            net = self._network(network)
            if ip:
                self._check_requested_ip(net, ip)
        elif ip:  # host and none are predefined networks too
            self._check_requested_ip(Network(name=network, id="", bridge="", subnet=IPv4Network("0.0.0.0/32"),
                                             gateway=None, internal=True, options={},
                                             config=NetConfig(bridge="", subnet=IPv4Network("0.0.0.0/32"))), ip)
        if restart.split(":")[0] not in ("no", "always", "unless-stopped", "on-failure"):
            raise DockerError(f"invalid restart policy '{restart}'")
        exposed = list(IMAGES.get(_image_key(image), {}).get("expose", ()))
        for e in expose:
            port, _, proto = e.partition("/")
            exposed.append((int(port), proto or "tcp"))
        for b in specs:
            if (b.container_port, b.proto) not in exposed:
                exposed.append((b.container_port, b.proto))
        c = Container(name=name, id=cid, network_mode=network, netns="", image=image, command=tuple(command),
                      publish_specs=publish, publish_all=publish_all, requested_ip=ip, requested_mac=mac,
                      restart=restart, exposed=tuple(exposed), created=self.world.now, running=False,
                      sysctls=tuple((sysctls or {}).items()), names=names, anonymous=anonymous,
                      aliases={network: tuple(aliases)} if aliases else {})
        self.containers[name] = c
        self._start_container(c)
        return c

    def _check_requested_ip(self, net: Network, ip: str) -> None:
        """``--ip``: create-time checks (validateEndpointSettings), in each era's words: from 20.10
        they come as ``invalid endpoint settings:`` and the reasons on the next line; 29 accepts
        networks without a user subnet and hyphenates its words."""
        reasons = []
        try:
            addr: IPv4Address | None = IPv4Address(ip)
        except ValueError:
            addr = None
            reasons.append(f"invalid IPv4 address: {ip}")
        if net.name in ("bridge", "host", "none"):
            reasons.append("user-specified IP address is supported on user-defined networks only" if self.era is Era.V29
                           else "user specified IP address is supported on user defined networks only")
        elif addr is not None and not net.user_subnet and not self._ip_without_subnet():
            reasons.append("user specified IP address is supported only when connecting to networks with user "
                           "configured subnets")
        elif addr is not None and addr not in net.subnet:
            reasons.append(f"no configured subnet contains IP address {ip}" if self.era is Era.V29 else
                           f"no configured subnet or ip-range contain the IP address {ip}")
        if reasons:
            raise DockerError("\n".join(reasons) if self.era is Era.V1_9 else
                              "invalid endpoint settings:\n" + "\n".join(reasons))

    def _ip_without_subnet(self) -> bool:
        """From 29.1 ``--ip`` is accepted on a network created without ``--subnet`` (it must be in the
        subnet the daemon picked); earlier eras refuse it."""
        return self.era is Era.V29

    def _random_name(self) -> str:
        left = ("admiring", "brave", "eager", "focused", "happy", "jolly", "nifty", "quirky", "relaxed", "vibrant")
        right = ("turing", "hopper", "lovelace", "ritchie", "thompson", "torvalds", "kernighan", "pike", "knuth")
        while True:
            n = f"{left[self.world.rng.randrange(len(left))]}_{right[self.world.rng.randrange(len(right))]}"
            if n not in self.containers:
                return n

    def start_container(self, name: str) -> None:
        """``docker start NAME``."""
        c = self._container(name)
        if not c.running:
            self._start_container(c)

    def _start_container(self, c: Container) -> None:
        network, name = c.network_mode, c.name
        if network == "host":
            c.running = c.started_once = True
            if self._requested(c):
                self.warnings.append("WARNING: Published ports are discarded when using host network mode")
            c.netns = self.host.name
            self._processes(c)
            return
        if network.startswith("container:"):
            other = self._container(network.split(":", 1)[1])
            if not other.running:
                raise StartError(f"cannot join network of a non running container: {other.id}")
            c.running = c.started_once = True
            c.netns, c.network, c.address, c.mac, c.shares_with = (other.netns, other.network, other.address,
                                                                   other.mac, other.name)
            self._processes(c)
            return
        ns_name = f"{self.host.name}-{name}"
        cns = self.world.add_netns(ns_name)
        self._cmd(ns_name, f"ip netns add {ns_name}")
        cns.set_up("lo", True)
        self._cmd(ns_name, f"ip -n {ns_name} link set lo up")
        c.netns = ns_name
        c.running = True
        try:
            if network != "none":
                net = self._network(network)
                ep = self._attach(c, net, "eth0", c.requested_ip, c.requested_mac)
                c.network, c.address, c.mac, c.veth = net, ep.address, ep.mac, ep.veth
            self._sysctls(c, cns)
            if network != "none":
                self._update_gateway(c)
        except DockerError as e:
            self._teardown(c)
            c.error = self._start_error(c, str(e))
            raise StartError(c.error) from None
        c.started_once = True
        c.error = ""
        resolver.sandbox_ready(self, c)
        self._processes(c)

    def _sysctls(self, c: Container, cns: "NetNamespace") -> None:
        """``--sysctl``: written in the container's namespace (per-interface keys once eth0 exists)."""
        for key, value in c.sysctls:
            try:
                cns.sysctls.set(key, value)
            except SimnetError as e:
                raise DockerError(f"failed to set sysctl {key}={value}: {e}") from None
            self._cmd(cns.name, f"sysctl -w {key}={value}")

    def _teardown(self, c: Container) -> None:
        """Undo a partial start: bindings, endpoints, the namespace (nothing of the sandbox stays)."""
        self._revoke(c)
        self._sync_routed(c, drop_all=True)
        for ep in list(c.extra.values()):
            self._detach(c, ep.network, ep.address, ep.veth)
        c.extra.clear()
        if c.network is not None and c.address is not None:
            self._detach(c, c.network, c.address, c.veth)
        c.network, c.address, c.veth, c.ports, c.running = None, None, None, (), False
        resolver.sandbox_gone(self, c)
        if c.netns in self.world.namespaces:
            self.world.del_netns(c.netns)
            self._cmd(c.netns, f"ip netns del {c.netns}")

    def _start_error(self, c: Container, msg: str) -> str:
        """How ``docker start``/``run`` reports a networking failure: 28.1+ wraps it
        (daemon/start_linux.go, errSetupNetworking), 1.9 names the container."""
        if self.era is Era.V1_9:
            return f"Cannot start container {c.id}: {msg}"
        return f"failed to set up container networking: {msg}" if self.era.at_least(Era.V28) else msg

    def _processes(self, c: Container) -> None:
        """The container's main process: the listeners its image or command opens."""
        ns = self.world.netns(c.netns)
        for port, proto in container_listeners(c.image, c.command):
            try:
                c.listeners.append(ns.sockets.listen(proto, port, keep=True))
            except SimnetError:
                continue  # the port is taken (host mode): the process would exit
            flag = "-u " if proto == "udp" else ""
            self._cmd(c.netns, f"nc {flag}-l -k -p {port} &")

    def network_connect(self, network: str, name: str, *, ip: str | None = None, aliases: Iterable[str] = ()) -> None:
        """``docker network connect NETWORK CONTAINER``: one more interface, eth1, eth2, ..."""
        net = self._network(network)
        c = self._container(name)
        if c.network_mode in ("host", "none") or c.shares_with is not None:
            raise DockerError(f"container cannot be disconnected from host network or connected to host network"
                              if c.network_mode == "host" else
                              f"container sharing network namespace with another container or host cannot be "
                              f"connected to any other network")
        if net is c.network or network in c.extra:
            raise DockerError(f"endpoint with name {name} already exists in network {network}")
        if not c.running:
            raise DockerError(self.not_running(c))
        if ip:
            self._check_requested_ip(net, ip)
        ifname = f"eth{1 + len(c.extra)}"
        if aliases:
            c.aliases[network] = tuple(aliases)
        c.extra[network] = self._attach(c, net, ifname, ip, None)
        try:
            self._update_gateway(c)
        except DockerError:
            ep = c.extra.pop(network)
            self._detach(c, net, ep.address, ep.veth)
            self._update_gateway(c)
            raise
        resolver.sandbox_ready(self, c)

    def network_disconnect(self, network: str, name: str) -> None:
        """``docker network disconnect NETWORK CONTAINER``."""
        net = self._network(network)
        c = self._container(name)
        if network in c.extra:
            if c.gw_net is net:
                self._revoke(c)
            if network in c.routed:
                bindings = c.routed.pop(network)
                if self.iptables:
                    self.fw.del_ports(net.config, c.extra[network].address, list(bindings))
            ep = c.extra.pop(network)
            self._detach(c, net, ep.address, ep.veth)
            self._update_gateway(c)
            resolver.sandbox_ready(self, c)
            return
        if c.network is net and c.running:
            if c.gw_net is net:
                self._revoke(c)
            if network in c.routed and c.address is not None:
                bindings = c.routed.pop(network)
                if self.iptables:
                    self.fw.del_ports(net.config, c.address, list(bindings))
            assert c.address is not None  # a running container on a network has its address there
            self._detach(c, net, c.address, c.veth)
            c.network, c.address, c.veth = None, None, None
            self._update_gateway(c)
            resolver.sandbox_ready(self, c)
            return
        raise DockerError(f"container {c.id} is not connected to network {network}")

    def stop(self, name: str) -> None:
        """``docker stop``: the sandbox, endpoint, rules and proxies the container added go."""
        self._stop_container(self._container(name))

    def _stop_container(self, c: Container) -> None:
        if not c.running:
            return
        c.running = False
        if c.shares_with is None and c.network_mode not in ("host", "none"):
            self._revoke(c)
            self._sync_routed(c, drop_all=True)
        for lst in c.listeners:
            lst.open = False
            ns = self.world.namespaces.get(c.netns)
            if ns is not None and lst in ns.sockets.listeners:
                ns.sockets.listeners.remove(lst)
        c.listeners.clear()
        for other in list(self.containers.values()):
            if other.shares_with == c.name and other.running:
                self._stop_container(other)
        if c.network_mode in ("host",) or c.shares_with is not None:
            c.shares_with = None if c.network_mode.startswith("container:") else c.shares_with
            return
        for netname, ep in list(c.extra.items()):
            self._detach(c, ep.network, ep.address, ep.veth)
        c.extra.clear()
        net, addr = c.network, c.address
        if net is not None and addr is not None:
            self._detach(c, net, addr, c.veth)
        c.network, c.address, c.veth, c.ports = None, None, None, ()
        resolver.sandbox_gone(self, c)
        if c.netns in self.world.namespaces:
            self.world.del_netns(c.netns)
            self._cmd(c.netns, f"ip netns del {c.netns}")

    def rm(self, name: str, *, force: bool = True) -> None:
        """``docker rm [-f]``."""
        c = self._container(name)
        if c.running and not force:
            raise DockerError(f"You cannot remove a running container {c.id}. Stop the container before "
                              "attempting removal or force remove")
        self._stop_container(c)
        del self.containers[c.name]

    # -- daemon restart ----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """The daemon stops (``systemctl stop docker``): without live-restore its containers stop too;
        networks, bridges and their rules stay."""
        for c in list(self.containers.values()):
            if c.running and self.live_restore and self.era is not Era.V1_9:
                c.restart_on_boot = False  # it keeps running
            elif c.running:
                self._stop_container(c)
                c.restart_on_boot = c.restart in ("always", "unless-stopped")
            else:
                c.restart_on_boot = False
        self.started = False

    def restart(self, **options: Any) -> None:
        """``systemctl restart docker`` (or ``dockerd`` again, maybe with new options or a new era).

        docker-rules.md §6.2: the era's init flushes (1.9: only nat DOCKER; 27: nat/filter DOCKER and the
        isolation chains; 28/29: every DOCKER-* chain but DOCKER-USER); FORWARD and DOCKER-USER are never
        flushed, so user rules stay where they are while Docker's ``-I`` rules go back on top; networks are
        restored from the store in network-ID order, and (from 1.10) the default ``bridge`` network is
        deleted and created anew; containers with ``--restart always|unless-stopped`` start again.
        """
        if self.started:
            self.shutdown()
        for key, value in options.items():
            if key == "bip":
                value = IPv4Interface(value) if value else None
            if key == "era" and value not in ERAS:
                raise DockerError(f"unknown era {value!r}: choose one of {', '.join(ERAS)}")
            if key == "era":
                value = Era(value)
            setattr(self, key, value)
        owned = self.fw.owned
        self.fw = self._firewaller()
        self.fw.owned = owned
        self.start()
        for c in sorted(self.containers.values(), key=lambda c: c.created):
            if c.running:
                self._restore(c)
        for c in sorted(self.containers.values(), key=lambda c: c.created):
            if c.restart_on_boot:
                self._start_container(c)

    def _restore(self, c: Container) -> None:
        """Live restore: a container that kept running gets its endpoints back on the re-created
        networks, with their rules, and its published ports (docker-proxy kept running)."""
        if c.network is not None and c.shares_with is None:
            c.network = self.networks[c.network.name]
        for ep in c.extra.values():
            ep.network = self.networks[ep.network.name]
        for net, addr, _ in self._endpoints(c):
            net.endpoints[c.name] = addr
            if self.iptables:
                self.fw.add_endpoint(net.config, addr)
        if c.gw_net is not None:
            net = self.networks[c.gw_net.name]
            addr = next(a for n, a, _ in self._endpoints(c) if n is net)
            c.gw_net = net
            routed = net.config.gateway_mode == "routed"
            for b in c.ports:
                if not routed:
                    self.allocator.request(b.host_ip, b.proto, b.host_port)
            if self.iptables and c.ports:
                self.fw.add_ports(net.config, addr, list(c.ports), nat=not routed)
