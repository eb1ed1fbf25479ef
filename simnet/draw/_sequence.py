"""A sequence diagram of one probe: a lane per namespace, an arrow per hop of every packet.

Time runs downwards in the order the packets were sent (the world's clock is
printed beside each one).  An arrow goes from the namespace that transmitted a
frame to the one that received it; its label is the packet as it was on that
wire, so a NAT rewrite shows as a changed label on the next hop, and is also
written out at the lane where it happened.  ARP, TCP's handshake, ICMP errors
and drops (✕) all appear, as the trace recorded them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simnet.draw._common import FONT, badge, new_figure, numbered, probe_result, probe_title, short_packet, style
from simnet.trace import (
    Decapsulated,
    Delivered,
    Dropped,
    Encapsulated,
    IcmpSent,
    Received,
    RuleHit,
    Trace,
    Translated,
    Transmitted,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simnet.world import World

__all__ = ["sequence"]

LANE_GAP = 2.9
ROW = 0.62


@dataclass(frozen=True, slots=True)
class _Hop:
    src: str
    dst: str
    label: str


def _hops(t: Trace, world: "World | None") -> tuple[list[_Hop | tuple[str, str]], tuple[str, str] | None]:
    """In trace order: wire crossings (who sent, who received, the packet on that wire) and notes
    (lane, text); and where the packet ended."""
    hops: list[_Hop | tuple[str, str]] = []
    notes = hops
    last_tx: dict[str, tuple[str, str]] = {}  # ns -> (dev, packet) of its latest transmission
    pending: list[tuple[str, str, str]] = []  # (ns, dev, packet) transmitted, not yet received
    end: tuple[str, str] | None = None
    for s in t.steps:
        match s:
            case Transmitted(dev=dev, packet=pkt):
                last_tx[s.netns] = (dev, short_packet(pkt))
                pending.append((s.netns, dev, short_packet(pkt)))
            case Received(dev=dev, packet=pkt) | Decapsulated(dev=dev, packet=pkt):
                if isinstance(s, Decapsulated):
                    continue
                src = _sender(s.netns, dev, pending, world)
                if src is not None and src != s.netns:
                    hops.append(_Hop(src, s.netns, short_packet(pkt)))
            case Encapsulated(dev=dev):
                notes.append((s.netns, f"{dev} wraps the frame in VXLAN"))
            case Translated(manip=manip, diffs=diffs):
                change = ", ".join(f"{d.field} {d.old}>{d.new}" for d in diffs)
                notes.append((s.netns, f"{manip.upper()} {change}"))
            case RuleHit(verdict=verdict) if verdict in ("DROP", "REJECT"):
                notes.append((s.netns, f"{s.table}/{s.chain}#{s.index} {verdict}"))
            case IcmpSent(type=ty, code=code, to=to):
                notes.append((s.netns, f"sends ICMP {ty}/{code} to {to}"))
            case Dropped(reason=reason, disposition=disp):
                end = (s.netns, f"{disp}: {reason}")
            case Delivered(to=to):
                end = (s.netns, f"delivered to {to}")
            case _:
                pass
    return hops, end


def _sender(ns: str, dev: str, pending: list[tuple[str, str, str]], world: "World | None") -> str | None:
    """Who sent the frame ``ns`` received on ``dev``: the veth peer if the world says, else the latest sender."""
    if world is not None and ns in world.namespaces:
        d = world.namespaces[ns].devices.get(dev)
        if d is not None and d.peer is not None:
            peer = d.peer.netns.name
            for i in range(len(pending) - 1, -1, -1):
                if pending[i][0] == peer:
                    del pending[i]
                    return peer
            return peer
    for i in range(len(pending) - 1, -1, -1):
        if pending[i][0] != ns:
            return pending.pop(i)[0]
    return None


def sequence(probe: Any, *, world: "World | None" = None, max_packets: int = 24) -> "Figure":
    """Draw the probe as a sequence diagram (see the module docstring)."""
    result = probe_result(probe)
    packets = numbered(result.traces)[:max_packets]
    rows = []
    lanes: list[str] = [result.netns]
    for n, t in packets:
        events, end = _hops(t, world)
        crossings = [h for h in events if isinstance(h, _Hop)]
        for ns in [t.origin] + [h.src for h in crossings] + [h.dst for h in crossings]:
            if ns not in lanes:
                lanes.append(ns)
        rows.append((n, t, events, end))
    height_rows = sum(max(1, sum(isinstance(e, _Hop) for e in ev)) * ROW
                      + 0.24 * sum(not isinstance(e, _Hop) for e in ev) + 0.12 for _n, _t, ev, _e in rows)
    width = 1.7 + LANE_GAP * max(len(lanes) - 1, 1) + 2.2
    height = 1.3 + height_rows + 0.5
    fig, ax = new_figure(width, height)
    ax.text(0.15, height - 0.25, probe_title(probe), family=FONT, fontsize=9.5, fontweight="bold", va="center")
    x_of = {ns: 1.7 + i * LANE_GAP for i, ns in enumerate(lanes)}
    top = height - 0.75
    for ns, x in x_of.items():
        ax.text(x, top, f"netns {ns}", ha="center", va="center", family=FONT, fontsize=8.5, fontweight="bold",
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "black"})
        ax.plot([x, x], [0.35, top - 0.2], color="black", linewidth=0.8, linestyle=(0, (4, 3)), zorder=1)
    y = top - 0.55
    for n, t, events, end in rows:
        st = style(n)
        hops = [e for e in events if isinstance(e, _Hop)]
        ax.text(0.12, y, f"t={t.time:.3f}s", family=FONT, fontsize=6.5, va="center", color="#333333")
        badge(ax, 1.05, y, n, size=7)
        if not hops:  # never left its namespace: a dot and its fate
            x = x_of[t.origin]
            ax.plot([x], [y], marker=st["marker"], color=st["color"], markersize=6, markeredgecolor="black", zorder=5)
            ax.text(x + 0.12, y + 0.1, short_packet(t.packet), family=FONT, fontsize=7, va="bottom")
            y -= ROW
        for h in events:
            if not isinstance(h, _Hop):
                ns, text = h
                x = x_of.get(ns, x_of[t.origin])
                y += ROW - 0.3
                ax.text(x + 0.08, y, "NAT " + text if text[:4] in ("DNAT", "SNAT") else "! " + text,
                        family=FONT, fontsize=6.5, va="center", ha="left", style="italic", zorder=7,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "#555555",
                              "linewidth": 0.5})
                y -= ROW - 0.3 + 0.24
                continue
            x1, x2 = x_of[h.src], x_of[h.dst]
            ax.annotate("", xy=(x2, y - 0.12), xytext=(x1, y), zorder=4,
                        arrowprops={"arrowstyle": "-|>", "color": st["color"], "linewidth": 1.5,
                                    "linestyle": st["linestyle"], "shrinkA": 0, "shrinkB": 0})
            left = min(x1, x2)
            ax.text(left + 0.1, y + 0.05, h.label, family=FONT, fontsize=7, va="bottom", ha="left", zorder=6,
                    bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none"})
            y -= ROW
        if end is not None:
            ns, text = end
            x = x_of.get(ns, x_of[t.origin])
            if text.startswith("delivered"):
                ax.plot([x], [y + ROW - 0.12], marker="o", markersize=5, color="black", zorder=7)
            else:
                ax.plot([x], [y + ROW - 0.12], marker="X", markersize=10, color="black", markerfacecolor="white",
                        zorder=7)
                last_lane = len(lanes) > 1 and x == max(x_of.values())
                ax.text(x - 0.12 if last_lane else x + 0.12, y + ROW - 0.3, text[:70], family=FONT, fontsize=6.5,
                        va="center", ha="right" if last_lane else "left")
        y -= 0.12
    ax.text(0.12, 0.18, "arrows: one per wire a packet crossed, labelled as it was on that wire;  "
            "NAT: a rewrite  !: a verdict  dot: delivered  big X: dropped", family=FONT, fontsize=6.5, va="center")
    return fig
