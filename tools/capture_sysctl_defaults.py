#!/usr/bin/env python3
"""Regenerate simnet/data/sysctl_netns_defaults.txt from the running kernel.

Run as root:  python3 tools/capture_sysctl_defaults.py [-o PATH]

What it does (nothing is ever written in the caller's namespace):

* re-executes itself under ``unshare --net --mount`` (a throwaway network
  namespace that dies with the process), remounts /sys there, creates
  ``br0`` (bridge) and ``v0``/``v1`` (veth, v0 enslaved to br0), then reads
  every file under /proc/sys/net that simnet models;
* probes, inside that namespace only, which integer keys the kernel
  range-checks (binary search for the accepted interval around the default,
  restoring the default after every accepted write), and which keys are
  read-only, write-only or normalise what is written (bridge-nf-*: any
  non-zero becomes 1);
* reads ``net.ipv4.conf.{all,default}.*`` of the caller's (initial)
  namespace read-only, because a new namespace copies those from init_net
  (devinet_init_net, net.core.devconf_inherit_init_net=0), and replaces host
  values that differ from the compiled-in defaults (net/ipv4/devinet.c
  ``ipv4_devconf`` / ``ipv4_devconf_dflt``) with the compiled ones, listing
  each such key in the header.

Kernel: net/ipv4/devinet.c, net/core/neighbour.c (neigh_sysctl_register),
net/ipv6/addrconf.c, net/bridge/br_netfilter_hooks.c.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path("/proc/sys")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "simnet/data/sysctl_netns_defaults.txt"

# Key prefixes kept (the brief: net.ipv4, per-netns net.core, net.bridge,
# net.netfilter, net.ipv6.conf).  Everything visible in a child netns is
# per-netns: global tables are registered for init_net only.
KEEP = ("net.ipv4.", "net.core.", "net.bridge.", "net.netfilter.", "net.ipv6.conf.")
# Per-device directories and the device used as the <dev> template.
PER_DEV = ("net.ipv4.conf.", "net.ipv4.neigh.", "net.ipv6.conf.")
TEMPLATE_DEV = "v0"
NOT_PER_DEV = {"all", "default"}
# Not probed: bitmaps/seeds whose text is not a decimal integer, and HOST_GLOBAL.
NO_PROBE = {"net.core.rps_default_mask", "net.ipv4.fib_multipath_hash_seed"}
# Shown in every netns but backed by machine-global state: NEVER write them.
# nf_hooks_lwtunnel is a one-way global static key (net/core/lwtunnel.c,
# nf_hooks_lwtunnel_sysctl_handler: enabling is permanent, disabling is EBUSY).
# The data file gets the compiled default; the host value is only noted.
HOST_GLOBAL = {"net.netfilter.nf_hooks_lwtunnel": "0"}

# net/ipv4/devinet.c: ipv4_devconf (all) and ipv4_devconf_dflt (default);
# every other conf key is 0.  Also Documentation/networking/ip-sysctl.rst.
COMPILED_ALL = {
    "accept_redirects": "1", "send_redirects": "1", "secure_redirects": "1",
    "shared_media": "1", "igmpv2_unsolicited_report_interval": "10000",
    "igmpv3_unsolicited_report_interval": "1000", "arp_evict_nocarrier": "1",
}
COMPILED_DEFAULT = {**COMPILED_ALL, "accept_source_route": "1"}

INT_MIN, INT_MAX = -(2**63), 2**64 - 1


def _key(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    return ".".join(p.replace(".", "/") for p in rel)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().rstrip("\n")
    except OSError:
        return None


def _write(path: Path, value: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return False
    try:
        os.write(fd, value.encode())
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _probe(path: Path, default: int) -> tuple[int, int]:
    """Return the accepted interval around ``default`` (binary search)."""

    def ok(v: int) -> bool:
        good = _write(path, str(v))
        if good:
            _write(path, str(default))
        return good

    lo, hi = default, INT_MAX  # largest accepted
    if ok(hi):
        top = hi
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        top = lo
    lo, hi = INT_MIN, default  # smallest accepted
    if ok(lo):
        bottom = lo
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid, hi)
        bottom = hi
    return bottom, top


def inner() -> dict:
    """Run inside the throwaway namespace; return everything as JSON data."""
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "sysfs", "sysfs", "/sys"], check=True)
    for cmd in (
        "ip link add br0 type bridge",
        "ip link add v0 type veth peer name v1",
        "ip link set v0 master br0",
    ):
        subprocess.run(cmd.split(), check=True)
    values: dict[str, str] = {}
    write_only: list[str] = []
    read_only: list[str] = []
    unreadable: dict[str, str] = {}
    for path in sorted((ROOT / "net").rglob("*")):
        if path.is_dir():
            continue
        key = _key(path)
        if not key.startswith(KEEP):
            continue
        mode = path.stat().st_mode
        if not mode & 0o444:
            write_only.append(key)
            continue
        if not mode & 0o222:
            read_only.append(key)
        try:
            values[key] = path.read_text().rstrip("\n")
        except OSError as exc:
            unreadable[key] = os.strerror(exc.errno or 0)
    ranges: dict[str, list[int]] = {}
    normalised: dict[str, str] = {}
    for key, value in values.items():
        if key in read_only or key in NO_PROBE or key in HOST_GLOBAL:
            continue
        try:
            default = int(value)
        except ValueError:
            continue
        path = ROOT.joinpath(*(p.replace("/", ".") for p in key.split(".")))
        if "bridge-nf" in key or "forwarding" in key or key == "net.ipv4.ip_forward":
            # Side effects (all devices) or normalisation: probe one value.
            if _write(path, "2"):
                normalised[key] = _read(path) or ""
                _write(path, str(default))
            if key.startswith("net.bridge."):
                continue
        ranges[key] = list(_probe(path, default))
    brport = {
        f.name: (_read(f) or "")
        for f in sorted(Path("/sys/class/net/v0/brport").iterdir())
        if f.is_file() and _read(f) is not None
    }
    return {
        "values": values, "write_only": write_only, "read_only": read_only,
        "unreadable": unreadable, "ranges": ranges, "normalised": normalised,
        "brport": brport,
    }


def _template(key: str) -> str | None:
    """Map a per-device key of TEMPLATE_DEV to ``<dev>``; drop br0/v1 copies."""
    for prefix in PER_DEV:
        if key.startswith(prefix):
            dev, _, rest = key[len(prefix):].partition(".")
            if dev in NOT_PER_DEV or dev == "lo":
                return key
            if dev == TEMPLATE_DEV:
                return f"{prefix}<dev>.{rest}"
            return None
    return key


def render(data: dict, host: dict[str, str]) -> str:
    vals: dict[str, str] = {}
    for key, value in data["values"].items():
        t = _template(key)
        if t is not None:
            vals[t] = value
    differs = []
    for scope, compiled in (("all", COMPILED_ALL), ("default", COMPILED_DEFAULT)):
        prefix = f"net.ipv4.conf.{scope}."
        for key in [k for k in vals if k.startswith(prefix)]:
            want = compiled.get(key[len(prefix):], "0")
            hv = host.get(key, vals[key])
            if hv != want:
                differs.append((key, hv, want))
                vals[key] = want
    for key, compiled in HOST_GLOBAL.items():
        if key in vals:
            differs.append((key, vals[key], compiled))
            vals[key] = compiled
    # br0 vs template differences, for the header.
    brdiff = []
    for key, value in data["values"].items():
        for prefix in PER_DEV:
            if key.startswith(prefix + "br0."):
                t = f"{prefix}<dev>.{key[len(prefix) + 4:]}"
                if vals.get(t) != value:
                    brdiff.append(f"{key} = {value} (veth: {vals.get(t)})")
    lines = [
        "# Sysctls of a NEW network namespace, as simnet starts every namespace.",
        f"# Captured by tools/capture_sysctl_defaults.py on Linux {platform.release()}",
        "# in a throwaway `unshare --net` namespace (with br0 bridge and v0/v1 veth).",
        "#",
        "# Format: `key = value` (value verbatim, tabs kept); per-device keys use the",
        "# placeholder <dev> (taken from the veth v0); lo's keys are listed as is.",
        "# net.ipv4.neigh.default exists only in the initial namespace, so not here.",
        "# Directives (`#@...`) are read by simnet.sysctl:",
        "#   #@range KEY MIN MAX   integer interval the kernel accepts (probed)",
        "#   #@normalise KEY       any non-zero write reads back as 1",
        "#   #@read-only KEY / #@write-only KEY",
        "#",
        "# net.ipv4.conf.{all,default}.* of a new namespace are copied from the",
        "# initial namespace (devinet_init_net, devconf_inherit_init_net=0).  Where the",
        "# host's value differs from the compiled-in default (net/ipv4/devinet.c",
        "# ipv4_devconf/ipv4_devconf_dflt; Documentation/networking/ip-sysctl.rst),",
        "# the compiled default is used below.  So is it for keys backed by machine-global",
        "# state (nf_hooks_lwtunnel: a one-way static key, net/core/lwtunnel.c).",
        "# Host-copied or host-global keys that differ:",
    ]
    if differs:
        lines += [f"#   {k}: host {h}, compiled {c}" for k, h, c in differs]
    else:
        lines.append("#   (none on the capturing host: its init namespace has compiled defaults)")
    lines += [f"#@host-copied {k} {h} {c}" for k, h, c in differs]
    lines.append("#")
    lines.append("# Per-device keys of a bridge (br0) that differ from the veth template:")
    lines += [f"#   {d}" for d in brdiff] or ["#   (none)"]
    lines.append("# Bridge-port flags are sysfs, not sysctl (/sys/class/net/<port>/brport/):")
    bp = data["brport"]
    lines.append("#   " + " ".join(f"{k}={v}" for k, v in sorted(bp.items()) if len(v) < 12))
    lines.append("#")
    for key in sorted(data["unreadable"]):
        lines.append(f"#   unreadable: {key} ({data['unreadable'][key]})")
    for key, (lo, hi) in sorted(data["ranges"].items()):
        t = _template(key)
        if t is None:
            continue
        if (lo, hi) != (-(2**31), 2**31 - 1):
            lines.append(f"#@range {t} {lo} {hi}")
    for key, v in sorted(data["normalised"].items()):
        if v == "1" and (t := _template(key)):
            lines.append(f"#@normalise {t}")
    for kind in ("read_only", "write_only"):
        for key in sorted({_template(k) for k in data[kind]} - {None}):
            lines.append(f"#@{kind.replace('_', '-')} {key}")
    for key in data["write_only"]:
        if (t := _template(key)):
            vals.pop(t, None)
    lines += [f"{k} = {v}" for k, v in sorted(vals.items())]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        json.dump(inner(), sys.stdout)
        return 0
    if os.geteuid() != 0:
        print("needs root (unshare --net)", file=sys.stderr)
        return 2
    try:
        if os.readlink("/proc/self/ns/net") != os.readlink("/proc/1/ns/net"):
            print("warning: not in the initial netns; host values are this netns's",
                  file=sys.stderr)
    except OSError:
        pass  # sandboxed /proc: cannot tell, assume the caller is in init_net
    host = {}
    for scope in ("all", "default"):
        for f in (ROOT / "net/ipv4/conf" / scope).iterdir():
            host[f"net.ipv4.conf.{scope}.{f.name}"] = f.read_text().strip()  # read-only
    out = subprocess.run(
        ["unshare", "--net", "--mount", "--", sys.executable, __file__, "--inner"],
        check=True, capture_output=True, text=True,
    ).stdout
    args.output.write_text(render(json.loads(out), host))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
