"""Pyodide on this machine: the pinned npm package, simnet's wheel and its dependencies' wheels.

Shared by the Pyodide conformance test, the JupyterLite site build (tools/build_site.py) and the
benchmark. Everything downloaded is cached outside the repository (``SIMNET_BROWSER_CACHE``,
default ``~/.cache/simnet/browser``) so later runs, and CI runs on the same machine, reuse it;
nothing is ever fetched from a CDN: the npm registry and PyPI (through npm and pip) only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The Pyodide that jupyterlite-pyodide-kernel 0.8.6 is built for (its PYODIDE_VERSION).
PYODIDE_VERSION = "314.0.6"
JUPYTERLITE_VERSION = "0.8.6"
# simnet's runtime dependencies, pinned to what this CPython has installed, so a difference
# between the two reports is simnet's and not a dependency's.
RUNTIME_DEPS = ("networkx", "rich", "hypothesis")


class Unavailable(RuntimeError):
    """npm, node or a registry cannot be reached: the caller skips with this reason."""


def cache_dir() -> Path:
    path = Path(os.environ.get("SIMNET_BROWSER_CACHE", Path.home() / ".cache" / "simnet" / "browser"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(argv: list[str], *, timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def pyodide_dir(version: str = PYODIDE_VERSION) -> Path:
    """The npm ``pyodide`` package's folder (pyodide.mjs, the wasm, the stdlib zip, the lock)."""
    prefix = cache_dir() / f"pyodide-{version}"
    pkg = prefix / "node_modules" / "pyodide"
    if (pkg / "pyodide.mjs").exists() and (pkg / "python_stdlib.zip").exists():
        return pkg
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not installed (.ci/run installs nodejs and npm with apt-get)")
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "package.json").write_text('{"private": true}\n')
    try:
        done = _run(["npm", "install", "--no-audit", "--no-fund", "--no-save", f"pyodide@{version}"],
                    cwd=prefix, timeout=300)
    except subprocess.TimeoutExpired:
        raise Unavailable("npm install pyodide timed out: the npm registry is unreachable") from None
    if done.returncode != 0 or not (pkg / "pyodide.mjs").exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise Unavailable(f"npm install pyodide@{version} failed: {' | '.join(tail)}")
    return pkg


def build_wheel(out: Path) -> Path:
    """Build simnet's wheel from the working tree (fresh, every call) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("simnet-*.whl"):
        old.unlink()
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                 "-w", str(out), str(ROOT)], timeout=300)
    wheels = sorted(out.glob("simnet-*.whl"))
    if done.returncode != 0 or not wheels:
        raise RuntimeError(f"building simnet's wheel failed:\n{done.stderr}")
    for scratch in (*(ROOT / "build").glob("lib*"), *(ROOT / "build").glob("bdist*")):  # setuptools' leftovers
        shutil.rmtree(scratch, ignore_errors=True)
    return wheels[0]


def dependency_wheels(extra: tuple[str, ...] = ()) -> list[Path]:
    """Pure-Python wheels of simnet's dependencies (and ``extra`` requirements), pip-downloaded once.

    The versions are the ones this interpreter has installed; every wheel must be pure
    (``none-any``), since Pyodide cannot load a compiled CPython wheel.
    """
    reqs = [f"{name}=={metadata.version(name)}" for name in RUNTIME_DEPS] + list(extra)
    key = "-".join(r.replace("==", "") for r in reqs)
    dest = cache_dir() / "wheels" / key
    stamp = dest / ".complete"
    if not stamp.exists():
        dest.mkdir(parents=True, exist_ok=True)
        try:
            done = _run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(dest),
                         *reqs], timeout=300)
        except subprocess.TimeoutExpired:
            raise Unavailable("pip download timed out: PyPI is unreachable") from None
        if done.returncode != 0:
            raise Unavailable(f"pip download {' '.join(reqs)} failed: {done.stderr.strip().splitlines()[-1:]}")
        stamp.write_text(" ".join(reqs) + "\n")
    wheels = sorted(dest.glob("*.whl"))
    compiled = [w.name for w in wheels if not w.name.endswith("-none-any.whl")]
    if compiled:
        raise RuntimeError(f"not pure-Python, Pyodide cannot load them: {compiled}")
    return wheels


def run_in_node(pyodide: Path, wheels: list[Path], code: str, *, timeout: float = 600) -> dict:
    """Run Python ``code`` in Pyodide under Node with ``wheels`` installed; return what it printed as JSON.

    The repository is mounted at ``/repo`` (for its scenarios; it is not the working directory,
    so ``import simnet`` finds the installed wheel, not the source tree); ``code`` must print one
    JSON document on its last line of stdout. The result also
    carries ``"_boot_s"`` (Pyodide's own start) and ``"_install_s"`` (unpacking the wheels).
    """
    if shutil.which("node") is None:
        raise Unavailable("node is not installed (.ci/run installs nodejs and npm with apt-get)")
    script = cache_dir() / "run_in_pyodide.mjs"
    script.write_text(_NODE_RUNNER)
    request = cache_dir() / f"request-{os.getpid()}.json"
    request.write_text(json.dumps({"pyodide": str(pyodide) + "/", "wheels": [str(w) for w in wheels],
                                   "repo": str(ROOT), "code": code}))
    try:
        done = _run(["node", str(script), str(request)], timeout=timeout)
    finally:
        request.unlink(missing_ok=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or len(lines) < 2:
        err = "\n".join(line for line in done.stderr.splitlines() if len(line) < 400)  # no minified source
        raise RuntimeError(f"Pyodide under Node failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n{err[-2000:]}")
    result = json.loads(lines[-1])
    timings = json.loads(lines[-2])
    result["_boot_s"], result["_install_s"] = timings["boot_s"], timings["install_s"]
    return result


# Loads Pyodide from the npm package's own folder (indexURL), so no package is ever fetched
# from a CDN: only the wheels handed over are installed (unpacked into site-packages).
_NODE_RUNNER = r"""
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const req = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { loadPyodide } = await import(pathToFileURL(req.pyodide + "pyodide.mjs").href);
let t0 = performance.now();
const py = await loadPyodide({ indexURL: req.pyodide, stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
const boot = (performance.now() - t0) / 1000;
t0 = performance.now();
const sitePackages = py.runPython("import sysconfig; sysconfig.get_path('purelib')");
for (const w of req.wheels) py.unpackArchive(new Uint8Array(readFileSync(w)), "wheel", { extractDir: sitePackages });
const install = (performance.now() - t0) / 1000;
py.FS.mkdirTree("/repo");
py.FS.mount(py.FS.filesystems.NODEFS, { root: req.repo }, "/repo");
let out = "";
py.setStdout({ batched: (s) => { out += s + "\n"; } });
try {
  await py.runPythonAsync(req.code);
} catch (e) {
  // a Python exception's message is its traceback; printed plainly (an uncaught one would
  // dump a line of Pyodide's minified source first and may be cut off at exit)
  process.stdout.write(out + "\n" + String(e.message || e) + "\n");
  process.exit(3);
}
const lines = out.trim().split("\n");
// Python's JSON text is passed on untouched: a JSON.parse round trip would turn 0.0 into 0
process.stdout.write(JSON.stringify({ boot_s: boot, install_s: install }) + "\n" + lines[lines.length - 1] + "\n");
"""


def timed(fn, *args, **kwargs):
    """``(result, seconds)`` of one call."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0
