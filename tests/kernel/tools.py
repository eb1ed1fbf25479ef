"""What the kernel-conformance tests need on the machine, and why they skip without it."""

from __future__ import annotations

import os
import shutil

TOOLS = ("ip", "iptables", "iptables-restore", "iptables-save", "unshare", "conntrack", "nft")


def skip_reason() -> str | None:
    """None when real namespaces can be made here; else the reason to skip, with the fix."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"needs {tool} (apt-get install iproute2 iptables nftables conntrack util-linux)"
    return None
