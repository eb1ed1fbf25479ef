"""Shared pieces of the pictures: matplotlib loaded lazily, probes normalised, packets named.

Every picture is drawn in inches as data units (the figure is sized to its
content), with a monospace font, so text placement is predictable.  Meaning
never rests on colour alone: every path has a number, a line style and a
marker, every box a label, and the tables a hatching of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simnet.packet import Arp, Icmp, Packet, Tcp, Udp, tcp_flags_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simnet.probe import ProbeResult
    from simnet.trace import Trace

FONT = "DejaVu Sans Mono"
"""Ships with matplotlib: no system font is needed."""

LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
# a colour-blind-safe palette (Okabe-Ito); every path also has its own number, style and marker
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

CHAR_W = 0.0725
"""Width of one character of 8.5 pt DejaVu Sans Mono, in inches (0.6 em)."""


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, imported on first use (``import simnet`` never needs it)."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("simnet.draw needs matplotlib: pip install 'simnet[draw]'") from None
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_figure(width: float, height: float) -> tuple["Figure", Any]:
    """A figure ``width`` x ``height`` inches whose one axes spans it, in inch units, without frame.

    The figure shows itself as a PNG in a notebook (``_repr_png_``), whatever backend is active.
    """
    from matplotlib.figure import Figure

    pyplot()

    class Picture(Figure):
        def _repr_png_(self) -> bytes:
            import io

            buf = io.BytesIO()
            self.savefig(buf, format="png")
            return buf.getvalue()

    fig = Picture(figsize=(max(width, 1.0), max(height, 1.0)), dpi=100)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, max(width, 1.0))
    ax.set_ylim(0, max(height, 1.0))
    ax.set_axis_off()
    return fig, ax


def probe_result(probe: Any) -> "ProbeResult":
    """A ProbeResult from a ProbeResult or a Report's ProbeRecord."""
    from simnet.probe import ProbeResult

    if isinstance(probe, ProbeResult):
        return probe
    result = getattr(probe, "result", None)
    if isinstance(result, ProbeResult):
        return result
    raise TypeError(f"expected a ProbeResult or a Report's ProbeRecord, not {type(probe).__name__}")


def probe_title(probe: Any) -> str:
    """``line N: COMMAND -> outcome`` for a record, ``proto NS -> DST -> outcome`` for a bare result."""
    r = probe_result(probe)
    line = getattr(probe, "line", None)
    command = getattr(probe, "command", None)
    if line is not None and command:
        return f"line {line}: {command}  ->  {r.outcome}"
    port = f":{r.dport}" if r.dport is not None else ""
    return f"{r.proto} from {r.netns} to {r.dst}{port}  ->  {r.outcome}"


def short_packet(pkt: Packet) -> str:
    """A packet in a few words: ``SYN 10.0.0.1:4000 > 10.0.0.2:80``, ``ARP who-has 10.0.0.2``."""
    if pkt.arp is not None:
        a: Arp = pkt.arp
        if int(a.op) == 1:
            return f"ARP who-has {a.tpa} tell {a.spa}"
        return f"ARP {a.spa} is-at {a.sha}"
    if pkt.ip is None:
        return "frame"
    ip = pkt.ip
    match pkt.l4:
        case Tcp() as t:
            return f"{tcp_name(t)} {ip.src}:{t.sport} > {ip.dst}:{t.dport}"
        case Udp() as u if pkt.vxlan is not None:
            return f"VXLAN vni {pkt.vxlan.vni} {ip.src}:{u.sport} > {ip.dst}:{u.dport}"
        case Udp() as u:
            return f"UDP {ip.src}:{u.sport} > {ip.dst}:{u.dport}"
        case Icmp() as i:
            return f"ICMP {icmp_name(i)} {ip.src} > {ip.dst}"
    return f"IP {ip.src} > {ip.dst} proto {ip.proto}"


def tcp_name(t: Tcp) -> str:
    """SYN, SYN-ACK, ACK, RST, RST-ACK, FIN-ACK ... from the flags (tcpdump's letters as words)."""
    letters = tcp_flags_text(t.flags)
    words = {"S": "SYN", "F": "FIN", "P": "PSH", "R": "RST", "U": "URG", ".": "ACK"}
    return "-".join(words[c] for c in letters if c in words) or "TCP"


def icmp_name(i: Icmp) -> str:
    names = {0: "echo reply", 8: "echo request", 11: "time exceeded", 5: "redirect"}
    if i.type == 3:
        codes = {0: "net unreachable", 1: "host unreachable", 2: "protocol unreachable", 3: "port unreachable",
                 9: "net prohibited", 10: "host prohibited", 13: "admin prohibited"}
        return codes.get(i.code, f"unreachable code {i.code}")
    return names.get(i.type, f"type {i.type} code {i.code}")


def numbered(traces: tuple["Trace", ...]) -> list[tuple[int, "Trace"]]:
    """The probe's packets numbered 1..n in the order they went on the wire (the same numbers in every picture).

    A packet that waited for ARP (its neighbour lookup found INCOMPLETE) goes
    after the ARP exchange that was started for it at the same instant.
    """
    from simnet.trace import NeighbourLookup

    order = sorted(traces, key=lambda t: (t.time, t.id))
    out: list["Trace"] = []
    waiting: list["Trace"] = []
    for t in order:
        if waiting and not (t.packet.arp is not None and t.time == waiting[0].time):
            out.extend(waiting)
            waiting = []
        if any(isinstance(s, NeighbourLookup) and s.state == "INCOMPLETE" for s in t.steps):
            waiting.append(t)
        else:
            out.append(t)
    out.extend(waiting)
    return list(enumerate(out, 1))


def style(n: int) -> dict[str, Any]:
    """Line style, marker and colour of packet ``n``: distinct without colour for the first eight."""
    i = n - 1
    return {"linestyle": LINESTYLES[i % len(LINESTYLES)], "marker": MARKERS[i % len(MARKERS)],
            "color": COLOURS[i % len(COLOURS)]}


def rule_label(table: str, chain: str, index: int, verdict: str, rule: str = "") -> str:
    """``table/CHAIN#N verdict``; a jump names its chain, a policy is ``#0``."""
    text = f"{table}/{chain}#{index} {verdict}"
    if verdict in ("jump", "goto") and rule:
        words = rule.split()
        for flag in ("-j", "-g"):
            if flag in words and words.index(flag) + 1 < len(words):
                text += f" {words[words.index(flag) + 1]}"
                break
    return text


def badge(ax: Any, x: float, y: float, n: int, *, size: float = 8.0) -> None:
    """A packet number in a white circle with a black ring."""
    ax.text(x, y, str(n), ha="center", va="center", fontsize=size, family=FONT, fontweight="bold", zorder=12,
            bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": "black", "linewidth": 0.8})


def text_width(text: str, size: float = 8.5) -> float:
    """Approximate width in inches of ``text`` in the monospace font at ``size`` points."""
    return len(text) * CHAR_W * size / 8.5
