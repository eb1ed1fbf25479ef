"""What a match may ask about the world while it decides.

Matches are pure predicates over an :class:`~simnet.skb.Skb` and this
read-mostly context: the namespace's address types (``-m addrtype``), its
ipsets (``-m set``), simulated time and the world's seeded RNG
(``-m limit``, ``-m statistic``), and per-rule private state (the kernel's
match ``priv`` data: a token bucket, an nth counter, a recent list).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from ipaddress import IPv4Address
from typing import Any, Callable, Mapping

from simnet.netfilter.hooks import Hook


class AddrType(Enum):
    """``-m addrtype`` types (the kernel's RTN_* route types), iptables' names."""

    UNSPEC = "UNSPEC"
    UNICAST = "UNICAST"
    LOCAL = "LOCAL"
    BROADCAST = "BROADCAST"
    ANYCAST = "ANYCAST"
    MULTICAST = "MULTICAST"
    BLACKHOLE = "BLACKHOLE"
    UNREACHABLE = "UNREACHABLE"
    PROHIBIT = "PROHIBIT"
    THROW = "THROW"
    NAT = "NAT"
    XRESOLVE = "XRESOLVE"


@dataclass(slots=True)
class MatchContext:
    """The world as seen by matches at one hook in one namespace."""

    hook: Hook
    addr_type: Callable[[IPv4Address, str | None], AddrType]
    """Route type of an address in this namespace, optionally limited to a device
    (``--limit-iface-in/out``); kernel: ``inet_dev_addr_type``."""
    ipsets: Mapping[str, Any] = field(default_factory=dict)
    """ipset name -> set object with ``contains(skb, flags) -> bool``."""
    now: float = 0.0
    """Simulated seconds since the world began (``-m limit``, ``-m recent``)."""
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    """The world's seeded RNG (``-m statistic --mode random``)."""
    state: dict[object, Any] = field(default_factory=dict)
    """Per-rule private match state, keyed by the rule's identity."""
    forced: Mapping[object, bool] | None = None
    """Optional forced outcomes of random matches (explore every branch)."""
    netns: Any = None
    """The namespace, for matches that ask its FIB or conntrack table (``-m rpfilter``, ``-m connlimit``)."""
    notes: list[str] | None = None
    """Trace notes matches leave (created by the first that has one: ``-m policy`` without IPsec)."""
    rule_key: object = None
    """Identity of the rule being evaluated (set by the evaluator before its matches run)."""
