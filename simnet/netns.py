"""A network namespace: its devices, addresses, routes, neighbours, sysctls and tables.

Everything here mirrors an ``ip`` operation and fails the way iproute2
reports it; a failed operation changes nothing.  The packet walk itself is in
:mod:`simnet.datapath`.
"""

from __future__ import annotations

import errno
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING, Iterator, TypeVar

from simnet.addresses import MacAddress, ip_int
from simnet.arp import NeighbourTable
from simnet.bridge import Fdb
from simnet.drivers import LINK_OPS
from simnet.errors import ConfigError, DeviceExists, KernelError, NoSuchDevice
from simnet.link import Device, IfAddr, LinkKind, Scope
from simnet.netfilter.context import AddrType
from simnet.routing import Fib, Route, RouteProto, RouteTable, RouteType, select_source
from simnet.sysctl import Sysctls

if TYPE_CHECKING:
    from simnet.netfilter.conntrack_table import ConntrackTable
    from simnet.netfilter.ipset import IpSet
    from simnet.netfilter.rule import Rule
    from simnet.netfilter.ruleset import Ruleset
    from simnet.socket import SocketTable
    from simnet.world import World

LOOPBACK_NET = IPv4Interface("127.0.0.1/8")
_V = TypeVar("_V", IPv4Address, IPv4Interface, IPv4Network)


def _typed(value: object, kind: type[_V], what: str, example: str, method: str) -> _V:
    """``value`` as ``kind``: converted from a str as ``ipaddress`` users expect, else a TypeError at once."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError as e:
            raise ConfigError(f"{method}: {value!r} is not {what} ({e})") from None
    raise TypeError(f"{method}: expected {what} ({kind.__name__} or a str like {example!r}), "
                    f"got {type(value).__name__} {value!r}")


def _iface(value: object, method: str) -> IPv4Interface:
    return _typed(value, IPv4Interface, "an IPv4 address with its prefix", "10.0.0.1/24", method)


def _addr(value: object, method: str) -> IPv4Address:
    return _typed(value, IPv4Address, "an IPv4 address", "10.0.0.1", method)


def _opt_addr(value: object, method: str) -> IPv4Address | None:
    return None if value is None else _addr(value, method)


def _net(value: object, method: str) -> IPv4Network:
    if value == "default":
        return IPv4Network("0.0.0.0/0")
    return _typed(value, IPv4Network, "an IPv4 network", "10.0.1.0/24", method)


def _mac(value: object, method: str) -> MacAddress:
    if isinstance(value, MacAddress):
        return value
    if isinstance(value, str):
        try:
            return MacAddress(value)
        except ValueError as e:
            raise ConfigError(f"{method}: {value!r} is not a MAC address ({e})") from None
    raise TypeError(f"{method}: expected a MAC address (MacAddress or a str like '02:42:ac:11:00:02'), "
                    f"got {type(value).__name__} {value!r}")


def _ifname(value: object, method: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{method}: expected an interface name (a str like 'eth0'), got {type(value).__name__} "
                        f"{value!r}")
    return value


class NetNamespace:
    """One network namespace (``struct net``).  A host is just a namespace."""

    def __init__(self, world: "World", name: str) -> None:
        from simnet.netfilter.conntrack_table import ConntrackTable
        from simnet.netfilter.ruleset import Ruleset
        from simnet.socket import SocketTable

        self.world = world
        self.name = name
        self.devices: dict[str, Device] = {}
        self.addrs: list[IfAddr] = []
        self.fib = Fib()
        self.neigh = NeighbourTable()
        self.fdbs: dict[str, Fdb] = {}
        self.sysctls = Sysctls(lambda: list(self.devices))
        self.ruleset: Ruleset = Ruleset()
        self.conntrack: ConntrackTable = ConntrackTable(self)
        self.sockets: SocketTable = SocketTable(self)
        self.ipsets: dict[str, IpSet] = {}
        self.ruleset.sets = self.ipsets
        self.match_state: dict[object, object] = {}
        from simnet.fragment import Reassembly

        self.frags = Reassembly()
        """IP reassembly queues (ip_defrag)."""
        self.ip_id = 0
        """The last IP id this namespace gave a datagram it fragmented (ip_select_ident)."""
        self._next_ifindex = 1
        self._ct_cache: tuple[object, bool] = ((), False)
        from simnet.netfilter.fastpath import fast_evaluate_chain

        self.evaluator = fast_evaluate_chain
        """The chain evaluator: the indexed fast path by default; ``evaluate_chain`` is the reference."""
        self._add_device("lo", LinkKind.LOOPBACK, MacAddress(0), mtu=65536)

    def __repr__(self) -> str:
        return f"NetNamespace({self.name!r})"

    # -- devices ---------------------------------------------------------------
    def dev(self, ifname: str) -> Device:
        try:
            return self.devices[ifname]
        except KeyError:
            raise NoSuchDevice(ifname) from None

    def _new_ifindex(self, wanted: int | None = None) -> int:
        if wanted is None:
            # every index in use is below _next_ifindex: it only moves past what it hands out or accepts
            index = self._next_ifindex
            self._next_ifindex += 1
            return index
        used = {d.ifindex for d in self.devices.values()}
        if wanted is not None and wanted not in used:
            self._next_ifindex = max(self._next_ifindex, wanted + 1)
            return wanted
        while self._next_ifindex in used:
            self._next_ifindex += 1
        index = self._next_ifindex
        self._next_ifindex += 1
        return index

    def _add_device(self, ifname: str, kind: LinkKind, lladdr: MacAddress, *, mtu: int = 1500,
                    ifindex: int | None = None) -> Device:
        dev = Device(ifindex=self._new_ifindex(ifindex), ifname=ifname, kind=kind,
                     lladdr=lladdr, netns=self, mtu=mtu)
        dev.ops = LINK_OPS[kind]
        self.devices[ifname] = dev
        self.fib.invalidate()
        self.sysctls.add_device(ifname)
        if kind is LinkKind.BRIDGE:
            self.fdbs[ifname] = Fdb()
        return dev

    def check_new_name(self, ifname: str) -> None:
        if not ifname or len(ifname) > 15 or "/" in ifname or ifname in (".", "..") or any(c.isspace() for c in ifname):
            raise ConfigError(f'Error: argument "{ifname}" is wrong: "name" not a valid ifname')
        if ifname in self.devices:
            raise DeviceExists()

    def link_add(self, ifname: str, kind: LinkKind | str, *, peer: str | None = None,
                 peer_netns: "NetNamespace | str | None" = None, address: MacAddress | str | None = None,
                 peer_address: MacAddress | str | None = None, mtu: int | None = None,
                 peer_mtu: int | None = None) -> Device:
        """``ip link add NAME [mtu N] type KIND [peer name PEER [netns NS] [mtu N]]``.

        ``kind`` is a :class:`LinkKind` or its name (``"veth"``, ``"bridge"``, ``"dummy"``...);
        ``peer_netns`` a namespace or its name; MAC addresses a :class:`MacAddress` or a str.
        """
        _ifname(ifname, "link_add")
        if isinstance(peer_netns, str):
            peer_netns = self.world.netns(peer_netns)
        address = None if address is None else _mac(address, "link_add")
        peer_address = None if peer_address is None else _mac(peer_address, "link_add")
        if isinstance(kind, str):
            try:
                kind = LinkKind(kind)
            except ValueError:
                raise ConfigError(f"link_add: unknown link kind {kind!r}; expected one of "
                                  + ", ".join(k.value for k in LinkKind if k is not LinkKind.LOOPBACK)) from None
        elif not isinstance(kind, LinkKind):
            raise TypeError(f"link_add: expected a link kind (LinkKind or a str like 'veth'), got "
                            f"{type(kind).__name__} {kind!r}")
        self.check_new_name(ifname)
        if kind is LinkKind.LOOPBACK:
            raise ConfigError("Error: Unknown device type.")
        if kind is LinkKind.VETH:
            peer_ns = peer_netns or self
            peer_name = peer or self._default_peer_name(peer_ns)
            peer_ns.check_new_name(peer_name)
            if peer_ns is self and peer_name == ifname:
                raise DeviceExists()
            # veth_newlink registers the peer first: it gets the lower ifindex; each end takes
            # only its own mtu (the peer's from its "peer ... mtu N" words)
            for m in (mtu, peer_mtu):
                if m is not None and not 68 <= m <= 65535:
                    raise KernelError(errno.EINVAL, "RTNETLINK answers: Invalid argument")
            mac = address or self.world.random_mac()
            other = peer_ns._add_device(peer_name, kind, peer_address or self.world.random_mac(),
                                        mtu=peer_mtu or 1500)
            dev = self._add_device(ifname, kind, mac, mtu=mtu or 1500)
            dev.peer, other.peer = other, dev
            return dev
        if mtu is not None and kind is LinkKind.BRIDGE and not 68 <= mtu <= 65535:
            raise KernelError(errno.EINVAL, "Error: mtu less than device minimum." if mtu < 68
                              else "Error: mtu greater than device maximum.")
        dev = self._add_device(ifname, kind, address or self.world.random_mac(), mtu=mtu or 1500)
        dev.mac_set = address is not None
        return dev

    def _default_peer_name(self, ns: "NetNamespace") -> str:
        i = 0
        while f"veth{i}" in ns.devices:
            i += 1
        return f"veth{i}"

    def link_del(self, ifname: str) -> None:
        """``ip link del``: a veth takes its peer with it; a bridge releases its ports."""
        dev = self.dev(ifname)
        if dev.kind is LinkKind.LOOPBACK:
            raise KernelError(errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")
        if dev.peer is not None:
            dev.peer.netns._remove_device(dev.peer)
        self._remove_device(dev)

    def _remove_device(self, dev: Device) -> None:
        from simnet.vxlan import on_lower_gone, vxlan_stop

        for over in on_lower_gone(self, dev):
            self._remove_device(self.devices[over])
        if dev.kind is LinkKind.VXLAN and dev.admin_up:
            vxlan_stop(self, dev)
        if dev.kind is LinkKind.BRIDGE:
            for port in list(dev.ports):
                self.set_master(port, None)
            del self.fdbs[dev.ifname]
        if dev.master is not None:
            self.set_master(dev.ifname, None)
        self._flush_dev_state(dev.ifname, keep_local=False)
        self.sysctls.del_device(dev.ifname)
        del self.devices[dev.ifname]
        self.fib.invalidate()

    def _flush_dev_state(self, ifname: str, *, keep_local: bool) -> None:
        if not keep_local:
            self.addrs = [a for a in self.addrs if a.dev != ifname]
            self.fib.remove_where(lambda r: r.dev == ifname)
        self.neigh.flush_dev(ifname)

    def set_up(self, ifname: str, up: bool = True) -> None:
        """``ip link set dev X up`` (``up=False``: ``down``): routes follow the kernel's NETDEV_UP/DOWN handling."""
        dev = self.dev(_ifname(ifname, "set_up"))
        if dev.admin_up == up:
            return
        if dev.kind is LinkKind.VXLAN and up:
            from simnet.vxlan import vxlan_open

            vxlan_open(self, dev)  # may fail (its UDP port taken): the device stays down
        dev.admin_up = up
        self.fib.invalidate()  # route_usable's answer changed
        dev.activated = dev.activated or up
        if dev.kind is LinkKind.VXLAN and not up:
            from simnet.vxlan import vxlan_stop

            vxlan_stop(self, dev)
        if dev.kind is LinkKind.LOOPBACK and up and not any(a.dev == "lo" for a in self.addrs):
            # inetdev_event(NETDEV_UP) gives lo 127.0.0.1/8
            self.addr_add("lo", LOOPBACK_NET, scope=Scope.HOST)
            return
        if up:
            for a in [a for a in self.addrs if a.dev == ifname]:
                self._add_prefix_routes(a)
        else:
            # fib_disable_ip: every route through the device goes, local routes stay
            self.fib.remove_where(lambda r: r.dev == ifname and r.table != RouteTable.LOCAL
                                  or (r.dev == ifname and r.type is RouteType.BROADCAST))
            self.neigh.flush_dev(ifname)

    def set_master(self, ifname: str, master: str | None) -> None:
        """``ip link set dev X master BR`` / ``nomaster``."""
        dev = self.dev(ifname)
        if master is not None:
            br = self.devices.get(master)
            if br is None:
                raise ConfigError(f'Error: argument "{master}" is wrong: Device does not exist')
            if br.kind is not LinkKind.BRIDGE or br is dev:
                raise KernelError(errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")
            if dev.kind is LinkKind.LOOPBACK:
                raise KernelError(errno.EINVAL, "Error: Can not enslave loopback device.")
        if dev.master is not None:
            old = self.devices[dev.master]
            old.ports.remove(ifname)
            self.fdbs[old.ifname].forget_port(ifname)
            dev.master = None
            dev.hairpin = False
            self._bridge_mac(old)
            self._bridge_mtu(old)
        if master is not None:
            br = self.devices[master]
            dev.master = master
            br.ports.append(ifname)
            self.fdbs[master].set_local(dev.lladdr, ifname)
            if len(br.ports) == 1:
                self._bridge_mac(br)
                self._bridge_mtu(br)
            else:
                # the bridge's address and MTU are already the least of its other ports' (every change
                # of a port's address, MTU or membership recomputes them): compare with the new port only
                if not br.mac_set and dev.lladdr < br.lladdr:
                    br.lladdr = dev.lladdr
                self.fdbs[master].set_local(br.lladdr, br.ifname)
                if not br.mtu_set and dev.mtu < br.mtu:
                    br.mtu = dev.mtu

    def _bridge_mac(self, br: Device) -> None:
        """br_stp_recalculate_bridge_id: a bridge without a set address takes its lowest port MAC."""
        fdb = self.fdbs[br.ifname]
        if not br.mac_set and br.ports:
            br.lladdr = min(self.devices[p].lladdr for p in br.ports)
        fdb.set_local(br.lladdr, br.ifname)

    def _bridge_mtu(self, br: Device) -> None:
        """br_mtu_auto_adjust: a bridge whose MTU nobody changed takes its smallest port's (1500
        without ports)."""
        if not br.mtu_set:
            br.mtu = min((self.devices[p].mtu for p in br.ports), default=1500)

    def set_name(self, ifname: str, new: str) -> None:
        dev = self.dev(ifname)
        if new == ifname:
            return
        self.check_new_name(new)
        del self.devices[ifname]
        dev.ifname = new
        self.devices[new] = dev
        self.sysctls.rename_device(ifname, new)
        self.addrs = [replace(a, dev=new) if a.dev == ifname else a for a in self.addrs]
        self.fib.rename_dev(ifname, new)
        self.neigh.rename_dev(ifname, new)
        if dev.kind is LinkKind.BRIDGE:
            self.fdbs[new] = self.fdbs.pop(ifname)
            self.fdbs[new].rename_port(ifname, new)
            for port in dev.ports:
                self.devices[port].master = new
        if dev.master is not None:
            br = self.devices[dev.master]
            br.ports[br.ports.index(ifname)] = new
            self.fdbs[br.ifname].rename_port(ifname, new)

    def set_address(self, ifname: str, mac: MacAddress | str) -> None:
        """``ip link set dev X address MAC``."""
        mac = _mac(mac, "set_address")
        dev = self.dev(ifname)
        if mac.is_multicast or int(mac) == 0:
            raise KernelError(errno.EADDRNOTAVAIL, "RTNETLINK answers: Cannot assign requested address")
        dev.lladdr = mac
        if dev.kind is LinkKind.BRIDGE:
            dev.mac_set = True
            self._bridge_mac(dev)
        elif dev.master is not None:
            self.fdbs[dev.master].set_local(mac, ifname)
            self._bridge_mac(self.devices[dev.master])

    def set_mtu(self, ifname: str, mtu: int) -> None:
        """``ip link set dev X mtu N``."""
        if not isinstance(mtu, int) or isinstance(mtu, bool):
            raise TypeError(f"set_mtu: expected an int MTU, got {type(mtu).__name__} {mtu!r}")
        dev = self.dev(ifname)
        low, high = self.mtu_bounds(dev)
        if not low <= mtu <= high:
            raise KernelError(errno.EINVAL, "Error: mtu less than device minimum." if mtu < low
                              else "Error: mtu greater than device maximum.")
        if mtu == dev.mtu:
            return  # dev_set_mtu stops here: setting a bridge's own MTU again does not pin it
        dev.mtu = mtu
        if dev.kind is LinkKind.BRIDGE:
            dev.mtu_set = True  # br_change_mtu: BROPT_MTU_SET_BY_USER
        elif dev.master is not None:
            self._bridge_mtu(self.devices[dev.master])

    def mtu_bounds(self, dev: Device) -> tuple[int, int]:
        """dev_validate_mtu's (min_mtu, max_mtu) per kind, as Linux 6.18 set them: loopback takes
        any non-negative int, veth and bridge 68..65535, a VXLAN device up to its lower
        device's MTU less 50 (65535 without one)."""
        if dev.kind is LinkKind.LOOPBACK:
            return 0, 2**31 - 1
        if dev.kind is LinkKind.VXLAN and dev.vxlan is not None:
            from simnet.vxlan import HEADROOM, lower_dev

            lower = lower_dev(self, dev.vxlan.config)
            return 68, max(68, lower.mtu - HEADROOM) if lower is not None else 65535
        return 68, 65535

    def set_netns(self, ifname: str, target: "NetNamespace | str") -> Device:
        """``ip link set dev X netns NS`` (a namespace or its name): the device arrives down, without addresses."""
        if isinstance(target, str):
            target = self.world.netns(target)
        elif not isinstance(target, NetNamespace):
            raise TypeError(f"set_netns: expected a NetNamespace or its name, got {type(target).__name__} {target!r}")
        dev = self.dev(ifname)
        if target is self:
            return dev
        if dev.kind is LinkKind.LOOPBACK:
            raise KernelError(errno.EINVAL, "RTNETLINK answers: Invalid argument")
        if ifname in target.devices:
            raise DeviceExists()
        self.set_up(ifname, False)
        if dev.master is not None:
            self.set_master(ifname, None)
        if dev.kind is LinkKind.BRIDGE:
            for port in list(dev.ports):
                self.set_master(port, None)
            del self.fdbs[ifname]
        self._flush_dev_state(ifname, keep_local=False)
        self.sysctls.del_device(ifname)
        del self.devices[ifname]
        dev.netns = target
        dev.ifindex = target._new_ifindex(dev.ifindex)
        target.devices[ifname] = dev
        target.fib.invalidate()
        self.fib.invalidate()
        target.sysctls.add_device(ifname)
        if dev.kind is LinkKind.BRIDGE:
            target.fdbs[ifname] = Fdb()
        return dev

    # -- addresses -------------------------------------------------------------
    def addr_add(self, ifname: str, iface: IPv4Interface | str, *, scope: Scope = Scope.GLOBAL,
                 broadcast: IPv4Address | str | None = None) -> IfAddr:
        """``ip addr add ADDR/LEN dev X`` (``iface`` an IPv4Interface or ``"10.0.0.1/24"``): installs the
        local route, and the prefix and broadcast routes once the device is up (fib_add_ifaddr)."""
        iface = _iface(iface, "addr_add")
        broadcast = _opt_addr(broadcast, "addr_add")
        self.dev(_ifname(ifname, "addr_add"))
        for a in self.addrs:
            if a.dev == ifname and a.address == iface.ip and a.interface.network.prefixlen == iface.network.prefixlen:
                raise KernelError(errno.EEXIST, "Error: ipv4: Address already assigned.")
        secondary = any(a.dev == ifname and not a.secondary and a.interface.network == iface.network
                        for a in self.addrs)
        addr = IfAddr(interface=iface, dev=ifname, scope=scope, secondary=secondary, broadcast=broadcast)
        self.addrs.append(addr)
        self._add_local_route(addr)
        if self.devices[ifname].admin_up:
            self._add_prefix_routes(addr)
        return addr

    def _primary_for(self, addr: IfAddr) -> IfAddr:
        if not addr.secondary:
            return addr
        for a in self.addrs:
            if a.dev == addr.dev and not a.secondary and a.interface.network == addr.interface.network:
                return a
        return addr

    def _add_local_route(self, addr: IfAddr) -> None:
        src = self._primary_for(addr).address
        self._ensure(Route(dst=IPv4Network((int(addr.address), 32)), type=RouteType.LOCAL, dev=addr.dev,
                           table=RouteTable.LOCAL, proto=RouteProto.KERNEL, scope=Scope.HOST, src=src))

    def _add_prefix_routes(self, addr: IfAddr) -> None:
        if addr.secondary:
            return
        net = addr.interface.network
        if self.devices[addr.dev].kind is LinkKind.LOOPBACK:
            self._ensure(Route(dst=net, type=RouteType.LOCAL, dev=addr.dev, table=RouteTable.LOCAL,
                               proto=RouteProto.KERNEL, scope=Scope.HOST, src=addr.address))
        elif net.prefixlen < 32:
            self._ensure(Route(dst=net, dev=addr.dev, proto=RouteProto.KERNEL, scope=Scope.LINK,
                               src=addr.address))
        if net.prefixlen < 31:
            self._ensure(Route(dst=IPv4Network((int(net.broadcast_address), 32)), type=RouteType.BROADCAST,
                               dev=addr.dev, table=RouteTable.LOCAL, proto=RouteProto.KERNEL,
                               scope=Scope.LINK, src=addr.address))

    def _ensure(self, route: Route) -> None:
        self.fib.invalidate()
        entries = self.fib.tables.setdefault(route.table, [])
        if not any(r.type is route.type and r.dev == route.dev and r.metric == route.metric and r.dst == route.dst
                   for r in entries):
            entries.append(route)

    def addr_del(self, ifname: str, iface: IPv4Interface | str) -> None:
        """``ip addr del``: removes its routes; deleting a primary also removes its secondaries
        (promote_secondaries is off by default)."""
        iface = _iface(iface, "addr_del")
        self.dev(_ifname(ifname, "addr_del"))
        target = next((a for a in self.addrs if a.dev == ifname and a.address == iface.ip
                       and (iface.network.prefixlen == 32 or a.interface.network.prefixlen == iface.network.prefixlen)),
                      None)
        if target is None:
            raise KernelError(errno.EADDRNOTAVAIL, "Error: ipv4: Address not found.")
        gone = [target]
        if not target.secondary:
            gone += [a for a in self.addrs if a.dev == ifname and a.secondary
                     and a.interface.network == target.interface.network]
        self.addrs = [a for a in self.addrs if a not in gone]
        for a in gone:
            def kernel_route(r: Route, a: IfAddr = a) -> bool:
                return r.proto is RouteProto.KERNEL and r.dev == ifname and self._route_of_addr(r, a)
            self.fib.remove_where(kernel_route)

    def _route_of_addr(self, r: Route, a: IfAddr) -> bool:
        """fib_del_ifaddr: the kernel routes that belonged to a deleted address and are not
        still provided by a remaining one."""
        net = a.interface.network
        if r.type is RouteType.LOCAL and r.dst.prefixlen == 32 and r.dst.network_address == a.address:
            # per device: the kernel drops d0's local route even while d1 still has the address
            return not any(b.address == a.address and b.dev == a.dev for b in self.addrs)
        if a.secondary:
            return False
        if r.dst == net and r.src == a.address:
            return not any(b.dev == a.dev and not b.secondary and b.interface.network == net for b in self.addrs)
        if r.type is RouteType.BROADCAST and r.dst.network_address == net.broadcast_address:
            return not any(b.dev == a.dev and not b.secondary and b.interface.network.broadcast_address
                           == net.broadcast_address and b.interface.network.prefixlen < 31 for b in self.addrs)
        return False

    def addr_flush(self, ifname: str) -> None:
        for a in [a for a in self.addrs if a.dev == ifname and not a.secondary]:
            self.addr_del(ifname, a.interface)

    def local_addresses(self) -> Iterator[IPv4Address]:
        for a in self.addrs:
            yield a.address

    # -- routes ----------------------------------------------------------------
    def route_add(self, route: Route | IPv4Network | str, *, via: IPv4Address | str | None = None,
                  dev: str | None = None, src: IPv4Address | str | None = None, metric: int = 0,
                  table: int = RouteTable.MAIN, replace: bool = False, how: str = "add") -> None:
        """``ip route add|replace|append|prepend|change`` (``how``; ``replace=True`` is
        ``how="replace"``): a gateway must be reachable on-link (fib_check_nh).

        ``route`` is a :class:`Route`, or the destination (``"default"``, ``"10.0.1.0/24"``, an
        IPv4Network) with ``via``, ``dev``, ``src``, ``metric`` and ``table`` as keywords, as
        ``ip route add DST [via GW] [dev DEV] ...`` takes them (scope link without a gateway).
        """
        if not isinstance(route, Route):
            dst = _net(route, "route_add")
            gw = _opt_addr(via, "route_add")
            route = Route(dst=dst, dev=None if dev is None else _ifname(dev, "route_add"), via=gw,
                          src=_opt_addr(src, "route_add"), metric=metric, table=table,
                          scope=Scope.GLOBAL if gw is not None else Scope.LINK)
        elif (via, dev, src, metric, table) != (None, None, None, 0, RouteTable.MAIN):
            raise TypeError("route_add: give via/dev/src/metric/table inside the Route, or a destination "
                            "with them as keywords")
        if route.dev is not None:
            self.dev(route.dev)
        if route.type is RouteType.UNICAST:
            if route.via is not None:
                route = self._resolve_gateway(route)
            elif route.dev is None:
                raise KernelError(errno.ENODEV, "RTNETLINK answers: No such device")
            elif not self.devices[route.dev].admin_up:
                raise KernelError(errno.ENETDOWN, "Error: Device for nexthop is not up.")
        self.fib.add(route, how="replace" if replace else how)
        if route.type is RouteType.LOCAL:
            self.fib.custom_local_routes = True

    def _resolve_gateway(self, route: Route) -> Route:
        assert route.via is not None
        if route.onlink:
            if route.dev is None:
                raise KernelError(errno.EINVAL, "Error: Nexthop device required for onlink.")
            if not self.devices[route.dev].admin_up:
                raise KernelError(errno.ENETDOWN, "Error: Nexthop device is not up.")
            return route
        gw = self.fib.lookup(route.via, oif=route.dev)
        if gw is None or gw.type not in (RouteType.UNICAST, RouteType.LOCAL) or gw.via is not None or (
            route.dev is not None and gw.dev != route.dev and gw.type is RouteType.UNICAST
        ):
            raise KernelError(errno.EINVAL, "Error: Nexthop has invalid gateway.")
        if gw.type is RouteType.LOCAL:
            # the kernel accepts one of its own addresses as a gateway (fib_check_nh_v4_gw)
            dev = route.dev or next((a.dev for a in self.addrs if a.address == route.via), gw.dev)
            return replace(route, dev=dev)
        if gw.dev is not None and not self.devices[gw.dev].admin_up:
            raise KernelError(errno.ENETDOWN, "Error: Nexthop device is not up.")
        return replace(route, dev=gw.dev)

    def route_del(self, dst: IPv4Network | str, *, table: int = RouteTable.MAIN, via: IPv4Address | str | None = None,
                  dev: str | None = None, metric: int | None = None, type: RouteType | None = None,
                  proto: RouteProto | None = None, src: IPv4Address | str | None = None,
                  scope: Scope | None = None) -> Route:
        """``ip route del DST [via GW] [dev DEV] ...``; ``dst`` may be ``"default"`` or ``"10.0.1.0/24"``.
        The first alias matching every attribute given is deleted (fib_table_delete)."""
        dst = _net(dst, "route_del")
        via = _opt_addr(via, "route_del")
        src = _opt_addr(src, "route_del")

        def matches(r: Route) -> bool:
            return (r.dst == dst and (via is None or r.via == via) and (dev is None or r.dev == dev)
                    and (metric is None or r.metric == metric) and (type is None or r.type is type)
                    and (proto is None or r.proto is proto) and (src is None or r.src == src)
                    and (scope is None or r.scope is scope))
        return self.fib.delete(matches, table=table)

    # -- netfilter ------------------------------------------------------------
    def ruleset_active(self) -> bool:
        """Any iptables table exists (nf_tables registers hooks per existing table)."""
        return bool(self.ruleset.tables)

    def conntrack_active(self) -> bool:
        """Conntrack runs once something needs it: a NAT rule or a stateful rule.

        Kernel: with nf_tables, nf_conntrack's hooks are registered on demand
        (nf_ct_netns_get) by the NAT targets and by the conntrack-using
        expressions; before that, packets carry no conntrack entry.  An empty
        nat table (e.g. after ``iptables -t nat -P OUTPUT ACCEPT``) does not
        switch it on (verified on 6.18: no entries after a ping).
        """
        key = tuple((t.name, t.generation) for t in self.ruleset.tables.values())
        if self._ct_cache[0] == key:
            return self._ct_cache[1]
        from simnet.netfilter.ruleset import iter_rules

        active = any(
            _needs_conntrack(rule) for table in self.ruleset.tables.values() for _, rule in iter_rules(table))
        self._ct_cache = (key, active)
        return active

    # -- the views the datapath and netfilter need ------------------------------
    def route_usable(self, route: Route) -> bool:
        if route.dev is None:
            return True
        dev = self.devices.get(route.dev)
        return dev is not None and dev.admin_up

    def lookup(self, dst: IPv4Address | str, *, src: IPv4Address | str | None = None, iif: str | None = None,
               oif: str | None = None, mark: int = 0) -> Route | None:
        """The route a packet to ``dst`` takes: the FIB's, with the gateway a redirect taught
        for ``dst`` in its place and the path MTU an ICMP 3/4 taught (rt_bind_exception)."""
        dst, src = _addr(dst, "lookup"), _opt_addr(src, "lookup")
        cache = self.fib.cache
        key = (ip_int(dst), ip_int(src) if src is not None else -1, iif, oif, mark)
        route: Route | None
        if key in cache:
            route = cache[key]
        else:
            route = cache[key] = self.fib.lookup(dst, src=src, iif=iif, oif=oif, mark=mark, usable=self.route_usable)
        if route is not None and route.type is RouteType.UNICAST and self.fib.exceptions:
            exc = self.fib.exception_for(route, dst, self.world.now)
            if exc is not None:
                route = replace(route, via=exc.gateway or route.via, pmtu=exc.pmtu, pmtu_locked=exc.mtu_locked)
        return route

    def addr_type(self, ip: IPv4Address, dev: str | None = None) -> AddrType:
        """``inet_addr_type`` / ``inet_dev_addr_type``: the local table decides."""
        raw = ip_int(ip)
        if raw >> 28 == 0xE:  # 224.0.0.0/4 (ip.is_multicast, without building a network)
            return AddrType.MULTICAST
        if raw == 0xFFFFFFFF:
            return AddrType.BROADCAST
        if raw == 0:
            return AddrType.BROADCAST  # 0.0.0.0: inet_addr_type says RTN_BROADCAST (ZERONET)
        key = ("addr_type", raw, dev)
        found = self.fib.cache.get(key)
        if found is None:
            route = self._local_table_match(ip, dev)
            found = self.fib.cache[key] = AddrType.UNICAST if route is None else _ADDR_TYPE.get(
                route.type, AddrType.UNICAST)
        return found

    def _local_table_match(self, ip: IPv4Address, dev: str | None) -> Route | None:
        best: Route | None = None
        for r in self.fib.tables.get(RouteTable.LOCAL, ()):
            if ip in r.dst and (dev is None or r.dev == dev or (r.dev == "lo" and dev is not None and False)):
                if best is None or r.dst.prefixlen > best.dst.prefixlen:
                    best = r
        return best

    def is_local(self, ip: IPv4Address | str) -> bool:
        """Whether ``ip`` is one of this namespace's local addresses (the local table says LOCAL)."""
        return self.addr_type(_addr(ip, "is_local")) is AddrType.LOCAL

    def source_for(self, route: Route, dst: IPv4Address) -> IPv4Address | None:
        """The source address for a route (its ``src``, else inet_select_addr on its device)."""
        if route.src is not None:
            return route.src
        if route.type is RouteType.LOCAL:
            return dst
        towards = route.via or dst
        return select_source(self.addrs, route.dev, towards,
                             Scope.GLOBAL if route.via is not None else Scope.LINK)

    def ports_of(self, bridge: str) -> list[Device]:
        return [self.devices[p] for p in self.dev(bridge).ports]


_ADDR_TYPE = {RouteType.LOCAL: AddrType.LOCAL, RouteType.BROADCAST: AddrType.BROADCAST}

_STATEFUL_MATCHES = frozenset({"conntrack", "state", "connmark", "connlimit"})
_STATEFUL_TARGETS = frozenset({"CONNMARK", "CT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})


def _needs_conntrack(rule: "Rule") -> bool:
    """Whether the rule's checkentry takes nf_ct_netns_get: the stateful matches and targets,
    and every CT target but ``--notrack`` (xt_CT; NOTRACK takes none either, verified on 6.18)."""
    if any(m.module in _STATEFUL_MATCHES for m in rule.matches):
        return True
    target = rule.target
    return target is not None and target.name in _STATEFUL_TARGETS and not getattr(target, "notrack", False)
