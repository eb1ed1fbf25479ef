"""The netfilter hook diagram with one probe's packets drawn through it.

Kernel: the receive path (``ip_rcv`` → PREROUTING → ``ip_route_input`` → INPUT
or FORWARD → POSTROUTING), the output path (``ip_route_output`` → OUTPUT →
POSTROUTING) and the bridge path, whose hooks br_netfilter hands to iptables
(``br_nf_pre_routing``, ``br_nf_forward_ip``, ``br_nf_post_routing``).  Every
table sits at its hook in the order of its registered priority
(:data:`simnet.netfilter.engine.BY_HOOK`), never in an order written here.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simnet.draw._common import (
    FONT,
    badge,
    new_figure,
    numbered,
    probe_result,
    probe_title,
    rule_label,
    short_packet,
    style,
)
from simnet.trace import (
    BridgeDecision,
    ConntrackLookup,
    Decapsulated,
    Delivered,
    Dropped,
    Encapsulated,
    HookEntered,
    IcmpSent,
    Received,
    RouteLookup,
    RuleHit,
    Sent,
    Step,
    Trace,
    Translated,
    Transmitted,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simnet.world import World

__all__ = ["hooks"]

HATCH = {"raw": "xxx", "conntrack": "", "mangle": "\\\\\\", "nat": "///", "filter": "...", "security": "+++"}
SHORT = {"conntrack": "conntrack"}
BOX_W = {"raw": 0.55, "conntrack": 0.82, "mangle": 0.72, "nat": 0.55, "filter": 0.68, "security": 0.8}
BOX_H = 0.5
GAP = 0.05
PAD = 0.09

# rows (y of the frames' middle line, relative to a panel's bottom)
ROW_BRIDGE, ROW_MID, ROW_TOP = 1.55, 4.15, 6.15
NO_BRIDGE_SHIFT = 2.2


@dataclass(slots=True)
class _Frame:
    """A hook with its table boxes, or a plain node (routing decision, local process, a device)."""

    key: str
    title: str
    x: float
    y: float
    boxes: list[tuple[str, int]] = field(default_factory=list)
    """(table, priority) in priority order."""
    width: float = 0.8
    kind: str = "frame"  # frame | diamond | node
    box_x: dict[str, float] = field(default_factory=dict)

    def entry(self) -> tuple[float, float]:
        return (self.x, self.y) if self.kind == "frame" else (self.x - self.width / 2, self.y)

    def exit(self) -> tuple[float, float]:
        return (self.x + self.width, self.y) if self.kind == "frame" else (self.x + self.width / 2, self.y)

    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y) if self.kind == "frame" else (self.x, self.y)


def _hook_tables(hook: str, existing: set[str] | None) -> list[tuple[str, int]]:
    """The tables (and conntrack) registered at a hook, in priority order, as the engine registers them."""
    from simnet.netfilter.engine import BY_HOOK
    from simnet.netfilter.hooks import Hook

    h = next(x for x in Hook if x.chain == hook)
    out: list[tuple[str, int]] = []
    for reg in BY_HOOK[h]:
        name = reg.name
        if name == "conntrack confirm":
            continue
        if name == "security" and (existing is None or "security" not in existing):
            continue
        if all(n != name for n, _ in out):
            out.append((name, int(reg.priority)))
    return out


def _layout(existing: set[str] | None, bridge: bool, y0: float) -> dict[str, _Frame]:
    shift = 0.0 if bridge else -NO_BRIDGE_SHIFT
    M, T, B = y0 + ROW_MID + shift, y0 + ROW_TOP + shift, y0 + ROW_BRIDGE

    def frame(key: str, title: str, hook: str, x: float, y: float) -> _Frame:
        f = _Frame(key, title, x, y, _hook_tables(hook, existing))
        cx = x + PAD
        for name, _prio in f.boxes:
            f.box_x[name] = cx + BOX_W[name] / 2
            cx += BOX_W[name] + GAP
        f.width = cx - GAP + PAD - x
        return f

    fr: dict[str, _Frame] = {}
    fr["in"] = _Frame("in", "receive", 0.55, M, width=0.8, kind="node")
    fr["pre"] = frame("pre", "PREROUTING", "PREROUTING", 1.15, M)
    rt_x = fr["pre"].x + fr["pre"].width + 0.55
    fr["rt_in"] = _Frame("rt_in", "routing\ndecision", rt_x, M, width=0.6, kind="diamond")
    fr["fwd"] = frame("fwd", "FORWARD", "FORWARD", rt_x + 0.75, M)
    fr["input"] = frame("input", "INPUT", "INPUT", 1.15, T)
    lx = fr["input"].x + fr["input"].width + 0.75
    fr["local"] = _Frame("local", "local\nprocess", lx, T, width=1.0, kind="node")
    fr["rt_out"] = _Frame("rt_out", "routing\ndecision", lx + 1.15, T, width=0.6, kind="diamond")
    fr["output"] = frame("output", "OUTPUT", "OUTPUT", lx + 1.6, T)
    px = max(fr["output"].x + fr["output"].width + 0.45, fr["fwd"].x + fr["fwd"].width + 0.6)
    fr["post"] = frame("post", "POSTROUTING", "POSTROUTING", px, M)
    fr["out"] = _Frame("out", "transmit", px + fr["post"].width + 0.65, M, width=0.8, kind="node")
    if bridge:
        fr["bport_in"] = _Frame("bport_in", "bridge port\nreceive", 0.55, B, width=0.8, kind="node")
        fr["bpre"] = frame("bpre", "PREROUTING (br_netfilter)", "PREROUTING", 1.15, B)
        fr["bdec"] = _Frame("bdec", "bridge\nFDB", rt_x, B, width=0.6, kind="diamond")
        fr["bfwd"] = frame("bfwd", "FORWARD (br_netfilter)", "FORWARD", fr["fwd"].x, B)
        fr["bpost"] = frame("bpost", "POSTROUTING (br_netfilter)", "POSTROUTING", px, B)
        bx = fr["out"].x + 1.0
        fr["bxmit"] = _Frame("bxmit", "br_dev_xmit\nFDB", bx, M, width=0.6, kind="diamond")
        fr["bport_out"] = _Frame("bport_out", "bridge port\ntransmit", bx, B, width=0.8, kind="node")
    return fr


def _connector(fr: dict[str, _Frame], a: str, b: str) -> list[tuple[float, float]]:
    """The orthogonal polyline from stop ``a`` to stop ``b``."""
    A, Bf = fr[a], fr[b]
    (ax_, ay), (bx, by) = A.exit(), Bf.entry()
    mid_tm = (fr["rt_in"].y + fr["rt_out"].y) / 2
    if (a, b) == ("rt_in", "input"):
        cx, cy = A.center()
        return [(cx, cy + 0.3), (cx, mid_tm), (bx - 0.2, mid_tm), (bx - 0.2, by), (bx, by)]
    if (a, b) == ("output", "post"):
        return [(ax_, ay), (ax_ + 0.2, ay), (ax_ + 0.2, by), (bx, by)] if ax_ + 0.2 < bx else \
               [(ax_, ay), (ax_ + 0.2, ay), (ax_ + 0.2, by + 0.55), (bx - 0.2, by + 0.55), (bx - 0.2, by), (bx, by)]
    if "bdec" in fr:
        mid_bm = (fr["bdec"].y + fr["rt_in"].y) / 2
        if (a, b) == ("bdec", "rt_in"):
            cx, cy = A.center()
            return [(cx, cy + 0.3), (cx, fr["rt_in"].y - 0.3)]
        if (a, b) == ("out", "bdec"):
            cx, cy = A.center()
            dx, dy = Bf.center()
            return [(cx, cy - 0.25), (cx, mid_bm - 0.15), (dx, mid_bm - 0.15), (dx, dy + 0.3)]
        if (a, b) == ("bdec", "pre"):
            cx, cy = A.center()
            return [(cx, cy + 0.3), (cx, mid_bm + 0.15), (bx - 0.2, mid_bm + 0.15), (bx - 0.2, by), (bx, by)]
        if (a, b) == ("bxmit", "bport_out"):
            cx, cy = A.center()
            dx, dy = Bf.center()
            return [(cx, cy - 0.3), (dx, dy + 0.25)]
        if (a, b) == ("bdec", "bport_out"):
            cx, cy = A.center()
            return [(cx, cy - 0.3), (cx, cy - 0.5), (bx - 0.1, cy - 0.5), (bx - 0.1, by), (bx, by)]
    if abs(ay - by) < 1e-9:
        return [(ax_, ay), (bx, by)]
    if bx > ax_:
        return [(ax_, ay), ((ax_ + bx) / 2, ay), ((ax_ + bx) / 2, by), (bx, by)]
    return [(ax_, ay), (ax_ + 0.15, ay), (ax_ + 0.15, (ay + by) / 2), (bx - 0.15, (ay + by) / 2), (bx - 0.15, by), (bx, by)]


_HOOK_FRAME = {("PREROUTING", False): "pre", ("INPUT", False): "input", ("FORWARD", False): "fwd",
               ("OUTPUT", False): "output", ("POSTROUTING", False): "post",
               ("PREROUTING", True): "bpre", ("FORWARD", True): "bfwd", ("POSTROUTING", True): "bpost",
               ("INPUT", True): "input", ("OUTPUT", True): "output"}
_BRIDGE_ROW = ("bport_in", "bpre", "bdec", "bfwd", "bpost", "bport_out")


@dataclass(slots=True)
class _Path:
    n: int
    trace: Trace
    stops: list[str] = field(default_factory=list)
    marks: list[tuple[str, str, str]] = field(default_factory=list)
    """(frame, box or '', kind: hit | nat | ct | drop | route)"""
    labels: list[tuple[str, str, str]] = field(default_factory=list)
    """(frame, box or '', text) for the label blocks."""
    notes: list[str] = field(default_factory=list)
    """Route, devices, ending: for the legend line."""


def _walk(n: int, trace: Trace, netns: str, fr: dict[str, _Frame]) -> _Path:
    path = _Path(n, trace)
    steps = [s for s in trace.steps if s.netns == netns]
    cur: str | None = None

    def go(stop: str) -> None:
        nonlocal cur
        if stop not in fr:
            return
        if not path.stops or path.stops[-1] != stop:
            path.stops.append(stop)
        cur = stop

    for i, s in enumerate(steps):
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        bridged_next = isinstance(nxt, BridgeDecision) or (isinstance(nxt, HookEntered) and nxt.bridged)
        match s:
            case Received(dev=dev) | Decapsulated(dev=dev):
                go("bport_in" if bridged_next and "bport_in" in fr else "in")
                path.notes.append(f"in {dev}")
            case Sent() | Encapsulated():
                go("local")
            case HookEntered(hook=hook, bridged=bridged):
                go(_HOOK_FRAME.get((hook, bridged and "bpre" in fr), "pre"))
            case ConntrackLookup(state=state, direction=direction):
                if cur is not None:
                    path.marks.append((cur, "conntrack", "ct"))
                    path.labels.append((cur, "conntrack", f"conntrack {state}" + (" reply" if direction == "REPLY" else "")))
            case RuleHit(table=table, chain=chain, index=index, verdict=verdict, rule=rule):
                if cur is not None:
                    path.marks.append((cur, table, "hit"))
                    path.labels.append((cur, table, rule_label(table, chain, index, verdict, rule)))
            case Translated(manip=manip, diffs=diffs):
                if cur is not None:
                    path.marks.append((cur, "nat", "nat"))
                    path.labels.append((cur, "nat", f"{manip.upper()} {_nat_change(diffs)}"))
            case RouteLookup(route=route, result=result, dst=dst):
                if cur in ("output", "bpre", "bfwd", "bpost"):
                    where = cur  # a re-route after OUTPUT, or br_netfilter's lookup: stays put
                else:
                    where = "rt_out" if result == "output" or cur == "local" else "rt_in"
                    go(where)
                words = (route or "no route").split()
                for drop in ("proto", "scope", "src", "metric"):
                    while drop in words and words.index(drop) + 1 < len(words):
                        k = words.index(drop)
                        del words[k:k + 2]
                path.notes.append(f"route {dst}: {' '.join(words)} ({result})")
                if route is None or any(w in result for w in ("unreachable", "prohibit", "blackhole", "no route")):
                    path.marks.append((where, "", "drop"))
            case BridgeDecision(action=action, ports=ports, bridge=bridge, in_port=in_port):
                go("bxmit" if in_port == bridge and "bxmit" in fr else "bdec")
                path.notes.append(f"bridge {action}" + (" to " + ", ".join(ports) if ports else ""))
            case Transmitted(dev=dev):
                go("bport_out" if (cur in _BRIDGE_ROW or cur == "bxmit") and "bport_out" in fr else "out")
                path.notes.append(f"out {dev}")
            case Delivered(to=to):
                go("local")
                path.notes.append(f"delivered to {to}")
            case Dropped(reason=reason, disposition=disp):
                if cur is not None:
                    path.marks.append((cur, "", "drop"))
                path.notes.append(f"{disp}: {reason}")
            case IcmpSent(type=t, code=c, reason=reason):
                path.notes.append(f"sends ICMP {t}/{c} ({reason})")
            case _:
                pass
    return path


def _nat_change(diffs: Any) -> str:
    """``203.0.113.10:1180>172.17.0.2:5000`` from the rewritten fields of one manip."""
    old = {d.field: d.old for d in diffs}
    new = {d.field: d.new for d in diffs}
    addr = "dst" if "dst" in old or "dport" in old else "src"
    port = "dport" if addr == "dst" else "sport"
    before = old.get(addr, "") + (f":{old[port]}" if port in old else "")
    after = new.get(addr, "") + (f":{new[port]}" if port in new else "")
    if not old.get(addr):
        before, after = f"{addr} port {old.get(port)}", str(new.get(port))
    return f"{addr} {before}>{after}"


def _panel_netns(traces: list[tuple[int, Trace]]) -> list[str]:
    """Namespaces whose netfilter hooks the probe's packets entered, in order of first visit."""
    out: list[str] = []
    for _n, t in traces:
        for s in t.steps:
            if isinstance(s, HookEntered) and s.netns not in out:
                out.append(s.netns)
    return out


def hooks(probe: Any, *, world: "World | None" = None, max_packets: int = 8) -> "Figure":
    """Draw the kernel's hooks with every table in priority order, and this probe's packets through them.

    One panel per namespace whose hooks the packets entered.  Each packet is a
    numbered path (its own line style and marker); each rule that matched is
    labelled ``table/CHAIN#N verdict`` beside its hook, NAT rewrites (★) and
    drops (✕) are marked where they happen, and the legend gives each packet's
    routing decisions.  ``world`` (the report's) tells which tables exist: the
    others are drawn dashed.
    """
    result = probe_result(probe)
    packets = numbered(result.traces)
    panels = _panel_netns(packets)
    title = probe_title(probe)
    if not panels:
        fig, ax = new_figure(9.0, 1.2)
        ax.text(0.2, 0.8, title, family=FONT, fontsize=9, fontweight="bold", va="center")
        ax.text(0.2, 0.4, "No packet of this probe entered a netfilter hook (no namespace on its way has "
                "an iptables table).", family=FONT, fontsize=8.5, va="center")
        return fig
    # measure every panel, then stack them (first panel on top)
    built = []
    for netns in panels:
        ns = world.namespaces.get(netns) if world is not None else None
        existing = {str(t.name) for t in ns.ruleset.existing()} if ns is not None else None
        in_ns = [(n, t) for n, t in packets if any(isinstance(s, HookEntered) and s.netns == netns for s in t.steps)]
        bridge = any(isinstance(s, (BridgeDecision,)) or (isinstance(s, HookEntered) and s.bridged)
                     for _n, t in in_ns for s in t.steps if s.netns == netns)
        shown, hidden = in_ns[:max_packets], in_ns[max_packets:]
        others = [(n, t) for n, t in packets if (n, t) not in in_ns]
        built.append((netns, existing, bridge, shown, hidden, others))
    heights = []
    for _netns, _existing, bridge, shown, hidden, others in built:
        base = ROW_TOP + 1.9 - (0 if bridge else NO_BRIDGE_SHIFT)
        heights.append(base + 0.55 + 0.19 * (len(shown) + bool(hidden) + bool(others)) + 0.25)
    width = 0.0
    frames_all = []
    y = sum(heights)
    for (netns, existing, bridge, shown, hidden, others), h in zip(built, heights):
        y -= h
        legend_h = 0.55 + 0.19 * (len(shown) + bool(hidden) + bool(others))
        fr = _layout(existing, bridge, y + legend_h - (0 if bridge else -0.0))
        frames_all.append((netns, existing, bridge, shown, hidden, others, fr, y, h, legend_h))
        width = max(width, fr.get("bport_out", fr["out"]).x + 0.7)
    width = max(width, 9.0)
    fig, ax = new_figure(width, sum(heights) + 0.45)
    ax.text(0.15, sum(heights) + 0.22, title, family=FONT, fontsize=9.5, fontweight="bold", va="center")
    for netns, existing, bridge, shown, hidden, others, fr, y0, h, legend_h in frames_all:
        _draw_panel(ax, netns, existing, fr, shown, hidden, others, y0, h, legend_h, width)
    return fig


def _draw_panel(ax: Any, netns: str, existing: set[str] | None, fr: dict[str, _Frame],
                shown: list[tuple[int, Trace]], hidden: list[tuple[int, Trace]], others: list[tuple[int, Trace]],
                y0: float, h: float, legend_h: float, width: float) -> None:
    from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle

    ax.add_patch(Rectangle((0.05, y0 + 0.05), width - 0.1, h - 0.1, fill=False, linewidth=0.8, edgecolor="black"))
    ax.text(0.15, y0 + h - 0.3, f"netns {netns}", family=FONT, fontsize=10, fontweight="bold", va="center")
    hit_tables = {s.table for _n, t in shown for s in t.steps if isinstance(s, RuleHit) and s.netns == netns}
    # frames, boxes, nodes
    for f in fr.values():
        if f.kind == "frame":
            ax.add_patch(Rectangle((f.x, f.y - BOX_H / 2 - PAD), f.width, BOX_H + 2 * PAD, fill=False,
                                   linewidth=1.2, edgecolor="black"))
            ax.text(f.x, f.y + BOX_H / 2 + PAD + 0.06, f.title, family=FONT, fontsize=8, fontweight="bold",
                    va="bottom", ha="left")
            for name, prio in f.boxes:
                cx = f.box_x[name]
                present = existing is None or name == "conntrack" or name in existing or name in hit_tables
                w = BOX_W[name]
                if HATCH[name]:
                    ax.add_patch(Rectangle((cx - w / 2, f.y - BOX_H / 2), w, BOX_H, facecolor="white",
                                           edgecolor="#b0b0b0", hatch=HATCH[name], linewidth=0))
                ax.add_patch(Rectangle((cx - w / 2, f.y - BOX_H / 2), w, BOX_H, fill=False,
                                       edgecolor="black" if present else "#888888",
                                       linestyle="-" if present else (0, (2, 2)), linewidth=0.9))
                label = SHORT.get(name, name) + f"\n{prio}"
                ax.text(cx, f.y, label, ha="center", va="center", fontsize=6.5, family=FONT,
                        color="black" if present else "#777777", zorder=3,
                        bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none"})
        elif f.kind == "diamond":
            cx, cy = f.center()
            ax.add_patch(Polygon([(cx - 0.3, cy), (cx, cy + 0.3), (cx + 0.3, cy), (cx, cy - 0.3)], closed=True,
                                 facecolor="white", edgecolor="black", linewidth=1.0))
            ax.text(cx, cy + 0.36, f.title.replace("\n", " "), ha="center", va="bottom", fontsize=6.5, family=FONT)
        else:
            cx, cy = f.center()
            ax.add_patch(FancyBboxPatch((cx - f.width / 2, cy - 0.25), f.width, 0.5, boxstyle="round,pad=0.03",
                                        facecolor="white", edgecolor="black", linewidth=1.0))
            ax.text(cx, cy, f.title, ha="center", va="center", fontsize=6.5, family=FONT)
    # skeleton: every connection the kernel has, thin grey, so the packets' paths stand out
    skeleton = [("in", "pre"), ("pre", "rt_in"), ("rt_in", "input"), ("input", "local"), ("local", "rt_out"),
                ("rt_out", "output"), ("rt_in", "fwd"), ("fwd", "post"), ("output", "post"), ("post", "out")]
    if "bdec" in fr:
        skeleton += [("bport_in", "bpre"), ("bpre", "bdec"), ("bdec", "bfwd"), ("bfwd", "bpost"),
                     ("bpost", "bport_out"), ("bdec", "rt_in"), ("out", "bxmit"), ("bxmit", "bport_out")]
    for a, b in skeleton:
        line = _connector(fr, a, b)
        ax.plot([p[0] for p in line], [p[1] for p in line], color="#9a9a9a", linewidth=0.8, zorder=1)
    # packets
    paths = [_walk(n, t, netns, fr) for n, t in shown]
    count = len(paths)
    spacing = min(0.07, 0.34 / max(count, 1))
    blocks: dict[str, list[tuple[str, list[int]]]] = {}
    for k, p in enumerate(paths):
        d = (k - (count - 1) / 2) * spacing
        st = style(p.n)
        pts: list[tuple[float, float]] = []
        if p.stops:
            first = fr[p.stops[0]]
            pts.append(first.center() if first.kind != "frame" else first.entry())
            for a, b in zip(p.stops, p.stops[1:]):
                seg = _connector(fr, a, b)
                pts.extend(seg)
            last = fr[p.stops[-1]]
            pts.append(last.center() if last.kind != "frame" else last.exit())
        xs = [x + d for x, _ in pts]
        ys = [yy + d for _, yy in pts]
        if xs:
            ax.plot(xs, ys, linestyle=st["linestyle"], color=st["color"], linewidth=1.7, zorder=5)
            bx_, by_ = _along(xs, ys, 0.3 + 0.24 * k)
            badge(ax, bx_, by_, p.n, size=6.5)
            if len(xs) >= 2:
                ax.annotate("", xy=(xs[-1], ys[-1]), xytext=(xs[-2], ys[-2]), zorder=6,
                            arrowprops={"arrowstyle": "-|>", "color": st["color"], "linewidth": 1.2,
                                        "shrinkA": 0, "shrinkB": 0})
        for frame_key, box, kind in p.marks:
            f = fr[frame_key]
            if box and box in f.box_x:
                mx, my = f.box_x[box], f.y
            else:
                mx, my = f.center() if f.kind != "frame" else f.exit()
            mx, my = mx + d, my + d
            if kind == "nat":
                ax.plot([mx], [my], marker="*", markersize=12, color="black", markerfacecolor="white", zorder=8)
            elif kind == "drop":
                ax.plot([mx], [my], marker="X", markersize=11, color="black", markerfacecolor="white", zorder=9,
                        markeredgewidth=1.3)
            elif kind == "ct":
                ax.plot([mx], [my], marker="|", markersize=8, color=st["color"], zorder=7, markeredgewidth=1.5)
            else:
                ax.plot([mx], [my], marker=st["marker"], markersize=5.5, color=st["color"], zorder=7,
                        markeredgecolor="black", markeredgewidth=0.6)
        for frame_key, box, text in p.labels:
            if text.startswith("conntrack"):
                continue
            lines = blocks.setdefault(frame_key, [])
            for existing_text, ns_ in lines:
                if existing_text == text:
                    if p.n not in ns_:
                        ns_.append(p.n)
                    break
            else:
                lines.append((text, [p.n]))
    # label blocks: above top-row frames, below the others
    for key, lines in blocks.items():
        f = fr[key]
        top_row = key in ("input", "output", "local", "rt_out")
        order = {name: i for i, (name, _p) in enumerate(f.boxes)}
        lines.sort(key=lambda item: order.get(item[0].split("/")[0].split()[0].lower()
                                              if "/" in item[0] else "nat", 99))
        room = max(20, int(_room(fr, key) / 0.058))
        texts = []
        for text, ns_ in lines:
            texts.extend(textwrap.wrap(f"{','.join(map(str, ns_))}: {text}", room, subsequent_indent="   ",
                                       break_long_words=False, break_on_hyphens=False))
        if len(texts) > 8:
            texts = texts[:7] + [f"... {len(texts) - 7} more lines"]
        if top_row:
            ax.text(f.x, f.y + BOX_H / 2 + PAD + 0.28, "\n".join(texts), family=FONT, fontsize=6.8,
                    va="bottom", ha="left", linespacing=1.25)
        else:
            ax.text(f.x, f.y - BOX_H / 2 - PAD - 0.06, "\n".join(texts), family=FONT, fontsize=6.8,
                    va="top", ha="left", linespacing=1.25)
    # legend
    ly = y0 + legend_h - 0.3
    ax.text(0.2, ly + 0.02, "key:  marker = a rule hit (each packet its own: o s ^ D)   | = conntrack   star = NAT rewrite   "
            "big X = dropped   diamond = decision   dashed box = table not in this netns   N: = packet numbers", family=FONT, fontsize=6.8,
            va="center")
    for p in paths:
        ly -= 0.19
        st = style(p.n)
        ax.plot([0.35, 0.75], [ly, ly], linestyle=st["linestyle"], color=st["color"], linewidth=1.7)
        ax.plot([0.55], [ly], marker=st["marker"], markersize=5, color=st["color"], markeredgecolor="black",
                markeredgewidth=0.6)
        badge(ax, 0.2, ly, p.n, size=6)
        routes = [x for x in p.notes if x.startswith("route ")]
        end = f"{p.trace.disposition}"
        text = f"{short_packet(p.trace.packet)}  (from {p.trace.origin})  " + "; ".join(routes[:2]) + f"  -> {end}"
        ax.text(0.85, ly, text, family=FONT, fontsize=6.8, va="center")
    if hidden:
        ly -= 0.19
        ax.text(0.2, ly, f"not drawn: packets {', '.join(str(n) for n, _ in hidden)}", family=FONT, fontsize=6.8,
                va="center")
    if others:
        ly -= 0.19
        names = ", ".join(f"{n} {short_packet(t.packet)}" for n, t in others[:4])
        more = f" and {len(others) - 4} more" if len(others) > 4 else ""
        ax.text(0.2, ly, f"no hook here: {names}{more}", family=FONT, fontsize=6.8, va="center")


def _room(fr: dict[str, _Frame], key: str) -> float:
    """Inches from a frame's left edge to the next frame on its row (or the picture's edge)."""
    f = fr[key]
    right = [g.entry()[0] - (0.35 if g.kind == "diamond" else 0.1) for g in fr.values()
             if abs(g.y - f.y) < 0.01 and g.entry()[0] > f.x + 0.5]
    return (min(right) if right else f.x + 4.0) - f.x


def _along(xs: list[float], ys: list[float], dist: float) -> tuple[float, float]:
    """The point ``dist`` inches along a polyline (its end if shorter)."""
    for (x1, y1), (x2, y2) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        seg = abs(x2 - x1) + abs(y2 - y1)
        if seg >= dist and seg > 0:
            t = dist / seg
            return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        dist -= seg
    return xs[-1], ys[-1]


def _unused(step: Step) -> None:  # pragma: no cover - keeps the Step import for type readers
    del step
