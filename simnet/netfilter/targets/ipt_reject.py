"""REJECT: answer with an ICMP error or a TCP reset. Kernel: net/ipv4/netfilter/ipt_REJECT.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts


REJECT_TYPES: dict[str, tuple[int, int] | None] = {
    "icmp-net-unreachable": (3, 0), "icmp-host-unreachable": (3, 1),
    "icmp-proto-unreachable": (3, 2), "icmp-port-unreachable": (3, 3),
    "icmp-net-prohibited": (3, 9), "icmp-host-prohibited": (3, 10),
    "icmp-admin-prohibited": (3, 13), "tcp-reset": None,
}
_REJECT_ALIASES = {"net-unreach": "icmp-net-unreachable", "host-unreach": "icmp-host-unreachable",
                   "proto-unreach": "icmp-proto-unreachable", "port-unreach": "icmp-port-unreachable",
                   "net-prohib": "icmp-net-prohibited", "host-prohib": "icmp-host-prohibited",
                   "admin-prohib": "icmp-admin-prohibited", "tcp-rst": "tcp-reset"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(_Base):
    """REJECT: drop and answer with an ICMP error or a TCP RST. Kernel: ipt_REJECT.c."""

    with_: str = "icmp-port-unreachable"
    name: ClassVar[str] = "REJECT"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--reject-with": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Reject":
        o = opts.get("--reject-with")
        if o is None:
            return cls()
        word = _REJECT_ALIASES.get(o[1][0], o[1][0])
        if word not in REJECT_TYPES:
            raise _err(f"unknown reject type \"{o[1][0]}\"")
        return cls(with_=word)

    @property
    def icmp_type_code(self) -> tuple[int, int] | None:
        return REJECT_TYPES[self.with_]

    @property
    def tcp_reset(self) -> bool:
        return self.with_ == "tcp-reset"

    def save(self) -> str:
        return f" --reject-with {self.with_}"

    def describe(self, numeric: bool) -> str:
        return f"reject-with {self.with_}"
