"""Endpoint join and leave: the veth pair from a network's bridge into the container's sandbox.

libnetwork's bridge driver ``CreateEndpoint``/``Join`` (address, MAC, the veth and its bridge
port, the endpoint's rules) and ``DeleteEndpoint``, with osl's unsolicited ARP (28+).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING

from simnet.addresses import MacAddress
from simnet.docker.era import Era
from simnet.docker.model import Container, Endpoint, Network
from simnet.docker.state import DaemonState, DockerError, network_mtu

if TYPE_CHECKING:
    from simnet.netns import NetNamespace

__all__ = ["Endpoints"]


class Endpoints(DaemonState):
    """The daemon's endpoint join/leave (a base of :class:`~simnet.docker.daemon.DockerDaemon`)."""

    def _attach(self, c: Container, net: Network, ifname: str, ip: str | None, mac: str | None) -> Endpoint:
        """A veth pair from the network's bridge into the container: address, MAC, routes, rules."""
        cns = self.world.netns(c.netns)
        ns_name = c.netns
        try:
            addr = IPv4Address(ip) if ip else self._lowest_free(net)
        except ValueError:
            raise DockerError(f"invalid IPv4 address: {ip}") from None
        if addr in net.endpoints.values() or addr in net.aux_addresses.values():
            raise DockerError("Address already in use")
        if addr == net.gateway or addr not in net.subnet:
            raise DockerError(f"no available IPv4 addresses on this network's address pools: {net.name} "
                              f"({addr} is not usable in {net.subnet})")
        if mac:
            try:
                lladdr = MacAddress(mac) if not isinstance(mac, MacAddress) else mac
            except (ValueError, TypeError):
                raise DockerError(f"invalid MAC address: {mac}") from None
        elif self.era.before(Era.V28):
            lladdr = MacAddress(int.from_bytes(bytes([0x02, 0x42]) + addr.packed, "big"))
        else:
            lladdr = self.world.random_mac()
        veth = "veth" + self._hex(7)
        tmp = "veth" + self._hex(7)
        h = self.host.name
        self.host.link_add(veth, "veth", peer=tmp)
        self.host.set_address(tmp, lladdr)
        self.host.set_netns(tmp, cns)
        cns.set_name(tmp, ifname)
        self._cmd(h, f"ip link add {veth} type veth peer name {ifname} netns {ns_name}")
        self._cmd(ns_name, f"ip -n {ns_name} link set {ifname} address {lladdr}")
        if mtu := network_mtu(net.options):  # createEndpoint: both ends of the pair
            self.host.set_mtu(veth, mtu)
            cns.set_mtu(ifname, mtu)
            self._cmd(h, f"ip link set {veth} mtu {mtu}")
            self._cmd(ns_name, f"ip -n {ns_name} link set {ifname} mtu {mtu}")
        self.host.set_master(veth, net.bridge)
        self._cmd(h, f"ip link set {veth} master {net.bridge}")
        if not self.userland_proxy:
            self.host.dev(veth).hairpin = True
            self._cmd(h, f"ip link set {veth} type bridge_slave hairpin on")
        self.host.set_up(veth, True)
        self._cmd(h, f"ip link set {veth} up")
        iface = IPv4Interface(f"{addr}/{net.subnet.prefixlen}")
        cns.addr_add(ifname, iface)
        cns.set_up(ifname, True)
        self._cmd(ns_name, f"ip -n {ns_name} addr add {iface} dev {ifname}")
        self._cmd(ns_name, f"ip -n {ns_name} link set {ifname} up")
        net.endpoints[c.name] = addr
        if self.iptables:
            self.fw.add_endpoint(net.config, addr)
        self._announce(cns, ifname, addr, lladdr, net)
        return Endpoint(network=net, address=addr, mac=lladdr, veth=veth, ifname=ifname)

    def _announce(self, cns: "NetNamespace", ifname: str, addr: IPv4Address, mac: MacAddress, net: Network) -> None:
        """28+: unsolicited ARP for a new endpoint's address (libnetwork osl ``advertiseAddrs``): a
        broadcast request with sender = target = the address, target MAC zero, sent from the
        container's interface ``advertise_addr_nmsgs`` times (default 3), ``advertise_addr_ms`` apart
        (default 1000); the first at once.  Neighbours holding an entry for the address take the new
        MAC (see :func:`simnet.arp.arp_update`).  The kernel runner cannot send raw ARP: the export
        replays the first message's effect on each neighbour table as ``ip neigh replace``."""
        if not self.era.at_least(Era.V28):
            return
        from simnet.datapath import dev_xmit
        from simnet.packet import Arp, ArpOp, Ethernet, EtherType, Packet

        nmsgs = int(net.options.get("com.docker.network.advertise_addr_nmsgs", "3"))
        interval = int(net.options.get("com.docker.network.advertise_addr_ms", "1000")) / 1000
        frame = Packet(eth=Ethernet(src=mac, dst=MacAddress.BROADCAST, ethertype=EtherType.ARP),
                       arp=Arp(op=ArpOp.REQUEST, sha=mac, spa=addr, tha=MacAddress(0), tpa=addr))

        def send() -> None:
            dev = cns.devices.get(ifname)
            if dev is not None and dev.lladdr == mac and cns.name in self.world.namespaces:
                dev_xmit(cns, dev, frame, self.world.tracer.new(frame, cns.name))
        if nmsgs == 0:
            return
        before = {ns.name: {(e.address, e.dev): (e.lladdr, e.state) for e in ns.neigh.entries()}
                  for ns in self.world.namespaces.values()}
        send()
        self.world.run(until=self.world.now)
        for ns in self.world.namespaces.values():
            for e in ns.neigh.entries():
                if e.address == addr and before.get(ns.name, {}).get((e.address, e.dev)) != (e.lladdr, e.state) \
                        and e.lladdr is not None:
                    self._cmd(ns.name, f"ip -n {ns.name} neigh replace {addr} lladdr {e.lladdr} dev {e.dev} "
                                       f"nud {str(e.state).lower()}")
        for k in range(1, nmsgs):
            self.world.schedule(k * interval, send)

    def _detach(self, c: Container, net: Network, addr: IPv4Address, veth: str | None) -> None:
        if self.iptables:
            self.fw.del_endpoint(net.config, addr)
        net.endpoints.pop(c.name, None)
        if veth is not None and veth in self.host.devices:
            self.host.link_del(veth)
            self._cmd(self.host.name, f"ip link del {veth}")

    def _lowest_free(self, net: Network) -> IPv4Address:
        used = set(net.endpoints.values()) | {net.gateway} | set(net.aux_addresses.values())
        for a in net.ip_range or net.subnet:  # a range's own first and last addresses are usable
            if a == net.subnet.network_address or a == net.subnet.broadcast_address:
                continue
            if a not in used:
                return a
        raise DockerError(f"no available IPv4 addresses on this network's address pools: {net.name}")

