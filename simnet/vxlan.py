"""VXLAN devices: an Ethernet segment carried in UDP between tunnel endpoints (VTEPs).

Kernel: drivers/net/vxlan/vxlan_core.c, checked against Linux 6.18.

* ``vxlan_newlink``: a device with a VNI, a UDP destination port, optional
  ``local``/``remote`` addresses and lower ``dev``; two devices in a namespace
  may not share a VNI on the same port.  With ``remote`` the VXLAN FDB starts
  with the all-zeros default entry.
* The VXLAN FDB (``struct vxlan_fdb``): inner MAC -> list of remote VTEPs.
  ``bridge fdb add|append|replace|del`` edit it; ``vxlan_snoop`` learns the
  outer source address of every received frame's inner source MAC (unless
  ``nolearning``); a static entry never migrates (the frame is dropped instead).
* ``vxlan_open``/``vxlan_stop``: an up device owns (shares) a UDP socket bound
  to 0.0.0.0:dstport whose ``encap_rcv`` is :func:`vxlan_rcv`; without one the
  port answers like any closed UDP port (ICMP port unreachable).
* :func:`vxlan_xmit`: a frame sent on the device looks its destination MAC up
  in the FDB (else the all-zeros entry, else it is dropped) and leaves once per
  remote as a locally generated UDP datagram: routing, LOCAL_OUT, POST_ROUTING,
  conntrack and NAT like any other (``udp_tunnel_xmit_skb`` -> ``ip_local_out``).
* :func:`vxlan_rcv`: the datagram went through PRE_ROUTING and LOCAL_IN like any
  other; the device that owns its VNI receives the inner frame (and its bridge,
  if enslaved), with no conntrack reference (``skb_scrub_packet``).
"""

from __future__ import annotations

import errno
import zlib
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from simnet import datapath
from simnet.addresses import IPProto, MacAddress
from simnet.errors import KernelError
from simnet.link import Device, LinkKind
from simnet.packet import IPv4, Packet, Udp, Vxlan
from simnet.skb import Skb
from simnet.trace import Decapsulated, Disposition, Encapsulated, Note, RouteLookup

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.socket import Listener

IANA_PORT = 4789
LINUX_PORT = 8472
"""The kernel's default ``dstport`` (the pre-IANA port), used when none is given."""
HEADROOM = 50
"""Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14): a lower device's MTU minus this."""
VNI_MAX = (1 << 24) - 1
ZERO_MAC = MacAddress(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class VxlanConfig:
    """``struct vxlan_config``: what ``ip link add ... type vxlan`` sets."""

    vni: int
    remote: IPv4Address | None = None
    local: IPv4Address | None = None
    lower: int | None = None
    """The ifindex of ``dev`` (the kernel keeps the index: a rename does not matter)."""
    dstport: int = LINUX_PORT
    port_min: int = 0
    port_max: int = 0
    learning: bool = True
    ttl: int | None = 0
    """0: auto (the route's hop limit, net.ipv4.ip_default_ttl); None: inherit the inner TTL."""
    ageing: int = 300

    def details(self, ns: "NetNamespace") -> str:
        """The words ``ip -d link show`` prints for the device (vxlan_print_opt, iproute2 6.1)."""
        words = ["vxlan", "id", str(self.vni)]
        if self.remote is not None:
            words += ["remote", str(self.remote)]
        if self.local is not None:
            words += ["local", str(self.local)]
        lower = lower_dev(ns, self)
        if lower is not None:
            words += ["dev", lower.ifname]
        words += ["srcport", str(self.port_min), str(self.port_max), "dstport", str(self.dstport)]
        if not self.learning:
            words.append("nolearning")
        words += ["ttl", "inherit" if self.ttl is None else (str(self.ttl) if self.ttl else "auto")]
        words += ["ageing", str(self.ageing), "udpcsum", "noudp6zerocsumtx", "noudp6zerocsumrx"]
        return " ".join(words)


@dataclass(slots=True)
class VxlanFdbEntry:
    """One MAC's remotes (``struct vxlan_fdb`` with its ``vxlan_rdst`` list)."""

    mac: MacAddress
    remotes: list[IPv4Address]
    static: bool = True
    """NUD_PERMANENT (``bridge fdb add``, the default entry) or learned (NUD_REACHABLE, ages out)."""
    updated: float = 0.0


class VxlanFdb:
    """A VXLAN device's forwarding database (``bridge fdb show dev VXLAN``)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[MacAddress, VxlanFdbEntry] = {}

    def lookup(self, mac: MacAddress, now: float, ageing: float) -> VxlanFdbEntry | None:
        """vxlan_find_mac; a learned entry older than ``ageing`` is gone (vxlan_cleanup)."""
        entry = self._entries.get(mac)
        if entry is not None and not entry.static and now - entry.updated > ageing:
            del self._entries[mac]
            return None
        return entry

    def add(self, mac: MacAddress, dst: IPv4Address, *, how: str, now: float) -> None:
        """``bridge fdb add|append|replace`` (vxlan_fdb_update): raise KernelError as the kernel answers."""
        entry = self._entries.get(mac)
        group = mac.is_multicast or mac == ZERO_MAC
        if entry is None:
            self._entries[mac] = VxlanFdbEntry(mac, [dst], static=True, updated=now)
            return
        if how == "add":
            raise KernelError(errno.EEXIST, "RTNETLINK answers: File exists")
        entry.static = True
        entry.updated = now
        if how == "replace":
            if group:
                raise KernelError(errno.EOPNOTSUPP, "RTNETLINK answers: Operation not supported")
            entry.remotes[0] = dst
        elif how == "append" and group and dst not in entry.remotes:
            # vxlan_fdb_append: only the all-zeros and multicast entries hold several remotes
            entry.remotes.append(dst)

    def delete(self, mac: MacAddress, dst: IPv4Address | None) -> None:
        """``bridge fdb del MAC dev VXLAN [dst IP]``: one remote, or the entry with all of them."""
        entry = self._entries.get(mac)
        if entry is None:
            raise KernelError(errno.ENOENT, "RTNETLINK answers: No such file or directory")
        if dst is None:
            del self._entries[mac]
            return
        # __vxlan_fdb_delete: a remote the entry does not have is no error
        if dst in entry.remotes:
            entry.remotes.remove(dst)
            if not entry.remotes:
                del self._entries[mac]

    def snoop(self, mac: MacAddress, src: IPv4Address, now: float) -> str | None:
        """vxlan_snoop: learn (or move) ``mac`` behind ``src``; the reason when the frame must be dropped."""
        entry = self._entries.get(mac)
        if entry is None:
            if not mac.is_multicast:
                self._entries[mac] = VxlanFdbEntry(mac, [src], static=False, updated=now)
            return None
        entry.updated = now
        if entry.remotes and entry.remotes[0] == src:
            return None
        if entry.static:
            return f"{mac} is a static entry for {entry.remotes[0]}, not {src}: static entries never migrate"
        entry.remotes[0] = src
        return None

    def entries(self) -> list[VxlanFdbEntry]:
        """Newest first, as the kernel dumps them."""
        return list(reversed(self._entries.values()))


@dataclass(slots=True, eq=False)
class VxlanDev:
    """``struct vxlan_dev``: the configuration and the FDB of one device."""

    config: VxlanConfig
    fdb: VxlanFdb = field(default_factory=VxlanFdb)


def lower_dev(ns: "NetNamespace", config: VxlanConfig) -> Device | None:
    if config.lower is None:
        return None
    return next((d for d in ns.devices.values() if d.ifindex == config.lower), None)


def _vx(dev: Device) -> VxlanDev:
    """A VXLAN device's state (every device :func:`vxlan_devices` yields has it)."""
    assert dev.vxlan is not None
    return dev.vxlan


def vxlan_devices(ns: "NetNamespace") -> list[Device]:
    return [d for d in ns.devices.values() if d.kind is LinkKind.VXLAN and d.vxlan is not None]


# -- configuration ---------------------------------------------------------------------
def vxlan_newlink(ns: "NetNamespace", ifname: str, config: VxlanConfig, *, address: MacAddress | None = None,
                  mtu: int | None = None) -> Device:
    """``ip link add NAME type vxlan ...`` once iproute2 accepted the words (vxlan_dev_configure)."""
    ns.check_new_name(ifname)
    if config.port_max < config.port_min:
        raise KernelError(errno.EINVAL, "Error: Invalid source port range.")
    for other in vxlan_devices(ns):
        cfg = _vx(other).config
        if cfg.vni == config.vni and cfg.dstport == config.dstport:
            raise KernelError(errno.EEXIST, "Error: A VXLAN device with the specified VNI already exists.")
    lower = lower_dev(ns, config)
    max_mtu = max(68, lower.mtu - HEADROOM) if lower is not None else 65535
    if mtu is not None and not 68 <= mtu <= 65535:
        raise KernelError(errno.EINVAL, "Error: mtu less than device minimum." if mtu < 68
                          else "Error: mtu greater than device maximum.")
    # vxlan_config_apply: the lower device's MTU less 50, and a larger "mtu N" is cut down to it
    # silently (mtu 9000 over a 2000-byte lower device made a 1950-byte device on 6.18)
    dev = ns.link_add(ifname, LinkKind.VXLAN, address=address,
                      mtu=min(mtu, max_mtu) if mtu is not None else (max_mtu if lower is not None else 1500))
    dev.vxlan = VxlanDev(config)
    if config.remote is not None and int(config.remote) != 0:
        dev.vxlan.fdb.add(ZERO_MAC, config.remote, how="add", now=ns.world.now)
    return dev


def vxlan_open(ns: "NetNamespace", dev: Device) -> None:
    """The device goes up: it joins the namespace's socket on its port, or binds a new one."""
    port = _vx(dev).config.dstport
    if _socket(ns, port) is not None:
        return
    try:
        sock = ns.sockets.listen("udp", port)
    except KernelError:
        raise KernelError(errno.EADDRINUSE, "RTNETLINK answers: Address already in use") from None
    sock.encap_rcv = lambda skb, tid: vxlan_rcv(ns, port, skb, tid)


def vxlan_stop(ns: "NetNamespace", dev: Device) -> None:
    """The device goes down (or away): the last one on its port releases the socket."""
    port = _vx(dev).config.dstport
    if any(d is not dev and d.admin_up and _vx(d).config.dstport == port
           for d in vxlan_devices(ns)):
        return
    sock = _socket(ns, port)
    if sock is not None:
        sock.open = False
        ns.sockets.listeners.remove(sock)


def _socket(ns: "NetNamespace", port: int) -> "Listener | None":
    return next((s for s in ns.sockets.listeners if s.encap_rcv is not None and s.port == port and s.open), None)


def on_lower_gone(ns: "NetNamespace", lower: Device) -> list[str]:
    """vxlan_handle_lowerdev_unregister: the VXLAN devices over a deleted device are deleted too."""
    return [d.ifname for d in vxlan_devices(ns) if _vx(d).config.lower == lower.ifindex]


# -- transmit ---------------------------------------------------------------------------
def vxlan_xmit(ns: "NetNamespace", ifname: str, frame: Packet, tid: int) -> None:
    """ndo_start_xmit of a VXLAN device: one encapsulated copy per remote of the frame's FDB entry."""
    dev = ns.devices.get(ifname)
    if dev is None or dev.vxlan is None:
        ns.world.tracer.drop(tid, ns.name, f"device {ifname} vanished", Disposition.LINK_DOWN)
        return
    vx = dev.vxlan
    eth = frame.eth
    assert eth is not None
    entry = vx.fdb.lookup(eth.dst, ns.world.now, vx.config.ageing)
    why = f"fdb {eth.dst}"
    if entry is None:
        entry = vx.fdb.lookup(ZERO_MAC, ns.world.now, vx.config.ageing)
        why = f"default entry {ZERO_MAC}"
    if entry is None or not entry.remotes:
        ns.world.tracer.drop(tid, ns.name, f"{ifname}: no VXLAN FDB entry for {eth.dst} and no default entry "
                       f"(00:00:00:00:00:00): nowhere to send it", Disposition.NO_ROUTE)
        return
    for remote in list(entry.remotes):
        vxlan_xmit_one(ns, dev, frame, remote, why, tid)


def vxlan_xmit_one(ns: "NetNamespace", dev: Device, frame: Packet, remote: IPv4Address, why: str,
                   tid: int) -> None:
    """Encapsulate for one remote VTEP and send it as the namespace's own UDP datagram."""
    cfg = _vx(dev).config
    tracer = ns.world.tracer
    if int(remote) == 0:
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: the FDB entry's remote is 0.0.0.0", Disposition.DROPPED)
        return
    lower = lower_dev(ns, cfg)
    try:
        route = datapath.route_output(ns, remote, src=cfg.local, oif=lower.ifname if lower else None)
    except datapath.SendError as err:
        tracer.step(tid, RouteLookup(netns=ns.name, dst=str(remote), route=None, result=str(err)))
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: no route to remote VTEP {remote}: {err}", Disposition.NO_ROUTE)
        return
    tracer.step(tid, RouteLookup(netns=ns.name, dst=str(remote), route=str(route), result="output"))
    if route.dev == dev.ifname:
        # udp_tunnel_dst_lookup: -ELOOP
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: circular route to {remote} (through the VXLAN device itself)")
        return
    if ns.is_local(remote):
        _encap_bypass(ns, dev, frame, tid)
        return
    saddr = cfg.local or ns.source_for(route, remote)
    if saddr is None:
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: no source address towards {remote}", Disposition.NO_ROUTE)
        return
    inner_ttl = frame.ip.ttl if frame.ip is not None else 64
    ttl = cfg.ttl if cfg.ttl else (inner_ttl if cfg.ttl is None else ns.sysctls.get_int("net.ipv4.ip_default_ttl"))
    outer = Packet(ip=IPv4(src=saddr, dst=remote, proto=IPProto.UDP, ttl=ttl),
                   l4=Udp(sport=src_port(ns, cfg, frame), dport=cfg.dstport), vxlan=Vxlan(vni=cfg.vni, frame=frame))
    tracer.step(tid, Encapsulated(netns=ns.name, dev=dev.ifname, packet=outer, why=why))
    # udp_tunnel_xmit_skb -> iptunnel_xmit: skb_scrub_packet (no conntrack reference), ip_local_out
    datapath.ip_local_out(ns, Skb(packet=outer), route, tid)


def src_port(ns: "NetNamespace", cfg: VxlanConfig, frame: Packet) -> int:
    """udp_flow_src_port: a hash of the inner flow scaled into [port_min, port_max).

    ``srcport A A`` (or none) means net.ipv4.ip_local_port_range.  The kernel's hash has a
    per-boot seed: only a range of one port (``srcport A A+1``) gives the same port on both sides.
    """
    low, high = cfg.port_min, cfg.port_max
    if low >= high:
        low, high = (int(p) for p in ns.sysctls.get("net.ipv4.ip_local_port_range").split())
    flow: tuple[object, ...]
    if frame.ip is not None:
        flow = (frame.ip.src, frame.ip.dst, frame.ip.proto, frame.sport, frame.dport)
    else:
        flow = (frame.eth.src if frame.eth else None, frame.eth.dst if frame.eth else None)
    digest = zlib.crc32(repr((ns.world.seed, flow)).encode())
    digest ^= (digest << 16) & 0xFFFFFFFF
    return ((digest * (high - low)) >> 32) + low


def _encap_bypass(ns: "NetNamespace", dev: Device, frame: Packet, tid: int) -> None:
    """encap_bypass_if_local: the remote is this namespace; the frame goes straight to the
    device with the same VNI and port (learned behind 127.0.0.1), no UDP at all."""
    cfg = _vx(dev).config
    peer = next((d for d in vxlan_devices(ns) if _vx(d).config.vni == cfg.vni
                 and _vx(d).config.dstport == cfg.dstport), None)
    if peer is None:
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: the remote is local and no device here has VNI {cfg.vni}")
        return
    ns.world.tracer.step(tid, Note(netns=ns.name, message=f"{dev.ifname}: the remote is local: "
                                                          f"straight to {peer.ifname} (encap bypass)"))
    if _vx(peer).config.learning and frame.eth is not None:
        _vx(peer).fdb.snoop(frame.eth.src, IPv4Address("127.0.0.1"), ns.world.now)
    ns.world.schedule(0.0, datapath.netif_receive, ns, peer.ifname, frame, tid)


# -- receive ----------------------------------------------------------------------------
def vxlan_rcv(ns: "NetNamespace", port: int, skb: Skb, tid: int) -> None:
    """encap_rcv of the socket on ``port``: after LOCAL_IN, hand the inner frame to its device."""
    outer = skb.packet
    tracer = ns.world.tracer
    if outer.vxlan is None:
        ns.world.tracer.drop(tid, ns.name, f"UDP port {port} belongs to VXLAN and this is no VXLAN datagram")
        return
    assert outer.ip is not None
    vni, frame = outer.vxlan.vni, outer.vxlan.frame
    dev = next((d for d in vxlan_devices(ns) if d.admin_up and _vx(d).config.vni == vni
                and _vx(d).config.dstport == port), None)
    if dev is None or dev.vxlan is None:
        ns.world.tracer.drop(tid, ns.name, f"no VXLAN device with VNI {vni} on port {port}")
        return
    eth = frame.eth
    assert eth is not None
    if eth.src == dev.lladdr:
        # vxlan_set_mac: our own frame came back (a loop, or multicast echo)
        ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: inner source {eth.src} is the device's own address")
        return
    learned = None
    if dev.vxlan.config.learning:
        before = dev.vxlan.fdb.lookup(eth.src, ns.world.now, dev.vxlan.config.ageing)
        old = before.remotes[0] if before is not None and before.remotes else None
        refused = dev.vxlan.fdb.snoop(eth.src, outer.ip.src, ns.world.now)
        if refused is not None:
            ns.world.tracer.drop(tid, ns.name, f"{dev.ifname}: {refused}")
            return
        if old != outer.ip.src and not eth.src.is_multicast:
            learned = f"{eth.src} -> {outer.ip.src}"
    tracer.step(tid, Decapsulated(netns=ns.name, dev=dev.ifname, packet=frame, learned=learned))
    # __iptunnel_pull_header -> skb_scrub_packet: the inner frame carries no conntrack entry
    ns.world.schedule(0.0, datapath.netif_receive, ns, dev.ifname, frame, tid)
