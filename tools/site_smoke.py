"""Open the built JupyterLite site in headless Chromium, run a notebook, and read back its outputs.

``python tools/site_smoke.py [--notebook notebooks/NAME.ipynb] [--screenshot FILE.png]`` serves
build/site (``python tools/build_site.py`` first) on 127.0.0.1, drives Debian's Chromium
(/usr/bin/chromium) through playwright-core (npm, cached beside Pyodide; it uses the browser that
is there and downloads none), opens the notebook in JupyterLab, runs its cells one by one and prints one
JSON document: every code cell's execution count and outputs (from the notebook model), the number
and text of output areas in the page (DOM), the kernel's log lines, any request that left the site
(``external``), and the seconds it took. The first
notebook of notebooks/ is the default. Exit status 0 when every code cell ran without an error.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

try:
    from tools import pyodide_env
except ImportError:  # run as a script: tools/ is sys.path[0]
    import pyodide_env  # type: ignore[no-redef]

ROOT = pyodide_env.ROOT
SITE = ROOT / "build" / "site"
CHROMIUM = "/usr/bin/chromium"
# as root, in a machine whose network is closed: no sandbox, no GPU, no background connections
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
PLAYWRIGHT_VERSION = "1.65.2"


def playwright_dir() -> Path:
    prefix = pyodide_env.cache_dir() / f"playwright-core-{PLAYWRIGHT_VERSION}"
    pkg = prefix / "node_modules" / "playwright-core"
    if not (pkg / "package.json").exists():
        if shutil.which("npm") is None:
            raise pyodide_env.Unavailable("npm is not installed")
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "package.json").write_text('{"private": true}\n')
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save",
                               f"playwright-core@{PLAYWRIGHT_VERSION}"], cwd=prefix, capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise pyodide_env.Unavailable(f"npm install playwright-core failed: {done.stderr.strip()[-300:]}")
    return pkg


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".json": "application/json"}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The site on 127.0.0.1 (a free port), served from a thread of this process."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def smoke(notebook: str, *, site: Path = SITE, screenshot: Path | None = None, timeout_s: float = 480) -> dict:
    if not Path(CHROMIUM).exists():
        raise pyodide_env.Unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not (site / "jupyter-lite.json").exists():
        raise pyodide_env.Unavailable(f"{site} is not built (python tools/build_site.py)")
    pw = playwright_dir()
    driver = pyodide_env.cache_dir() / "site_smoke.mjs"
    driver.write_text(_DRIVER)
    server, base = serve(site)
    try:
        request = {"playwright": str(pw / "index.mjs"), "chromium": CHROMIUM, "flags": CHROMIUM_FLAGS,
                   "url": f"{base}/lab/index.html?path={notebook}", "screenshot": str(screenshot or ""),
                   "timeout_ms": int(timeout_s * 1000)}
        # the driver keeps to timeout_s itself (and then reports what it saw); this is a backstop
        done = subprocess.run(["node", str(driver), json.dumps(request)], capture_output=True, text=True,
                              timeout=timeout_s + 120, check=False)
    finally:
        server.shutdown()
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"the browser driver printed nothing (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


_DRIVER = r"""
const req = JSON.parse(process.argv[2]);
const { chromium } = await import(req.playwright);
const t0 = Date.now();
const result = { url: req.url, log: [], errors: [] };
const browser = await chromium.launch({ executablePath: req.chromium, args: req.flags, headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => result.log.push(m.text().slice(0, 300)));
  page.on("pageerror", (e) => result.errors.push(String(e).slice(0, 300)));
  // every request the page makes that is not to the site itself (there must be none)
  const origin = new URL(req.url).origin;
  result.external = [];
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) result.external.push(url);
  });
  await page.goto(req.url, { timeout: req.timeout_ms });
  // the notebook open, its kernel known to the app (window.jupyterapp: exposeAppInBrowser)
  await page.waitForFunction(() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return w && w.content && w.content.widgets && w.sessionContext && w.sessionContext.session;
  }, null, { timeout: req.timeout_ms, polling: 500 });
  result.opened_s = (Date.now() - t0) / 1000;
  // run the cells one by one, each after the kernel is idle again, so that a cell's error (a
  // picture without matplotlib) does not cancel the cells after it, as run-all would
  const idle = () => page.waitForFunction(() => {
    const w = window.jupyterapp.shell.currentWidget;
    return w.sessionContext.kernelDisplayStatus === "idle"
      && w.content.widgets.every((c) => c.model.type !== "code" || c.model.executionState !== "running");
  }, null, { timeout: Math.max(30000, req.timeout_ms - (Date.now() - t0)), polling: 500 });
  const n = await page.evaluate(() => {
    const w = window.jupyterapp.shell.currentWidget;
    w.content.activeCellIndex = 0;
    return w.content.widgets.length;
  });
  for (let i = 0; i < n; i++) {
    await page.evaluate(async (i) => {
      const w = window.jupyterapp.shell.currentWidget;
      w.content.activeCellIndex = i;
      await window.jupyterapp.commands.execute("notebook:run-cell");
    }, i);
    await page.waitForTimeout(200);
    await idle();
  }
  result.ran_s = (Date.now() - t0) / 1000;
  result.cells = await page.evaluate(() => {
    const w = window.jupyterapp.shell.currentWidget;
    return w.content.widgets.filter((c) => c.model.type === "code").map((c) => ({
      count: c.model.executionCount, source: c.model.sharedModel.getSource().slice(0, 200),
      outputs: c.model.outputs.toJSON() }));
  });
  result.dom_outputs = await page.locator(".jp-OutputArea-output").count();
  result.dom_text = (await page.locator(".jp-OutputArea-output").allInnerTexts()).join("\n").slice(0, 20000);
  if (req.screenshot) await page.screenshot({ path: req.screenshot, fullPage: false });
} catch (e) {
  result.failure = String(e).slice(0, 2000);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
"""


def errors_of(result: dict) -> list[str]:
    """Each code cell that raised: its source's first line and the exception."""
    out = []
    for cell in result.get("cells", []):
        for o in cell["outputs"]:
            if o.get("output_type") == "error":
                out.append(f"[{cell['count']}] {cell['source'].splitlines()[0] if cell['source'] else ''}: "
                           f"{o.get('ename')}: {o.get('evalue')}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    first = sorted((ROOT / "notebooks").glob("*.ipynb"))
    parser.add_argument("--notebook", default=f"notebooks/{first[0].name}" if first else None)
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args(argv)
    result = smoke(args.notebook, site=args.site, screenshot=args.screenshot)
    print(json.dumps(result))
    return 0 if "failure" not in result and not errors_of(result) else 1


if __name__ == "__main__":
    sys.exit(main())
