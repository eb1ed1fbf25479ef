"""Build the course as a static JupyterLite site: ``python tools/build_site.py`` -> build/site/.

What the site holds, all served from itself (no CDN, no PyPI at run time):

* JupyterLite (jupyterlite-core + jupyterlite-pyodide-kernel, pinned, and jupyter-server, installed
  from PyPI into a virtual environment in the cache, ``SIMNET_BROWSER_CACHE``, default ``~/.cache/simnet/browser``);
* Pyodide from the npm ``pyodide`` package (the version the kernel is built for) in
  ``static/pyodide/``, with micropip and packaging as pure wheels from PyPI beside it. Pyodide's
  compiled packages (numpy, matplotlib, ...) are in neither the npm package nor PyPI: the lock
  points them at Pyodide's CDN (absolute URLs, which the browser's loader honours), so a browser
  online can load matplotlib for ``simnet.draw``; ``--offline`` drops them (no picture can draw);
* piplite wheels in ``pypi/``: simnet's wheel (built fresh from this tree), its dependencies and
  the kernel's own (ipython, jedi, comm, ...), all pure-Python wheels pip downloads for Python 3.14;
  PyPI fallback is switched off, so ``await piplite.install(["simnet"])`` takes the bundled one;
* the files: ``notebooks/`` and ``scenarios/`` as in the repository (notebooks open
  ``../scenarios/...`` there too).

Serve it with ``python -m http.server -d build/site 8000 --bind 127.0.0.1`` and open
http://127.0.0.1:8000/lab/index.html. ``--serve`` does that after the build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

try:
    from tools import pyodide_env
except ImportError:  # run as a script: tools/ is sys.path[0]
    import pyodide_env  # type: ignore[no-redef]

ROOT = pyodide_env.ROOT
OUTPUT = ROOT / "build" / "site"
LITE_SRC = ROOT / "build" / "site-src"
# the pure wheels the Pyodide kernel installs at start (versions of Pyodide 314.0.6's lock)
KERNEL_DEPS = ("ipython==9.12.0", "jedi==0.19.2", "comm")
# what Pyodide itself loads from its lock before piplite exists
LOCK_KEEP = ("micropip", "packaging")
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{pyodide_env.PYODIDE_VERSION}/full"


def lite_python() -> Path:
    """A virtual environment with the pinned JupyterLite (created on first use)."""
    env = pyodide_env.cache_dir() / f"jupyterlite-{pyodide_env.JUPYTERLITE_VERSION}"
    python = env / "bin" / "python"
    v = pyodide_env.JUPYTERLITE_VERSION
    # jupyter-server indexes the files (notebooks, scenarios) for the site's file browser
    reqs = [f"jupyterlite-core=={v}", f"jupyterlite-pyodide-kernel=={v}", "jupyter-server"]
    stamp = env / "requirements.txt"
    if not stamp.exists() or stamp.read_text().split() != reqs:
        venv.create(env, with_pip=True, clear=not python.exists())
        subprocess.run([str(python), "-m", "pip", "install", "-q", *reqs], check=True, timeout=600)
        stamp.write_text("\n".join(reqs) + "\n")
    return python


def pure_wheels(reqs: list[str], dest: Path) -> list[Path]:
    """pip-download ``reqs`` and their dependencies as wheels for Pyodide's Python (3.14): pure ones only."""
    dest.mkdir(parents=True, exist_ok=True)
    stamp = dest / ".complete"
    if not stamp.exists() or stamp.read_text() != " ".join(reqs) + "\n":
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--platform", "any",
                        "--python-version", "3.14", "-d", str(dest), *reqs], check=True, timeout=600)
        stamp.write_text(" ".join(reqs) + "\n")
    wheels = sorted(dest.glob("*.whl"))
    compiled = [w.name for w in wheels if not w.name.endswith("-none-any.whl")]
    if compiled:
        raise SystemExit(f"build_site: not pure-Python, Pyodide cannot load them: {compiled}")
    return wheels


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def local_pyodide(dest: Path, wheels: list[Path], served: set[str], *, offline: bool) -> None:
    """The npm package's Pyodide in ``dest``, with a lock fitted to the site.

    micropip and packaging are served beside it; what piplite serves is dropped from the lock
    (micropip prefers the lock, whose networkx would pull numpy and matplotlib); every other entry
    (numpy, matplotlib, ... compiled for Pyodide, which no registry here carries) points at
    Pyodide's CDN, so a browser online can still load them, or is dropped with ``offline``.
    """
    src = pyodide_env.pyodide_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and not f.name.endswith((".map", ".d.ts", ".html", ".md")) and f.name != "package.json":
            shutil.copy2(f, dest / f.name)
    lock = json.loads((src / "pyodide-lock.json").read_text())
    packages = {}
    for name, entry in lock["packages"].items():
        entry = dict(entry)
        if name in LOCK_KEEP:
            wheel = next(w for w in wheels if _norm(w.name.split("-")[0]) == name)
            shutil.copy2(wheel, dest / wheel.name)
            entry.update(file_name=wheel.name, version=wheel.name.split("-")[1], sha256=_sha256(wheel))
        elif _norm(name) in served or offline:
            continue
        else:
            entry["file_name"] = f"{PYODIDE_CDN}/{entry['file_name']}"
        packages[name] = entry
    for entry in packages.values():
        entry["depends"] = [d for d in entry.get("depends", []) if d in packages]
    lock["packages"] = packages
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1) + "\n")


def build(output: Path = OUTPUT, notebooks: Path = ROOT / "notebooks", *, offline: bool = False) -> Path:
    python = lite_python()
    shutil.rmtree(LITE_SRC, ignore_errors=True)
    (LITE_SRC / "pypi").mkdir(parents=True)
    simnet_wheel = pyodide_env.build_wheel(LITE_SRC / "pypi")
    deps = [f"{name}=={pyodide_env.metadata.version(name)}" for name in pyodide_env.RUNTIME_DEPS]
    wheels = pure_wheels(sorted(deps + list(KERNEL_DEPS) + list(LOCK_KEEP)),
                         pyodide_env.cache_dir() / "site-wheels")
    served = {"simnet"}
    for w in wheels:
        if _norm(w.name.split("-")[0]) not in LOCK_KEEP:
            shutil.copy2(w, LITE_SRC / "pypi" / w.name)
            served.add(_norm(w.name.split("-")[0]))
    local_pyodide(LITE_SRC / "static" / "pyodide", wheels, served, offline=offline)
    files = LITE_SRC / "files"
    shutil.copytree(notebooks, files / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "scenarios", files / "scenarios")
    (LITE_SRC / "jupyter-lite.json").write_text(json.dumps({
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "simnet course",
            "exposeAppInBrowser": True,  # window.jupyterapp: the smoke test drives the notebook with it
            "litePluginSettings": {KERNEL_PLUGIN: {"disablePyPIFallback": True}},
        },
    }, indent=1) + "\n")
    shutil.rmtree(output, ignore_errors=True)
    subprocess.run([str(python), "-m", "jupyterlite_core", "build", "--lite-dir", str(LITE_SRC),
                    "--output-dir", str(output), "--no-sourcemaps"], check=True, cwd=LITE_SRC, timeout=900)
    config = json.loads((output / "jupyter-lite.json").read_text())["jupyter-config-data"]
    settings = config["litePluginSettings"][KERNEL_PLUGIN]
    if settings.get("pyodideUrl") != "./static/pyodide/pyodide.mjs":
        raise SystemExit(f"build_site: the site does not point at its own Pyodide: {settings}")
    if not (output / "pypi" / simnet_wheel.name).exists():
        raise SystemExit("build_site: simnet's wheel is not in the site's pypi/")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--serve", action="store_true", help="then serve it on http://127.0.0.1:PORT/")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="the notebooks to bundle")
    parser.add_argument("--offline", action="store_true",
                        help="no CDN entries in Pyodide's lock: nothing compiled (numpy, matplotlib) can load")
    args = parser.parse_args(argv)
    try:
        out = build(args.output, args.notebooks, offline=args.offline)
    except pyodide_env.Unavailable as e:
        print(f"build_site: {e}", file=sys.stderr)
        return 2
    print(f"built {out}; serve it with: python -m http.server -d {out} {args.port} --bind 127.0.0.1")
    if args.serve:
        print(f"open http://127.0.0.1:{args.port}/lab/index.html")
        subprocess.run([sys.executable, "-m", "http.server", "-d", str(out), str(args.port), "--bind", "127.0.0.1"],
                       check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
