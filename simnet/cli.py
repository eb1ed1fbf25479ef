"""The ``simnet`` command: run, explain, show and graph scenario scripts.

Rich output for people, ``--json`` for programs.  Exit status: 0 when every
expectation holds, 1 when one fails, 2 on a script error (its ``file:line``
message goes to stderr).  This is the only module that prints.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="simnet", description="Simulate the Linux network stack from shell scripts.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario script and check its expectations")
    run.add_argument("script")
    run.add_argument("--json", action="store_true", help="print the report as one JSON document")
    run.add_argument("--trace", action="store_true", help="print every probe's trace")
    run.add_argument("--trace-format", choices=("tree", "kernel"), default="tree",
                     help="kernel: rule hits as the kernel's TRACE lines")
    ex = sub.add_parser("explain", help="say why the failed probes failed")
    ex.add_argument("script")
    ex.add_argument("--line", type=int, default=None, help="only the probe on this line")
    show = sub.add_parser("show", help="the world at the end of the script")
    show.add_argument("script")
    show.add_argument("netns", nargs="?")
    graph = sub.add_parser("graph", help="the topology as GraphML, JSON, PNG or SVG")
    graph.add_argument("script")
    graph.add_argument("-o", "--output", default=None, help="FILE.graphml | FILE.json | FILE.png | FILE.svg")
    exp = sub.add_parser("export", help="rewrite a docker-using script as plain ip/iptables (for kernel-run)")
    exp.add_argument("script")
    exp.add_argument("-o", "--output", default=None)
    kr = sub.add_parser("kernel-run", help="run the script on the real kernel (root; throwaway namespaces)")
    kr.add_argument("script")
    kr.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simnet`` console script; returns the exit status."""
    args = _parser().parse_args(list(argv) if argv is not None else None)
    if args.command == "export":
        from simnet.docker.export import main as export_main

        return export_main([args.script] + (["-o", args.output] if args.output else []))
    if args.command == "kernel-run":
        from simnet import conformance

        return int(conformance.main([args.script] + (["--json"] if args.json else [])) or 0)
    from simnet.script.expect import ScriptError
    from simnet.script.interpreter import run_script

    try:
        report = run_script(Path(args.script))
    except ScriptError as e:
        print(str(e), file=sys.stderr)
        return 2
    except OSError as e:
        print(f"simnet: {args.script}: {e.strerror}", file=sys.stderr)
        return 2
    console = Console(highlight=False, soft_wrap=True)
    if args.command == "run":
        return _run(report, args, console)
    if args.command == "explain":
        return _explain(report, args, console)
    if args.command == "show":
        return _show(report, args, console)
    return _graph(report, args, console)


def _run(report: Any, args: argparse.Namespace, console: Console) -> int:
    from simnet.render import report_renderable

    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0 if report.ok else 1
    for out in report.outputs:
        console.print(f"[bold]{report.filename}:{out['line']}[/]  {out['command']}", highlight=False)
        console.out(out["stdout"], end="", highlight=False)
    if args.trace_format == "kernel":
        console.print(report_renderable(report, traces="none"))
        if args.trace or report.failed:
            for p in report.probes:
                if args.trace or p.ok is False:
                    console.out(f"{report.filename}:{p.line}  {p.command}", highlight=False)
                    for line in kernel_trace_lines(p.result, report.world):
                        console.out("  " + line, highlight=False)
    else:
        console.print(report_renderable(report, traces="all" if args.trace else "failed"))
    return 0 if report.ok else 1


def kernel_trace_lines(result: Any, world: Any = None) -> list[str]:
    """Rule hits in the kernel's ``TRACE: table:chain:rule:N`` / ``policy:N`` / ``return:N`` shape."""
    from simnet.trace import RuleHit

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


def _explain(report: Any, args: argparse.Namespace, console: Console) -> int:
    from simnet.explain import explain

    diagnoses = explain(report, line=args.line)
    if not diagnoses:
        console.print("No failed probes." if args.line is None else f"No failed probe on line {args.line}.")
        return 0
    for d in diagnoses:
        console.print(f"[bold]{report.filename}:{d.line}:[/] {d.text()}", highlight=False)
    return 1 if report.failed else 0


def _show(report: Any, args: argparse.Namespace, console: Console) -> int:
    from simnet.render import conntrack_table, routes_table, ruleset_table, world_tree
    from simnet.script.ip import ip

    world = report.world
    names = [args.netns] if args.netns else sorted(world.namespaces)
    if args.netns and args.netns not in world.namespaces:
        print(f'simnet: no netns "{args.netns}" at the end of {args.script}', file=sys.stderr)
        return 2
    if not args.netns:
        console.print(world_tree(world))
    for name in names:
        ns = world.namespaces[name]
        console.rule(f"netns {name}")
        console.out(ip(world, ["-n", name, "addr"]), end="", highlight=False)
        console.print(routes_table(ns))
        neigh = ip(world, ["-n", name, "neigh"])
        if neigh:
            console.print("[bold]neighbours[/]")
            console.out(neigh, end="", highlight=False)
        for table in ns.ruleset.existing():
            console.print(ruleset_table(ns, str(table.name)))
        if len(ns.conntrack):
            console.print(conntrack_table(ns))
    return 0


def _graph(report: Any, args: argparse.Namespace, console: Console) -> int:
    import networkx as nx

    g = report.world.topology()
    plain = nx.MultiGraph()
    for node, data in g.nodes(data=True):
        plain.add_node(_node_id(node), **{k: _scalar(v) for k, v in data.items()})
    for u, v, data in g.edges(data=True):
        plain.add_edge(_node_id(u), _node_id(v), **{k: _scalar(x) for k, x in data.items()})
    out = args.output
    if out is None or out.endswith(".json"):
        text = json.dumps(nx.node_link_data(plain, edges="links") if _has_edges_kw() else nx.node_link_data(plain),
                          indent=2, sort_keys=True)
        if out is None:
            print(text)
        else:
            Path(out).write_text(text + "\n")
        return 0
    if out.endswith(".graphml"):
        buf = io.BytesIO()
        nx.write_graphml(plain, buf)
        Path(out).write_bytes(buf.getvalue())
        return 0
    if out.endswith((".png", ".svg")):
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("simnet: drawing PNG/SVG needs matplotlib (pip install 'simnet[draw]'); "
                  "use -o FILE.graphml or FILE.json instead", file=sys.stderr)
            return 2
        fig = plt.figure(figsize=(8, 6))
        pos = nx.spring_layout(plain, seed=0)
        nx.draw_networkx(plain, pos, node_size=300, font_size=7)
        fig.savefig(out)
        plt.close(fig)
        return 0
    print(f"simnet: cannot tell the format of {out!r}: use .graphml, .json, .png or .svg", file=sys.stderr)
    return 2


def _has_edges_kw() -> bool:
    import inspect

    import networkx as nx

    return "edges" in inspect.signature(nx.node_link_data).parameters


def _node_id(node: Any) -> str:
    return "/".join(str(p) for p in node)


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
