"""``simnet capture``: the command line (the only part of :mod:`simnet.capture` that prints)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simnet.capture.reader import CommandRunner

__all__ = ["add_arguments", "main"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``simnet capture`` (shared with ``python -m simnet.capture``)."""
    p.add_argument("-o", "--output", default=None, help="write the script here (default: stdout)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all-netns", action="store_true",
                       help="also every namespace only a process holds (lsns)")
    which.add_argument("--netns", action="append", metavar="NAME", help="only this named namespace (repeatable)")
    p.add_argument("--docker", action="store_true", help="every running container's namespace (docker ps/inspect)")
    p.add_argument("--listeners", action="store_true", help="listening sockets (ss -ltnu) become stand-in listeners")
    p.add_argument("--neigh", action="store_true", help="dynamic neighbour entries too (not only permanent ones)")
    p.add_argument("--counters", action="store_true", help="iptables-save -c: keep rule and policy counters")
    p.add_argument("--redact", action="store_true",
                   help="replace addresses (prefix-preserving) and names, for a public bug report")
    p.add_argument("--redact-key", default=None, help=argparse.SUPPRESS)
    p.add_argument("--root-name", default="host", help="the root namespace's name in the script (default: host)")


def main(argv: Sequence[str] | None = None) -> int:
    """Capture this host; exit 0, or 2 when nothing could be read."""
    p = argparse.ArgumentParser(prog="simnet capture", description="Capture this host's network as a simnet script.")
    add_arguments(p)
    return run(p.parse_args(list(sys.argv[1:] if argv is None else argv)))


def run(args: argparse.Namespace, runner: "CommandRunner | None" = None) -> int:
    """Capture with parsed ``args`` (``runner``: the command runner, the real tools by default)."""
    from simnet.capture.reader import read_host, subprocess_runner
    from simnet.capture.redact import Redactor
    from simnet.capture.writer import write_script

    cap = read_host(runner or subprocess_runner, netns=args.netns, all_netns=args.all_netns, docker=args.docker,
                    listeners=args.listeners, neigh=args.neigh, counters=args.counters, root=args.root_name)
    if not cap.namespaces:
        for n in cap.notes:
            print(f"simnet capture: {n.what}", file=sys.stderr)
        print("simnet capture: nothing could be read", file=sys.stderr)
        return 2
    redactor = None
    if args.redact:
        key = args.redact_key.encode() if args.redact_key else os.urandom(32)
        redactor = Redactor(key)
    script = write_script(cap, redactor=redactor)
    for n in script.notes:  # redacted too: stderr ends up in bug reports as well
        what = redactor.text(n.what) if redactor else n.what
        where = f"{redactor.ns(n.netns) if redactor else n.netns}: " if n.netns else ""
        print(f"simnet capture: {where}{'skipped: ' if n.skipped else 'not modelled: '}{what}", file=sys.stderr)
    if args.output:
        with open(args.output, "w") as f:
            f.write(script.text)
    else:
        sys.stdout.write(script.text)
    return 0
