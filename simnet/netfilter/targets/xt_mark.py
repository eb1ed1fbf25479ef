"""MARK and CONNMARK: set the packet's and the connection's marks. Kernel: xt_mark.c, xt_connmark.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts, U32, parse_int, parse_mark


def _xmark_opts(module: str, opts: Opts, prefix: str = "") -> tuple[int, int] | None:
    """--set-xmark/--set-mark/--and-mark/--or-mark/--xor-mark -> (value, mask) as the kernel stores."""
    given = [k for k in ("--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark") if k in opts]
    if not given:
        return None
    if len(given) > 1:
        raise _err(f"{module}: {given[0]} and {given[1]} are mutually exclusive")
    key = given[0]
    text = opts[key][1][0]
    if key == "--set-xmark":
        return parse_mark(text)
    if key == "--set-mark":
        value, mask = parse_mark(text)
        return value, value | mask
    value = parse_int(text, "mark")
    if key == "--and-mark":
        return 0, (~value) & U32
    if key == "--or-mark":
        return value, value
    return value, 0


_MARK_OPTS = {"--set-xmark": 1, "--set-mark": 1, "--and-mark": 1, "--or-mark": 1, "--xor-mark": 1}


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark(_Base):
    """MARK: ``skb.mark = (mark & ~mask) ^ value`` (xt_MARK v2 xmark semantics)."""

    value: int
    mask: int = U32

    name: ClassVar[str] = "MARK"
    OPTIONS: ClassVar[dict[str, int]] = dict(_MARK_OPTS)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Mark":
        vm = _xmark_opts("MARK", opts)
        if vm is None:
            raise _err("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
        return cls(value=vm[0], mask=vm[1])

    def apply(self, mark: int) -> int:
        return ((mark & ~self.mask) ^ self.value) & U32

    def save(self) -> str:
        return f" --set-xmark 0x{self.value:x}/0x{self.mask:x}"

    def describe(self, numeric: bool) -> str:
        return f"MARK xset 0x{self.value:x}/0x{self.mask:x}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Connmark(_Base):
    """CONNMARK: move marks between the packet and its conntrack entry. Kernel: xt_connmark.c.

    ``mode`` ``"set"``: ``ct = (ct & ~ctmask) ^ ctmark``; ``"save"``:
    ``ct = (ct & ~ctmask) ^ (skb & nfmask)``; ``"restore"``:
    ``skb = (skb & ~nfmask) ^ (ct & ctmask)``.
    """

    mode: str
    ctmark: int = 0
    ctmask: int = U32
    nfmask: int = U32

    name: ClassVar[str] = "CONNMARK"
    OPTIONS: ClassVar[dict[str, int]] = dict(_MARK_OPTS) | {"--save-mark": 0, "--restore-mark": 0,
                                                            "--nfmask": 1, "--ctmask": 1, "--mask": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Connmark":
        vm = _xmark_opts("CONNMARK", opts)
        modes = [m for m in ("--save-mark", "--restore-mark") if m in opts]
        if (vm is not None) + len(modes) != 1:
            raise _err("CONNMARK target: Parameter --set-xmark, --save-mark or --restore-mark is required"
                       if vm is None and not modes else "CONNMARK: only one action allowed")
        if vm is not None:
            if any(k in opts for k in ("--nfmask", "--ctmask", "--mask")):
                raise _err("CONNMARK: --mask/--nfmask/--ctmask only with --save-mark or --restore-mark")
            return cls(mode="set", ctmark=vm[0], ctmask=vm[1])
        nfmask = ctmask = U32
        if (o := opts.get("--mask")) is not None:
            nfmask = ctmask = parse_int(o[1][0], "mask")
        if (o := opts.get("--nfmask")) is not None:
            nfmask = parse_int(o[1][0], "nfmask")
        if (o := opts.get("--ctmask")) is not None:
            ctmask = parse_int(o[1][0], "ctmask")
        return cls(mode=modes[0][2:-5], ctmask=ctmask, nfmask=nfmask)

    def apply(self, skb_mark: int, ct_mark: int) -> tuple[int, int]:
        """Return ``(new_skb_mark, new_ct_mark)``."""
        if self.mode == "set":
            return skb_mark, ((ct_mark & ~self.ctmask) ^ self.ctmark) & U32
        if self.mode == "save":
            return skb_mark, ((ct_mark & ~self.ctmask) ^ (skb_mark & self.nfmask)) & U32
        return ((skb_mark & ~self.nfmask) ^ (ct_mark & self.ctmask)) & U32, ct_mark

    def save(self) -> str:
        if self.mode == "set":
            return f" --set-xmark 0x{self.ctmark:x}/0x{self.ctmask:x}"
        return f" --{self.mode}-mark --nfmask 0x{self.nfmask:x} --ctmask 0x{self.ctmask:x}"

    def describe(self, numeric: bool) -> str:
        if self.mode == "set":
            return f"CONNMARK xset 0x{self.ctmark:x}/0x{self.ctmask:x}"
        return f"CONNMARK {self.mode} nfmask 0x{self.nfmask:x} ctmask ~0x{self.ctmask:x}"
