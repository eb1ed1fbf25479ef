"""Chain traversal with ``ipt_do_table`` semantics.

Kernel: net/ipv4/netfilter/ip_tables.c.  Rules are tried in order; a match
runs its target: a terminal verdict ends the table, ``-j CHAIN`` pushes a
return point, ``-g CHAIN`` does not, ``RETURN`` (or falling off the end of a
user chain) pops; the end of a built-in chain applies its policy.  Non-
terminal targets (MARK, CONNMARK, LOG, CT, TRACE, ...) act and continue.

:func:`evaluate_chain` is the reference: a plain linear walk.  The fast path
(:mod:`simnet.netfilter.fastpath`) must name exactly the same hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Callable, Sequence, assert_never

from simnet.netfilter import targets as T
from simnet.netfilter.conntrack import UNTRACKED, CtInfo, CtState, CtZone
from simnet.netfilter.context import MatchContext
from simnet.netfilter.rule import Rule
from simnet.skb import Skb

if TYPE_CHECKING:
    from simnet.netfilter.ruleset import TableState

MAX_JUMPS = 1024
TEMPLATE = CtInfo(CtState.NEW)
"""The ctinfo a CT template carries until conntrack-in (IP_CT_NEW)."""
_ZONE_DIRS = {None: CtZone.ORIG | CtZone.REPLY, "orig": CtZone.ORIG, "reply": CtZone.REPLY}


class ChainVerdict(StrEnum):
    """What a matched rule (or a chain's end) tells the walk: go on, move in the chain graph, or
    stop with a verdict (the terminal target's name; a policy is ACCEPT or DROP)."""

    CONTINUE = "continue"
    JUMP = "jump"
    GOTO = "goto"
    RETURN = "RETURN"
    ACCEPT = "ACCEPT"
    DROP = "DROP"
    REJECT = "REJECT"
    DNAT = "DNAT"
    SNAT = "SNAT"
    MASQUERADE = "MASQUERADE"
    REDIRECT = "REDIRECT"
    NETMAP = "NETMAP"


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule (or policy) that matched, in evaluation order."""

    chain: str
    index: int
    """1-based position in the chain; 0 for the policy."""
    rule: Rule | None
    verdict: ChainVerdict
    entry: Any = None


@dataclass(frozen=True, slots=True)
class ChainResult:
    verdict: ChainVerdict
    """ACCEPT, DROP, or the terminal target's (REJECT, DNAT, SNAT, MASQUERADE, REDIRECT)."""
    target: Any
    hits: tuple[Hit, ...]
    skb: Skb
    logs: tuple[str, ...] = ()
    ct_mark: int | None = None


def iface_match(pattern: str, name: str | None) -> bool:
    """``-i eth+``: a trailing ``+`` matches any name with that prefix."""
    name = name or ""
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


def rule_matches(rule: Rule, skb: Skb, ctx: MatchContext) -> bool:
    """The ipt_entry checks (ip_packet_match), then every match module in order."""
    ip = skb.packet.ip
    if ip is None:
        return False
    if rule.src is not None and ((int(ip.src) & int(rule.src.netmask)) == int(rule.src.network_address)) == rule.src_invert:
        return False
    if rule.dst is not None and ((int(ip.dst) & int(rule.dst.netmask)) == int(rule.dst.network_address)) == rule.dst_invert:
        return False
    if rule.in_iface is not None and iface_match(rule.in_iface, skb.indev) == rule.in_invert:
        return False
    if rule.out_iface is not None and iface_match(rule.out_iface, skb.outdev) == rule.out_invert:
        return False
    if rule.proto is not None and rule.proto != 0 and (ip.proto == rule.proto) == rule.proto_invert:
        return False
    if rule.fragment is not None and (ip.frag_off != 0) != rule.fragment:
        return False  # -f: a second or later fragment (IPT_F_FRAG tests the offset only)
    for m in rule.matches:
        if not m.matches(skb, ctx):
            return False
    return True


def log_line(target: Any, skb: Skb, ctx: MatchContext) -> str:
    """What ``LOG`` would print to the kernel log (nf_log_ip_packet, abridged)."""
    ip = skb.packet.ip
    prefix = getattr(target, "prefix", None) or ""
    parts = [f"{prefix}IN={skb.indev or ''} OUT={skb.outdev or ''}"]
    if skb.physindev:
        parts.append(f"PHYSIN={skb.physindev}")
    if skb.physoutdev:
        parts.append(f"PHYSOUT={skb.physoutdev}")
    if ip is not None:
        parts.append(f"SRC={ip.src} DST={ip.dst} TTL={ip.ttl} PROTO={_proto(ip.proto)}")
        if skb.packet.sport is not None:
            parts.append(f"SPT={skb.packet.sport} DPT={skb.packet.dport}")
    if skb.mark:
        parts.append(f"MARK=0x{skb.mark:x}")
    return " ".join(parts)


def _proto(p: int) -> str:
    return {1: "ICMP", 6: "TCP", 17: "UDP"}.get(p, str(p))


def apply_target(target: "T.Target | None", skb: Skb, ctx: MatchContext, logs: list[str],
                 ct_mark: int | None) -> tuple[ChainVerdict, Skb, int | None]:
    """Run the target of a rule that matched: ``(verdict, skb, ct_mark)``.

    ``verdict`` is ``"continue"``, ``"jump"``, ``"goto"``, ``"RETURN"`` (the
    caller moves in the chain graph) or a terminal verdict name (ACCEPT, DROP,
    REJECT, DNAT, ...).  Shared by the reference walk and the fast path so
    both dispatch targets identically.  ``LOG``/``NFLOG`` append to ``logs``.
    """
    match target:
        case None:
            return ChainVerdict.CONTINUE, skb, ct_mark
        case T.Jump():
            return ChainVerdict.JUMP, skb, ct_mark
        case T.Goto():
            return ChainVerdict.GOTO, skb, ct_mark
        case T.Return():
            return ChainVerdict.RETURN, skb, ct_mark
        case T.Accept() | T.Drop():  # before the extensions: naming one imports its file (targets/__init__)
            return _TERMINAL[target.name], skb, ct_mark
        case T.Mark():
            return ChainVerdict.CONTINUE, skb.evolve(mark=target.apply(skb.mark)), ct_mark
        case T.Connmark():
            cur = ct_mark if ct_mark is not None else (skb.ct.mark if skb.ct is not None else 0)
            new_mark, new_ct = target.apply(skb.mark, cur)
            skb = skb.evolve(mark=new_mark)
            if skb.ct is not None:
                ct_mark = new_ct
            return ChainVerdict.CONTINUE, skb, ct_mark
        case T.Log() | T.Nflog():
            logs.append(log_line(target, skb, ctx))
            return ChainVerdict.CONTINUE, skb, ct_mark
        case T.Trace():
            return ChainVerdict.CONTINUE, skb.evolve(nf_trace=True), ct_mark
        case T.Notrack() | T.Ct() if skb.ctinfo is not None:
            # xt_CT: "Previously seen (loopback)? Ignore." A looped-back skb keeps its entry
            return ChainVerdict.CONTINUE, skb, ct_mark
        case T.Notrack():
            return ChainVerdict.CONTINUE, skb.evolve(ct=None, ctinfo=UNTRACKED), ct_mark
        case T.Ct():
            if target.notrack:
                return ChainVerdict.CONTINUE, skb.evolve(ct=None, ctinfo=UNTRACKED), ct_mark
            # xt_ct_target: every other CT target attaches its template (nf_ct_set(skb, tmpl,
            # IP_CT_NEW)), with or without a zone; conntrack-in looks the packet up in its zone
            zone = CtZone(target.zone or 0, _ZONE_DIRS[target.zone_dir], target.zone_mark)
            return ChainVerdict.CONTINUE, skb.evolve(ctinfo=TEMPLATE, ct_template=zone), ct_mark
        case T.Reject() | T.Dnat() | T.Snat() | T.Masquerade() | T.Redirect() | T.Netmap():
            return _TERMINAL[target.name], skb, ct_mark
        case T.Tcpmss():
            mangled = target.mangle(skb, ctx)
            if mangled is None:
                return ChainVerdict.DROP, skb, ct_mark
            return ChainVerdict.CONTINUE, mangled, ct_mark
        case T.Checksum() | T.Opaque():
            return ChainVerdict.CONTINUE, skb, ct_mark  # parsed and printed, not applied (engine notes Opaque)
        case _:
            assert_never(target)


Positions = Callable[[str], Sequence[int]]
"""Which positions of a chain to try, in order: every one (the reference) or an index's candidates."""


_TERMINAL = {v.value: v for v in ChainVerdict}


def walk_chain(table: "TableState", chain: str, skb: Skb, ctx: MatchContext, positions: Positions) -> ChainResult:
    """ipt_do_table's traversal of ``chain`` for ``skb``: jumps, gotos, RETURN, the policy.

    ``positions(name)`` names the rules of chain ``name`` worth trying, in rule order; a rule
    left out must be one that would not match (see :mod:`simnet.netfilter.fastpath`), so every
    caller gets the same hits, verdict and skb as the linear walk.
    """
    chains = table.chains
    hits: list[Hit] = []
    logs: list[str] = []
    stack: list[tuple[str, Sequence[int], int]] = []
    ct_mark: int | None = None
    name = chain
    entries = chains[name].entries
    cands = positions(name)
    k = 0
    for _ in range(MAX_JUMPS * 64):
        if k >= len(cands):
            if stack:
                name, cands, k = stack.pop()
                entries = chains[name].entries
                continue
            break
        i = cands[k]
        entry = entries[i]
        rule = entry.rule
        ctx.rule_key = id(entry)
        if not rule_matches(rule, skb, ctx):
            k += 1
            continue
        target = rule.target
        verdict, skb, ct_mark = apply_target(target, skb, ctx, logs, ct_mark)
        hits.append(Hit(name, i + 1, rule, verdict, entry))
        if verdict is ChainVerdict.CONTINUE:
            k += 1
        elif verdict is ChainVerdict.JUMP:
            if len(stack) >= MAX_JUMPS:
                raise RuntimeError("iptables chain stack overflow")
            stack.append((name, cands, k + 1))
            assert isinstance(target, T.Jump)
            name, k = target.chain, 0
            entries = chains[name].entries
            cands = positions(name)
        elif verdict is ChainVerdict.GOTO:
            assert isinstance(target, T.Goto)
            name, k = target.chain, 0
            entries = chains[name].entries
            cands = positions(name)
        elif verdict is ChainVerdict.RETURN:
            if not stack:
                break  # RETURN from the base chain: its policy
            name, cands, k = stack.pop()
            entries = chains[name].entries
        else:
            return ChainResult(verdict, target, tuple(hits), skb, tuple(logs), ct_mark)
    else:
        raise RuntimeError("iptables evaluation did not terminate")
    policy = ChainVerdict.DROP if chains[chain].policy == "DROP" else ChainVerdict.ACCEPT
    hits.append(Hit(chain, 0, None, policy))
    return ChainResult(policy, None, tuple(hits), skb, tuple(logs), ct_mark)


def evaluate_chain(table: "TableState", chain: str, skb: Skb, ctx: MatchContext) -> ChainResult:
    """Walk ``chain`` of ``table`` for ``skb``: the reference (linear) evaluator, every rule tried."""
    chains = table.chains
    return walk_chain(table, chain, skb, ctx, lambda name: range(len(chains[name].entries)))
