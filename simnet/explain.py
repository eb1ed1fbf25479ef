"""What happened to a probe, and why: plain-language explanations from the typed trace.

:func:`explain` explains every probe, whether it worked or not, from its traces
(the typed steps, never their text): the namespaces its first packet crossed,
the hooks and chains it went through there, the rules and NAT rewrites that
decided (a DNAT before routing that sends a packet to FORWARD, past an INPUT
firewall, is named as such), and the answer's way back.  For a probe that did
not get through it says where and why it stopped: no route, ARP unanswered, a
rule's DROP/REJECT, a chain policy, forwarding off on a router, TTL, or a reply
lost on its way back (found through ``Trace.caused_by``); when the destination
address also exists in another namespace of the world, it names it.  For a
probe with an ``# expect:`` line it says which part of the expectation failed
(outcome, errno, ``from``, or a ``via`` rule the packets never hit).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Iterable

from simnet.netfilter.ruleset import Table
from simnet.trace import (
    Delivered,
    Disposition,
    Dropped,
    HookEntered,
    IcmpSent,
    NeighbourLookup,
    RouteLookup,
    RuleHit,
    Sent,
    Trace,
    Translated,
)

if TYPE_CHECKING:
    from simnet.probe import ProbeResult
    from simnet.world import World

__all__ = ["Diagnosis", "explain", "explain_probe", "explain_record"]


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
    path: str = ""
    """How the probe's packets went: namespaces, hooks and chains, deciding rules, NAT rewrites."""
    expectation: str | None = None
    """The ``# expect:`` verdict: which parts failed, or that it held (None without one)."""
    ok: bool = False
    """Whether the probe worked: its expectation held, or without one, it got through."""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return where + self.text()

    def text(self) -> str:
        """The explanation without its line number: one paragraph."""
        text = f"{self.probe}: {self.outcome}."
        if self.expectation:
            text += f" {self.expectation}"
        if self.path:
            text += f" {self.path}"
        if self.kind != "reached":
            text += f" So: {self.reason}"
        if self.elsewhere:
            text += (f" Note: {self.probe_dst()} is assigned in netns " + ", ".join(self.elsewhere)
                     + ", which this packet did not reach.")
        return text

    def probe_dst(self) -> str:
        return self.probe.split("->")[-1].strip().split(":")[0] if "->" in self.probe else "the destination"


def explain(subject: Any, *, world: "World | None" = None, line: int | None = None,
            failed_only: bool = False) -> list[Diagnosis]:
    """Explain every probe of a :class:`~simnet.script.interpreter.Report` (or one probe).

    ``subject`` is a Report, a ProbeRecord of one, or a bare ProbeResult (pass
    ``world`` to have other holders of its address named).  ``line``
    restricts a report to the probe(s) on that line; ``failed_only`` keeps the
    probes that failed: their expectation did not hold or, without one, their
    outcome is not reply/connected/delivered.
    """
    from simnet.probe import ProbeResult

    if isinstance(subject, ProbeResult):
        d = explain_probe(subject, world=world)
        return [] if failed_only and d.ok else [d]
    records = [subject] if hasattr(subject, "result") and hasattr(subject, "expect") else list(subject.probes)
    world = world if world is not None else getattr(subject, "world", None)
    out: list[Diagnosis] = []
    for p in records:
        if line is not None and p.line != line:
            continue
        d = explain_record(p, world=world)
        if not (failed_only and d.ok):
            out.append(d)
    return out


def explain_record(record: Any, *, world: "World | None" = None) -> Diagnosis:
    """The explanation of one probe of a script run (a ProbeRecord), its expectation's verdict included."""
    from dataclasses import replace

    d = explain_probe(record.result, world=world, line=record.line, command=record.command)
    if record.expect is None:
        return d
    misses = record.expect.mismatches(record.to_json())
    if record.expect.via is not None and not any(m.startswith("via") for m in misses) and record.ok is False:
        misses.append("via: the trace shows no hit of {}/{}#{}".format(*record.expect.via))
    misses = [_via_detail(m, record) if m.startswith("via") else m for m in misses]
    if misses:
        verdict = f"The expectation '{record.expect}' FAILED: " + "; ".join(misses) + "."
    else:
        verdict = f"As expected ('{record.expect}')."
    return replace(d, expectation=verdict, ok=not misses and record.ok is not False)


def _via_detail(miss: str, record: Any) -> str:
    table, chain, index = record.expect.via
    hits = sorted({h.index for t in record.result.traces for h in t.rule_hits()
                   if h.table == table and h.chain == chain})
    if not hits:
        return miss + f" (they never traversed {table}/{chain})"
    named = ", ".join("the policy" if i == 0 else f"#{i}" for i in hits)
    return miss + f" (in {table}/{chain} they hit {named})"


def explain_probe(result: "ProbeResult", *, world: "World | None" = None, line: int | None = None,
                  command: str | None = None) -> Diagnosis:
    """The explanation of one probe, from its traces."""
    port = f":{result.dport}" if result.dport is not None else ""
    probe = f"{result.proto} {result.netns} -> {result.dst}{port}"
    # the other holders of the address matter when the packet did not get there
    elsewhere = _elsewhere(world, result.dst, result) if world is not None and not result.ok \
        and not result.dst.is_loopback else ()
    originals = [t for t in result.traces if t.caused_by is None and t.origin == result.netns
                 and _is_probe_packet(t, result)]
    path = _journey(result, originals, world)
    base: dict[str, Any] = dict(line=line, probe=probe, outcome=result.outcome, elsewhere=elsewhere, path=path,
                                ok=result.ok)
    if result.ok:
        return Diagnosis(netns=_delivered_in(originals), kind="reached", reason="", **base)
    return _why(result, originals, base)


def _why(result: "ProbeResult", originals: list[Trace], base: dict[str, Any]) -> Diagnosis:
    """Where and why a probe that did not get through stopped."""
    traces = {t.id: t for t in result.traces}
    if result.outcome in ("refused",):
        rst = next((t for t in result.traces if t.caused_by is not None and _rule_reject(t) is None), None)
        return Diagnosis(netns=str(result.dst), kind="refused",
                         reason=f"{result.dst} answered with a TCP RST: nothing listens on port {result.dport}"
                                + (f" there (the RST came from netns {rst.origin})." if rst else "."),
                         **base)
    for t in originals:
        d = _stop(t, traces)
        if d is not None:
            kind, netns, reason, rule = d
            return Diagnosis(netns=netns, kind=kind, reason=reason, rule=rule, **base)
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
                return Diagnosis(netns=netns, kind="reply-lost", reason=reason, rule=rule, **base)
    if result.errno and not result.traces:
        return Diagnosis(netns=result.netns, kind="unknown", reason=f"the sender got {result.errno}.",
                         **base)
    return Diagnosis(netns=None, kind="unknown",
                     reason="No packet of it was dropped, yet the probe saw no answer in time; see the trace.",
                     **base)


def _delivered_in(originals: list[Trace]) -> str | None:
    for t in originals:
        d = next((s for s in reversed(t.steps) if isinstance(s, Delivered)), None)
        if d is not None:
            return d.netns
    return None


_PASSING = ("jump", "goto", "RETURN", "continue")


def _journey(result: "ProbeResult", originals: list[Trace], world: "World | None") -> str:
    """How the probe's first packet went, and its answer's way back, in a few sentences."""
    if not originals:
        return "No packet left netns {}{}.".format(
            result.netns, f" (the sender got {result.errno})" if result.errno else "")
    first = originals[0]
    out = [_trace_story("Its first packet", first, world)]
    differ = [t for t in originals[1:] if t.disposition is not first.disposition]
    if differ:
        out.append(f"{len(differ)} of its {len(originals)} packets to {result.dst} ended otherwise "
                   f"({', '.join(sorted({str(t.disposition) for t in differ}))}).")
    answer = next((a for a in result.traces if a.caused_by == first.id and not _is_arp(a)
                   and getattr(a.packet.l4, "type", None) != 5), None)  # an ICMP redirect is no answer
    if answer is not None:
        out.append(_trace_story(f"The answer ({answer.packet})", answer, world, brief=True))
    return " ".join(out)


def _trace_story(subject: str, t: Trace, world: "World | None", *, brief: bool = False) -> str:
    route = " → ".join(ns for ns, _ in t.hops)
    text = f"{subject}" + ("" if brief else f" ({t.packet})") + f" went {route}"
    hops = [said for ns, steps in t.hops if (said := _hop_story(ns, steps, world, brief=brief))]
    if brief:
        text += (": " + "; ".join(hops) if hops else "") + "."
    else:
        text += ". " + " ".join(h[0].upper() + h[1:] + "." for h in hops) if hops else "."
    delivered = next((s for s in reversed(t.steps) if isinstance(s, Delivered)), None)
    if t.disposition is Disposition.DELIVERED and delivered is not None:
        text += f" It was delivered in {delivered.netns} to {delivered.to}."
    else:
        text += f" It ended {t.disposition}."
    return text.replace(" .", ".").replace("..", ".")


def _hop_story(ns: str, steps: tuple[Any, ...], world: "World | None", *, brief: bool) -> str:
    hooks: list[tuple[str, list[str]]] = []
    said: list[str] = []
    for i, s in enumerate(steps):
        if isinstance(s, HookEntered):
            hooks.append((s.hook + (" (bridged)" if s.bridged else ""), []))
        elif isinstance(s, RuleHit):
            where = f"{s.table}/{s.chain}"
            if hooks and where not in hooks[-1][1]:
                hooks[-1][1].append(where)
            if s.verdict in _PASSING or (s.index == 0 and s.verdict == "ACCEPT" and s.table != "filter"):
                continue
            if s.verdict.split()[0] in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT"):
                continue  # told with the rewrite that follows
            said.append(_rule_phrase(s))
        elif isinstance(s, Translated):
            said.append(_nat_phrase(s, steps[:i], steps[i + 1:], world))
    if brief:
        said = [p for p in said if "rewrote" in p or "dropped" in p or "rejected" in p]
        return f"in {ns} " + "; ".join(said) if said else ""
    text = ""
    if hooks:
        text = f"in {ns} it passed " + ", ".join(
            h + (f" ({', '.join(chains)})" if chains else "") for h, chains in hooks)
    if said:
        text = (text + ": " if text else f"in {ns} ") + "; ".join(said)
    return text


def _rule_phrase(h: RuleHit) -> str:
    verdict = h.verdict.split()[0]
    verb = {"ACCEPT": "accepted it", "DROP": "dropped it", "REJECT": "rejected it", "LOG": "logged it",
            "MARK": "marked it", "CONNMARK": "set its connection mark", "NOTRACK": "exempted it from conntrack",
            "CT": "set its conntrack template"}.get(verdict, f"applied {h.verdict}")
    if h.index == 0:
        return f"no rule of {h.table}/{h.chain} decided and its policy {verb} ({h.rule})"
    return f"{h.table}/{h.chain}#{h.index} ({h.rule}) {verb}"


def _nat_phrase(tr: Translated, before: tuple[Any, ...], after: tuple[Any, ...], world: "World | None") -> str:
    diffs = {d.field: d for d in tr.diffs}
    addr_field, port_field = ("dst", "dport") if tr.manip == "dnat" else ("src", "sport")
    new = diffs[addr_field].new if addr_field in diffs else None
    port = diffs[port_field].new if port_field in diffs else None
    target = (new or "") + (f":{port}" if port else "") if new else (f"port {port}" if port else "?")
    what = "destination" if tr.manip == "dnat" else "source"
    rule = next((s for s in reversed(before) if isinstance(s, RuleHit)), None)
    by_rule = rule is not None and rule.verdict.split()[0] in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT")
    who = f"{rule.table}/{rule.chain}#{rule.index} ({rule.rule})" if by_rule and rule is not None \
        else "conntrack (the connection's NAT binding)"
    phrase = f"{who} rewrote the {what} to {target}"
    if tr.manip != "dnat":
        return phrase
    hooks = [s.hook for s in after if isinstance(s, HookEntered)]
    old = diffs[addr_field].old if addr_field in diffs else None
    if by_rule and "FORWARD" in hooks and "INPUT" not in hooks and old is not None \
            and _is_local(world, tr.netns, old):
        phrase += (f" before routing, so the packet, sent to {old} (an address of {tr.netns}), was forwarded "
                   "through FORWARD and never met INPUT")
        guard = _input_guard(world, tr.netns)
        if guard:
            phrase += f", where your {guard} is"
    elif hooks[:1] and before and any(isinstance(s, HookEntered) and s.hook == "PREROUTING" for s in before):
        phrase += " before routing"
    return phrase


def _is_local(world: "World | None", ns: str, addr: str) -> bool:
    try:
        return world is not None and world.namespaces[ns].is_local(IPv4Address(addr))
    except (KeyError, ValueError):
        return False


def _input_guard(world: "World | None", ns: str) -> str | None:
    """The DROP/REJECT rules (or policy) of ns's filter INPUT, as the run left them."""
    if world is None:
        return None
    try:
        chain = world.namespaces[ns].ruleset.tables[Table.FILTER].chains["INPUT"]
    except KeyError:
        return None
    for i, e in enumerate(chain.entries, 1):
        words = str(e.rule).split()
        if any(words[k] == "-j" and words[k + 1] in ("DROP", "REJECT") for k in range(len(words) - 1)):
            return f"{words[words.index('-j') + 1]} rule filter/INPUT#{i} (-A INPUT {e.rule})"
    if chain.policy in ("DROP",):
        return "filter/INPUT policy DROP"
    return None


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
