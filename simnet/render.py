"""Every bit of Rich code in simnet: traces, probes, rulesets, routes, conntrack, the world.

Each function returns a renderable and prints nothing; the output is
deterministic (namespaces, devices and chains in a fixed order, no clock).
The model classes hand themselves here through ``__rich__`` (Trace,
ProbeResult, Report).

Example:
    >>> import io
    >>> from rich.console import Console
    >>> from simnet.world import World
    >>> w = World()
    >>> _ = w.add_netns("a")
    >>> con = Console(width=60, color_system=None, file=io.StringIO())
    >>> con.print(world_tree(w))
    >>> print(con.file.getvalue(), end="")
    world (seed 0)
    └── netns a
        └── 1: lo DOWN 00:00:00:00:00:00
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text
from rich.theme import Theme

from simnet.trace import (
    Delivered,
    Dropped,
    IcmpSent,
    RuleHit,
    Step,
    Trace,
    Translated,
)

if TYPE_CHECKING:
    from rich.panel import Panel
    from rich.table import Table
    from rich.tree import Tree

    from simnet.netns import NetNamespace
    from simnet.probe import ProbeResult
    from simnet.world import World

__all__ = ["THEME", "conntrack_table", "kernel_trace_lines", "output_text", "probe_line", "probe_panel",
           "report_renderable", "routes_table", "ruleset_table", "trace_tree", "verdict_style", "world_tree"]

THEME = Theme({
    "verdict.accept": "green", "verdict.drop": "bold red", "verdict.nat": "yellow", "verdict.other": "cyan",
    "outcome.ok": "bold green", "outcome.bad": "bold red", "netns": "bold magenta", "muted": "dim",
})
"""Styles used here; pass to ``Console(theme=THEME)`` to get the named ones, else plain colours apply."""

_STYLES = {"ACCEPT": "green", "DROP": "bold red", "REJECT": "bold red", "DNAT": "yellow", "SNAT": "yellow",
           "MASQUERADE": "yellow", "REDIRECT": "yellow"}
_GOOD = ("reply", "connected", "delivered")


def verdict_style(verdict: str) -> str:
    """The colour of a verdict or target word: ACCEPT green, DROP/REJECT red, NAT yellow."""
    return _STYLES.get(verdict.split()[0].upper() if verdict else "", "cyan")


def _step_text(step: Step) -> Text:
    text = Text(step.text())
    if isinstance(step, RuleHit):
        text = Text()
        where = f"{step.table}/{step.chain}" + (f"#{step.index}" if step.index else " policy")
        text.append(where, style="bold")
        text.append(f"  {step.rule}  → ")
        text.append(step.verdict, style=verdict_style(step.verdict))
    elif isinstance(step, Dropped):
        text.stylize("bold red")
    elif isinstance(step, Translated):
        text.stylize("yellow")
    elif isinstance(step, Delivered):
        text.stylize("green")
    elif isinstance(step, IcmpSent):
        text.stylize("red")
    return text


def trace_tree(trace: Trace) -> Tree:
    """A packet's journey as a tree: one branch per namespace hop, one leaf per step."""
    head = Text(f"trace {trace.id}: {trace.packet}  ")
    head.append(str(trace.disposition), style="green" if trace.disposition.value == "delivered" else "bold red")
    if trace.caused_by is not None:
        head.append(f"  (answers trace {trace.caused_by})", style="dim")
    from rich.tree import Tree  # the rich parts load when first drawn (start-up: issue #16)

    tree = Tree(head)
    for netns, steps in trace.hops:
        hop = tree.add(Text(f"netns {netns}", style="bold magenta"))
        for step in steps:
            hop.add(_step_text(step))
    return tree


def _outcome_text(outcome: str) -> Text:
    return Text(outcome, style="bold green" if outcome in _GOOD else "bold red")


def probe_panel(result: "ProbeResult", *, title: str | None = None, traces: bool = True) -> Panel:
    """A probe's outcome, what the receiver saw, and (optionally) its packets' traces."""
    line = Text()
    port = f":{result.dport}" if result.dport is not None else ""
    line.append(f"{result.proto} {result.netns} → {result.dst}{port}: ")
    line.append_text(_outcome_text(result.outcome))
    line.append_text(_seen_text(result))
    parts: list[RenderableType] = [line]
    if traces:
        parts.extend(trace_tree(t) for t in result.traces)
    from rich.panel import Panel

    return Panel(Group(*parts), title=title, title_align="left")


def ruleset_table(ns: "NetNamespace", table: str = "filter") -> Group:
    """``iptables -t TABLE -L -v -n --line-numbers`` as tables, one per chain, with counters."""
    state = next((s for name, s in ns.ruleset.tables.items() if name == table), None)
    if state is None:
        return Group(Text(f"{ns.name}: no {table} table", style="dim"))
    from rich.table import Table

    out: list[RenderableType] = []
    refs = state.references()
    for chain in state.ordered_chains():
        if chain.builtin:
            title = (f"Chain {chain.name} (policy {chain.policy} {chain.policy_counters.packets} packets, "
                     f"{chain.policy_counters.bytes} bytes)")
        else:
            title = f"Chain {chain.name} ({refs.get(chain.name, 0)} references)"
        out.append(Text(f"{ns.name} {table}: {title}", style="bold"))
        t = Table(box=None, pad_edge=False)
        for col in ("num", "pkts", "bytes", "target", "rule"):
            t.add_column(col, justify="right" if col in ("num", "pkts", "bytes") else "left")
        for i, e in enumerate(chain.entries, 1):
            words = str(e.rule).split()
            target = next((words[k + 1] for k in range(len(words) - 1) if words[k] in ("-j", "-g")), "")
            t.add_row(str(i), str(e.counters.packets), str(e.counters.bytes),
                      Text(target, style=verdict_style(target)), str(e.rule))
        out.append(t)
    return Group(*out)


def routes_table(ns: "NetNamespace") -> Table:
    """Every routing table of a namespace, each route as ``ip route show table all`` prints it."""
    from rich.table import Table

    t = Table(title=f"{ns.name} routes", title_justify="left", box=None, pad_edge=False)
    t.add_column("table")
    t.add_column("route")
    for table_id in sorted(ns.fib.tables, key=lambda x: (x & 0xFF, x)):
        from simnet.routing import RouteTable

        for r in ns.fib.routes(table_id):
            t.add_row(RouteTable.name(table_id), str(r))
    return t


def conntrack_table(ns: "NetNamespace") -> Table:
    """``conntrack -L`` of a namespace as a table."""
    from rich.table import Table

    t = Table(title=f"{ns.name} conntrack", title_justify="left", box=None, pad_edge=False)
    t.add_column("entry")
    for line in ns.conntrack.listing():
        t.add_row(line)
    return t


def world_tree(world: "World") -> Tree:
    """Namespaces, devices (state, MAC, master, peer), addresses, in ifindex order."""
    from rich.tree import Tree

    tree = Tree(f"world (seed {world.seed})")
    for name in sorted(world.namespaces):
        ns = world.namespaces[name]
        branch = tree.add(Text(f"netns {name}", style="bold magenta"))
        for dev in sorted(ns.devices.values(), key=lambda d: d.ifindex):
            label = f"{dev.ifindex}: {dev.ifname} {dev.operstate} {dev.lladdr}"
            if dev.master:
                label += f" master {dev.master}"
            if dev.peer is not None:
                label += f" peer {dev.peer.netns.name}/{dev.peer.ifname}"
            node = branch.add(label)
            for a in ns.addrs:
                if a.dev == dev.ifname:
                    node.add(f"inet {a.interface.with_prefixlen}" + (" secondary" if a.secondary else ""))
    return tree


def probe_line(report: Any, p: Any) -> Text:
    """One probe of a script run: command, outcome, what the receiving application saw, the expectation's verdict.

    ``from ADDR`` here is what an ``# expect: ... from`` compares with (see
    :func:`simnet.script.expect.seen_from`): the ICMP message's source for
    reply/unreachable/ttl-exceeded, the source the listener saw otherwise.
    """
    line = Text(f"{report.filename}:{p.line}  {p.command}\n    → ")
    line.append_text(_outcome_text(p.result.outcome))
    line.append_text(_seen_text(p.result))
    if p.expect is not None:
        line.append("   expect " + str(p.expect) + ": ")
        line.append("ok" if p.ok else "FAILED", style="bold green" if p.ok else "bold red")
    return line


def _seen_text(r: "ProbeResult") -> Text:
    """`` from ADDR[:PORT]`` as ``# expect: ... from`` means it, the errno, and what else a receiver saw."""
    line = Text()
    if r.icmp is not None:
        if r.outcome == "reply":
            line.append(f" from {r.icmp.src}")
        else:
            # ping's words for 3/4: "Frag needed and DF set (mtu = N)"
            mtu = f", frag needed and DF set (mtu = {r.icmp.mtu})" if r.icmp.mtu is not None else ""
            line.append(f" from {r.icmp.src} (icmp {r.icmp.type}/{r.icmp.code}{mtu})")
    if r.errno:
        line.append(f" {r.errno}")
        if r.errno == "EMSGSIZE" and r.ping is not None and r.ping.mtu is not None:
            line.append(f" (ping: local error: message too long, mtu={r.ping.mtu})")
    if r.received is not None:
        sport = f":{r.received.sport}" if r.received.sport is not None else ""
        if r.outcome in ("reply", "unreachable", "ttl-exceeded"):
            line.append(f"; {r.received.ns} saw the request from {r.received.src}{sport}")
        else:
            line.append(f" from {r.received.src}{sport} (as {r.received.ns} saw it)")
    return line


def kernel_trace_lines(result: Any, world: Any = None) -> list[str]:
    """Rule hits in the kernel's ``TRACE: table:chain:rule:N`` / ``policy:N`` / ``return:N`` shape."""
    lines = []
    for t in result.traces:
        for s in t.steps:
            if not isinstance(s, RuleHit):
                continue
            if s.index == 0:
                kind, n = "policy", _policy_number(t, s, world)
            elif s.verdict == "RETURN" and "-j RETURN" not in s.rule:
                kind, n = "return", s.index
            else:
                kind, n = "rule", s.index
            lines.append(f"[{s.netns}] TRACE: {s.table}:{s.chain}:{kind}:{n} {t.packet}")
    return lines


def _policy_number(trace: Any, hit: Any, world: Any) -> int:
    """The kernel numbers a policy hit as the chain's rule count + 1 (rules as at the end of the run)."""
    try:
        chain = world.namespaces[hit.netns].ruleset.tables[hit.table].chains[hit.chain]
        return len(chain.entries) + 1
    except (AttributeError, KeyError):
        rule_hits = [s for s in trace.steps if getattr(s, "chain", None) == hit.chain
                     and getattr(s, "table", None) == hit.table and getattr(s, "index", 0)]
        return max((s.index for s in rule_hits), default=0) + 1


def output_text(report: Any, out: dict[str, Any]) -> Text:
    """A command's output under its ``file:line  command`` header, always ending in a newline.

    (``curl -w '%{http_code}'`` prints no newline; simnet's next line must not run into it.)
    """
    text = Text()
    text.append(f"{report.filename}:{out['line']}", style="bold")
    text.append(f"  {out['command']}\n")
    stdout = out["stdout"] + out.get("stderr", "")
    text.append(stdout[:-1] if stdout.endswith("\n") else stdout, style="")
    return text


def report_renderable(report: Any, *, traces: str = "failed", trace_format: str = "tree",
                      outputs: bool = False) -> Group:
    """A script run: one line per probe with its expectation's verdict; traces on failure.

    ``traces``: ``"failed"`` (probes whose expectation failed), ``"all"`` or ``"none"``;
    ``trace_format``: ``"tree"`` or ``"kernel"`` (the kernel's TRACE lines, beside each probe);
    ``outputs``: also the commands' outputs, all in script order.
    """
    parts: list[RenderableType] = []
    for kind, item in report.in_script_order():
        if kind == "output":
            if outputs:
                parts.append(output_text(report, item))
            continue
        p = item
        parts.append(probe_line(report, p))
        if traces == "all" or traces == "failed" and p.ok is False:
            if trace_format == "kernel":
                parts.append(Text("\n".join("    " + ln for ln in kernel_trace_lines(p.result, report.world))
                                  or "    (no rule hit)"))
            else:
                parts.extend(trace_tree(t) for t in p.result.traces)
    failed = len(report.failed)
    summary = Text(f"{len(report.probes)} probes, ")
    summary.append(f"{failed} expectation(s) failed" if failed else "all expectations hold",
                   style="bold red" if failed else "bold green")
    if report.commands == 0:
        summary = Text(f"{report.filename}: no command to run (the script is empty or holds only comments)")
    elif not report.probes:
        summary = Text(f"no probes ran ({report.commands} command(s))")
    parts.append(summary)
    return Group(*parts)
