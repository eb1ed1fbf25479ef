"""The ``simnet`` command: run, explain, show, graph and draw scenario scripts.

Rich output for people (wrapped in a terminal, full lines otherwise, outputs and
probes in script order), ``--json`` for programs.  ``-`` reads the script from
standard input.  Exit status: 0 when every expectation holds, 1 when one fails,
2 on a script error or an unwritable output (a one-line message naming the
``file:line`` or path goes to stderr; the probes that ran before a failing line
are printed first), 141 when the reader of the output goes away (as on SIGPIPE).
This is the only module that prints.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import io
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from simnet import __version__

    p = argparse.ArgumentParser(prog="simnet", description="Simulate the Linux network stack from shell scripts.")
    p.add_argument("--version", action="version", version=f"simnet {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    script_help = "the scenario script ('-': read it from standard input)"
    run = sub.add_parser("run", help="run a scenario script and check its expectations")
    run.add_argument("script", help=script_help)
    run.add_argument("--json", action="store_true", help="print the report as one JSON document")
    run.add_argument("--trace", action="store_true", help="print every probe's trace")
    run.add_argument("--trace-format", choices=("tree", "kernel"), default=None,
                     help="kernel: rule hits as the kernel's TRACE lines (implies --trace)")
    ex = sub.add_parser("explain", help="say what happened to each probe, and why")
    ex.add_argument("script", help=script_help)
    ex.add_argument("--line", type=int, default=None, help="only the probe on this line")
    show = sub.add_parser("show", help="the world at the end of the script")
    show.add_argument("script", help=script_help)
    show.add_argument("netns", nargs="?")
    graph = sub.add_parser("graph", help="the topology as GraphML, JSON, PNG or SVG")
    graph.add_argument("script", help=script_help)
    graph.add_argument("-o", "--output", default=None, help="FILE.graphml | FILE.json | FILE.png | FILE.svg")
    draw = sub.add_parser("draw", help="a picture of a probe or the world (PNG/SVG; needs matplotlib)")
    draw.add_argument("script")
    draw.add_argument("--kind", choices=("hooks", "topology", "sequence", "chains"), default="hooks")
    draw.add_argument("--line", type=int, default=None, help="the probe's line (hooks, sequence; topology: its path)")
    draw.add_argument("--netns", default=None, help="chains: the namespace (default: the first with rules)")
    draw.add_argument("--table", default=None, help="chains: only this table")
    draw.add_argument("--routes", action="store_true", help="topology: list each namespace's routes")
    draw.add_argument("-o", "--output", required=True, help="FILE.png | FILE.svg")
    exp = sub.add_parser("export", help="rewrite a docker-using script as plain ip/iptables (for kernel-run)")
    exp.add_argument("script")
    exp.add_argument("-o", "--output", default=None)
    rc = sub.add_parser("reach", help="who reaches whom (a matrix), each probe from the set-up state")
    rc.add_argument("script", help=script_help)
    rc.add_argument("--from", dest="sources", nargs="+", default=None, metavar="NS")
    rc.add_argument("--to", nargs="+", default=None, metavar="NS|ADDR")
    rc.add_argument("--proto", choices=("tcp", "udp", "icmp"), default="tcp")
    rc.add_argument("--ports", default="all", help="22,80,8000-8100 or all (probed once per port class)")
    rc.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    rc.add_argument("--dask", default=None, metavar="ADDRESS|local",
                    help="run on a Dask cluster (scheduler address, or 'local'); needs simnet[dask]")
    rc.add_argument("--shared", action="store_true", help="probes share conntrack/ARP state (in order)")
    rc.add_argument("--json", action="store_true")
    rc.add_argument("-o", "--output", default=None, help="FILE.png | FILE.svg: the matrix as a picture")
    kr = sub.add_parser("kernel-run", help="run the script on the real kernel (root; throwaway namespaces)")
    kr.add_argument("script")
    kr.add_argument("--json", action="store_true")
    from simnet.capture.command import add_arguments as capture_arguments

    capture_arguments(sub.add_parser("capture", help="this host's network as a script (read-only; root for all)"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simnet`` console script; returns the exit status.

    A reader that goes away (``simnet run --json X | head -c 10``) ends the
    command quietly, as Unix tools end on SIGPIPE (status 141).
    """
    # at exit, Python's last full collection walks every object the run built (1.5 s CPU after a
    # 100,000-rule restore) only to free memory the process gives back anyway: freeze them first
    atexit.unregister(gc.freeze)  # once, however often main runs in one process
    atexit.register(gc.freeze)
    try:
        status = _main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at /dev/null
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 128 + signal.SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    if args.command == "export":
        return _export(args)
    if args.command == "capture":
        from simnet.capture.command import run as capture_run

        return capture_run(args)
    if args.command == "reach":
        return _reach(args)
    if args.command == "kernel-run":
        from simnet import conformance
        from simnet.script.expect import ScriptError
        from simnet.script.interpreter import decode_script

        try:  # the runner's own message for a non-UTF-8 script names neither file nor line
            decode_script(Path(args.script).read_bytes(), args.script)
        except ScriptError as e:
            print(str(e), file=sys.stderr)
            return 2
        except OSError:
            pass  # the runner says it
        return int(conformance.main([args.script] + (["--json"] if args.json else [])) or 0)
    from simnet.script.expect import ScriptError
    from simnet.script.interpreter import decode_script, run_script

    console = _console()
    try:
        if args.script == "-":
            report = run_script(decode_script(sys.stdin.buffer.read(), "<stdin>"), filename="<stdin>")
        else:
            report = run_script(Path(args.script))
    except ScriptError as e:
        partial = getattr(e, "report", None)
        if partial is not None and args.command == "run":
            _run(partial, args, console)
        elif partial is not None and args.command == "explain" and partial.probes:
            _explain(partial, args, console)
        print(str(e), file=sys.stderr)
        return 2
    except OSError as e:
        print(f"simnet: {args.script}: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(report, args, console)
    if args.command == "explain":
        return _explain(report, args, console)
    if args.command == "show":
        return _show(report, args, console)
    if args.command == "draw":
        return _draw(report, args)
    return _graph(report, args, console)


def _reach(args: argparse.Namespace) -> int:
    from simnet.reach import reach
    from simnet.script.expect import ScriptError

    try:
        text = sys.stdin.read() if args.script == "-" else Path(args.script).read_text()
        matrix = reach(text, filename="<stdin>" if args.script == "-" else args.script, sources=args.sources,
                       to=args.to, proto=args.proto, ports=args.ports, jobs=args.jobs, shared=args.shared,
                       dask=args.dask)
        if args.output:
            matrix.figure().savefig(args.output)
    except (ScriptError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 2
    except OSError as e:
        print(f"simnet: {e.filename or args.script}: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(matrix.to_json(), indent=2))
    else:
        _console().print(matrix)
    return 0


class _Console(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError  # main() ends quietly, with every verb's status alike (rich would exit 1)


def _console() -> Console:
    """Wrap long lines in a terminal; never crop: full lines when the output is not a terminal."""
    if sys.stdout.isatty():
        return _Console(highlight=False)
    return _Console(highlight=False, width=1_000_000, soft_wrap=False)


def _draw(report: Any, args: argparse.Namespace) -> int:
    """``simnet draw``: one of simnet.draw's pictures, saved to ``-o``."""
    try:
        from simnet import draw
        from simnet.draw._common import pyplot

        pyplot()
    except ImportError:
        print("simnet: drawing needs matplotlib (pip install 'simnet[draw]')", file=sys.stderr)
        return 2
    if not args.output.endswith((".png", ".svg")):
        print(f"simnet: cannot tell the format of {args.output!r}: use .png or .svg", file=sys.stderr)
        return 2
    probe = None
    if args.line is not None:
        probe = next((p for p in report.probes if p.line == args.line), None)
        if probe is None:
            lines = ", ".join(str(p.line) for p in report.probes) or "none"
            print(f"simnet: {args.script}:{args.line}: no probe on this line (probes: {lines})", file=sys.stderr)
            return 2
    elif args.kind in ("hooks", "sequence"):
        print(f"simnet: draw --kind {args.kind} needs --line N (the probe's line)", file=sys.stderr)
        return 2
    if args.kind == "hooks":
        fig = draw.hooks(probe, world=report.world)
    elif args.kind == "sequence":
        fig = draw.sequence(probe, world=report.world)
    elif args.kind == "topology":
        fig = draw.topology(report.world, probe=probe, routes=args.routes)
    else:
        netns = args.netns or next((n for n, ns in report.world.namespaces.items()
                                    if any(c.entries for t in ns.ruleset.existing() for c in t.chains.values())),
                                   None)
        if netns is None or netns not in report.world.namespaces:
            print(f'simnet: no netns "{args.netns}" at the end of {args.script}' if args.netns
                  else f"simnet: no namespace of {args.script} has an iptables rule", file=sys.stderr)
            return 2
        try:
            fig = draw.chains(report.world, netns, table=args.table)
        except KeyError as e:
            print(f"simnet: {e.args[0]}", file=sys.stderr)
            return 2
    buf = io.BytesIO()
    fig.savefig(buf, format=args.output.rsplit(".", 1)[1])
    return _write(args.output, buf.getvalue())


def _run(report: Any, args: argparse.Namespace, console: Console) -> int:
    from simnet.render import report_renderable

    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0 if report.ok else 1
    trace_format = args.trace_format or "tree"
    trace = args.trace or args.trace_format == "kernel"
    console.print(report_renderable(report, traces="all" if trace else "failed", trace_format=trace_format,
                                    outputs=True))
    return 0 if report.ok else 1


def kernel_trace_lines(result: Any, world: Any = None) -> list[str]:
    """Rule hits in the kernel's TRACE shape (see :func:`simnet.render.kernel_trace_lines`)."""
    from simnet.render import kernel_trace_lines as lines

    return lines(result, world)


def _explain(report: Any, args: argparse.Namespace, console: Console) -> int:
    from simnet.explain import explain

    if args.line is not None and not any(p.line == args.line for p in report.probes):
        where = ", ".join(str(p.line) for p in report.probes)
        print(f"simnet: {report.filename}:{args.line}: no probe on this line"
              + (f" (probes are on lines {where})" if where else " (the script ran no probe)"), file=sys.stderr)
        return 2
    diagnoses = explain(report, line=args.line)
    if not diagnoses:
        console.print(f"{report.filename}: the script ran no probe.")
        return 0
    for i, d in enumerate(diagnoses):
        if i:
            console.print()
        head = Text(f"{report.filename}:{d.line}:", style="bold")
        head.append(" " + d.text(), style="")
        console.print(head)
    return 1 if report.failed else 0


def _write(path: str, data: bytes) -> int:
    """Write an output file; a one-line error naming it (exit 2) when that cannot be done."""
    try:
        Path(path).write_bytes(data)
    except IsADirectoryError:
        print(f"simnet: cannot write {path}: it is a directory", file=sys.stderr)
        return 2
    except FileNotFoundError:
        print(f"simnet: cannot write {path}: directory {str(Path(path).parent)!r} does not exist", file=sys.stderr)
        return 2
    except NotADirectoryError:
        print(f"simnet: cannot write {path}: a part of its directory is a file, not a directory", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"simnet: cannot write {path}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


def _export(args: argparse.Namespace) -> int:
    from simnet.docker.export import export_scenario
    from simnet.script.expect import ScriptError

    try:
        exported = export_scenario(Path(args.script))
    except ScriptError as e:
        print(str(e), file=sys.stderr)
        return 2
    except OSError as e:
        print(f"simnet: {args.script}: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.output:
        return _write(args.output, exported.text.encode())
    sys.stdout.write(exported.text)
    return 0


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
        console.print(Rule(f"netns {name}"), width=min(console.width, 100))
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
    if out is not None and not out.endswith((".json", ".graphml", ".png", ".svg")):
        print(f"simnet: cannot tell the format of {out!r}: use .graphml, .json, .png or .svg", file=sys.stderr)
        return 2
    if out is None or out.endswith(".json"):
        text = json.dumps(nx.node_link_data(plain, edges="links") if _has_edges_kw() else nx.node_link_data(plain),
                          indent=2, sort_keys=True)
        if out is None:
            print(text)
            return 0
        return _write(out, (text + "\n").encode())
    if out.endswith(".graphml"):
        buf = io.BytesIO()
        nx.write_graphml(plain, buf)
        return _write(out, buf.getvalue())
    if out.endswith((".png", ".svg")):
        try:
            from simnet.draw import topology
            from simnet.draw._common import pyplot

            pyplot()
        except ImportError:
            print("simnet: drawing PNG/SVG needs matplotlib (pip install 'simnet[draw]'); "
                  "use -o FILE.graphml or FILE.json instead", file=sys.stderr)
            return 2
        buf = io.BytesIO()
        topology(report.world).savefig(buf, format=out.rsplit(".", 1)[1])
        return _write(out, buf.getvalue())
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
