"""simnet's sysctl defaults and `sysctl` tool against the real kernel (root only).

Everything runs in throwaway `unshare --net` namespaces; nothing is written in
the caller's namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from importlib import resources

import pytest

from simnet.sysctl import Sysctls
from simnet.tools.sysctl import run_sysctl

pytestmark = pytest.mark.kernel

_SETUP = ["ip link add br0 type bridge", "ip link add v0 type veth peer name v1"]


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: creates throwaway network namespaces with unshare --net")
    for tool in ("unshare", "ip", "sysctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} on PATH")


def _in_fresh_netns(code: str, payload: object) -> object:
    """Run python ``code`` (reads PAYLOAD, prints JSON) inside a new netns."""
    prog = (
        "import json, subprocess, sys, os\n"
        f"for c in {_SETUP!r}: subprocess.run(c.split(), check=True)\n"
        f"PAYLOAD = json.loads({json.dumps(json.dumps(payload))})\n" + code
    )
    proc = subprocess.run(
        ["unshare", "--net", "--", sys.executable, "-c", prog],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(proc.stdout)


def _data_lines() -> tuple[dict[str, str], set[str]]:
    text = resources.files("simnet").joinpath("data/sysctl_netns_defaults.txt").read_text()
    values, host_copied = {}, set()
    for line in text.splitlines():
        if line.startswith("#@host-copied "):
            host_copied.add(line.split()[1])
        elif line and not line.startswith("#"):
            key, _, value = line.partition(" = ")
            values[key.rstrip(" =")] = value
    return values, host_copied


def test_data_file_matches_a_fresh_namespace() -> None:
    """Every key of the data file has that value in a new netns (veth v0 for <dev>)."""
    _need_root()
    values, host_copied = _data_lines()
    wanted = {k: v for k, v in values.items() if k not in host_copied}
    paths = {
        k: "/proc/sys/" + "/".join(p.replace("/", ".") for p in k.replace("<dev>", "v0").split("."))
        for k in wanted
    }
    code = (
        "out = {}\n"
        "for k, p in PAYLOAD.items():\n"
        "    try: out[k] = open(p).read().rstrip('\\n')\n"
        "    except OSError as e: out[k] = f'<{e.strerror}>'\n"
        "print(json.dumps(out))\n"
    )
    real = _in_fresh_netns(code, paths)
    # A kernel built without an option lacks its keys (CONFIG_IPV6_MROUTE:
    # mc_forwarding, CONFIG_IPV6_SEG6_HMAC: seg6_require_hmac): compare the
    # keys this kernel has and report the ones its build lacks.
    absent = sorted(k for k in wanted if real[k] == "<No such file or directory>")
    if absent:
        warnings.warn(f"this kernel's build lacks {len(absent)} sysctl keys: {', '.join(absent)}")
    assert len(absent) < len(wanted) / 10, f"most keys are absent; wrong paths? {absent[:10]}"
    diffs = {k: (wanted[k], real[k]) for k in wanted if k not in absent and real[k] != wanted[k]}
    assert not diffs, f"data file vs kernel (data, kernel): {diffs}"


def test_no_per_netns_key_is_missing() -> None:
    """The data file covers every key the kernel shows under the modelled prefixes."""
    _need_root()
    code = (
        "out = []\n"
        "for root, dirs, files in os.walk('/proc/sys/net'):\n"
        "    for f in files:\n"
        "        rel = os.path.join(root, f)[len('/proc/sys/'):].split('/')\n"
        "        out.append('.'.join(p.replace('.', '/') for p in rel))\n"
        "print(json.dumps(out))\n"
    )
    real = _in_fresh_netns(code, None)
    s = Sysctls()
    for dev in ("br0", "v0", "v1"):
        s.add_device(dev)
    prefixes = ("net.ipv4.", "net.core.", "net.bridge.", "net.netfilter.", "net.ipv6.conf.")
    missing = sorted(
        k for k in real
        if k.startswith(prefixes) and k not in s and not k.endswith(".stable_secret")
    )
    assert not missing


# Each case runs in order against one namespace (state carries over), on both sides.
CASES: list[list[str]] = [
    ["net.ipv4.ip_forward"],
    ["-n", "net.ipv4.ip_forward"],
    ["-w", "net.ipv4.ip_forward=1"],
    ["net.ipv4.conf.all.forwarding", "net.ipv4.conf.v0.forwarding", "net.ipv4.conf.all.accept_redirects"],
    ["-q", "-w", "net.ipv4.ip_forward=0"],
    ["net.ipv4.ip_forward=2"],
    ["net/ipv4/ip_forward"],
    ["net.ipv4.conf.br0.forwarding", "net.ipv4.conf.default.forwarding"],
    ["-w", "net.ipv4.conf.all.forwarding=0"],
    ["net.ipv4.foo"],
    ["-w", "net.ipv4.foo=1"],
    ["-w", "net.ipv4.ip_forward=abc"],
    ["-w", "net.ipv4.ip_forward=0x1"],
    ["-w", "net.ipv4.ip_forward= 1 "],
    ["-w", "net.ipv4.ip_forward"],
    ["-w", "net.ipv4.ip_forward="],
    ["-w", "net.ipv4.ip_forward=99999999999"],
    ["-w", "net.ipv4.conf.all.rp_filter=3"],
    ["-w", "net.ipv4.conf.br0.arp_ignore=9"],
    ["-w", "net.ipv4.ip_default_ttl=0"],
    ["-w", "net.ipv4.ip_default_ttl=255"],
    ["-w", "net.bridge.bridge-nf-call-iptables=2"],
    ["net.bridge.bridge-nf-call-iptables"],
    ["-w", "net.ipv4.ip_forward=1", "net.ipv4.foo=1", "net.ipv4.conf.all.rp_filter=1"],
    ["-w", "net.ipv4.ip_local_port_range=1000 2000"],
    ["-w", "net.ipv4.ip_local_port_range=40000"],
    ["net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports"],
    ["-w", "net.ipv4.tcp_congestion_control=foo"],
    ["net.ipv4.route.flush"],
    ["-w", "net.ipv4.route.flush=1"],
    ["net.ipv4.conf.eth9.forwarding"],
    ["-w", "net.netfilter.nf_conntrack_max=5"],
    ["net.ipv4.conf.lo/forwarding"],
    ["net.ipv4.conf.v0"],
    ["net.ipv4.neigh.br0"],
    ["-w", "net.ipv4.neigh.v0.base_reachable_time_ms=60000"],
    ["--deprecated", "net.ipv4.neigh.v0"],
    ["-w", "net.ipv6.conf.all.forwarding=1"],
    ["net.ipv6.conf.v1.forwarding", "net.ipv6.conf.default.forwarding"],
    ["-e", "net.ipv4.foo"],
    ["-a", "-r", "ip_forward"],
    ["-w", "net.ipv4.conf.default.rp_filter=2"],
]


def test_sysctl_command_matches_procps() -> None:
    """simnet's `sysctl` prints, fails and exits as procps-ng sysctl does."""
    _need_root()
    code = (
        "out = []\n"
        "for argv in PAYLOAD:\n"
        "    p = subprocess.run(['sysctl', *argv], capture_output=True, text=True)\n"
        "    out.append([p.stdout, p.stderr, p.returncode])\n"
        "print(json.dumps(out))\n"
    )
    real = _in_fresh_netns(code, CASES)
    s = Sysctls()
    for dev in ("br0", "v0", "v1"):
        s.add_device(dev)
    for argv, (stdout, stderr, rc) in zip(CASES, real, strict=True):
        r = run_sysctl(s, argv)
        assert (r.stdout, r.stderr, r.exit_code) == (stdout, stderr, rc), argv
