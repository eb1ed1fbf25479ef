"""Execute the course notebooks through a real Jupyter kernel; compare or store their outputs.

    python tools/run_notebooks.py            # execute each, compare with the stored outputs
    python tools/run_notebooks.py --store    # execute each and store the outputs (and cell ids)
    python tools/run_notebooks.py 02_*.ipynb # only these

Text outputs must equal the stored ones exactly (simnet is deterministic); a stored
picture must come back as a picture; execution counts run 1..n.  Prints one line per
notebook with its execution time; exits 1 on any difference or error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def execute(path: Path, timeout: int = 600) -> Any:
    """The notebook executed top to bottom by a python3 kernel, in the notebooks folder."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)  # timings would change the file on every run
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False, record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce(cell.outputs)
    return nb


def coalesce(outputs: list[Any]) -> list[Any]:
    """Consecutive stream outputs of one name merged: how the kernel chunks a cell's prints varies."""
    out: list[Any] = []
    for o in outputs:
        if out and o["output_type"] == "stream" and out[-1]["output_type"] == "stream" \
                and out[-1]["name"] == o["name"]:
            out[-1]["text"] += o["text"]
        else:
            out.append(o)
    return out


def text_outputs(cell: Any) -> list[str]:
    out = []
    for o in coalesce([dict(x) for x in cell.get("outputs", [])]):
        if o["output_type"] == "stream":
            out.append(f"{o['name']}: {o['text']}")
        elif o["output_type"] in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "image/png" in data:
                out.append("<image/png>")
            elif "text/plain" in data:
                out.append(data["text/plain"] if isinstance(data["text/plain"], str) else "".join(data["text/plain"]))
        elif o["output_type"] == "error":
            out.append(f"error: {o['ename']}: {o['evalue']}")
    return out


def compare(stored: Any, fresh: Any) -> list[str]:
    """Differences between a stored notebook and a freshly executed one (empty when they agree)."""
    problems = []
    code = [c for c in fresh.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"execution counts {counts} are not 1..{len(code)}")
    old = [c for c in stored.cells if c.cell_type == "code"]
    if len(old) != len(code):
        return problems + [f"{len(old)} stored code cells, {len(code)} executed"]
    for i, (a, b) in enumerate(zip(old, code), 1):
        if not a.get("id"):
            problems.append(f"code cell {i} has no id")
        if text_outputs(a) != text_outputs(b):
            problems.append(f"code cell {i} ({a.get('id')}): stored {text_outputs(a)!r}\n   now {text_outputs(b)!r}")
    if not any("<image/png>" in text_outputs(c) for c in code):
        problems.append("no picture (image/png output)")
    return problems


def main(argv: list[str] | None = None) -> int:
    import nbformat

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", help="names or globs under notebooks/ (default: all)")
    p.add_argument("--store", action="store_true", help="write the fresh outputs into the notebooks")
    args = p.parse_args(argv)
    paths = sorted({q for pat in (args.notebooks or ["*.ipynb"]) for q in NOTEBOOKS.glob(pat)})
    status = 0
    for path in paths:
        start = time.perf_counter()
        fresh = execute(path)
        took = time.perf_counter() - start
        if args.store:
            nbformat.validate(fresh)
            nbformat.write(fresh, path)
            print(f"{path.name}: executed in {took:.1f} s, stored")
            continue
        problems = compare(nbformat.read(path, as_version=4), fresh)
        print(f"{path.name}: executed in {took:.1f} s, " + ("outputs agree" if not problems else "DIFFERS"))
        for prob in problems:
            print("  " + prob)
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main())
