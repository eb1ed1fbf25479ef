"""Link-layer addresses and the small numeric types of the stack.

IPv4 addresses and networks are the standard library's :mod:`ipaddress`
values; this module adds the one value type it lacks, :class:`MacAddress`.
"""

from __future__ import annotations

import functools
from enum import IntEnum
from typing import NewType

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
        raw = f"{self._mac:012x}"
        return ":".join(raw[i : i + 2] for i in range(0, 12, 2))

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
