"""Measure simnet against the kernel on real iptables-save dumps (issue #13).

Usage: ``python tools/measure_dumps.py PATH... [--json] [--timeout S]``

Every file under the PATHs that looks like an IPv4 iptables-save dump (a ``*table`` line and a
``COMMIT``; identical files counted once) is loaded three ways: by the kernel's
``iptables-restore`` in a throwaway ``unshare --net`` namespace (root only, bounded by
``--timeout``), then ``iptables-save`` there; by simnet's ``iptables-restore``; and simnet's
``iptables-save`` is compared byte for byte with the kernel's (comment lines aside). Nothing is
copied from the dumps: they are read where they lie (public collections such as
diekmann/net-network are CC BY-NC-SA and must never be committed). Prints one line per dump and
the counts; ``--json`` prints one JSON object per dump and the summary instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from simnet.netfilter.iptables import IptablesError, iptables_restore, iptables_save
from simnet.netfilter.ruleset import Ruleset

_TABLE = re.compile(r"^\*(filter|nat|mangle|raw|security)\s*$", re.M)
_COMMIT = re.compile(r"^COMMIT\s*$", re.M)


def dumps(paths: list[str]) -> list[Path]:
    """The dump files under ``paths``, each content once, in path order."""
    seen: set[str] = set()
    found: list[Path] = []
    for root in paths:
        p = Path(root)
        for f in sorted([p] if p.is_file() else (x for x in p.rglob("*") if x.is_file())):
            data = f.read_bytes()
            text = data.decode("utf-8", "replace")
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen or not (_TABLE.search(text) and _COMMIT.search(text)):
                continue
            seen.add(digest)
            found.append(f)
    return found


def _body(save: str) -> str:
    return "".join(line + "\n" for line in save.splitlines() if not line.startswith("#"))


def kernel(path: Path, timeout: float) -> dict[str, object]:
    """iptables-restore then iptables-save in a new network namespace."""
    script = 'iptables-restore < "$1" || exit $?; iptables-save'
    try:
        proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", script, "sh", str(path)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"loaded": False, "error": f"timeout after {timeout:g} s"}
    if proc.returncode != 0:
        return {"loaded": False, "error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[0]}
    return {"loaded": True, "save": _body(proc.stdout)}


def simnet(path: Path) -> dict[str, object]:
    """simnet's iptables-restore then iptables-save."""
    rs = Ruleset()
    rs.sets = {}  # a fresh namespace has no ipsets: a rule naming one is refused, as by the kernel
    try:
        with open(path, newline="", errors="replace") as f:  # keep CRs: iptables-restore keeps them
            text = f.read()
        iptables_restore(rs, [], text, filename=path.name)
    except IptablesError as e:
        return {"loaded": False, "error": str(e).strip().splitlines()[0]}
    return {"loaded": True, "save": _body(iptables_save(rs))}


def _first_difference(a: str, b: str) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return f"line {n}: simnet {x!r}, kernel {y!r}"
    return f"lengths differ: simnet {len(a.splitlines())} lines, kernel {len(b.splitlines())}"


def measure(path: Path, timeout: float) -> dict[str, object]:
    t0 = time.perf_counter()
    k = kernel(path, timeout)
    t1 = time.perf_counter()
    s = simnet(path)
    t2 = time.perf_counter()
    row: dict[str, object] = {"dump": str(path), "kernel_loads": k["loaded"], "simnet_loads": s["loaded"],
                              "kernel_s": round(t1 - t0, 2), "simnet_s": round(t2 - t1, 2)}
    if not k["loaded"]:
        row["kernel_error"] = k["error"]
    if not s["loaded"]:
        row["simnet_error"] = s["error"]
    if k["loaded"] and s["loaded"]:
        row["save_equal"] = k["save"] == s["save"]
        if not row["save_equal"]:
            row["difference"] = _first_difference(str(s["save"]), str(k["save"]))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="dump files or folders to search")
    ap.add_argument("--json", action="store_true", help="one JSON object per dump, then the summary")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds for each kernel load (default 300)")
    args = ap.parse_args(argv)
    rows = [measure(p, args.timeout) for p in dumps(args.paths)]
    summary = {
        "dumps": len(rows),
        "kernel_loads": sum(bool(r["kernel_loads"]) for r in rows),
        "simnet_loads": sum(bool(r["simnet_loads"]) for r in rows),
        "both_load": sum(bool(r["kernel_loads"] and r["simnet_loads"]) for r in rows),
        "save_equal": sum(bool(r.get("save_equal")) for r in rows),
        "simnet_refuses_what_kernel_loads": sum(bool(r["kernel_loads"] and not r["simnet_loads"]) for r in rows),
        "simnet_loads_what_kernel_refuses": sum(bool(not r["kernel_loads"] and r["simnet_loads"]) for r in rows),
    }
    for r in rows:
        if args.json:
            print(json.dumps(r))
            continue
        state = ("equal" if r.get("save_equal") else "DIFFERENT" if "save_equal" in r else
                 "kernel refuses" if not r["kernel_loads"] else "SIMNET REFUSES")
        detail = r.get("difference") or r.get("simnet_error") or r.get("kernel_error") or ""
        print(f"{state:15} {r['dump']}" + (f"\n                {detail}" if detail and state != "equal" else ""))
    print(json.dumps(summary) if args.json else " ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
