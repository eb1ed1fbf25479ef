"""Why did a packet not arrive?  Plain-language diagnoses from the typed trace.

:func:`explain` walks a failed probe's traces (the typed steps, never their
text): the first packet that stopped short of its goal, where, and why: no
route, ARP unanswered, a rule's DROP/REJECT, a chain policy, forwarding off on
a router, TTL, or a reply lost on its way back (found through
``Trace.caused_by``).  When the destination address also exists in another
namespace of the world, the diagnosis says so and names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Iterable

from simnet.trace import (
    Disposition,
    Dropped,
    IcmpSent,
    NeighbourLookup,
    RouteLookup,
    RuleHit,
    Sent,
    Trace,
)

if TYPE_CHECKING:
    from simnet.probe import ProbeResult
    from simnet.world import World

__all__ = ["Diagnosis", "explain", "explain_probe"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnosis:
    """Where and why one failed probe's packet stopped."""

    line: int | None
    """The script line of the probe (None for a bare ProbeResult)."""
    probe: str
    """The probe, as ``proto NS -> DST[:PORT]`` (or its command line)."""
    outcome: str
    netns: str | None
    """The namespace where the packet stopped first."""
    reason: str
    """One or two sentences in plain language."""
    kind: str
    """no-route, neigh-failed, rule-drop, rule-reject, policy-drop, forwarding-off, ttl, reply-lost,
    not-forwarded, refused, unknown."""
    rule: str | None = None
    """The ``-A ...`` rule (or ``-P CHAIN POLICY``) that decided, if a rule did."""
    elsewhere: tuple[str, ...] = ()
    """Other namespaces that also hold the destination address."""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return where + self.text()

    def text(self) -> str:
        """The diagnosis without its line number."""
        text = f"{self.probe}: {self.outcome}. {self.reason}"
        if self.elsewhere:
            text += (f" Note: {self.probe_dst()} is assigned in netns " + ", ".join(self.elsewhere)
                     + ", which this packet did not reach.")
        return text

    def probe_dst(self) -> str:
        return self.probe.split("->")[-1].strip().split(":")[0] if "->" in self.probe else "the destination"


def explain(subject: Any, *, world: "World | None" = None, line: int | None = None) -> list[Diagnosis]:
    """Diagnose every failed probe of a :class:`~simnet.script.interpreter.Report` (or one ProbeResult).

    A probe failed when its expectation did not hold, or, without an
    expectation, when its outcome is not reply/connected/delivered.
    ``line`` restricts a report to the probe on that line.
    """
    from simnet.probe import ProbeResult

    if isinstance(subject, ProbeResult):
        return [] if subject.ok else [explain_probe(subject, world=world)]
    out: list[Diagnosis] = []
    for p in subject.probes:
        if line is not None and p.line != line:
            continue
        failed = p.ok is False or (p.ok is None and not p.result.ok)
        if failed or line is not None and not p.result.ok:
            out.append(explain_probe(p.result, world=subject.world, line=p.line, command=p.command))
    return out


def explain_probe(result: "ProbeResult", *, world: "World | None" = None, line: int | None = None,
                  command: str | None = None) -> Diagnosis:
    """The diagnosis of one probe, from its traces."""
    port = f":{result.dport}" if result.dport is not None else ""
    probe = f"{result.proto} {result.netns} -> {result.dst}{port}"
    elsewhere = _elsewhere(world, result.dst, result) if world is not None else ()
    base = dict(line=line, probe=probe, outcome=result.outcome, elsewhere=elsewhere)
    traces = {t.id: t for t in result.traces}
    originals = [t for t in result.traces if t.caused_by is None and t.origin == result.netns
                 and _is_probe_packet(t, result)]
    if result.outcome in ("refused",):
        rst = next((t for t in result.traces if t.caused_by is not None and _rule_reject(t) is None), None)
        return Diagnosis(netns=str(result.dst), kind="refused",
                         reason=f"{result.dst} answered with a TCP RST: nothing listens on port {result.dport}"
                                + (f" there (the RST came from netns {rst.origin})." if rst else "."),
                         **base)  # type: ignore[arg-type]
    for t in originals:
        d = _stop(t, traces)
        if d is not None:
            kind, netns, reason, rule = d
            return Diagnosis(netns=netns, kind=kind, reason=reason, rule=rule, **base)  # type: ignore[arg-type]
    # every request reached its goal: look at what came back
    for t in originals:
        for answer in (a for a in result.traces if a.caused_by == t.id):
            if _is_arp(answer):
                continue
            d = _stop(answer, traces)
            if d is not None:
                kind, netns, reason, rule = d
                reason = (f"The request reached {answer.origin}, but its answer ({answer.packet}) was lost on the "
                          f"way back: {reason[0].lower() + reason[1:]}")
                return Diagnosis(netns=netns, kind="reply-lost", reason=reason, rule=rule, **base)  # type: ignore[arg-type]
    if result.errno and not result.traces:
        return Diagnosis(netns=result.netns, kind="unknown", reason=f"the sender got {result.errno}.",
                         **base)  # type: ignore[arg-type]
    return Diagnosis(netns=None, kind="unknown",
                     reason="simnet found no step where the packet stopped; see the trace.", **base)  # type: ignore[arg-type]


def _is_probe_packet(t: Trace, result: "ProbeResult") -> bool:
    return not _is_arp(t) and t.packet.ip is not None and t.packet.ip.dst == result.dst


def _is_arp(t: Trace) -> bool:
    return t.packet.ip is None


def _rule_reject(t: Trace) -> RuleHit | None:
    return next((h for h in t.rule_hits() if h.verdict.startswith("REJECT")), None)


def _stop(t: Trace, traces: dict[int, Trace]) -> tuple[str, str, str, str | None] | None:
    """(kind, netns, reason, rule) for a trace that did not end delivered, else None."""
    if t.disposition is Disposition.DELIVERED:
        return None
    steps = t.steps
    drops = [s for s in steps if isinstance(s, Dropped)]
    # a flooded frame ends on several branches: take the drop that decided the trace's fate
    drop = next((s for s in drops if s.disposition is t.disposition and "ip_forward" in s.reason), None) or \
        next((s for s in drops if s.disposition is t.disposition), None) or (drops[0] if drops else None)
    hits = [s for s in steps if isinstance(s, RuleHit)]
    last_hit = hits[-1] if hits else None
    if last_hit is not None and last_hit.verdict.split()[0] in ("DROP", "REJECT") and (
            drop is None or drop.netns == last_hit.netns):
        where = f"{last_hit.table} {last_hit.chain}"
        if last_hit.index == 0:
            return ("policy-drop", last_hit.netns,
                    f"In netns {last_hit.netns} no rule of {where} matched, and the chain policy "
                    f"{last_hit.verdict} dropped it ({last_hit.rule}).", last_hit.rule)
        verb = "rejected" if last_hit.verdict.startswith("REJECT") else "dropped"
        return ("rule-reject" if verb == "rejected" else "rule-drop", last_hit.netns,
                f"In netns {last_hit.netns} it was {verb} by {where} rule {last_hit.index}: {last_hit.rule}",
                last_hit.rule)
    if drop is None:
        if t.disposition is Disposition.IN_FLIGHT:
            nl = next((s for s in reversed(steps) if isinstance(s, NeighbourLookup)), None)
            if nl is not None and nl.lladdr is None:
                return ("neigh-failed", nl.netns, f"In netns {nl.netns}, ARP for {nl.address} on dev {nl.dev} "
                                                  "went unanswered while the probe waited: nothing on that "
                                                  f"segment owns {nl.address}.", None)
            return ("unknown", t.origin, "The packet was still queued when the probe gave up.", None)
        return None
    ns = drop.netns
    match drop.disposition:
        case Disposition.NO_ROUTE:
            look = next((s for s in reversed(steps) if isinstance(s, RouteLookup) and s.netns == ns), None)
            if look is not None and look.route is not None and look.result in ("unreachable", "prohibit",
                                                                               "blackhole"):
                return ("no-route", ns, f"In netns {ns} the route to {look.dst} is `{look.route}`: "
                                        f"a {look.result} route ({drop.reason}).", None)
            dst = look.dst if look is not None else (str(t.packet.ip.dst) if t.packet.ip else "?")
            return ("no-route", ns, f"netns {ns} has no route to {dst} ({drop.reason}).", None)
        case Disposition.NEIGH_FAILED:
            nl = next((s for s in reversed(steps) if isinstance(s, NeighbourLookup) and s.netns == ns), None)
            addr, dev = (nl.address, nl.dev) if nl is not None else ("the next hop", "?")
            return ("neigh-failed", ns, f"In netns {ns}, ARP for {addr} on dev {dev} went unanswered: nothing "
                                        f"on that segment owns {addr}.", None)
        case Disposition.TTL_EXCEEDED:
            return ("ttl", ns, f"The TTL ran out in netns {ns} ({drop.reason}); a routing loop sends the packet "
                               "round until it does.", None)
        case Disposition.LINK_DOWN:
            return ("link-down", ns, f"In netns {ns}: {drop.reason}.", None)
        case Disposition.NOT_FOR_US:
            if "ip_forward" in drop.reason:
                return ("forwarding-off", ns, f"netns {ns} would have to route it, but net.ipv4.ip_forward is 0 "
                                              f"there ({drop.reason}).", None)
            return ("not-forwarded", ns, f"In netns {ns}: {drop.reason}.", None)
        case Disposition.LOOP:
            return ("loop", ns, f"The frame looped at layer 2 in netns {ns}.", None)
        case _:
            pass
    icmp = next((s for s in steps if isinstance(s, IcmpSent)), None)
    extra = f" and answered with ICMP {icmp.type}/{icmp.code}" if icmp is not None else ""
    return ("dropped", ns, f"netns {ns} dropped it{extra}: {drop.reason}.", None)


def _elsewhere(world: "World", dst: IPv4Address, result: "ProbeResult") -> tuple[str, ...]:
    owners = sorted(name for name, ns in world.namespaces.items()
                    if any(a.address == dst for a in ns.addrs))
    reached = {s.netns for t in result.traces for s in t.steps if not isinstance(s, Sent)}
    # the owners the packet never got to: the address lives somewhere this path does not lead
    # (the same 172.17.0.0/16 on another host, say)
    return tuple(o for o in owners if o not in reached and o != result.netns)


def describe(diagnoses: Iterable[Diagnosis]) -> str:
    """The diagnoses as text, one paragraph each."""
    return "\n".join(str(d) for d in diagnoses)
