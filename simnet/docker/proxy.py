"""docker-proxy: the userland forwarder, one per published binding (docker-rules.md §9).

It listens in the host namespace on the host port.  Each connection (or UDP
datagram) it accepts makes it open a new one to the container, so the
container sees the host's address on the bridge (the gateway) as the source.

Built on the socket layer's listener: accepting a connection appends a
:class:`~simnet.socket.Seen` to the listener, and the proxy watches that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from simnet.addresses import IPProto
from simnet.packet import IPv4, Packet, Tcp, TcpFlags, Udp
from simnet.socket import ClientSocket, Listener, Seen, SockState, syn_options
from simnet.tcp_output import route_mss

if TYPE_CHECKING:
    from simnet.docker.firewall import PortBinding
    from simnet.netns import NetNamespace


class _Accepted(list["Seen"]):
    """The listener's ``seen`` list; each arrival triggers the forward connection.

    The proxy is not the application a probe is about: what it accepts goes to
    :attr:`DockerProxy.accepted`, not into this list, so a probe's ``received`` is
    what the container's application saw (the gateway address as source).
    """

    def __init__(self, proxy: "DockerProxy") -> None:
        super().__init__()
        self.proxy = proxy

    def append(self, seen: Seen) -> None:
        self.proxy.accepted.append(seen)
        self.proxy.ns.world.schedule(0.0, self.proxy.forward, seen)


@dataclass(slots=True, eq=False)
class DockerProxy:
    """``docker-proxy -proto P -host-ip IP -host-port HP -container-ip C -container-port CP``."""

    ns: "NetNamespace"
    binding: "PortBinding"
    container_ip: IPv4Address
    listener: Listener | None = None
    accepted: list[Seen] = field(default_factory=list)
    """Every connection (or datagram) the proxy took in."""

    @classmethod
    def start(cls, ns: "NetNamespace", binding: "PortBinding", container_ip: IPv4Address) -> "DockerProxy":
        proxy = cls(ns, binding, container_ip)
        lst = ns.sockets.listen(binding.proto, binding.host_port, binding.host_ip)
        lst.seen = _Accepted(proxy)
        proxy.listener = lst
        return proxy

    @property
    def argv(self) -> str:
        b = self.binding
        return (f"docker-proxy -proto {b.proto} -host-ip {b.host_ip or '0.0.0.0'} -host-port {b.host_port} "
                f"-container-ip {self.container_ip} -container-port {b.container_port}")

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.open = False
            if self.listener in self.ns.sockets.listeners:
                self.ns.sockets.listeners.remove(self.listener)
            self.listener = None

    def forward(self, seen: Seen) -> None:
        """Open the container-side connection (TCP handshake) or send the datagram on (UDP)."""
        from simnet.datapath import send_ip

        ns, dst, dport = self.ns, self.container_ip, self.binding.container_port
        route = ns.lookup(dst)
        src = ns.source_for(route, dst) if route is not None else None
        if src is None:
            return
        proto = self.binding.proto
        lport = ns.sockets.ephemeral_port(proto)
        world = ns.world
        if proto == "udp":
            pkt = Packet(ip=IPv4(src=src, dst=dst, proto=IPProto.UDP), l4=Udp(sport=lport, dport=dport),
                         payload=b"x\n")
        else:
            sock = ClientSocket(proto="tcp", laddr=src, lport=lport, raddr=dst, rport=dport, state=SockState.SYN_SENT,
                                isn=world.rng.getrandbits(32))
            ns.sockets.clients[("tcp", src, lport, dst, dport)] = sock
            pkt = Packet(ip=IPv4(src=src, dst=dst, proto=IPProto.TCP),
                         l4=Tcp(sport=lport, dport=dport, flags=TcpFlags.SYN, seq=sock.isn,
                                options=syn_options(ns, route_mss(ns, dst, src))))
        tid = world.tracer.new(pkt, ns.name)
        send_ip(ns, pkt, tid)
