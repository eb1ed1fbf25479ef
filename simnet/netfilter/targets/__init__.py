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

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeAlias

from simnet.netfilter.extensions import Extensions
from simnet.netfilter.targets.standard import Accept, Drop, Goto, Jump, Return

if TYPE_CHECKING:
    from simnet.netfilter.targets.ipt_reject import REJECT_TYPES, Reject
    from simnet.netfilter.targets.misc import Checksum, Opaque, Trace
    from simnet.netfilter.targets.xt_ct import CT_EVENTS, Ct, Notrack
    from simnet.netfilter.targets.xt_log import LOG_LEVELS, Log, Nflog
    from simnet.netfilter.targets.xt_mark import Connmark, Mark
    from simnet.netfilter.targets.xt_nat import Dnat, Masquerade, NatRange, Redirect, Snat
    from simnet.netfilter.targets.xt_netmap import Netmap
    from simnet.netfilter.targets.xt_tcpmss import Tcpmss

    Target: TypeAlias = (Accept | Drop | Return | Jump | Goto | Reject | Log | Nflog | Mark | Connmark | Dnat | Snat
                         | Masquerade | Redirect | Netmap | Notrack | Ct | Trace | Tcpmss | Checksum | Opaque)
    """The closed union the evaluator dispatches on."""

__all__ = [
    "Accept", "Drop", "Return", "Jump", "Goto", "Reject", "Log", "Nflog", "Mark", "Connmark",
    "NatRange", "Dnat", "Snat", "Masquerade", "Redirect", "Netmap", "Notrack", "Ct", "Trace", "Tcpmss",
    "Checksum", "Opaque", "Target", "TARGETS", "OPAQUE_TARGETS", "REJECT_TYPES", "EXTENSION_TARGETS",
    "NAT_ONLY", "RAW_ONLY", "CT_EVENTS", "LOG_LEVELS",
]

EXTENSION_TARGETS = frozenset({
    "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DSCP", "ECN",
    "HMARK", "IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK",
    "RATEEST", "REDIRECT", "REJECT", "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE",
    "TOS", "TPROXY", "TRACE", "TTL", "ULOG", "standard"})
"""Every IPv4 target iptables 1.8.9 can load (its libxt_/libipt_ extensions): ``iptables -N`` refuses
these as chain names ("chain name may not clash with target name"; verified one by one), and
``-j NAME`` always means the target, so a chain of that name (``iptables-restore`` and ``-E``
allow one) can never be jumped to."""

_BY_NAME: dict[str, tuple[str, str]] = {
    "ACCEPT": ("standard", "Accept"), "DROP": ("standard", "Drop"), "RETURN": ("standard", "Return"),
    "REJECT": ("ipt_reject", "Reject"), "LOG": ("xt_log", "Log"), "NFLOG": ("xt_log", "Nflog"),
    "MARK": ("xt_mark", "Mark"), "CONNMARK": ("xt_mark", "Connmark"), "DNAT": ("xt_nat", "Dnat"),
    "SNAT": ("xt_nat", "Snat"), "MASQUERADE": ("xt_nat", "Masquerade"), "REDIRECT": ("xt_nat", "Redirect"),
    "NETMAP": ("xt_netmap", "Netmap"), "NOTRACK": ("xt_ct", "Notrack"), "CT": ("xt_ct", "Ct"),
    "TRACE": ("misc", "Trace"), "TCPMSS": ("xt_tcpmss", "Tcpmss"), "CHECKSUM": ("misc", "Checksum"),
}
"""``-j NAME`` -> (the file under this package, its class).  Like iptables' libxt_NAME.so, a target's
file is imported when a rule first names it (the standard verdicts above are always loaded)."""

_OPAQUE_NAMES = ("TOS", "DSCP", "TTL", "CLASSIFY")

_NAMES: dict[str, str] = {cls: file for file, cls in _BY_NAME.values()} | {
    "Jump": "standard", "Goto": "standard", "Opaque": "misc", "NatRange": "xt_nat", "REJECT_TYPES": "ipt_reject",
    "CT_EVENTS": "xt_ct", "LOG_LEVELS": "xt_log",
}
"""Every public name of this package -> its file (the others load on first use, PEP 562)."""


_UNION = ("Accept", "Drop", "Return", "Jump", "Goto", "Reject", "Log", "Nflog", "Mark", "Connmark", "Dnat", "Snat",
          "Masquerade", "Redirect", "Netmap", "Notrack", "Ct", "Trace", "Tcpmss", "Checksum", "Opaque")


def _load(name: str) -> type:
    file, cls_name = _BY_NAME[name]
    cls: type = getattr(import_module(f"{__name__}.{file}"), cls_name)
    assert cls.name == name, (cls, name)  # type: ignore[attr-defined]
    return cls


def _load_opaque(name: str) -> tuple[dict[str, int], Any]:
    from simnet.netfilter.targets.misc import OPAQUE_TARGETS as table

    assert tuple(table) == _OPAQUE_NAMES, tuple(table)
    return table[name]


TARGETS: Mapping[str, type] = Extensions(_BY_NAME, _load)
"""Extension and standard targets by ``-j`` name (anything else names a chain)."""

OPAQUE_TARGETS: Mapping[str, tuple[dict[str, int], Any]] = Extensions(_OPAQUE_NAMES, _load_opaque)
"""The targets simnet parses and prints but does not apply, by ``-j`` name (see targets/misc.py):
their option table and canonical-words builder."""

NAT_ONLY = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
RAW_ONLY = frozenset({"NOTRACK", "CT"})


def __getattr__(name: str) -> object:
    """A public name imports its file on first use (``Target``, the union, needs them all)."""
    if name == "Target":
        from functools import reduce
        from operator import or_

        value: object = reduce(or_, (globals()[n] if n in globals() else __getattr__(n) for n in _UNION))
    elif name in _NAMES:
        value = getattr(import_module(f"{__name__}.{_NAMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
