"""The daemon's host-port allocator (libnetwork ``portallocator``), one per daemon process.

Facts from moby (``portallocator.go``): ports are kept per host address and protocol; a
request for the unspecified address (0.0.0.0) needs the port free on every IPv4 address, a
request for one address needs it free there and on 0.0.0.0.  A specific port is refused with
``Bind for ADDR:PORT failed: port is already allocated``.  Without a port, the daemon searches
its ephemeral range (``net.ipv4.ip_local_port_range`` read when the daemon starts) from the
port after the last one it handed out for that address and range, wrapping at the end, and
skips ``ip_local_reserved_ports``; a fresh range starts at its first port.

>>> a = PortAllocator(32768, 32770)
>>> a.request(None, "tcp", 0), a.request(None, "tcp", 0), a.request(None, "tcp", 8080)
(32768, 32769, 8080)
>>> a.release(None, "tcp", 32768); a.request(None, "tcp", 0), a.request(None, "tcp", 0)
(32770, 32768)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

__all__ = ["AllocationError", "PortAllocator"]

_ANY = IPv4Address(0)


class AllocationError(ValueError):
    """The allocator's refusal, in its own words."""


@dataclass(slots=True)
class PortAllocator:
    """Allocated host ports per (address, protocol), with a ``last`` per (address, protocol, range)."""

    begin: int
    end: int
    reserved: frozenset[int] = frozenset()
    _taken: dict[tuple[IPv4Address, str], set[int]] = field(default_factory=dict)
    _last: dict[tuple[IPv4Address, str, int, int], int] = field(default_factory=dict)

    def _maps(self, ip: IPv4Address, proto: str) -> list[tuple[IPv4Address, set[int]]]:
        """The maps where the port must be free: the address's own first."""
        own = self._taken.setdefault((ip, proto), set())
        if ip == _ANY:
            others = [(a, s) for (a, p), s in self._taken.items() if p == proto and a != _ANY]
        else:
            others = [(_ANY, self._taken.setdefault((_ANY, proto), set()))]
        return [(ip, own), *others]

    def request(self, ip: IPv4Address | None, proto: str, start: int, end: int | None = None) -> int:
        """A port for ``ip`` (None: 0.0.0.0): ``start`` itself, or one from ``start``..``end``,
        or (both 0) one from the ephemeral range."""
        ip = ip if ip is not None else _ANY
        end = start if end is None or end == 0 else end
        maps = self._maps(ip, proto)
        if start and start == end:
            for addr, taken in maps:
                if start in taken:
                    raise AllocationError(f"Bind for {addr}:{start} failed: port is already allocated")
            maps[0][1].add(start)
            return start
        lo, hi = (start, end) if start else (self.begin, self.end)
        key = (ip, proto, lo, hi)
        port = self._last.get(key, hi)
        for _ in range(lo, hi + 1):
            port = lo if port >= hi else port + 1
            if not start and port in self.reserved:
                continue
            if not any(port in taken for _, taken in maps):
                maps[0][1].add(port)
                self._last[key] = port
                return port
        raise AllocationError("all ports are allocated")

    def release(self, ip: IPv4Address | None, proto: str, port: int) -> None:
        self._taken.get((ip if ip is not None else _ANY, proto), set()).discard(port)
