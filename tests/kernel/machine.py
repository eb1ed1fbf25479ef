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
