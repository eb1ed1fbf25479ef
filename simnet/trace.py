"""What happened to a packet, step by step: the product simnet sells.

A :class:`Trace` is plain data: an ordered tuple of typed, frozen steps and one
final :class:`Disposition`.  A drop is a disposition, never an exception.
Steps carry the namespace they happened in, so hops are derived by grouping.
Rendering lives in :mod:`simnet.render`; ``to_json`` gives machine output.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterator

from simnet.packet import Packet

if TYPE_CHECKING:
    from rich.console import RenderableType


class Disposition(Enum):
    """How a packet's journey ended."""

    DELIVERED = "delivered"          # a socket or the kernel's own ICMP/TCP code took it
    DROPPED = "dropped"              # a firewall verdict or a kernel check discarded it
    REJECTED = "rejected"            # a REJECT target answered it
    NO_ROUTE = "no-route"            # routing had nowhere to send it
    NEIGH_FAILED = "neigh-failed"    # ARP for the next hop went unanswered
    TTL_EXCEEDED = "ttl-exceeded"    # TTL reached zero on a router
    LINK_DOWN = "link-down"          # admin down or no carrier
    NOT_FOR_US = "not-for-us"        # L2 frame not addressed to this host, forwarding off...
    LOOP = "loop"                    # an L2 flood bound was reached
    IN_FLIGHT = "in-flight"          # still queued when the simulation stopped

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Base of every trace step: where it happened."""

    netns: str

    kind = "step"

    def text(self) -> str:
        return self.kind

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Received(Step):
    dev: str
    packet: Packet
    kind = "received"

    def text(self) -> str:
        return f"received on {self.dev}: {self.packet}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent(Step):
    """A locally generated packet leaves its socket (before LOCAL_OUT)."""

    packet: Packet
    by: str
    kind = "sent"

    def text(self) -> str:
        return f"sent by {self.by}: {self.packet}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transmitted(Step):
    dev: str
    packet: Packet
    kind = "transmitted"

    def text(self) -> str:
        return f"transmitted on {self.dev}: {self.packet}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteLookup(Step):
    dst: str
    route: str | None
    """The chosen route as ``ip route`` prints it; None when there is none."""
    result: str
    """'local', 'forward', 'output', or the failure: 'unreachable', 'prohibit', 'blackhole', 'no route'."""
    kind = "route"

    def text(self) -> str:
        return f"route {self.dst}: {self.route or 'no route'} ({self.result})"


@dataclass(frozen=True, slots=True, kw_only=True)
class NeighbourLookup(Step):
    dev: str
    address: str
    lladdr: str | None
    state: str
    kind = "neigh"

    def text(self) -> str:
        return f"neigh {self.address} dev {self.dev}: {self.lladdr or '-'} {self.state}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeDecision(Step):
    bridge: str
    in_port: str
    action: str
    """'forward' (FDB hit), 'flood', 'local' (to the bridge's own stack), 'drop'."""
    ports: tuple[str, ...] = ()
    reason: str = ""
    kind = "bridge"

    def text(self) -> str:
        out = f"bridge {self.bridge}: in {self.in_port}, {self.action}"
        if self.ports:
            out += " to " + ", ".join(self.ports)
        if self.reason:
            out += f" ({self.reason})"
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Encapsulated(Step):
    """vxlan_xmit: a frame sent on a VXLAN device leaves wrapped in UDP for one remote VTEP."""

    dev: str
    packet: Packet
    """The outer datagram (its ``vxlan`` holds the frame)."""
    why: str
    """The VXLAN FDB entry that chose the remote: 'fdb MAC' or 'default entry 00:00:00:00:00:00'."""
    kind = "encapsulated"

    def text(self) -> str:
        return f"{self.dev} encapsulates ({self.why}): {self.packet}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Decapsulated(Step):
    """vxlan_rcv: a VXLAN datagram's frame comes out of the device that owns its VNI."""

    dev: str
    packet: Packet
    """The inner frame."""
    learned: str | None = None
    """What the VXLAN FDB learned from it ('MAC -> VTEP'), if anything."""
    kind = "decapsulated"

    def text(self) -> str:
        learned = f", learns {self.learned}" if self.learned else ""
        return f"{self.dev} decapsulates{learned}: {self.packet}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HookEntered(Step):
    hook: str
    bridged: bool = False
    kind = "hook"

    def text(self) -> str:
        return f"{self.hook}" + (" (br_netfilter)" if self.bridged else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleHit(Step):
    table: str
    chain: str
    index: int
    """1-based position in the chain; 0 for the chain policy."""
    rule: str
    """The rule as ``iptables -S`` prints it (``-A CHAIN ...``), or ``-P CHAIN POLICY``."""
    verdict: str
    """What the hit did: ACCEPT, DROP, REJECT, RETURN, jump, goto, continue, or a NAT target."""
    kind = "rule"

    def text(self) -> str:
        where = f"{self.table}/{self.chain}" + (f"#{self.index}" if self.index else " policy")
        return f"{where}  {self.rule}  → {self.verdict}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDiff:
    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Translated(Step):
    """NAT rewrote the packet (first packet: by a rule; later ones: from conntrack)."""

    manip: str
    """'dnat' or 'snat'."""
    diffs: tuple[FieldDiff, ...]
    kind = "nat"

    def text(self) -> str:
        return f"{self.manip}: " + ", ".join(f"{d.field} {d.old} → {d.new}" for d in self.diffs)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "netns": self.netns, "manip": self.manip,
                "diffs": [{"field": d.field, "old": d.old, "new": d.new} for d in self.diffs]}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConntrackLookup(Step):
    state: str
    direction: str
    entry: str
    kind = "conntrack"

    def text(self) -> str:
        return f"conntrack {self.state} ({self.direction}) {self.entry}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Logged(Step):
    """A LOG/NFLOG/TRACE line, as the kernel would log it."""

    line: str
    kind = "log"

    def text(self) -> str:
        return f"log: {self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpSent(Step):
    type: int
    code: int
    to: str
    reason: str
    kind = "icmp"

    def text(self) -> str:
        return f"sends ICMP type {self.type} code {self.code} to {self.to} ({self.reason})"


@dataclass(frozen=True, slots=True, kw_only=True)
class RedirectDecision(Step):
    """ip_rt_send_redirect: a router forwards a packet back out of the device it came in on and
    tells the sender of the better next hop with an ICMP redirect, or its per-peer backoff
    (inet_peer: 20 ms doubled per redirect, at most 9) holds the redirect back."""

    to: str
    dst: str
    gateway: str
    sent: bool
    reason: str
    kind = "redirect"

    def text(self) -> str:
        verb = "sends" if self.sent else "does not send"
        return f"{verb} a redirect to {self.to}: {self.dst} via {self.gateway} ({self.reason})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionLearnt(Step):
    """__ip_do_redirect accepted a redirect: a next-hop exception now sends ``dst`` via ``gateway``."""

    dst: str
    gateway: str
    dev: str
    old_gateway: str
    expires: float
    """Simulated time at which the exception expires (ip_rt_gc_timeout after it was learnt)."""
    kind = "redirect learnt"

    def text(self) -> str:
        return (f"learns from a redirect: {self.dst} via {self.gateway} dev {self.dev} "
                f"(was via {self.old_gateway}; cache <redirected>)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered(Step):
    to: str
    """Who took it: a socket ('tcp 0.0.0.0:80 listen'), or the kernel ('icmp echo')."""
    kind = "delivered"

    def text(self) -> str:
        return f"delivered to {self.to}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropped(Step):
    reason: str
    disposition: Disposition = Disposition.DROPPED
    kind = "dropped"

    def text(self) -> str:
        return f"{self.disposition}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Step):
    message: str
    kind = "note"

    def text(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """One packet's journey; ``steps`` include every flooded copy's branch."""

    id: int
    packet: Packet
    origin: str
    """Namespace that sent it."""
    steps: tuple[Step, ...]
    disposition: Disposition
    caused_by: int | None = None
    """The trace id of the packet this one answers (a reply, an ICMP error, ARP)."""
    time: float = 0.0
    """When it was sent, on the world's clock (seconds)."""

    @property
    def hops(self) -> Iterator[tuple[str, tuple[Step, ...]]]:
        """Consecutive steps grouped by namespace: (netns, steps)."""
        group: list[Step] = []
        for step in self.steps:
            if group and group[-1].netns != step.netns:
                yield group[0].netns, tuple(group)
                group = []
            group.append(step)
        if group:
            yield group[0].netns, tuple(group)

    def rule_hits(self) -> tuple[RuleHit, ...]:
        return tuple(s for s in self.steps if isinstance(s, RuleHit))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "packet": str(self.packet),
            "origin": self.origin,
            "disposition": str(self.disposition),
            "caused_by": self.caused_by,
            "time": round(self.time, 6),
            "steps": [s.to_json() for s in self.steps],
        }

    def __rich__(self) -> "RenderableType":
        from simnet.render import trace_tree

        return trace_tree(self)
