"""What the kernel-conformance tests need on the machine, and why they skip without it."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess

TOOLS = ("ip", "iptables", "iptables-restore", "iptables-save", "unshare", "conntrack", "nft")


def skip_reason() -> str | None:
    """None when real namespaces can be made here; else the reason to skip, with the fix."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"needs {tool} (apt-get install iproute2 iptables nftables conntrack util-linux)"
    return None


@functools.cache
def _link_kind_available(kind: str) -> bool:
    """Whether this kernel can create a link of ``kind`` (tried in a throwaway namespace)."""
    try:
        # a vxlan link needs its VNI ("Required attributes not provided" without one)
        extra = ["id", "1", "dstport", "4789"] if kind == "vxlan" else []
        proc = subprocess.run(["unshare", "--net", "ip", "link", "add", "x", "type", kind, *extra],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def missing_link_kinds(script: str) -> list[str]:
    """The link kinds a script creates that this kernel's build lacks (``dummy`` without
    CONFIG_DUMMY, say): a kernel test reports them as a skip, it does not fail on them."""
    kinds = sorted(set(re.findall(r"\blink add\b.*?\btype (\w+)", script)))
    return [k for k in kinds if not _link_kind_available(k)]


_PROGRAMS = {"dnsmasq": "dnsmasq", "dig": "bind9-dnsutils", "host": "bind9-dnsutils", "nslookup": "bind9-dnsutils"}


def missing_programs(script: str) -> list[str]:
    """The Debian packages a script's commands need that this machine lacks (dnsmasq, dig: #14)."""
    import re
    import shutil

    used = {m[1] for m in re.finditer(r"(?:^|\s)(dnsmasq|dig|host|nslookup)\s", script, re.M)}
    return sorted({_PROGRAMS[p] for p in used if shutil.which(p) is None})
