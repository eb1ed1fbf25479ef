"""Assertions for users' own property tests: "can A reach B?" with the reason when it cannot.

Use them with :mod:`simnet.strategies` or with worlds built from scripts::

    from simnet.testing import assert_reachable, assert_unreachable
    report = run_script(open("my-firewall.sh").read())
    assert_reachable(report.world, "client", "203.0.113.10", port=8080, seen_from="203.0.113.20")
    assert_unreachable(report.world, "client", "203.0.113.10", port=22)

A failed assertion carries :func:`simnet.explain.explain_probe`'s diagnosis: where the
packet stopped and which rule stopped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Iterable

from simnet.probe import ProbeResult, ping, tcp_connect, udp_send

if TYPE_CHECKING:
    from simnet.world import World

__all__ = ["ReachabilityError", "assert_reachable", "assert_unreachable", "probe", "reachability"]


class ReachabilityError(AssertionError):
    """A reachability assertion failed; ``result`` holds the probe and its traces."""

    def __init__(self, message: str, result: ProbeResult) -> None:
        super().__init__(message)
        self.result = result


def probe(world: "World", src: str, dst: str | IPv4Address, *, port: int | None = None, proto: str | None = None,
          timeout: float = 1.0) -> ProbeResult:
    """One probe: TCP connect when a port is given (UDP with proto='udp'), else ping."""
    proto = proto or ("tcp" if port is not None else "icmp")
    if proto == "icmp":
        return ping(world, src, dst, timeout=timeout)
    if port is None:
        raise ValueError(f"a {proto} probe needs a port")
    if proto == "tcp":
        return tcp_connect(world, src, dst, port, timeout=timeout)
    if proto == "udp":
        return udp_send(world, src, dst, port, timeout=timeout)
    raise ValueError(f"unknown proto {proto!r}: want icmp, tcp or udp")


def _why(world: "World", result: ProbeResult) -> str:
    from simnet.explain import explain_probe

    return explain_probe(result, world=world).text()


def assert_reachable(world: "World", src: str, dst: str | IPv4Address, *, port: int | None = None,
                     proto: str | None = None, seen_from: str | IPv4Address | None = None,
                     timeout: float = 1.0) -> ProbeResult:
    """Assert the probe succeeds (reply, connected, delivered), optionally that the receiver
    saw ``seen_from`` as the source (to catch an unwanted MASQUERADE)."""
    result = probe(world, src, dst, port=port, proto=proto, timeout=timeout)
    if not result.ok:
        raise ReachabilityError(f"{src} cannot reach {dst}{f':{port}' if port else ''}: {_why(world, result)}",
                                result)
    if seen_from is not None and (result.received is None or result.received.src != IPv4Address(seen_from)):
        seen = result.received.src if result.received else "nothing"
        raise ReachabilityError(f"{src} reaches {dst}, but the receiver saw {seen}, not {seen_from}", result)
    return result


def assert_unreachable(world: "World", src: str, dst: str | IPv4Address, *, port: int | None = None,
                       proto: str | None = None, timeout: float = 1.0) -> ProbeResult:
    """Assert the probe fails (timeout, refused, unreachable, error...)."""
    result = probe(world, src, dst, port=port, proto=proto, timeout=timeout)
    if result.ok:
        seen = f" (received in {result.received.ns} from {result.received.src})" if result.received else ""
        raise ReachabilityError(f"{src} reaches {dst}{f':{port}' if port else ''}{seen}", result)
    return result


@dataclass(frozen=True, slots=True)
class Reach:
    src: str
    dst: IPv4Address
    outcome: str


def reachability(world: "World", sources: Iterable[str], destinations: Iterable[str | IPv4Address], *,
                 port: int | None = None, proto: str | None = None) -> list[Reach]:
    """A reachability sweep: every source against every destination, in order."""
    dests = [IPv4Address(d) for d in destinations]
    return [Reach(s, d, probe(world, s, d, port=port, proto=proto).outcome) for s in sources for d in dests]
