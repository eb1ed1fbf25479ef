"""The Linux bridge's forwarding database and forwarding decision.

Kernel: net/bridge/br_input.c (``br_handle_frame_finish``), br_fdb.c,
br_forward.c.  The bridge learns the source MAC of every frame on the port it
came in on; frames to the bridge's own or a port's MAC go up to the bridge
device's IP stack; broadcast and multicast flood to every other port and go
up; known unicast goes to one port; unknown unicast floods.  A frame is
never sent back out of its ingress port unless that port has hairpin mode
on (``br_allowed_egress`` / ``should_deliver``).
"""

from __future__ import annotations

from dataclasses import dataclass

from simnet.addresses import MacAddress

AGEING_TIME = 300.0


@dataclass(slots=True)
class FdbEntry:
    mac: MacAddress
    port: str
    local: bool = False
    """A permanent entry for the bridge's own or a port's address (``bridge fdb`` 'permanent')."""
    updated: float = 0.0


class Fdb:
    """A bridge's forwarding database (``bridge fdb show``)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[MacAddress, FdbEntry] = {}

    def learn(self, mac: MacAddress, port: str, now: float) -> None:
        if mac.is_multicast:
            return
        entry = self._entries.get(mac)
        if entry is not None and entry.local:
            return
        self._entries[mac] = FdbEntry(mac, port, updated=now)

    def lookup(self, mac: MacAddress, now: float) -> FdbEntry | None:
        entry = self._entries.get(mac)
        if entry is None:
            return None
        if not entry.local and now - entry.updated > AGEING_TIME:
            del self._entries[mac]
            return None
        return entry

    def set_local(self, mac: MacAddress, port: str) -> None:
        self._entries[mac] = FdbEntry(mac, port, local=True)

    def forget_port(self, port: str) -> None:
        for mac in [m for m, e in self._entries.items() if e.port == port]:
            del self._entries[mac]

    def rename_port(self, old: str, new: str) -> None:
        for entry in self._entries.values():
            if entry.port == old:
                entry.port = new

    def entries(self) -> list[FdbEntry]:
        return sorted(self._entries.values(), key=lambda e: (e.port, int(e.mac)))
