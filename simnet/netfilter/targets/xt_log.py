"""LOG and NFLOG: a kernel log line per packet. Kernel: xt_LOG.c, xt_NFLOG.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts, parse_int, save_string


LOG_LEVELS = {"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "err": 3, "error": 3,
              "warn": 4, "warning": 4, "notice": 5, "info": 6, "debug": 7}


@dataclass(frozen=True, slots=True, kw_only=True)
class Log(_Base):
    """LOG: a kernel log line; non-terminating. ``level`` None means the default 4."""

    prefix: str | None = None
    level: int | None = None
    tcp_sequence: bool = False
    tcp_options: bool = False
    ip_options: bool = False
    uid: bool = False
    macdecode: bool = False

    name: ClassVar[str] = "LOG"
    OPTIONS: ClassVar[dict[str, int]] = {"--log-prefix": 1, "--log-level": 1, "--log-tcp-sequence": 0,
                                         "--log-tcp-options": 0, "--log-ip-options": 0, "--log-uid": 0,
                                         "--log-macdecode": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Log":
        kw: dict[str, Any] = {}
        if (o := opts.get("--log-prefix")) is not None:
            if len(o[1][0]) > 29:
                raise _err("Maximum prefix length 29 for --log-prefix")
            kw["prefix"] = o[1][0] or None
        if (o := opts.get("--log-level")) is not None:
            word = o[1][0]
            level = LOG_LEVELS.get(word.lower())
            if level is None:
                if not word.isdigit() or int(word) > 7:
                    raise _err(f"log-level `{word}' unknown")
                level = int(word)
            kw["level"] = None if level == 4 else level
        for flag in ("tcp_sequence", "tcp_options", "ip_options", "uid", "macdecode"):
            kw[flag] = f"--log-{flag.replace('_', '-')}" in opts
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.prefix:
            s += f" --log-prefix {save_string(self.prefix)}"
        if self.level is not None and self.level != 4:
            s += f" --log-level {self.level}"
        for flag in ("tcp_sequence", "tcp_options", "ip_options", "uid", "macdecode"):
            if getattr(self, flag):
                s += f" --log-{flag.replace('_', '-')}"
        return s

    def describe(self, numeric: bool) -> str:
        s = "LOG flags "
        flags = (self.tcp_sequence * 1) | (self.tcp_options * 2) | (self.ip_options * 4) | (self.uid * 8) | (self.macdecode * 16)
        s += f"{flags} level {4 if self.level is None else self.level}"
        if self.prefix:
            s += f' prefix "{self.prefix}"'
        return s


@dataclass(frozen=True, slots=True, kw_only=True)
class Nflog(_Base):
    """NFLOG: copy to a netlink log group; non-terminating."""

    group: int = 0
    prefix: str | None = None
    size: int | None = None
    threshold: int = 1

    name: ClassVar[str] = "NFLOG"
    OPTIONS: ClassVar[dict[str, int]] = {"--nflog-group": 1, "--nflog-prefix": 1, "--nflog-size": 1,
                                         "--nflog-threshold": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Nflog":
        kw: dict[str, Any] = {}
        if (o := opts.get("--nflog-group")) is not None:
            kw["group"] = parse_int(o[1][0], "nflog-group", 0, 65535)
        if (o := opts.get("--nflog-prefix")) is not None:
            if len(o[1][0]) > 63:
                raise _err("NFLOG: Maximum prefix length 63 for --nflog-prefix")
            kw["prefix"] = o[1][0] or None
        if (o := opts.get("--nflog-size")) is not None:
            kw["size"] = parse_int(o[1][0], "nflog-size")
        if (o := opts.get("--nflog-threshold")) is not None:
            kw["threshold"] = parse_int(o[1][0], "nflog-threshold", 1, 65535)
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.prefix:
            s += f" --nflog-prefix {save_string(self.prefix)}"
        if self.group:
            s += f" --nflog-group {self.group}"
        if self.size is not None:
            s += f" --nflog-size {self.size}"
        if self.threshold != 1:
            s += f" --nflog-threshold {self.threshold}"
        return s

    def describe(self, numeric: bool) -> str:
        return self.save().replace(" --", " ").strip()
