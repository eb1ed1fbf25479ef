"""policy: the IPsec policy a packet was decapsulated by or will be encapsulated by. Kernel: xt_policy.c; libxt_policy.c.

simnet models no IPsec (no xfrm state, no secpath on any packet), so policy_mt always finds
no policy: ``--pol none`` matches every packet and ``--pol ipsec`` none, whatever the
elements say; the trace notes it when such a rule is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _once
from simnet.netfilter.xtables import Opts, U32, err, parse_network, parse_proto, strtoui

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb

_IN_HOOKS = frozenset({"PREROUTING", "INPUT", "FORWARD"})
_OUT_HOOKS = frozenset({"FORWARD", "OUTPUT", "POSTROUTING"})
_ELEM = ("--reqid", "--spi", "--proto", "--mode", "--tunnel-dst", "--tunnel-src")
_PROTOS = {50: "esp", 51: "ah", 108: "ipcomp"}


@dataclass(frozen=True, slots=True)
class PolicyElem:
    """One ``xt_policy_elem``: each field is ``(inverted, value)`` or None when not matched."""

    reqid: tuple[bool, int] | None = None
    spi: tuple[bool, int] | None = None
    proto: tuple[bool, int] | None = None
    mode: tuple[bool, str] | None = None
    tunnel_dst: tuple[bool, str] | None = None
    tunnel_src: tuple[bool, str] | None = None

    def save(self) -> str:
        s = ""
        for name in ("reqid", "spi", "proto", "mode", "tunnel_dst", "tunnel_src"):
            v = getattr(self, name)
            if v is None:
                continue
            inv, val = v
            text = {"spi": lambda x: f"0x{x:x}", "proto": lambda x: _PROTOS.get(x, str(x))}.get(name, str)(val)
            s += f"{' !' if inv else ''} --{name.replace('_', '-')} {text}"
        return s


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyMatch(Match):
    """``-m policy --dir in|out --pol none|ipsec [--strict] [elements --next ...]``. Kernel: xt_policy.c."""

    direction: str
    none: bool = False
    strict: bool = False
    elems: tuple[PolicyElem, ...] = ()

    module: ClassVar[str] = "policy"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # read by build, in command-line order (--next starts an element)
        Option("--dir", None), Option("--pol", None), Option("--strict", None, nargs=0),
        *(Option(name, None) for name in ("--reqid", "--spi", "--proto", "--mode", "--tunnel-src", "--tunnel-dst")),
        Option("--next", None, nargs=0),
    )
    MULTI: ClassVar[frozenset[str]] = frozenset(_ELEM + ("--next",))

    @classmethod
    def duplicate(cls, option: str) -> str:
        return _once("policy", option)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "PolicyMatch":
        kw: dict[str, Any] = {}
        elems: list[dict[str, tuple[bool, Any]]] = [{}]
        for key, (inv, args) in opts.items():
            name = key.partition("#")[0]
            if inv and name in ("--dir", "--pol", "--strict", "--next"):
                raise err(f"policy: option \"{name}\" cannot be inverted.")
            if name == "--dir":
                if args[0] not in ("in", "out"):
                    raise err(f"policy_match: invalid dir \"{args[0]}\"")
                kw["direction"] = args[0]
            elif name == "--pol":
                if args[0] not in ("none", "ipsec"):
                    raise err(f"policy match: invalid policy \"{args[0]}\"")
                kw["none"] = args[0] == "none"
            elif name == "--strict":
                kw["strict"] = True
            elif name == "--next":
                if "--strict" not in opts:
                    raise err("policy: option \"--next\" also requires \"--strict\".")
                if len(elems) == 4:
                    raise err("policy match: maximum policy depth reached")
                elems.append({})
            else:
                field = name[2:].replace("-", "_")
                if field in elems[-1]:
                    raise err(f"policy match: double {name} option")
                elems[-1][field] = (inv, _value(name, args[0]))
        if "direction" not in kw:
            raise err("policy match: neither --dir in nor --dir out specified")
        if kw.get("none"):
            if kw.get("strict"):
                raise err("policy match: policy none but --strict given")
            if len(elems) > 1:
                raise err("policy match: policy none but policy given")
            return cls(**kw)  # elements given without --next stay in pol[0], uncounted (len 0): never printed
        for i, e in enumerate(elems):
            if kw.get("strict") and not e:
                raise err(f"policy match: empty policy element {i}. --strict is in effect, but at least one of "
                          "reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.")
            mode = e.get("mode")
            # an element without --mode has mode 0, which is transport
            if ("tunnel_src" in e or "tunnel_dst" in e) and mode in (None, (True, "tunnel"), (False, "transport")):
                raise err("policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode")
        return cls(elems=tuple(PolicyElem(**e) for e in elems), **kw)

    def hooks(self) -> frozenset[str]:
        """xt_policy's checkentry: ``--dir in`` before routing/input, ``--dir out`` after forwarding/output."""
        return _IN_HOOKS if self.direction == "in" else _OUT_HOOKS

    def save(self) -> str:
        s = f" --dir {self.direction} --pol {'none' if self.none else 'ipsec'}" + (" --strict" if self.strict else "")
        return s + " --next".join(e.save() for e in self.elems)

    def describe(self, numeric: bool) -> str:
        s = f"policy match dir {self.direction} pol {'none' if self.none else 'ipsec'}" + (" strict" if self.strict else "")
        for i, e in enumerate(self.elems):
            s += (f" [{i}]" if len(self.elems) > 1 else "") + e.save().replace("--", "")
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        # policy_mt: no secpath (in) / no xfrm dst (out) is "no policy": only --pol none matches
        if ctx.notes is None:
            ctx.notes = []
        ctx.notes.append(f"-m policy{self.save()}: simnet models no IPsec, so no packet has a policy: "
                         f"{'--pol none matches every packet' if self.none else '--pol ipsec matches none'}")
        return self.none


def _value(name: str, text: str) -> Any:
    if name in ("--reqid", "--spi"):
        v = strtoui(text, U32)
        if v is None:
            raise err(f"policy: bad value for option \"{name}\", or out of range (0-4294967295).")
        return v
    if name == "--proto":
        p = parse_proto(text)
        if p not in _PROTOS:
            raise err("policy match: protocol must be ah/esp/ipcomp")
        return p
    if name == "--mode":
        if text not in ("transport", "tunnel"):
            raise err(f"policy match: invalid mode \"{text}\"")
        return text
    # XTTYPE_HOSTMASK: the address is kept as given (host bits too), the mask printed as a length
    addr, _, mask = text.partition("/")
    host = parse_network(addr).network_address
    plen = parse_network(f"0.0.0.0/{mask}").prefixlen if mask else 32
    return str(IPv4Address(host)) + ("" if plen == 32 else f"/{plen}")
