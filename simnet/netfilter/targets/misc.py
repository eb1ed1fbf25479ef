"""TRACE, CHECKSUM and the targets simnet parses but does not apply (TOS, DSCP, TTL, CLASSIFY). Kernel: xt_TRACE.c, xt_CHECKSUM.c, xt_DSCP.c, xt_HL.c, xt_CLASSIFY.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simnet.netfilter.matches.xt_dscp import DSCP_CLASSES, parse_tos
from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts, parse_int


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace(_Base):
    """TRACE (raw): set ``skb.nf_trace``; non-terminating."""

    name: ClassVar[str] = "TRACE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Checksum(_Base):
    """CHECKSUM --checksum-fill (mangle): no effect on simulated packets."""

    fill: bool = True

    name: ClassVar[str] = "CHECKSUM"
    OPTIONS: ClassVar[dict[str, int]] = {"--checksum-fill": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Checksum":
        if "--checksum-fill" not in opts:
            raise _err("CHECKSUM target: Parameter --checksum-fill is required")
        return cls()

    def save(self) -> str:
        return " --checksum-fill"

    def describe(self, numeric: bool) -> str:
        return "CHECKSUM fill"


def _opaque_tos(opts: Opts) -> tuple[str, ...]:
    given = [k for k in ("--set-tos", "--and-tos", "--or-tos", "--xor-tos") if k in opts]
    if len(given) != 1:
        raise _err("TOS: exactly one of --set-tos, --and-tos, --or-tos, --xor-tos")
    key, text = given[0], opts[given[0]][1][0]
    if key == "--set-tos":
        value, mask = parse_tos(text)
    else:
        bits = parse_int(text, "TOS", 0, 255)
        value, mask = {"--and-tos": (0, (~bits) & 0xFF), "--or-tos": (bits, bits), "--xor-tos": (bits, 0)}[key]
    return ("--set-tos", f"0x{value:02x}/0x{mask:02x}")


def _opaque_dscp(opts: Opts) -> tuple[str, ...]:
    if (o := opts.get("--set-dscp-class")) is not None:
        if o[1][0].upper() not in DSCP_CLASSES:
            raise _err(f"Invalid DSCP value `{o[1][0]}'")
        return ("--set-dscp", f"0x{DSCP_CLASSES[o[1][0].upper()]:02x}")
    if (o := opts.get("--set-dscp")) is not None:
        return ("--set-dscp", f"0x{parse_int(o[1][0], 'DSCP', 0, 63):02x}")
    raise _err("DSCP target: Parameter --set-dscp or --set-dscp-class is required")


def _opaque_ttl(opts: Opts) -> tuple[str, ...]:
    given = [k for k in ("--ttl-set", "--ttl-dec", "--ttl-inc") if k in opts]
    if len(given) != 1:
        raise _err("TTL: You must specify an action")
    value = parse_int(opts[given[0]][1][0], "TTL", 0, 255)
    if given[0] != "--ttl-set" and value == 0:
        raise _err("TTL: increasing/decreasing by 0?")
    return (given[0], str(value))


def _opaque_classify(opts: Opts) -> tuple[str, ...]:
    o = opts.get("--set-class")
    if o is None:
        raise _err("CLASSIFY: Parameter --set-class is required")
    major, colon, minor = o[1][0].partition(":")
    try:
        return ("--set-class", f"{int(major, 16):04x}:{int(minor, 16):04x}")
    except ValueError:
        raise _err(f"Bad class value \"{o[1][0]}\"") from None


OPAQUE_TARGETS: dict[str, tuple[dict[str, int], Any]] = {
    "TOS": ({"--set-tos": 1, "--and-tos": 1, "--or-tos": 1, "--xor-tos": 1}, _opaque_tos),
    "DSCP": ({"--set-dscp": 1, "--set-dscp-class": 1}, _opaque_dscp),
    "TTL": ({"--ttl-set": 1, "--ttl-dec": 1, "--ttl-inc": 1}, _opaque_ttl),
    "CLASSIFY": ({"--set-class": 1}, _opaque_classify),
}
"""Non-terminating mangle targets simnet parses and prints but does not apply
to packets (TOS/DSCP rewrite, TTL change, traffic-control class)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Opaque(_Base):
    """A known, non-terminating target kept as canonical words (see OPAQUE_TARGETS)."""

    name: str  # type: ignore[misc]
    args: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name

    def save(self) -> str:
        return "".join(" " + a for a in self.args)

    def describe(self, numeric: bool) -> str:
        return f"{self.name}{self.save().replace(' --', ' ')}"

    def __str__(self) -> str:
        return f"-j {self.name}{self.save()}"
