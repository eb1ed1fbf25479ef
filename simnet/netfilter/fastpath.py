"""A fast chain evaluator that names exactly the hits of the reference walk.

:func:`fast_evaluate_chain` has the signature and the results of
:func:`simnet.netfilter.evaluate.evaluate_chain` (verdict, target, hits in the
same order, final skb, logs, ct_mark), but does not try every rule: each chain
is compiled, once per :attr:`TableState.generation`, into an index that buckets
rules by fields that are cheap and exact to test:

* destination prefix (``-d`` without ``!``): one dict per prefix length present,
  keyed by the masked network (kube-proxy's ``-d 10.96.x.y/32`` are one dict);
* exact destination port of ``-m tcp``/``-m udp --dport N`` (no ``!``, no range),
  keyed with the L4 header type, only when every match before it is a pure
  predicate (so skipping the rule cannot skip a side effect such as
  ``-m statistic`` drawing from the RNG or ``-m limit`` spending a token);
* protocol (``-p`` without ``!``);
* input interface (``-i`` without ``!`` or ``+``).

Each rule is filed under the first of these it has; the rest go to a residual
list.  For a packet, the candidate positions are the union of the buckets it
falls in plus the residual, in rule order; only candidates run the full
:func:`~simnet.netfilter.evaluate.rule_matches`, and every matched rule goes
through the same :func:`~simnet.netfilter.evaluate.apply_target` as the
reference, so jumps, gotos, RETURN and policies behave identically.  A skipped
rule is one whose ``ipt_entry`` fields (or a pure match ahead of its stateful
ones) reject the packet, so linear evaluation would not have matched it either.

The bucket keys (destination, L4 type and port, protocol, input device) are
fixed for one evaluation: no non-terminal target rewrites them (MARK, CONNMARK,
LOG, TRACE, NOTRACK, CT and the opaque ones only touch metadata), and the
terminal NAT targets end the walk.
"""

from __future__ import annotations

from itertools import chain as _chain
from typing import TYPE_CHECKING, Any, Sequence

from simnet.netfilter import matches as M
from simnet.netfilter.context import MatchContext
from simnet.netfilter.evaluate import ChainResult, ChainVerdict, Hit, walk_chain
from simnet.packet import Tcp, Udp
from simnet.skb import Skb

if TYPE_CHECKING:
    from simnet.netfilter.ruleset import Chain, Entry, TableState

__all__ = ["fast_evaluate_chain", "CompiledChain", "compile_chain", "clear_cache"]

_PURE = frozenset({"comment", "tcp", "udp", "multiport", "addrtype", "conntrack", "state", "mark", "connmark", "icmp"})
"""Matches (by ``-m`` name: their files load on first use) with no side effects and no failure modes:
a dport test after them may be hoisted."""

_EMPTY: tuple[int, ...] = ()
_MEMO_MAX = 4096


class CompiledChain:
    """The index of one chain (positions are 0-based into ``entries``)."""

    __slots__ = ("entries", "size", "prefixes", "by_dport", "by_proto", "by_iface", "residual", "memo", "plain")

    def __init__(self, entries: list[Entry], size: int, prefixes: tuple[tuple[int, dict[int, list[int]]], ...],
                 by_dport: dict[tuple[type, int], list[int]], by_proto: dict[int, list[int]],
                 by_iface: dict[str, list[int]], residual: list[int]) -> None:
        self.entries = entries
        self.size = size
        self.prefixes = prefixes
        """(netmask as int, {network int: positions}) per prefix length present, longest first."""
        self.by_dport = by_dport
        self.by_proto = by_proto
        self.by_iface = by_iface
        self.residual = residual
        self.memo: dict[tuple[Any, ...], list[int] | tuple[int, ...]] = {}
        self.plain = None if (prefixes or by_dport or by_proto or by_iface) else residual
        """Every position, when nothing is indexed (the candidates never depend on the packet)."""
        """Candidate lists already merged, by packet key (bounded by ``_MEMO_MAX``)."""

    def candidates(self, dst: int, dkey: tuple[type, int] | None, proto: int, iface: str) -> list[int] | tuple[int, ...]:
        """Positions of the rules that may match, in rule order."""
        if self.plain is not None:
            return self.plain
        key = (dst, dkey, proto, iface)
        found = self.memo.get(key)
        if found is None:
            found = self._candidates(dst, dkey, proto, iface)
            if len(self.memo) < _MEMO_MAX:
                self.memo[key] = found
        return found

    def _candidates(self, dst: int, dkey: tuple[type, int] | None, proto: int, iface: str) -> list[int] | tuple[int, ...]:
        found: list[list[int]] = []
        for mask, table in self.prefixes:
            hit = table.get(dst & mask)
            if hit is not None:
                found.append(hit)
        if dkey is not None and self.by_dport:
            hit = self.by_dport.get(dkey)
            if hit is not None:
                found.append(hit)
        if self.by_proto:
            hit = self.by_proto.get(proto)
            if hit is not None:
                found.append(hit)
        if self.by_iface:
            hit = self.by_iface.get(iface)
            if hit is not None:
                found.append(hit)
        if self.residual:
            found.append(self.residual)
        if not found:
            return _EMPTY
        if len(found) == 1:
            return found[0]
        return sorted(_chain.from_iterable(found))


def _dport_key(rule: Any) -> tuple[type, int] | None:
    for m in rule.matches:
        if isinstance(m, (M.TcpMatch, M.UdpMatch)):
            if m.dport is not None and not m.dport_invert and m.dport[0] == m.dport[1]:
                return (Tcp if isinstance(m, M.TcpMatch) else Udp, m.dport[0])
            continue  # no exact dport here; tcp/udp tests are pure, keep looking
        if m.module not in _PURE:
            return None
    return None


def compile_chain(entries: list[Entry]) -> CompiledChain:
    """Bucket the rules of one chain (see the module docstring for the order of preference)."""
    by_prefix: dict[int, dict[int, list[int]]] = {}
    by_dport: dict[tuple[type, int], list[int]] = {}
    by_proto: dict[int, list[int]] = {}
    by_iface: dict[str, list[int]] = {}
    residual: list[int] = []
    for i, entry in enumerate(entries):
        rule = entry.rule
        dst = rule.dst
        if dst is not None and not rule.dst_invert and dst.prefixlen > 0:
            by_prefix.setdefault(int(dst.netmask), {}).setdefault(int(dst.network_address), []).append(i)
            continue
        dkey = _dport_key(rule) if rule.matches else None
        if dkey is not None:
            by_dport.setdefault(dkey, []).append(i)
            continue
        if rule.proto and not rule.proto_invert:
            by_proto.setdefault(rule.proto, []).append(i)
            continue
        iface = rule.in_iface
        if iface is not None and not rule.in_invert and iface and not iface.endswith("+"):
            by_iface.setdefault(iface, []).append(i)
            continue
        residual.append(i)
    prefixes = tuple(sorted(by_prefix.items(), reverse=True))
    return CompiledChain(entries, len(entries), prefixes, by_dport, by_proto, by_iface, residual)


_CACHE: dict[int, tuple["TableState", int, dict[str, CompiledChain]]] = {}
_CACHE_MAX = 256


def clear_cache() -> None:
    """Forget every compiled table (they recompile on their next packet)."""
    _CACHE.clear()


def _tables(table: "TableState") -> dict[str, CompiledChain]:
    """The compiled chains of ``table`` at its current generation (filled lazily).

    Keyed by ``id(table)``; the cached value holds the table itself, so the id
    cannot be reused by another table while the entry lives.
    """
    key = id(table)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is table and cached[1] == table.generation:
        return cached[2]
    if cached is None and len(_CACHE) >= _CACHE_MAX:
        del _CACHE[next(iter(_CACHE))]
    compiled: dict[str, CompiledChain] = {}
    _CACHE[key] = (table, table.generation, compiled)
    return compiled


def _chain_index(compiled: dict[str, CompiledChain], ch: "Chain") -> CompiledChain:
    cc = compiled.get(ch.name)
    entries = ch.entries
    # Defensive: a change that forgot to bump the generation still recompiles.
    if cc is None or cc.entries is not entries or cc.size != len(entries):
        cc = compiled[ch.name] = compile_chain(entries)
    return cc


def fast_evaluate_chain(table: "TableState", chain: str, skb: Skb, ctx: MatchContext) -> ChainResult:
    """Walk ``chain`` of ``table`` for ``skb`` like ``evaluate_chain``, trying only indexed candidates:
    the same :func:`~simnet.netfilter.evaluate.walk_chain`, given each chain's candidates."""
    chains = table.chains
    ip = skb.packet.ip
    if ip is None:  # rule_matches refuses every rule: straight to the policy
        policy = ChainVerdict.DROP if chains[chain].policy == "DROP" else ChainVerdict.ACCEPT
        return ChainResult(policy, None, (Hit(chain, 0, None, policy),), skb, (), None)
    compiled = _tables(table)
    dst = int(ip.dst)
    proto = ip.proto
    l4 = skb.packet.l4
    dkey = (type(l4), l4.dport) if isinstance(l4, (Tcp, Udp)) else None
    iface = skb.indev or ""

    def positions(name: str) -> Sequence[int]:
        return _chain_index(compiled, chains[name]).candidates(dst, dkey, proto, iface)

    return walk_chain(table, chain, skb, ctx, positions)
