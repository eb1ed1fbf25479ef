"""The chain graph of one namespace: chains as boxes listing their rules with packet counters, and
an arrow for every jump (solid) or goto (dashed) from a rule to the chain it names.

Built-in chains are in the first column; a user chain sits one column right of
the nearest chain that jumps to it (Docker's isolation chains, kube-proxy's
KUBE-SERVICES → KUBE-SVC-* → KUBE-SEP-*).  Empty built-in chains with an ACCEPT
policy and no traffic are left out and named in the table's title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simnet.draw._common import FONT, new_figure, text_width

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simnet.netfilter.ruleset import Chain
    from simnet.world import World

__all__ = ["chains"]

ROW_H = 0.19
FS = 7.0
MAX_ROWS = 14
RULE_CHARS = 52
MAX_WIDTH = 15.0
"""Columns wrap into a new band below past this width (inches)."""


def _target(rule: Any) -> tuple[str | None, bool]:
    """(chain jumped or gone to, is a goto) for a rule, from its iptables -S words."""
    words = str(rule).split()
    for flag, goto in (("-j", False), ("-g", True)):
        if flag in words and words.index(flag) + 1 < len(words):
            return words[words.index(flag) + 1], goto
    return None, False


def _rule_text(rule: Any) -> str:
    """The rule without ``-A CHAIN`` and without its comment (the picture has no room for them)."""
    import re
    import shlex

    text = str(rule)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if words[:1] == ["-A"]:
        words = words[2:]
    out: list[str] = []
    skip = 0
    for i, w in enumerate(words):
        if skip:
            skip -= 1
            continue
        if w == "-m" and i + 1 < len(words) and words[i + 1] == "comment":
            skip = 1
            continue
        if w == "--comment":
            skip = 1
            continue
        out.append(w)
    text = re.sub(r"\s+", " ", " ".join(out))
    return text if len(text) <= RULE_CHARS else text[:RULE_CHARS - 3] + "..."


def chains(world: "World", netns: str, *, table: str | None = None) -> "Figure":
    """Draw the chains of ``table`` (every table with a rule if None) in namespace ``netns``."""
    from matplotlib.patches import Rectangle

    if netns not in world.namespaces:
        raise KeyError(f'no netns "{netns}" in this world')
    ns = world.namespaces[netns]
    tables = [t for t in ns.ruleset.existing() if table is None or str(t.name) == table]
    if table is not None and not tables:
        raise KeyError(f"netns {netns} has no {table} table")
    panels = []
    for t in tables:
        shown: list[Chain] = []
        hidden: list[Chain] = []
        for ch in t.ordered_chains():
            busy = ch.entries or ch.policy not in (None, "ACCEPT") or ch.policy_counters.packets or not ch.builtin
            (shown if busy else hidden).append(ch)
        if table is None and not any(c.entries for c in shown):
            continue
        # columns: built-ins at depth 0, user chains by their nearest caller
        depth = {c.name: 0 for c in shown if c.builtin}
        frontier = [c.name for c in shown if c.builtin]
        by_name = {c.name: c for c in shown}
        while frontier:
            nxt = []
            for name in frontier:
                for e in by_name[name].entries:
                    target, _g = _target(e.rule)
                    if target in by_name and target not in depth:
                        depth[target] = depth[name] + 1
                        nxt.append(target)
            frontier = nxt
        max_d = max(depth.values(), default=0)
        for c in shown:
            depth.setdefault(c.name, max_d + 1)  # unreachable user chains: a last column
        panels.append((t, shown, hidden, depth))
    # measure
    layout = []
    total_h = 0.55
    width = 4.0
    for t, shown, hidden, depth in panels:
        cols: dict[int, list[Any]] = {}
        for c in shown:
            cols.setdefault(depth[c.name], []).append(c)
        col_w = {}
        for d, cs in cols.items():
            w = 0.0
            for c in cs:
                rows = [f"#{i} {e.counters.packets:>5} {_rule_text(e.rule)}" for i, e in enumerate(c.entries, 1)]
                w = max([w, text_width(_header(c), 8)] + [text_width(r, FS) for r in rows[:MAX_ROWS]])
            col_w[d] = w + 0.3
        col_h = {d: sum(0.42 + ROW_H * (min(len(c.entries), MAX_ROWS) + (len(c.entries) > MAX_ROWS)) + 0.35
                        for c in cs) for d, cs in cols.items()}
        x = 0.3
        xs: dict[int, float] = {}
        band_of: dict[int, int] = {}
        band = 0
        for d in sorted(cols):
            if x > 0.3 and x + col_w[d] > MAX_WIDTH:
                band += 1
                x = 0.8
            xs[d] = x
            band_of[d] = band
            x += col_w[d] + 0.9
            width = max(width, x)
        band_h = [max(col_h[d] for d in cols if band_of[d] == b) + 0.2 for b in range(band + 1)]
        band_top = [sum(band_h[:b]) for b in range(band + 1)]
        offs = {d: band_top[band_of[d]] for d in cols}
        h = sum(band_h) + 0.4
        layout.append((t, cols, col_w, xs, hidden, h, offs))
        total_h += h
    fig, ax = new_figure(width, total_h + 0.3)
    ax.text(0.15, total_h + 0.05, f"netns {netns}: chains, rule packet counters and jumps", family=FONT,
            fontsize=9.5, fontweight="bold", va="center")
    y_top = total_h - 0.35
    if not layout:
        ax.text(0.3, y_top, "no rules in any table", family=FONT, fontsize=8, va="center")
        return fig
    for t, cols, col_w, xs, hidden, h, offs in layout:
        note = f"   (empty, ACCEPT, no traffic: {', '.join(c.name for c in hidden)})" if hidden else ""
        ax.text(0.15, y_top, f"table {t.name}{note}", family=FONT, fontsize=8.5, fontweight="bold", va="center")
        anchors: dict[str, tuple[float, float]] = {}
        rows_at: list[tuple[float, float, Any, int]] = []
        for d, cs in cols.items():
            y = y_top - 0.35 - offs[d]
            for c in cs:
                n_rows = min(len(c.entries), MAX_ROWS) + (len(c.entries) > MAX_ROWS)
                bh = 0.42 + ROW_H * n_rows
                x = xs[d]
                ax.add_patch(Rectangle((x, y - bh), col_w[d], bh, fill=False, linewidth=1.4 if c.builtin else 1.0,
                                       linestyle="-" if c.builtin else (0, (4, 2)), edgecolor="black"))
                ax.text(x + 0.1, y - 0.18, _header(c), family=FONT, fontsize=8, fontweight="bold", va="center")
                anchors[c.name] = (x, y - 0.18)
                for i, e in enumerate(c.entries[:MAX_ROWS], 1):
                    ry = y - 0.42 - (i - 1) * ROW_H
                    ax.text(x + 0.1, ry, f"#{i} {e.counters.packets:>5} {_rule_text(e.rule)}", family=FONT,
                            fontsize=FS, va="center")
                    rows_at.append((x + col_w[d], ry, e, i))
                if len(c.entries) > MAX_ROWS:
                    ax.text(x + 0.1, y - 0.42 - MAX_ROWS * ROW_H, f"... {len(c.entries) - MAX_ROWS} more rules",
                            family=FONT, fontsize=FS, va="center", style="italic")
                y -= bh + 0.35
        lane = 0
        for x1, y1, e, i in rows_at:
            target, goto = _target(e.rule)
            if target not in anchors:
                continue
            x2, y2 = anchors[target]
            n = e.counters.packets
            width_ = 1.6 if n else 0.8
            style = "--" if goto else "-"
            label = f"#{i}: {n} pkt" + ("" if n == 1 else "s")
            if x2 > x1 + 0.1:
                ax.annotate("", xy=(x2, y2), xytext=(x1, y1), zorder=4,
                            arrowprops={"arrowstyle": "-|>", "linewidth": width_, "linestyle": style,
                                        "color": "black", "shrinkA": 1, "shrinkB": 1})
                lx, ly = x1 + 0.35 * (x2 - x1), y1 + 0.35 * (y2 - y1)
            else:  # a chain in a later band (or to the left): go round, orthogonally
                xo = x1 + 0.15 + 0.09 * (lane % 5)
                lane += 1
                ym = y2 + 0.32
                pts = [(x1, y1), (xo, y1), (xo, ym), (x2 - 0.2, ym), (x2 - 0.2, y2)]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", linewidth=width_,
                        linestyle=style, zorder=4)
                ax.annotate("", xy=(x2, y2), xytext=(x2 - 0.2, y2), zorder=4,
                            arrowprops={"arrowstyle": "-|>", "linewidth": width_, "color": "black",
                                        "shrinkA": 0, "shrinkB": 1})
                lx, ly = xo, y1 - 0.12
            ax.text(lx, ly, label, family=FONT, fontsize=6, va="center", ha="center", zorder=5,
                    bbox={"boxstyle": "square,pad=0.03", "facecolor": "white", "edgecolor": "none"})
        y_top -= h
    ax.text(0.15, 0.15, "columns: #N packets rule.  solid box: built-in chain (policy), dashed: user chain.  "
            "arrow: -j (solid) or -g (dashed), thick when packets took it", family=FONT, fontsize=6.5,
            va="center")
    return fig


def _header(c: Any) -> str:
    if c.builtin:
        return f"{c.name}  (policy {c.policy}, {c.policy_counters.packets} pkts)"
    return f"{c.name}  (user chain)"
