"""The netfilter hooks of a namespace: who runs at each hook, in priority order.

Kernel: ``nf_hook_slow`` walks the entries registered at a hook sorted by
priority and stops at the first verdict that is not ACCEPT.  Each iptables
table registers at the hooks its kernel module lists (``iptable_filter``:
LOCAL_IN, FORWARD, LOCAL_OUT at FILTER priority, ...), conntrack at
CONNTRACK and CONNTRACK_CONFIRM, NAT at NAT_DST and NAT_SRC.  Nothing here
orders tables by name: :data:`REGISTRATIONS` is the kernel's table of
(hook, priority), and sorting does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, cast

from simnet.netfilter import targets as T
from simnet.netfilter.conntrack import CtDir, CtState, CtStatus
from simnet.netfilter.conntrack_table import format_conn
from simnet.netfilter.context import MatchContext
from simnet.netfilter.evaluate import ChainResult, ChainVerdict
from simnet.netfilter.hooks import Hook, Priority
from simnet.netfilter.nat import DST, SRC, bind, nat_packet
from simnet.packet import Icmp, IcmpType
from simnet.trace import ConntrackLookup, Disposition, Dropped, HookEntered, Logged, Note, RuleHit, Translated

if TYPE_CHECKING:
    from simnet.netfilter.ruleset import TableState
    from simnet.netns import NetNamespace
    from simnet.skb import Skb


class Verdict(Enum):
    ACCEPT = "ACCEPT"
    DROP = "DROP"
    STOLEN = "STOLEN"
    """Consumed: REJECT answered it."""


@dataclass(frozen=True, slots=True)
class HookResult:
    """What ``nf_hook`` decided: the verdict, the skb as it continues (or as it stopped), and
    the REJECT whose answer the stack must send (``nf_send_reset``/``nf_send_unreach`` are the
    stack's senders; netfilter only asks for them).  The trace is left open on a stop: the
    caller sends the answer first, then ends it, so the steps keep the kernel's order."""

    verdict: Verdict
    skb: "Skb"
    reject: "T.Reject | None" = None
    errno: str | None = None
    """NF_DROP_ERR: the errno a dropping hook hands the sender (None: EPERM, as for NF_DROP)."""

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPT


HookFn = Callable[["NetNamespace", Hook, "Skb", int], "HookResult"]


@dataclass(frozen=True, slots=True)
class Registration:
    hook: Hook
    priority: int
    name: str
    fn: HookFn
    table: str = ""
    """The iptables table this registration runs ('' for conntrack and NAT)."""


def _table(name: str) -> HookFn:
    def run(ns: "NetNamespace", hook: Hook, skb: "Skb", tid: int) -> HookResult:
        return run_table(ns, name, hook, skb, tid)

    return run


def _registrations() -> tuple[Registration, ...]:
    regs: list[Registration] = []
    tables = {  # table -> (hooks, priority): the kernel modules' valid_hooks and priorities
        "raw": ((Hook.PRE_ROUTING, Hook.LOCAL_OUT), Priority.RAW),
        "mangle": (tuple(Hook), Priority.MANGLE),
        "filter": ((Hook.LOCAL_IN, Hook.FORWARD, Hook.LOCAL_OUT), Priority.FILTER),
        "security": ((Hook.LOCAL_IN, Hook.FORWARD, Hook.LOCAL_OUT), Priority.SECURITY),
    }
    for name, (hooks, prio) in tables.items():
        for hook in hooks:
            regs.append(Registration(hook, prio, name, _table(name), name))
    for hook in (Hook.PRE_ROUTING, Hook.LOCAL_OUT):
        regs.append(Registration(hook, Priority.CONNTRACK, "conntrack", conntrack_in))
        regs.append(Registration(hook, Priority.NAT_DST, "nat", nat_hook))
    for hook in (Hook.POST_ROUTING, Hook.LOCAL_IN):
        regs.append(Registration(hook, Priority.NAT_SRC, "nat", nat_hook))
        regs.append(Registration(hook, Priority.CONNTRACK_CONFIRM, "conntrack confirm", conntrack_confirm))
    return tuple(regs)


def nf_hook(ns: "NetNamespace", hook: Hook, skb: "Skb", tid: int, *, bridged: bool = False) -> HookResult:
    """Run every registration at ``hook`` in priority order until one does not accept.

    A DROP or a REJECT ends the walk; the trace stays open (see :class:`HookResult`).
    """
    if not ns.ruleset_active():
        return HookResult(Verdict.ACCEPT, skb)
    tracer = ns.world.tracer
    if tracer.recording:
        tracer.step(tid, HookEntered(netns=ns.name, hook=hook.chain, bridged=bridged))
    tables = cast("dict[str, TableState]", ns.ruleset.tables)
    chain = hook.chain
    for reg in BY_HOOK[hook]:
        # Registrations that would accept the skb unchanged are skipped: a table without
        # this hook's chain, the nat hook without a nat table, conntrack while nothing needs it.
        fn = reg.fn
        if reg.table:
            state = tables.get(reg.table)
            if state is None or chain not in state.chains:
                continue
        elif fn is nat_hook:
            if "nat" not in tables:
                continue
        elif fn is conntrack_in and not ns.conntrack_active():
            continue
        result = fn(ns, hook, skb, tid)
        if result.verdict is not Verdict.ACCEPT:
            return result
        skb = result.skb
    return HookResult(Verdict.ACCEPT, skb)


def match_context(ns: "NetNamespace", hook: Hook) -> MatchContext:
    return MatchContext(hook=hook, addr_type=ns.addr_type, ipsets=ns.ipsets, now=ns.world.now,
                        rng=ns.world.rng, state=ns.match_state, forced=ns.world.forced, netns=ns)


def evaluate(ns: "NetNamespace", table: str, hook: Hook, skb: "Skb", tid: int) -> ChainResult | None:
    """Evaluate a table's built-in chain for ``hook``, count the hits and trace them."""
    state = cast("dict[str, TableState]", ns.ruleset.tables).get(table)
    if state is None or hook.chain not in state.chains:
        return None
    ctx = match_context(ns, hook)
    result = ns.evaluator(state, hook.chain, skb, ctx)
    tracer = ns.world.tracer
    if ctx.notes:
        for message in dict.fromkeys(ctx.notes):
            tracer.step(tid, Note(netns=ns.name, message=message))
    length = skb.packet.length
    for hit in result.hits:
        if hit.index == 0:
            state.chains[hit.chain].policy_counters.add(length)
            if not tracer.recording:
                continue
            text = f"-P {hit.chain} {hit.verdict.value}"
        else:
            hit.entry.counters.add(length)
            if hit.rule is not None and getattr(hit.rule.target, "name", None) == "TCPMSS":  # files load lazily
                # TCPMSS may add a 4-byte MSS option: the rules after it count the new length
                length = result.skb.packet.length
            if not tracer.recording:  # an untraced sweep: the rule's text is never read
                continue
            text = f"-A {hit.chain} {hit.rule}"
        tracer.step(tid, RuleHit(netns=ns.name, table=table, chain=hit.chain, index=hit.index, rule=text,
                                 verdict=hit.verdict.value))
        target = hit.rule.target if hit.rule is not None else None
        if target is not None and target.name in T.OPAQUE_TARGETS:  # Opaque (its file loads lazily)
            tracer.step(tid, Note(netns=ns.name, message=f"{target.name}{target.save()}: "
                                  f"simnet parses this target but does not apply it (the packet is unchanged)"))
    for line in result.logs:
        tracer.step(tid, Logged(netns=ns.name, line=line))
    if result.ct_mark is not None and result.skb.ct is not None:
        result.skb.ct.mark = result.ct_mark
    return result


def run_table(ns: "NetNamespace", table: str, hook: Hook, skb: "Skb", tid: int) -> HookResult:
    result = evaluate(ns, table, hook, skb, tid)
    if result is None:
        return HookResult(Verdict.ACCEPT, skb)
    skb = result.skb
    if result.verdict is ChainVerdict.REJECT:  # the target is a T.Reject (not named: its file loads lazily)
        rej = result.target
        ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=f"REJECT --reject-with {rej.with_}",
                                          disposition=Disposition.REJECTED))
        return HookResult(Verdict.STOLEN, skb, rej)
    if result.verdict is ChainVerdict.DROP:
        ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=f"{table} {hook.chain}: DROP"))
        return HookResult(Verdict.DROP, skb)
    return HookResult(Verdict.ACCEPT, skb)


# -- conntrack -------------------------------------------------------------------------------
def conntrack_in(ns: "NetNamespace", hook: Hook, skb: "Skb", tid: int) -> HookResult:
    """nf_conntrack_in: attach the entry and ctinfo; new connections stay unconfirmed."""
    if not ns.conntrack_active() or skb.ctinfo is not None and skb.ctinfo.state is CtState.UNTRACKED:
        return HookResult(Verdict.ACCEPT, skb)
    if skb.ct is not None and skb.ctinfo is not None:
        return HookResult(Verdict.ACCEPT, skb)
    conn, info = ns.conntrack.classify(skb)
    if conn is not None and info is not None and conn.status & CtStatus.CONFIRMED:
        ns.conntrack.seen(conn, info, skb.packet)
    if ns.world.tracer.recording:  # the entry's text is costly; an untraced sweep never reads it
        ns.world.tracer.step(tid, ConntrackLookup(
            netns=ns.name, state=info.state.value if info else "INVALID",
            direction=info.direction.value if info else "-", entry=format_conn(conn) if conn else "no entry"))
    # the entry (or nothing: INVALID) replaces the CT template (nf_conntrack_in resets _nfct)
    return HookResult(Verdict.ACCEPT, skb.evolve(ct=conn, ctinfo=info, ct_template=None))


def conntrack_confirm(ns: "NetNamespace", hook: Hook, skb: "Skb", tid: int) -> HookResult:
    """__nf_conntrack_confirm: a new connection enters the table as its first packet leaves."""
    conn, info = skb.ct, skb.ctinfo
    if conn is None or info is None or conn.status & CtStatus.CONFIRMED:
        return HookResult(Verdict.ACCEPT, skb)
    if info.state is CtState.RELATED:
        return HookResult(Verdict.ACCEPT, skb)
    if not ns.conntrack.confirm(conn):
        ns.world.tracer.step(tid, Dropped(netns=ns.name, reason="conntrack: insert clash with an existing entry"))
        return HookResult(Verdict.DROP, skb)
    return HookResult(Verdict.ACCEPT, skb)


# -- NAT ---------------------------------------------------------------------------------------
def nat_hook(ns: "NetNamespace", hook: Hook, skb: "Skb", tid: int) -> HookResult:
    """nf_nat_inet_fn: bind new connections through the nat table, then translate."""
    conn, info = skb.ct, skb.ctinfo
    if conn is None or info is None or info.state is CtState.UNTRACKED:
        return HookResult(Verdict.ACCEPT, skb)
    manip = DST if hook in (Hook.PRE_ROUTING, Hook.LOCAL_OUT) else SRC
    l4 = skb.packet.l4
    related_error = info.state is CtState.RELATED and isinstance(l4, Icmp)
    if isinstance(l4, Icmp) and related_error and l4.type == IcmpType.REDIRECT and "nat" in ns.ruleset.tables and (
            conn.nat_bound != {SRC, DST} or conn.status & (CtStatus.SRC_NAT | CtStatus.DST_NAT)):
        # nf_nat_icmp_reply_translation drops a redirect about a NATed connection, or one whose
        # NAT is not finished: a new connection's SNAT is decided at POSTROUTING, after
        # ip_forward sent the redirect (verified on 6.18: a non-matching MASQUERADE rule is enough)
        ns.world.tracer.step(tid, Dropped(netns=ns.name, reason="nat: an ICMP redirect about a connection "
                                                                "NAT has rewritten or not finished with"))
        return HookResult(Verdict.DROP, skb)
    # nf_nat_ipv4_fn: a RELATED ICMP error only has its quote translated; any other RELATED
    # packet (a REJECT's RST carries its segment's entry) falls through to the NEW case, and
    # the nat chain runs for it if this manip was never set up (the SYN died before it)
    if "nat" not in ns.ruleset.tables:
        # nf_nat_register_fn: the NAT hooks exist only while a nat table does (simnet's table has
        # all its base chains, as the kernel runner makes it); a connection that passes before
        # then is never initialised for NAT (nf_nat_initialized stays false)
        return HookResult(Verdict.ACCEPT, skb)
    if related_error:
        pass
    elif info.state in (CtState.NEW, CtState.RELATED) and manip not in conn.nat_bound:
        result = evaluate(ns, "nat", hook, skb, tid)
        # nf_nat_setup_info: "Can't setup nat info for confirmed ct": a connection confirmed
        # before the nat table existed runs the chains on each packet until a reply, unmapped
        confirmed = bool(conn.status & CtStatus.CONFIRMED)
        if not confirmed:
            conn.nat_bound.add(manip)
        if result is not None:
            skb = result.skb
            target = result.target
            wanted = (isinstance(target, (T.Dnat, T.Redirect)) and manip is DST) or (
                isinstance(target, (T.Snat, T.Masquerade)) and manip is SRC) or isinstance(target, T.Netmap)
            if wanted and confirmed:
                ns.world.tracer.step(tid, Note(netns=ns.name, message=(
                    f"{target.name}: not applied: the connection was confirmed before the nat table "
                    "existed, and NAT cannot be set up for a confirmed connection (nf_nat_setup_info)")))
            elif wanted and not bind(ns, conn, manip, target, skb):
                ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=f"{target.name}: no address to use"))
                return HookResult(Verdict.DROP, skb)
            if result.verdict is ChainVerdict.DROP:
                ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=f"nat {hook.chain}: DROP"))
                return HookResult(Verdict.DROP, skb)
    elif (hook is Hook.POST_ROUTING and conn.masq_dev is not None and info.direction is CtDir.ORIGINAL
          and skb.outdev != conn.masq_dev):
        # nf_nat_oif_changed: a masqueraded flow now leaving by another device is dropped and its
        # entry killed, so the next packet starts a connection masqueraded to the new device
        ns.conntrack.remove(conn)
        ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=(
            f"nat: the masqueraded connection now leaves by {skb.outdev}, not {conn.masq_dev}: "
            "its entry is deleted (nf_nat_oif_changed)")))
        return HookResult(Verdict.DROP, skb)
    packet, diffs = nat_packet(conn, info.direction, manip, skb.packet)
    if diffs:
        ns.world.tracer.step(tid, Translated(netns=ns.name, manip="dnat" if manip is DST else "snat", diffs=diffs))
        if hook is Hook.LOCAL_OUT and packet.ip is not None and skb.packet.ip is not None \
                and packet.ip.dst != skb.packet.ip.dst:
            # nf_nat_ipv4_local_fn: a new destination is routed again inside the nat hook
            # (ip_route_me_harder); a failure drops it here, before filter OUTPUT sees it
            from simnet.errors import SendError
            from simnet.routing import route_output
            try:
                route_output(ns, packet.ip.dst, src=packet.ip.src, mark=skb.mark)
            except SendError as err:
                ns.world.tracer.step(tid, Dropped(netns=ns.name, reason=(
                    f"nat OUTPUT: re-route after DNAT to {packet.ip.dst} failed: {err} (ip_route_me_harder)")))
                return HookResult(Verdict.DROP, skb.evolve(packet=packet), errno=err.errno_name)
        skb = skb.evolve(packet=packet)
    return HookResult(Verdict.ACCEPT, skb)


REGISTRATIONS = _registrations()
BY_HOOK: dict[Hook, tuple[Registration, ...]] = {
    hook: tuple(sorted((r for r in REGISTRATIONS if r.hook is hook), key=lambda r: r.priority)) for hook in Hook
}
