"""The topology: namespaces as boxes listing their devices and addresses, the links between them.

A veth pair is a solid line between its two ends, a bridge lists its ports
indented under it ("port of BR"), a VXLAN device is joined to the VTEPs its FDB
names by a dashed line labelled with the VNI, and ``routes=True`` lists each
namespace's main table.  With a probe, the devices its first packet crossed are
numbered in order (1 = sent ... n = where it ended) and the wires it crossed drawn
thick; a drop is marked with a big X.

Layout (deterministic): namespaces with two or more links or a bridge are
"hubs", in a row, in creation order; a namespace with one link is placed left
of its hub when it hangs on a plain device, below it when on a bridge port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simnet.draw._common import FONT, badge, new_figure, probe_result, probe_title, text_width
from simnet.trace import Dropped, Received, Transmitted

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["topology"]

LINE_H = 0.2
FS = 7.5


@dataclass(slots=True)
class _Box:
    name: str
    lines: list[tuple[str, str | None, bool]] = field(default_factory=list)
    """(text, device it anchors or None, bold)"""
    x: float = 0.0
    y: float = 0.0  # top
    w: float = 0.0
    h: float = 0.0

    def row_y(self, dev: str) -> float | None:
        for i, (_text, d, _b) in enumerate(self.lines):
            if d == dev:
                return self.y - 0.42 - i * LINE_H
        return None


def _dev_lines(ns: "NetNamespace", routes: bool) -> list[tuple[str, str | None, bool]]:
    from simnet.link import LinkKind

    out: list[tuple[str, str | None, bool]] = []

    def addrs(dev: str) -> str:
        return " ".join(a.interface.with_prefixlen for a in ns.addrs if a.dev == dev)

    def line(dev: Any, indent: str = "") -> tuple[str, str, bool]:
        kind = str(dev.kind)
        extra = ""
        if dev.kind is LinkKind.VXLAN and dev.vxlan is not None:
            extra = f" vni {dev.vxlan.config.vni}" if hasattr(dev.vxlan, "config") else ""
        state = "" if dev.admin_up else " DOWN"
        a = addrs(dev.ifname)
        return (f"{indent}{dev.ifname} ({kind}{extra}){state}" + (f"  {a}" if a else ""), dev.ifname,
                dev.kind is LinkKind.BRIDGE)

    devices = sorted(ns.devices.values(), key=lambda d: d.ifindex)
    for dev in devices:
        if dev.kind is LinkKind.LOOPBACK or dev.master is not None:
            continue
        out.append(line(dev))
        if dev.kind is LinkKind.BRIDGE:
            for port in dev.ports:
                if port in ns.devices:
                    out.append(line(ns.devices[port], indent=f"  port of {dev.ifname}: "))
    if routes:
        out.append(("routes:", None, True))
        for r in ns.fib.routes(254):
            out.append(("  " + _short_route(str(r)), None, False))
    return out


def _short_route(text: str) -> str:
    words = text.split()
    for drop in ("proto", "scope", "metric"):
        while drop in words and words.index(drop) + 1 < len(words):
            k = words.index(drop)
            del words[k:k + 2]
    return " ".join(words)


def _links(world: "World") -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str, str]]]:
    """veth pairs (ns, dev, ns, dev) and VXLAN links (ns, dev, ns, dev, label)."""
    from simnet.link import LinkKind

    veths: list[tuple[str, str, str, str]] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    vxlans: list[tuple[str, str, str, str, str]] = []
    owners: dict[str, tuple[str, str]] = {}
    for ns in world.namespaces.values():
        for a in ns.addrs:
            owners.setdefault(str(a.address), (ns.name, a.dev))
    for ns in world.namespaces.values():
        for dev in sorted(ns.devices.values(), key=lambda d: d.ifindex):
            if dev.peer is not None and dev.peer.netns.name in world.namespaces:
                key = frozenset({(ns.name, dev.ifname), (dev.peer.netns.name, dev.peer.ifname)})
                if key not in seen:
                    seen.add(key)
                    veths.append((ns.name, dev.ifname, dev.peer.netns.name, dev.peer.ifname))
            if dev.kind is LinkKind.VXLAN and dev.vxlan is not None:
                cfg = getattr(dev.vxlan, "config", None)
                remotes: set[str] = set()
                if cfg is not None and cfg.remote is not None:
                    remotes.add(str(cfg.remote))
                fdb = getattr(dev.vxlan, "fdb", None)
                if fdb is not None:
                    for entry in fdb.entries():
                        remotes.update(str(r) for r in entry.remotes)
                for remote in sorted(remotes):
                    if remote in owners:
                        other_ns = owners[remote][0]
                        other = next((d.ifname for d in world.namespaces[other_ns].devices.values()
                                      if d.kind is LinkKind.VXLAN), owners[remote][1])
                        key = frozenset({(ns.name, dev.ifname), (other_ns, other)})
                        if key not in seen:
                            seen.add(key)
                            vni = f"VXLAN {cfg.vni}" if cfg is not None else "VXLAN"
                            vxlans.append((ns.name, dev.ifname, other_ns, other, vni))
    return veths, vxlans


def _place(world: "World", boxes: dict[str, _Box], veths: list[tuple[str, str, str, str]]) -> None:
    names = list(world.namespaces)
    nbrs: dict[str, list[tuple[str, str]]] = {n: [] for n in names}  # ns -> [(other ns, my dev)]
    for a, da, b, db in veths:
        if a != b:
            nbrs[a].append((b, da))
            nbrs[b].append((a, db))
    has_bridge = {n for n in names if any(str(d.kind) == "bridge" for d in world.namespaces[n].devices.values())}
    hubs = [n for n in names if len(nbrs[n]) >= 2 or n in has_bridge]
    if not hubs and names:
        hubs = [names[0]]
    left: dict[str, list[str]] = {h: [] for h in hubs}
    below: dict[str, list[str]] = {h: [] for h in hubs}
    placed = set(hubs)
    for n in names:
        if n in placed:
            continue
        hub = next((o for o, _d in nbrs[n] if o in hubs), None)
        if hub is None:
            continue
        hub_dev = next((da for a, da, b, db in veths if a == hub and b == n), None) or \
            next((db for a, da, b, db in veths if b == hub and a == n), None)
        dev = world.namespaces[hub].devices.get(hub_dev or "")
        (below if dev is not None and dev.master is not None else left)[hub].append(n)
        placed.add(n)
    loose = [n for n in names if n not in placed]
    gap = 0.5
    x = 0.3
    top = 0.0
    rows_below = 0.0
    for hub in hubs:
        col_h = 0.0
        col_w = max((boxes[n].w for n in left[hub]), default=0.0)
        y = top
        for n in left[hub]:
            boxes[n].x, boxes[n].y = x, y
            y -= boxes[n].h + gap
            col_h += boxes[n].h + gap
        if left[hub]:
            x += col_w + gap * 2.2
        boxes[hub].x, boxes[hub].y = x, top
        bx = x + 0.6
        by = top - boxes[hub].h - gap * 1.6
        for n in reversed(below[hub]):
            boxes[n].x, boxes[n].y = bx, by
            bx += boxes[n].w + gap
            rows_below = max(rows_below, boxes[hub].h + gap * 1.6 + boxes[n].h)
        x = max(x + boxes[hub].w, bx - gap) + gap * 2.2
    for n in loose:
        boxes[n].x, boxes[n].y = x, top
        x += boxes[n].w + gap


def topology(world: "World", *, probe: Any = None, routes: bool = False) -> "Figure":
    """Draw the world (see the module docstring)."""
    from matplotlib.patches import Rectangle

    boxes: dict[str, _Box] = {}
    for name, ns in world.namespaces.items():
        b = _Box(name, _dev_lines(ns, routes))
        b.w = max(text_width(f"netns {name}", 9) + 0.3, max((text_width(t, FS) for t, _d, _b in b.lines), default=1)
                  + 0.75)
        b.h = 0.55 + LINE_H * max(len(b.lines), 1)
        boxes[name] = b
    veths, vxlans = _links(world)
    _place(world, boxes, veths)
    if not boxes:
        fig, ax = new_figure(4, 1)
        ax.text(0.2, 0.5, "an empty world: no namespace", family=FONT, fontsize=9, va="center")
        return fig
    min_x = min(b.x for b in boxes.values())
    max_x = max(b.x + b.w for b in boxes.values()) + 0.7
    min_y = min(b.y - b.h for b in boxes.values())
    max_y = max(b.y for b in boxes.values())
    title_h = 0.5 if probe is not None else 0.15
    legend_h = 0.6
    width, height = max_x - min_x + 0.6, max_y - min_y + 0.9 + title_h + legend_h
    dx, dy = 0.3 - min_x, height - title_h - 0.45 - max_y
    for b in boxes.values():
        b.x += dx
        b.y += dy
    fig, ax = new_figure(width, height)
    # the probe's first packet: which devices it crossed, in order
    crossed: list[tuple[str, str, str]] = []  # (ns, dev, 'out'|'in')
    drop: tuple[str, str] | None = None
    if probe is not None:
        result = probe_result(probe)
        ax.text(0.15, height - 0.25, "path of " + probe_title(probe), family=FONT, fontsize=9, fontweight="bold",
                va="center")
        first = min(result.traces, key=lambda t: t.id) if result.traces else None
        if first is not None:
            last_dev: dict[str, str] = {}
            for s in first.steps:
                if isinstance(s, Transmitted):
                    crossed.append((s.netns, s.dev, "out"))
                    last_dev[s.netns] = s.dev
                elif isinstance(s, Received):
                    crossed.append((s.netns, s.dev, "in"))
                    last_dev[s.netns] = s.dev
                elif isinstance(s, Dropped):
                    drop = (s.netns, s.reason)
    used = {(n, d) for n, d, _k in crossed}
    for b in boxes.values():
        ax.add_patch(Rectangle((b.x, b.y - b.h), b.w, b.h, fill=False, linewidth=1.3, edgecolor="black"))
        ax.text(b.x + 0.12, b.y - 0.2, f"netns {b.name}", family=FONT, fontsize=9, fontweight="bold", va="center")
        for i, (text, dev, bold) in enumerate(b.lines):
            yy = b.y - 0.42 - i * LINE_H
            hit = dev is not None and (b.name, dev) in used
            ax.text(b.x + 0.15, yy, text, family=FONT, fontsize=FS, va="center",
                    fontweight="bold" if bold or hit else "normal",
                    bbox={"boxstyle": "square,pad=0.08", "facecolor": "white",
                          "edgecolor": "black", "linewidth": 1.4} if hit else None)

    def anchor(ns: str, dev: str, toward: float) -> tuple[float, float]:
        b = boxes[ns]
        y = b.row_y(dev)
        if y is None:
            y = b.y - 0.3
        return (b.x + b.w, y) if toward > b.x + b.w / 2 else (b.x, y)

    elbows = [0]

    def draw_link(a: str, da: str, b: str, db: str, *, style: Any, label: str, thick: bool) -> None:
        bb = boxes[b]
        ba = boxes[a]
        if ba.y - ba.h > bb.y or bb.y - bb.h > ba.y:  # one below the other: elbow into the lower's top
            up, upd, low = (ba, da, bb) if ba.y > bb.y else (bb, db, ba)
            y1 = up.row_y(upd) or up.y - 0.3
            xr = up.x + up.w + 0.2 + 0.14 * (elbows[0] % 4)
            elbows[0] += 1
            xl = low.x + low.w / 2
            pts = [(up.x + up.w, y1), (xr, y1), (xr, low.y + 0.3), (xl, low.y + 0.3), (xl, low.y)]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle=style, color="black",
                    linewidth=3.2 if thick else 1.1, zorder=2)
            ax.text(xl + 0.06, low.y + 0.15, label, family=FONT, fontsize=6.5, ha="left", va="center", zorder=3)
            return
        p1 = anchor(a, da, bb.x + bb.w / 2)
        p2 = anchor(b, db, ba.x + ba.w / 2)
        if p1[0] == p2[0]:  # both on the same side: bow out
            xo = p1[0] + (0.35 if p1[0] >= ba.x + ba.w else -0.35)
            pts = [p1, (xo, p1[1]), (xo, p2[1]), p2]
        else:
            xm = (p1[0] + p2[0]) / 2
            pts = [p1, (xm, p1[1]), (xm, p2[1]), p2]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle=style, color="black",
                linewidth=3.2 if thick else 1.1, zorder=2)
        mx, my = pts[1][0], max(pts[1][1], pts[2][1])
        ax.text(mx, my + 0.05, label, family=FONT, fontsize=6.5, ha="center", va="bottom", zorder=3)

    for ns_a, dev_a, ns_b, dev_b in veths:
        thick = (ns_a, dev_a) in used and (ns_b, dev_b) in used
        draw_link(ns_a, dev_a, ns_b, dev_b, style="-", label="veth", thick=thick)
    for ns_a, dev_a, ns_b, dev_b, label in vxlans:
        draw_link(ns_a, dev_a, ns_b, dev_b, style=(0, (5, 3)), label=label, thick=False)
    for i, (ns_name, dev, _kind) in enumerate(crossed, 1):
        crossed_box = boxes.get(ns_name)
        if crossed_box is None:
            continue
        y = crossed_box.row_y(dev)
        if y is None:
            continue
        badge(ax, crossed_box.x + crossed_box.w - 0.16 - 0.22 * ((i - 1) % 2), y, i, size=6.5)
    if drop is not None and drop[0] in boxes:
        b = boxes[drop[0]]
        ax.plot([b.x + b.w - 0.2], [b.y - 0.2], marker="X", markersize=14, color="black", markerfacecolor="white")
        ax.text(b.x + b.w - 0.4, b.y - 0.2, drop[1][:60], family=FONT, fontsize=6.5, ha="right", va="center")
    key = "solid line: veth pair   dashed line: VXLAN tunnel (VNI)   'port of BR': a bridge port"
    if probe is not None:
        key += ("\nnumbers, framed rows, thick lines: the devices and wires the probe's first packet crossed, "
                "in order")
    ax.text(0.15, 0.25, key, family=FONT, fontsize=6.5, va="center", linespacing=1.4)
    return fig
