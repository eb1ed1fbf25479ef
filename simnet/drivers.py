"""The drivers of simnet's link kinds: what each does with a frame sent on it.

Kernel: ``drivers/net/veth.c`` (``veth_xmit``: the peer receives it), ``drivers/net/loopback.c``
(``loopback_xmit``: received again on lo, keeping the skb's conntrack reference),
``drivers/net/dummy.c`` (``dummy_xmit`` frees it), ``net/bridge/br_device.c`` (``br_dev_xmit``)
and ``drivers/net/vxlan`` (``vxlan_xmit``).  A device gets its kind's :class:`~simnet.link.LinkOps`
when the namespace creates it; the datapath only calls ``dev.ops``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simnet import bridge, datapath
from simnet.link import Device, LinkKind, LinkOps
from simnet.trace import Disposition

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.netfilter.conntrack import CtRef
    from simnet.packet import Packet


VLAN_HLEN = 4
"""is_skb_forwardable's slack: a frame may exceed the receiver's MTU by a VLAN tag's 4 bytes."""


def veth_xmit(ns: "NetNamespace", dev: Device, packet: "Packet", tid: int, ct: "CtRef | None") -> None:
    """veth_xmit: the frame is received on the peer, in the peer's namespace, unless it is
    larger than the peer's MTU allows (is_skb_forwardable: counted as an RX drop on the peer;
    a 1404-byte datagram passes a 1400-MTU peer on 6.18, 1405 bytes do not)."""
    assert dev.peer is not None
    if packet.ip is not None and packet.length > dev.peer.mtu + VLAN_HLEN and not packet.gso:
        ns.world.tracer.drop(tid, ns.name, f"{packet.length} bytes are too long for {dev.peer.ifname}'s MTU "
                             f"{dev.peer.mtu} (veth peer drops it)", Disposition.DROPPED)
        ns.world.xmit_dropped = tid
        return
    ns.world.schedule(0.0, datapath.netif_receive, dev.peer.netns, dev.peer.ifname, packet, tid)


def loopback_xmit(ns: "NetNamespace", dev: Device, packet: "Packet", tid: int, ct: "CtRef | None") -> None:
    """loopback_xmit: received again on lo; it does not reset the skb's conntrack reference."""
    ns.world.schedule(0.0, datapath.netif_receive, ns, dev.ifname, packet, tid, ct)


def dummy_xmit(ns: "NetNamespace", dev: Device, packet: "Packet", tid: int, ct: "CtRef | None") -> None:
    """dummy_xmit: the frame is counted and freed."""
    ns.world.tracer.drop(tid, ns.name, f"{dev.ifname} is a dummy device: it discards what it sends",
                         Disposition.NOT_FOR_US)


def bridge_xmit(ns: "NetNamespace", dev: Device, packet: "Packet", tid: int, ct: "CtRef | None") -> None:
    """br_dev_xmit: the bridge's own stack sends into the bridge."""
    ns.world.schedule(0.0, bridge.br_dev_xmit, ns, dev.ifname, packet, tid)


def vxlan_xmit(ns: "NetNamespace", dev: Device, packet: "Packet", tid: int, ct: "CtRef | None") -> None:
    from simnet import vxlan  # loaded by then (ip link add ... type vxlan): not imported by worlds without one

    ns.world.schedule(0.0, vxlan.vxlan_xmit, ns, dev.ifname, packet, tid)


LINK_OPS: dict[LinkKind, LinkOps] = {
    LinkKind.VETH: LinkOps(veth_xmit),
    LinkKind.LOOPBACK: LinkOps(loopback_xmit),
    LinkKind.DUMMY: LinkOps(dummy_xmit),
    LinkKind.BRIDGE: LinkOps(bridge_xmit, port_rx=bridge.br_handle_frame),
    LinkKind.VXLAN: LinkOps(vxlan_xmit),
}
"""Every link kind's driver, by kind (``rtnl_link_ops`` are looked up by ``type KIND``)."""
