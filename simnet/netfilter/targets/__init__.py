"""iptables targets (``-j NAME``): a closed union of frozen dataclasses.

Kernel: the standard verdicts of ``ipt_do_table`` and the ``xt_*`` / ``ipt_*``
target modules; iptables' ``libxt_*.c`` / ``libipt_*.c`` for the option
spelling and the ``save`` printers.  ``str(target)`` is the text after the
rule's matches exactly as ``iptables-save`` (nf_tables, 1.8.9) prints it,
``-j`` (or ``-g``) included.

``terminal`` says whether a rule with this target ends the traversal of the
current chain: the verdicts ACCEPT/DROP/REJECT, RETURN, ``-g`` and the NAT
targets do; ``-j CHAIN`` (it may return), LOG, MARK, CT, ... continue with the
next rule.
"""

from __future__ import annotations

from simnet.netfilter.targets.ipt_reject import REJECT_TYPES, Reject
from simnet.netfilter.targets.misc import OPAQUE_TARGETS, Checksum, Opaque, Trace
from simnet.netfilter.targets.standard import Accept, Drop, Goto, Jump, Return
from simnet.netfilter.targets.xt_tcpmss import Tcpmss
from simnet.netfilter.targets.xt_ct import CT_EVENTS, Ct, Notrack
from simnet.netfilter.targets.xt_log import LOG_LEVELS, Log, Nflog
from simnet.netfilter.targets.xt_mark import Connmark, Mark
from simnet.netfilter.targets.xt_nat import Dnat, Masquerade, NatRange, Redirect, Snat
from simnet.netfilter.targets.xt_netmap import Netmap

__all__ = [
    "Accept", "Drop", "Return", "Jump", "Goto", "Reject", "Log", "Nflog", "Mark", "Connmark",
    "NatRange", "Dnat", "Snat", "Masquerade", "Redirect", "Netmap", "Notrack", "Ct", "Trace", "Tcpmss",
    "Checksum", "Opaque", "Target", "TARGETS", "OPAQUE_TARGETS", "REJECT_TYPES", "EXTENSION_TARGETS",
    "NAT_ONLY", "RAW_ONLY", "CT_EVENTS", "LOG_LEVELS",
]


Target = (Accept | Drop | Return | Jump | Goto | Reject | Log | Nflog | Mark | Connmark | Dnat | Snat
          | Masquerade | Redirect | Netmap | Notrack | Ct | Trace | Tcpmss | Checksum | Opaque)
"""The closed union the evaluator dispatches on."""

EXTENSION_TARGETS = frozenset({
    "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DSCP", "ECN",
    "HMARK", "IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK",
    "RATEEST", "REDIRECT", "REJECT", "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE",
    "TOS", "TPROXY", "TRACE", "TTL", "ULOG", "standard"})
"""Every IPv4 target iptables 1.8.9 can load (its libxt_/libipt_ extensions): ``iptables -N`` refuses
these as chain names ("chain name may not clash with target name"; verified one by one), and
``-j NAME`` always means the target, so a chain of that name (``iptables-restore`` and ``-E``
allow one) can never be jumped to."""

TARGETS: dict[str, type] = {
    cls.name: cls for cls in (Accept, Drop, Return, Reject, Log, Nflog, Mark, Connmark, Dnat, Snat,
                              Masquerade, Redirect, Netmap, Notrack, Ct, Trace, Tcpmss, Checksum)
}
"""Extension and standard targets by ``-j`` name (anything else names a chain)."""

NAT_ONLY = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
RAW_ONLY = frozenset({"NOTRACK", "CT"})
