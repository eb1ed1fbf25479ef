"""Netfilter hook points and priorities, with the kernel's numbers.

Kernel: ``enum nf_inet_hooks`` (include/uapi/linux/netfilter.h) and
``enum nf_ip_hook_priorities`` (include/uapi/linux/netfilter_ipv4.h).  The
order in which tables and conntrack run at a hook comes only from these
priorities; nothing else encodes it.
"""

from __future__ import annotations

from enum import IntEnum


class Hook(IntEnum):
    PRE_ROUTING = 0
    LOCAL_IN = 1
    FORWARD = 2
    LOCAL_OUT = 3
    POST_ROUTING = 4

    @property
    def chain(self) -> str:
        """The built-in iptables chain that hangs on this hook."""
        return _CHAIN_OF_HOOK[self]


_CHAIN_OF_HOOK = {
    Hook.PRE_ROUTING: "PREROUTING",
    Hook.LOCAL_IN: "INPUT",
    Hook.FORWARD: "FORWARD",
    Hook.LOCAL_OUT: "OUTPUT",
    Hook.POST_ROUTING: "POSTROUTING",
}


class Priority(IntEnum):
    CONNTRACK_DEFRAG = -400
    RAW = -300
    SELINUX_FIRST = -225
    CONNTRACK = -200
    MANGLE = -150
    NAT_DST = -100
    FILTER = 0
    SECURITY = 50
    NAT_SRC = 100
    SELINUX_LAST = 225
    CONNTRACK_HELPER = 300
    CONNTRACK_CONFIRM = 2**31 - 1
