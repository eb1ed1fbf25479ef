"""External connectivity: the sandbox's gateway endpoint and its published ports.

libnetwork's ``selectGatewayEndpoint``/``updateGateway`` and the bridge driver's
``ProgramExternalConnectivity``/``RevokeExternalConnectivity``: host ports from the port
allocator (bound, or refused, as each era does), the era's NAT/filter rules, docker-proxy, and
the conntrack entries cleared afterwards; 29's routed-mode bindings on every endpoint.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from simnet.docker.era import Era
from simnet.docker.firewall import PortBinding
from simnet.docker.model import Container, Network
from simnet.docker.portalloc import AllocationError
from simnet.docker.proxy import DockerProxy
from simnet.docker.state import BRIDGE_OPT, DaemonState, DockerError
from simnet.errors import SimnetError
from simnet.routing import Route

__all__ = ["ExternalConnectivity"]


class ExternalConnectivity(DaemonState):
    """The daemon's gateway endpoint and port bindings (a base of
    :class:`~simnet.docker.daemon.DockerDaemon`)."""

    def _gateway_endpoint(self, c: Container) -> tuple[Network, IPv4Address, str] | None:
        """libnetwork's ``selectGatewayEndpoint`` over the sandbox's endpoints in ``Endpoint.Less`` order:
        non-internal networks first, then by network name; the first that has a gateway."""
        eps = sorted(self._endpoints(c), key=lambda e: (e[0].internal, e[0].name))
        for net, addr, ifname in eps:
            if not net.internal and net.gateway is not None:
                return net, addr, ifname
        return None

    def _update_gateway(self, c: Container) -> None:
        """Move the default route and the NAT port bindings to the gateway endpoint (sandbox
        ``updateGateway`` + ``programExternalConnectivity``), if it changed."""
        gw = self._gateway_endpoint(c)
        if (gw[0] if gw else None) is c.gw_net:
            self._sync_routed(c)
            return
        self._revoke(c)
        cns = self.world.netns(c.netns)
        default = [r for r in cns.fib.routes(None) if r.dst.prefixlen == 0 and r.table == 254]
        target = (gw[0].gateway, gw[2]) if gw else None
        if default and (target is None or (default[0].via, default[0].dev) != target):
            cns.route_del(IPv4Network("0.0.0.0/0"))
            self._cmd(c.netns, f"ip -n {c.netns} route del default")
            default = []
        if target is not None and not default:
            cns.route_add(Route(dst=IPv4Network("0.0.0.0/0"), via=target[0], dev=target[1]))
            self._cmd(c.netns, f"ip -n {c.netns} route add default via {target[0]} dev {target[1]}")
        if gw is not None:
            self._program(c, gw[0], gw[1])
        self._sync_routed(c)

    def _sync_routed(self, c: Container, *, drop_all: bool = False) -> None:
        """29 programs every endpoint, not only the gateway (``portBindingMode{routed: true}``): the
        routed-mode bindings of a routed network's endpoint exist whether or not it is the gateway."""
        if self.era is not Era.V29 and not c.routed:
            return
        want = {} if drop_all or self.era is not Era.V29 else {
            net.name: (net, addr) for net, addr, _ in self._endpoints(c)
            if net.config.gateway_mode == "routed" and net is not c.gw_net and not net.internal}
        for name in [n for n in c.routed if n not in want]:
            bindings = c.routed.pop(name)
            net = self.networks.get(name)
            addr = next((a for n, a, _ in self._endpoints(c) if n is net), None)
            if net is not None and addr is not None and self.iptables:
                self.fw.del_ports(net.config, addr, list(bindings))
        for name, (net, addr) in want.items():
            if name in c.routed:
                continue
            bindings = tuple(PortBinding(proto=r.proto, host_ip=None, host_port=r.container_port,
                                         container_port=r.container_port) for r in self._requested(c))
            c.routed[name] = bindings
            if self.iptables and bindings:
                self.fw.add_ports(net.config, addr, list(bindings), nat=False)

    def _host_ip(self, net: Network, b: PortBinding) -> IPv4Address | None:
        """The binding's host address: the one given, else the network's ``host_binding_ipv4``; None
        for all addresses (0.0.0.0 given or defaulted means every address, as no address does)."""
        ip = b.host_ip
        if ip is None:
            default = net.options.get(BRIDGE_OPT + "host_binding_ipv4")
            ip = IPv4Address(default) if default else None
        return None if ip is None or ip.is_unspecified else ip

    def _bind_error(self, b: PortBinding, addr: IPv4Address) -> str | None:
        """What binding the host port says if a host socket holds it (None: free).  28+: the daemon
        binds it itself; earlier, docker-proxy does (so only with the proxy on)."""
        if not self.era.at_least(Era.V28) and not self.userland_proxy:
            return None
        try:
            probe = self.host.sockets.listen(b.proto, b.host_port, b.host_ip)
        except SimnetError:
            hip = b.host_ip or "0.0.0.0"
            if self.era.at_least(Era.V28):
                return (f"failed to bind host port for {hip}:{b.host_port}:{addr}:{b.container_port}/{b.proto}: "
                        "address already in use")
            fam = "4" if self.era is Era.V27 else ""
            return f"Error starting userland proxy: listen {b.proto}{fam} {hip}:{b.host_port}: bind: address already in use"
        self.host.sockets.listeners.remove(probe)
        return None

    def _allocate(self, net: Network, addr: IPv4Address, req: PortBinding) -> PortBinding:
        """One binding's host port: the allocator, then the bind (retried for a picked port, as
        ``bindHostPorts`` does up to 10 times)."""
        hip = self._host_ip(net, req)
        err = ""
        for _ in range(10):
            try:
                port = self.allocator.request(hip, req.proto, req.host_port, req.host_port_end)
            except AllocationError as e:
                raise DockerError(str(e)) from None
            b = PortBinding(proto=req.proto, host_ip=hip, host_port=port, container_port=req.container_port)
            bind_err = self._bind_error(b, addr)
            if bind_err is None:
                return b
            self.allocator.release(hip, req.proto, port)
            err = bind_err
            if req.host_port and not req.host_port_end:
                break
        raise DockerError(err)

    def _external_error(self, c: Container, net: Network, msg: str) -> str:
        """A port-binding failure in the era's words (endpoint.go's programExternalConnectivity)."""
        if self.era is Era.V1_9:
            return f"failed to create endpoint {c.name} on network {net.name}: {msg}"
        return (f"driver failed programming external connectivity on endpoint {c.name} "
                f"({self._endpoint_id(c, net)}): {msg}")

    def _program(self, c: Container, net: Network, addr: IPv4Address) -> None:
        """ProgramExternalConnectivity on the gateway endpoint: host ports, rules, proxies."""
        routed = net.config.gateway_mode == "routed"
        bindings: list[PortBinding] = []
        try:
            for req in self._requested(c):
                if routed:  # no NAT: the host port is ignored, the container port opened
                    bindings.append(PortBinding(proto=req.proto, host_ip=None, host_port=req.container_port,
                                                container_port=req.container_port))
                else:
                    bindings.append(self._allocate(net, addr, req))
        except DockerError as e:
            for b in bindings:
                if not routed:
                    self.allocator.release(b.host_ip, b.proto, b.host_port)
            raise DockerError(self._external_error(c, net, str(e))) from None
        c.ports, c.gw_net = tuple(bindings), net
        if self.iptables and bindings:
            self.fw.add_ports(net.config, addr, bindings, nat=not routed)
        if self.userland_proxy and not routed:
            for b in bindings:
                c.proxies.append(DockerProxy.start(self.host, b, addr))
                self._cmd(self.host.name, "# " + c.proxies[-1].argv)
        self._clear_conntrack(addr, [b.host_port for b in bindings if b.proto == "udp" and not routed])

    def _revoke(self, c: Container) -> None:
        """RevokeExternalConnectivity on the gateway endpoint."""
        net = c.gw_net
        for p in c.proxies:
            p.stop()
        c.proxies.clear()
        if net is None:
            c.ports = ()
            return
        addr = next((a for n, a, _ in self._endpoints(c) if n is net), None)
        if addr is not None and self.iptables and c.ports:
            self.fw.del_ports(net.config, addr, list(c.ports))
        if net.config.gateway_mode != "routed":
            for b in c.ports:
                self.allocator.release(b.host_ip, b.proto, b.host_port)
        c.ports, c.gw_net = (), None
        if addr is not None:
            self._clear_conntrack(addr, [])

    def _clear_conntrack(self, addr: IPv4Address, udp_ports: list[int]) -> None:
        """clearConntrackEntries (20.10+): the host's flows whose reply tuple has the endpoint's address
        as source or destination (netlink's ConntrackNatAnyIP), and UDP flows to its host ports."""
        if self.era is Era.V1_9:
            return
        table = self.host.conntrack
        for key, side in (("-r", "src"), ("-q", "dst")):
            doomed = [conn for conn in table if getattr(conn.reply, side) == addr]
            for conn in doomed:
                table.remove(conn)
            if doomed:
                self._cmd(self.host.name, f"conntrack -D {key} {addr}")
        for port in udp_ports:
            doomed = [conn for conn in table if conn.orig.proto == 17 and conn.orig.dport == port]
            for conn in doomed:
                table.remove(conn)
            if doomed:
                self._cmd(self.host.name, f"conntrack -D -p udp --dport {port}")

