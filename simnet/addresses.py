"""Link-layer addresses and the small numeric types of the stack.

IPv4 addresses and networks are the standard library's :mod:`ipaddress`
values; this module adds the one value type it lacks, :class:`MacAddress`.
"""

from __future__ import annotations

import functools
from operator import attrgetter
from enum import IntEnum
from typing import TYPE_CHECKING, Callable, NewType

if TYPE_CHECKING:
    from ipaddress import IPv4Address, IPv4Interface

Port = NewType("Port", int)


class IPProto(IntEnum):
    """IP protocol numbers (``/etc/protocols``); ``str`` is the iptables word."""

    ICMP = 1
    TCP = 6
    UDP = 17

    def __str__(self) -> str:
        return self.name.lower()


class AddressValueError(ValueError):
    """A MAC address string that is not six colon-separated hex octets."""


ip_int: "Callable[[IPv4Address | IPv4Interface], int]" = attrgetter("_ip")
"""``int(addr)`` without the Python-level ``__int__`` call (the value ipaddress keeps)."""

_MAC_TEXT: dict[int, str] = {}


def ip_text(addr: "IPv4Address") -> str:
    """``str(addr)``, remembered: a traced packet's steps name the same few addresses on every hop
    (ipaddress builds the text anew each time)."""
    raw = ip_int(addr)
    text = _IP_TEXT.get(raw)
    if text is None:
        if len(_IP_TEXT) >= 4096:
            _IP_TEXT.clear()
        text = _IP_TEXT[raw] = str(addr)
    return text


_IP_TEXT: dict[int, str] = {}


@functools.total_ordering
class MacAddress:
    """An Ethernet address, int-backed like :class:`ipaddress.IPv4Address`.

    >>> MacAddress("02:42:AC:11:00:02")
    MacAddress('02:42:ac:11:00:02')
    >>> MacAddress.BROADCAST.is_broadcast
    True
    """

    __slots__ = ("_mac",)
    BROADCAST: "MacAddress"
    ZERO: "MacAddress"

    def __init__(self, address: "str | int | MacAddress") -> None:
        if isinstance(address, MacAddress):
            self._mac: int = address._mac
            return
        if isinstance(address, int):
            if not 0 <= address < 1 << 48:
                raise AddressValueError(f"{address} does not fit in 48 bits")
            self._mac = address
            return
        parts = address.split(":")
        if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
            raise AddressValueError(f"{address!r} is not a MAC address (want xx:xx:xx:xx:xx:xx)")
        try:
            self._mac = int("".join(p.zfill(2) for p in parts), 16)
        except ValueError:
            raise AddressValueError(f"{address!r} is not a MAC address (bad hex digit)") from None

    def __int__(self) -> int:
        return self._mac

    def __str__(self) -> str:
        text = _MAC_TEXT.get(self._mac)
        if text is None:  # built once per address: traces name MACs on every hop
            if len(_MAC_TEXT) >= 4096:
                _MAC_TEXT.clear()
            raw = f"{self._mac:012x}"
            text = _MAC_TEXT[self._mac] = ":".join(raw[i : i + 2] for i in range(0, 12, 2))
        return text

    def __repr__(self) -> str:
        return f"MacAddress('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MacAddress) and other._mac == self._mac

    def __lt__(self, other: "MacAddress") -> bool:
        return self._mac < other._mac

    def __hash__(self) -> int:
        return hash(("mac", self._mac))

    @property
    def is_broadcast(self) -> bool:
        return self._mac == 0xFFFFFFFFFFFF

    @property
    def is_multicast(self) -> bool:
        """The group bit (least significant bit of the first octet); broadcast included."""
        return bool((self._mac >> 40) & 1)

    @property
    def packed(self) -> bytes:
        return self._mac.to_bytes(6, "big")


MacAddress.BROADCAST = MacAddress(0xFFFFFFFFFFFF)
MacAddress.ZERO = MacAddress(0)
