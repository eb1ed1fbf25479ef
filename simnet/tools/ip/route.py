"""``ip route add|del|replace|show|flush|get`` (iproute2's iproute.c)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import Callable, TYPE_CHECKING

from simnet.link import Scope
from simnet.routing import Route, RouteProto, RouteTable, RouteType
from simnet.tools.ip.common import (
    Args, garbage, get_integer, INCOMPLETE, inet_addr, inet_prefix, invarg, IpError, Opts, subcommand, table_id,
    Unsupported,
)

if TYPE_CHECKING:
    from simnet.routing import NexthopException
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["compile_route"]

_TYPES = {t.value: t for t in RouteType}


@dataclass(slots=True)
class _RouteSpec:
    dst: IPv4Network | None = None
    type: RouteType = RouteType.UNICAST
    via: IPv4Address | None = None
    dev: str | None = None
    src: IPv4Address | None = None
    metric: int | None = None
    table: int | None = None
    proto: RouteProto | None = None
    scope: Scope | None = None
    onlink: bool = False
    cache: bool = False
    """``ip route show|flush cache``: the next-hop exceptions, not the FIB."""
    advmss: int = 0
    advmss_lock: bool = False


IPV4_MAX_ADVMSS = 65535 - 40
"""rtm_to_fib_config/ip_metrics_convert: an RTAX_ADVMSS above 65535 less the IPv4 and TCP headers is
stored as that (``advmss 70000`` prints ``advmss 65495``, 6.18)."""


def _get_unsigned(word: str, what: str) -> int:
    """iproute2's get_unsigned: strtoul base 0 (``0x100``, octal ``010``), the whole word, no sign."""
    text = word[2:] if word[:2].lower() == "0x" else word
    base = 16 if text is not word else (8 if len(word) > 1 and word[0] == "0" else 10)
    digits = "0123456789abcdef"[:base]
    if not text or any(c not in digits for c in text.lower()) or int(text, base) > 0xFFFFFFFF:
        raise invarg(f'"{what}" value is invalid', word)
    return int(text, base)


def _parse_route(args: Args, *, for_show: bool = False) -> _RouteSpec:
    spec = _RouteSpec()
    while args.more():
        w = args.peek()
        if w == "via":
            v = args.next_arg()
            if v == "inet":
                v = args.take() if args.more() else ""
            spec.via = inet_addr(v)
        elif w in ("dev", "oif"):
            spec.dev = args.next_arg()
        elif w == "src":
            spec.src = inet_addr(args.next_arg())
        elif w in ("metric", "priority", "preference"):
            spec.metric = get_integer(args.next_arg(), "metric")
        elif w in ("table", "lookup"):
            word = args.next_arg()
            spec.table = 0 if (for_show and word == "all") else table_id(word)
        elif w in ("proto", "protocol"):
            word = args.next_arg()
            try:
                spec.proto = RouteProto.parse(word)
            except ValueError:
                raise invarg('"protocol" value is invalid', word) from None
        elif w == "scope":
            word = args.next_arg()
            try:
                spec.scope = Scope.parse(word)
            except ValueError:
                raise invarg('invalid "scope" value', word) from None
        elif w == "onlink":
            args.take()
            spec.onlink = True
        elif w in _TYPES and spec.dst is None and w not in ("local", "broadcast") or \
                w in ("local", "broadcast") and spec.dst is None:
            args.take()
            spec.type = _TYPES[w]
        elif w in ("cache", "cloned", "cached") and for_show:
            args.take()
            spec.cache = True
        elif w in ("root", "match", "exact") and for_show:
            word = args.next_arg()
            spec.dst = inet_prefix(word)
        elif w in ("to",):
            word = args.next_arg()
            spec.dst = inet_prefix(word)
        elif w == "advmss":
            word = args.next_arg()
            if word == "lock":
                spec.advmss_lock = True
                if not args.more():
                    raise IpError(INCOMPLETE, 255)
                word = args.take()
            # the kernel keeps at most 65495, and 0 means no metric at all
            spec.advmss = min(_get_unsigned(word, "mss"), IPV4_MAX_ADVMSS)
        elif w in ("mtu", "weight", "nexthop", "realm", "realms", "rtt", "rttvar", "window", "cwnd",
                   "initcwnd", "initrwnd", "expires", "encap", "tos", "dsfield", "pref", "ttl-propagate",
                   "features", "quickack", "congctl", "fastopen_no_cookie", "nhid", "from", "cached", "cloned"):
            raise Unsupported(f"the route option {w!r}")
        else:
            if spec.dst is not None:
                raise garbage("to", w)
            spec.dst = inet_prefix(args.take())
    return spec


def _route_text(route: Route, ns: "NetNamespace", *, show_table: bool, show_dev: bool) -> str:
    linkdown = False
    if route.dev is not None and route.table != RouteTable.LOCAL:
        dev = ns.devices.get(route.dev)
        linkdown = dev is not None and dev.admin_up and not dev.carrier
    r = replace(route, linkdown=linkdown)
    if not show_dev:
        r = replace(r, dev=None)
    text = r.format(show_table=show_table)
    return text + "\n"


def _cache_flags(exc: "NexthopException", now: float) -> str:
    """rt_fill_info's words for an exception: RTCF_REDIRECTED, the seconds left, rounded down (the
    kernel's clock has always moved on a little: 299 right after a redirect, 599 after a
    frag-needed, on 6.18), then the learnt MTU as a metric ("mtu lock N" below min_pmtu); an
    exception emptied by ``ip route flush cache`` has none of them."""
    if exc.gateway is None and not exc.pmtu:
        return ""
    flags = ("<redirected> " if exc.gateway is not None else "") + \
        f"expires {max(0, math.ceil(exc.expires - now) - 1)}sec "
    if exc.pmtu:
        flags += f"mtu {'lock ' if exc.mtu_locked else ''}{exc.pmtu} "
    return flags


def _show_cache(world: "World", ns: "NetNamespace", spec: _RouteSpec, *, flush: bool) -> str:
    """``ip route show cache [DST]``: each next-hop exception as ``DST via GW dev D`` and its cache
    line; ``ip route flush cache`` (rt_cache_flush: a new genid) empties them all, and 6.18
    then lists them with a bare ``cache`` line until a new frag-needed or redirect fills them."""
    out = []
    for (route, dst), exc in sorted(ns.fib.exceptions.items(), key=lambda kv: int(kv[0][1])):
        if ns.fib.exception_for(route, dst, world.now) is None:
            continue
        if spec.dst is not None and (spec.dst.prefixlen != 32 or dst != spec.dst.network_address):
            continue  # an exact match: 'show cache 10.0.2.0/24' lists nothing (6.18)
        if spec.dev is not None and route.dev != spec.dev:
            continue
        if flush:
            ns.fib.exceptions[(route, dst)] = replace(exc, gateway=None, pmtu=0, mtu_locked=False,
                                                      expires=math.inf)
            continue
        via = exc.gateway or route.via
        words = [str(dst)] + (["via", str(via)] if via is not None else []) + \
            (["dev", route.dev] if route.dev is not None and spec.dev is None else [])
        out.append(" ".join(words) + " \n    cache " + _cache_flags(exc, world.now) + "\n")
    return "".join(out)


def _table_order(t: int) -> tuple[int, int]:
    # the kernel dumps its table hash (256 buckets, id & 0xff) bucket by bucket
    return (t & 0xFF, t)


def compile_route(args: Args, opts: Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = subcommand(args, ("add", "append", "change", "replace", "delete", "show", "list", "lst", "flush",
                             "get", "save", "restore", "showdump", "help", "prepend", "test"), "route")
    if sub in ("show", "list", "lst", "flush"):
        spec = _parse_route(args, for_show=True)

        def show(world: "World", ns: "NetNamespace") -> str:
            if spec.dev is not None:
                ns.dev(spec.dev)
            if spec.cache:
                return _show_cache(world, ns, spec, flush=sub == "flush")
            table = RouteTable.MAIN if spec.table is None else spec.table
            if table != 0 and table not in ns.fib.tables:
                raise IpError("Error: ipv4: FIB table does not exist.\nDump terminated", 2)
            tables = sorted(ns.fib.tables, key=_table_order) if table == 0 else [table]
            chosen: list[Route] = []
            for t in tables:
                for r in ns.fib.routes(t):
                    if spec.dst is not None and r.dst != spec.dst:
                        continue
                    if spec.dev is not None and r.dev != spec.dev:
                        continue
                    if spec.via is not None and r.via != spec.via:
                        continue
                    if spec.proto is not None and r.proto is not spec.proto:
                        continue
                    if spec.scope is not None and r.scope is not spec.scope:
                        continue
                    if spec.type is not RouteType.UNICAST and r.type is not spec.type:
                        continue
                    if spec.src is not None and r.src != spec.src:
                        continue
                    if spec.metric is not None and r.metric != spec.metric:
                        continue
                    chosen.append(r)
            if sub == "flush":
                ids = {id(r) for r in chosen}
                ns.fib.remove_where(lambda r: id(r) in ids)
                return ""
            return "".join(_route_text(r, ns, show_table=table == 0, show_dev=spec.dev is None)
                           for r in chosen)
        return show
    if sub == "get":
        return _compile_route_get(args)
    if sub in ("add", "replace", "delete", "append", "change", "prepend"):
        spec = _parse_route(args)
        if spec.dst is None:
            raise IpError(INCOMPLETE, 255)

        def change(world: "World", ns: "NetNamespace") -> str:
            if spec.dev is not None:
                ns.dev(spec.dev)
            if sub == "delete":
                table = spec.table if spec.table is not None else (
                    RouteTable.LOCAL if spec.type in (RouteType.LOCAL, RouteType.BROADCAST) else RouteTable.MAIN)
                if table not in ns.fib.tables:
                    raise IpError("Error: FIB table does not exist.", 2)
                ns.route_del(spec.dst, table=table, via=spec.via, dev=spec.dev,  # type: ignore[arg-type]
                             metric=spec.metric,
                             type=spec.type if spec.type is not RouteType.UNICAST else None,
                             proto=spec.proto, src=spec.src, scope=spec.scope)
                return ""
            ns.route_add(_build_route(spec), how=sub)
            return ""
        return change
    raise Unsupported(f"ip route {sub}")


def _build_route(spec: _RouteSpec) -> Route:
    assert spec.dst is not None
    t = spec.type
    if t in (RouteType.LOCAL, RouteType.BROADCAST):
        table = RouteTable.LOCAL if spec.table is None else spec.table
    else:
        table = RouteTable.MAIN if spec.table is None else spec.table
    if spec.scope is not None:
        scope = spec.scope
    elif t is RouteType.LOCAL:
        scope = Scope.HOST
    elif t is RouteType.BROADCAST:
        scope = Scope.LINK
    elif t is RouteType.UNICAST and spec.via is None:
        scope = Scope.LINK
    else:
        scope = Scope.GLOBAL
    return Route(dst=spec.dst, type=t, dev=spec.dev, via=spec.via, src=spec.src, metric=spec.metric or 0,
                 table=table, proto=spec.proto or RouteProto.BOOT, scope=scope, onlink=spec.onlink,
                 advmss=spec.advmss, advmss_lock=spec.advmss_lock and spec.advmss > 0)


_GET_ERRORS = {
    RouteType.BLACKHOLE: "RTNETLINK answers: Invalid argument",
    RouteType.UNREACHABLE: "RTNETLINK answers: No route to host",
    RouteType.PROHIBIT: "RTNETLINK answers: Permission denied",
    RouteType.THROW: "RTNETLINK answers: Network is unreachable",
}


def _compile_route_get(args: Args) -> Callable[["World", "NetNamespace"], str]:
    dst: IPv4Address | None = None
    src: IPv4Address | None = None
    oif: str | None = None
    mark = 0
    while args.more():
        w = args.peek()
        if w == "from":
            src = inet_addr(args.next_arg())
        elif w in ("oif", "dev"):
            oif = args.next_arg()
        elif w in ("mark", "fwmark"):
            mark = get_integer(args.next_arg(), "mark")
        elif w == "to":
            dst = inet_addr(args.next_arg())
        elif w in ("iif", "tos", "dsfield", "ipproto", "sport", "dport", "uid", "vrf", "connected",
                   "fibmatch", "as", "notify", "oif"):
            raise Unsupported(f"ip route get ... {w}")
        else:
            if dst is not None:
                raise garbage("to", w)
            word = args.take()
            dst = inet_addr(word.split("/")[0])
    if dst is None:
        raise IpError(INCOMPLETE, 255)

    def get(world: "World", ns: "NetNamespace") -> str:
        if oif is not None:
            ns.dev(oif)
        route = ns.lookup(dst, src=src, oif=oif, mark=mark)
        if route is None:
            raise IpError("RTNETLINK answers: Network is unreachable", 2)
        if route.type in _GET_ERRORS:
            raise IpError(_GET_ERRORS[route.type], 2)
        words: list[str] = []
        if route.type is not RouteType.UNICAST:
            words.append(str(route.type))
        words.append(str(dst))
        if src is not None:
            words += ["from", str(src)]
        if route.via is not None:
            words += ["via", str(route.via)]
        dev = "lo" if route.type is RouteType.LOCAL else route.dev
        if dev is not None:
            words += ["dev", dev]
        if route.table not in (RouteTable.MAIN, RouteTable.LOCAL):
            words += ["table", RouteTable.name(route.table)]
        if src is None:
            prefsrc = ns.source_for(route, dst)
            if prefsrc is not None:
                words += ["src", str(prefsrc)]
        if mark:
            # iproute2's print_route: RTA_MARK in hex from 16 on, in decimal below
            words += ["mark", f"{mark:#x}" if mark >= 16 else str(mark)]
        words += ["uid", "0"]
        flags = {RouteType.LOCAL: "<local> ", RouteType.BROADCAST: "<local,brd> "}.get(route.type, "")
        fib_route = ns.fib.lookup(dst, src=src, oif=oif, mark=mark, usable=ns.route_usable)
        exc = ns.fib.exception_for(fib_route, dst, world.now) if fib_route is not None else None
        if exc is not None:
            flags = _cache_flags(exc, world.now)
        metrics = " ".join(route.metric_words())  # RTAX_MTU (2) before RTAX_ADVMSS (8)
        return " ".join(words) + " \n    cache " + flags + (metrics + " " if metrics else "") + "\n"
    return get
