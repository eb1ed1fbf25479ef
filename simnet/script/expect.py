"""`# expect:` annotations: what a scenario's author says a probe must do.

A probe line in a scenario script may be followed, on the very next line, by a
comment of this grammar::

    # expect: OUTCOME [ERRNO] [complete|stalled] [from ADDR[:PORT]] [via TABLE/CHAIN#N]

``OUTCOME`` is one of the outcomes both the simulator and the kernel runner
report (see :data:`OUTCOMES`). ``ERRNO`` is a symbolic errno name such as
``ENETUNREACH``. ``from`` is always the source address (and port) that the
application receiving the deciding packet saw, after any NAT (:func:`seen_from`):

* for ``reply``, ``unreachable`` and ``ttl-exceeded`` that application is the
  prober itself, and the source is the ICMP message's (``icmp.from`` in the
  report; what ping prints after ``from``);
* for ``connected`` and ``delivered`` it is the listener, and the source is the
  address and port it saw (``received.src``/``received.sport``), which is how a
  script checks SNAT/MASQUERADE.  ``refused``, ``timeout`` and ``lost`` have no
  receiving application, so a ``from`` there never holds.

``complete``/``stalled`` is for a sized transfer (``head -c N /dev/zero | nc``, curl of a
file): whether every byte arrived (the report's ``transfer``).

``via`` names the rule that decided the packet's fate (``filter/FORWARD#3``,
rule 0 = the chain policy); the simulator checks it against its trace, and the
kernel runner against the rule counters the probe increased.

Example:
    >>> e = Expectation.parse("unreachable from 10.0.0.254 via filter/FORWARD#2")
    >>> e.outcome, str(e.source), e.via
    ('unreachable', '10.0.0.254', ('filter', 'FORWARD', 2))
    >>> str(e)
    'unreachable from 10.0.0.254 via filter/FORWARD#2'
"""

from __future__ import annotations

import errno as _errno
import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address
from typing import Any

from simnet.errors import ConfigError

__all__ = ["OUTCOMES", "TABLES", "Expectation", "ScriptError", "seen_from"]

#: Every outcome a probe can have, in the report's spelling.
OUTCOMES: frozenset[str] = frozenset(
    {"reply", "unreachable", "ttl-exceeded", "timeout", "connected", "refused",
     "delivered", "lost", "error"}
)

#: The iptables tables a ``via`` may name.
TABLES: frozenset[str] = frozenset({"raw", "mangle", "nat", "filter", "security"})

_ERRNO_NAMES = frozenset(_errno.errorcode.values())
_EAI_NAMES = frozenset({"EAI_NONAME", "EAI_AGAIN", "EAI_NODATA"})
"""getaddrinfo's errors: a probe given a host name that did not resolve (simnet.dns.names)."""
_VIA = re.compile(r"(?P<table>[a-z]+)/(?P<chain>[A-Za-z0-9_.:+-]+)#(?P<rule>[0-9]{1,9})")
_FROM = re.compile(r"(?P<addr>[0-9.]+)(?::(?P<port>[0-9]+))?")


class ScriptError(ConfigError):
    """A scenario script simnet cannot read; the message names ``file:line``.

    Subclass of :class:`ValueError` (through :class:`simnet.errors.ConfigError`).
    """

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """What a probe must do, as written after ``# expect:``."""

    outcome: str
    """One of :data:`OUTCOMES`."""
    errno: str | None = None
    """Symbolic errno the probe must fail with (``ENETUNREACH``), if given."""
    source: IPv4Address | None = None
    """The ``from ADDR`` part (see the module docstring for its meaning)."""
    sport: int | None = None
    """The optional ``:PORT`` of ``from ADDR:PORT``."""
    via: tuple[str, str, int] | None = None
    """``(table, chain, rule)`` from ``via TABLE/CHAIN#N``; rule 0 is the policy."""
    transfer: str | None = None
    """``complete`` or ``stalled``: what a sized transfer must do."""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; expected one of {sorted(OUTCOMES)}")
        if self.sport is not None and self.source is None:
            raise ValueError("a source port needs a source address")

    @classmethod
    def parse(cls, text: str, *, filename: str = "<script>", line: int = 0) -> Expectation:
        """Parse the part after ``# expect:``; raise :class:`ScriptError` naming ``file:line``."""

        def fail(why: str) -> ScriptError:
            return ScriptError(filename, line, f"bad expectation {text.strip()!r}: {why}")

        words = text.split()
        if not words:
            raise fail("missing outcome; write e.g. '# expect: reply'")
        outcome, rest = words[0], words[1:]
        if outcome not in OUTCOMES:
            raise fail(f"unknown outcome {outcome!r}; expected one of {', '.join(sorted(OUTCOMES))}")
        err: str | None = None
        source: IPv4Address | None = None
        sport: int | None = None
        via: tuple[str, str, int] | None = None
        if rest and re.fullmatch(r"E[A-Z0-9_]+", rest[0]):
            err = rest.pop(0)
            if err not in _ERRNO_NAMES | _EAI_NAMES:
                raise fail(f"{err!r} is not an errno name (like ENETUNREACH)")
        transfer: str | None = None
        if rest and rest[0] in ("complete", "stalled"):
            transfer = rest.pop(0)
        seen: set[str] = set()
        while rest:
            key = rest.pop(0)
            if key not in ("from", "via"):
                raise fail(f"unexpected word {key!r}; expected 'from ADDR[:PORT]' or 'via TABLE/CHAIN#N'")
            if key in seen:
                raise fail(f"{key!r} given twice")
            seen.add(key)
            if not rest:
                raise fail(f"{key!r} needs a value")
            value = rest.pop(0)
            if key == "from":
                m = _FROM.fullmatch(value)
                if not m:
                    raise fail(f"'from {value}' is not ADDR or ADDR:PORT")
                try:
                    source = IPv4Address(m["addr"])
                except AddressValueError:
                    raise fail(f"{m['addr']!r} is not an IPv4 address") from None
                if m["port"] is not None:
                    digits = m["port"].lstrip("0")
                    if not digits or len(digits) > 5 or int(digits) > 65535:
                        raise fail(f"port {m['port']} is out of range 1-65535")
                    sport = int(digits)
            else:
                m = _VIA.fullmatch(value)
                if not m:
                    raise fail(f"'via {value}' is not TABLE/CHAIN#N (e.g. filter/FORWARD#3)")
                if m["table"] not in TABLES:
                    raise fail(f"unknown table {m['table']!r}; expected one of {', '.join(sorted(TABLES))}")
                via = (m["table"], m["chain"], int(m["rule"]))
        return cls(outcome=outcome, errno=err, source=source, sport=sport, via=via, transfer=transfer)

    def __str__(self) -> str:
        parts = [self.outcome]
        if self.errno:
            parts.append(self.errno)
        if self.transfer:
            parts.append(self.transfer)
        if self.source is not None:
            parts.append(f"from {self.source}" + (f":{self.sport}" if self.sport is not None else ""))
        if self.via is not None:
            parts.append("via {}/{}#{}".format(*self.via))
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """Return the plain dict a report's ``expect`` holds (before ``ok`` is added).

        >>> Expectation.parse("connected from 10.0.0.1:5000").to_json()
        {'outcome': 'connected', 'errno': None, 'from': '10.0.0.1:5000', 'via': None}
        """
        src = None if self.source is None else str(self.source) + (f":{self.sport}" if self.sport is not None else "")
        return {
            "outcome": self.outcome,
            "errno": self.errno,
            "from": src,
            "via": "{}/{}#{}".format(*self.via) if self.via is not None else None,
            **({"transfer": self.transfer} if self.transfer is not None else {}),
        }

    def check(self, probe: dict[str, Any]) -> bool:
        """Return whether a report's probe dict satisfies this expectation.

        ``via`` is checked against ``probe["counters"]`` (the rule's packet
        counter must have increased in some namespace); ``trace``-based checks
        are the simulator's business.
        """
        return not self.mismatches(probe)

    def mismatches(self, probe: dict[str, Any]) -> list[str]:
        """Each part of the expectation a report's probe dict does not meet, in words (empty: it holds).

        >>> Expectation.parse("reply from 10.0.0.9").mismatches(
        ...     {"outcome": "reply", "icmp": {"type": 0, "code": 0, "from": "10.0.0.2"}})
        ['from: expected 10.0.0.9, the reply came from 10.0.0.2']
        """
        out = []
        if probe.get("outcome") != self.outcome:
            out.append(f"outcome: expected {self.outcome}, got {probe.get('outcome')}")
        if self.errno is not None and probe.get("errno") != self.errno:
            out.append(f"errno: expected {self.errno}, got {probe.get('errno') or 'no error'}")
        if self.transfer is not None:
            t = probe.get("transfer")
            if t is None:
                out.append(f"transfer: expected {self.transfer}, but the probe sent no sized transfer")
            elif ("complete" if t.get("complete") else "stalled") != self.transfer:
                out.append(f"transfer: expected {self.transfer}, {t.get('received')} of {t.get('size')} bytes arrived")
        if self.source is not None:
            want = str(self.source) + (f":{self.sport}" if self.sport is not None else "")
            seen = seen_from(probe)
            if seen is None:
                out.append(f"from: expected {want}, but no application received a packet to see a source")
            else:
                addr, _, port = seen.partition(":")
                if addr != str(self.source) or self.sport is not None and port != str(self.sport):
                    who = ("the reply came from" if probe.get("outcome") in _ICMP_OUTCOMES
                           else "the receiver saw")
                    out.append(f"from: expected {want}, {who} {seen if self.sport is not None else addr}")
        if self.via is not None:
            table, chain, rule = self.via
            hits = [
                c for cs in (probe.get("counters") or {}).values() for c in cs
                if (c.get("table"), c.get("chain"), c.get("rule")) == (table, chain, rule)
                and c.get("packets", 0) > 0
            ]
            if not hits:
                out.append(f"via: the probe's packets never hit {table}/{chain}#{rule}")
        return out


_ICMP_OUTCOMES = ("reply", "unreachable", "ttl-exceeded")


def seen_from(probe: dict[str, Any]) -> str | None:
    """What ``from`` compares with in a report's probe dict: the source the receiving application saw.

    For ``reply``, ``unreachable`` and ``ttl-exceeded`` the receiving application is the
    prober (ping, nc), and the source is the ICMP message's (what ping prints after
    ``from``); for the other outcomes it is the listener that accepted the connection
    or datagram, as ``ADDR:PORT``.  None when nothing was received.

    >>> seen_from({"outcome": "connected", "received": {"ns": "b", "src": "10.0.0.1", "sport": 4000}})
    '10.0.0.1:4000'
    """
    if probe.get("outcome") in _ICMP_OUTCOMES:
        icmp = probe.get("icmp") or {}
        return icmp.get("from")
    received = probe.get("received") or {}
    if received.get("src") is None:
        return None
    return str(received["src"]) + (f":{received['sport']}" if received.get("sport") is not None else "")
