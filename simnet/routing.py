"""Routing: routes, tables, policy rules and the FIB lookup, as ``ip route`` sees them.

Kernel: net/ipv4/fib_frontend.c, fib_trie.c (longest prefix, then lowest
metric), fib_rules.c (``ip rule``: local 0, main 32766, default 32767),
devinet.c's ``inet_select_addr`` for the source address, and route.c's next-hop
exceptions (``struct fib_nh_exception``: gateways learnt from ICMP redirects) and
the per-peer redirect rate limit (``struct inet_peer``).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from enum import Enum, StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from simnet.addresses import ip_int
from simnet.errors import KernelError, SendError
from simnet.link import Device, IfAddr, LinkKind, Scope

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.skb import Skb


class RouteType(Enum):
    """``enum rtn_type``; str is the iproute2 keyword."""

    UNICAST = "unicast"
    LOCAL = "local"
    BROADCAST = "broadcast"
    BLACKHOLE = "blackhole"
    UNREACHABLE = "unreachable"
    PROHIBIT = "prohibit"
    THROW = "throw"

    def __str__(self) -> str:
        return self.value


class RouteProto(Enum):
    UNSPEC = 0
    REDIRECT = 1
    KERNEL = 2
    BOOT = 3
    STATIC = 4
    DHCP = 16

    def __str__(self) -> str:
        return {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 16: "dhcp"}[self.value]

    @classmethod
    def parse(cls, word: str) -> "RouteProto":
        for p in cls:
            if str(p) == word:
                return p
        raise ValueError(f'Error: argument "{word}" is wrong: "protocol" value is invalid')


class RouteTable:
    """Names of the reserved table ids (``/etc/iproute2/rt_tables``)."""

    DEFAULT = 253
    MAIN = 254
    LOCAL = 255
    NAMES = {253: "default", 254: "main", 255: "local"}

    @classmethod
    def parse(cls, word: str) -> int:
        for num, name in cls.NAMES.items():
            if word == name:
                return num
        if word.isdigit() and 0 < int(word) < 2**32:
            return int(word)
        raise ValueError(f'Error: argument "{word}" is wrong: "table" value is invalid')

    @classmethod
    def name(cls, table: int) -> str:
        return cls.NAMES.get(table, str(table))


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One FIB entry.  ``str`` is the line ``ip route show`` prints."""

    dst: IPv4Network
    type: RouteType = RouteType.UNICAST
    dev: str | None = None
    via: IPv4Address | None = None
    src: IPv4Address | None = None
    metric: int = 0
    table: int = RouteTable.MAIN
    proto: RouteProto = RouteProto.BOOT
    scope: Scope = Scope.GLOBAL
    onlink: bool = False
    linkdown: bool = False
    """Display only: the device has no carrier (the kernel's RTNH_F_LINKDOWN)."""
    advmss: int = 0
    """The ``advmss`` metric (RTAX_ADVMSS): the MSS a SYN on this route advertises; 0: none, the
    MSS then follows the route's MTU (ipv4_default_advmss). Not part of the entry's key."""
    advmss_lock: bool = False
    """``advmss lock N``: printed, and otherwise without effect on IPv4."""
    pmtu: int = field(default=0, compare=False, hash=False)
    """The path MTU a next-hop exception binds to this destination's route (rt_bind_exception
    sets ``rt_pmtu``); 0: the device's MTU. Never part of the FIB entry itself."""
    pmtu_locked: bool = field(default=False, compare=False, hash=False)
    _text: str | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    """``str(self)``, built once: a route lookup's trace step names its route on every packet."""

    def key(self) -> tuple[object, ...]:
        """What makes two routes the same entry (``ip route add`` says EEXIST)."""
        return (self.table, self.dst, self.metric)

    def same_entry(self, other: "Route") -> bool:
        """The same type and attributes (fib_table_insert's fa_match: one fib_info); the
        ``linkdown`` flag is the device's state, not the entry's."""
        return _replace(self, linkdown=False) == _replace(other, linkdown=False)

    def format(self, *, show_table: bool = False) -> str:
        words: list[str] = []
        if self.type is not RouteType.UNICAST:
            words.append(str(self.type))
        words.append("default" if self.dst.prefixlen == 0 else
                     (str(self.dst.network_address) if self.dst.prefixlen == 32 else str(self.dst)))
        if self.via is not None:
            words += ["via", str(self.via)]
        if self.dev is not None and self.type not in (RouteType.BLACKHOLE, RouteType.UNREACHABLE,
                                                      RouteType.PROHIBIT):
            words += ["dev", self.dev]
        if show_table and self.table != RouteTable.MAIN:
            words += ["table", RouteTable.name(self.table)]
        if self.proto is not RouteProto.BOOT:
            words += ["proto", str(self.proto)]
        if self.scope is not Scope.GLOBAL and self.type not in (RouteType.BLACKHOLE,):
            words += ["scope", str(self.scope)]
        if self.src is not None:
            words += ["src", str(self.src)]
        if self.metric:
            words += ["metric", str(self.metric)]
        if self.onlink:
            words.append("onlink")
        if self.linkdown:
            words.append("linkdown")
        return " ".join(words + self.metric_words()) + " "

    def metric_words(self) -> list[str]:
        """The RTA_METRICS words iproute2 prints after the flags (``advmss [lock] N``)."""
        if not self.advmss:
            return []
        return ["advmss", "lock", str(self.advmss)] if self.advmss_lock else ["advmss", str(self.advmss)]

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self.format().rstrip()
            object.__setattr__(self, "_text", text)
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class FibRule:
    """``ip rule``: a selector and the table to look up."""

    priority: int
    table: int
    src: IPv4Network | None = None
    dst: IPv4Network | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int = 0xFFFFFFFF
    """The mark's bits that must agree (fib_nl2rule: all of them for a mark given without a
    mask, none for ``fwmark 0``, which therefore selects every packet)."""

    def selects(self, *, src: IPv4Address | None, dst: IPv4Address, iif: str | None,
                oif: str | None, mark: int) -> bool:
        if self.src is not None and (src is None or src not in self.src):
            return False
        if self.dst is not None and dst not in self.dst:
            return False
        if self.iif is not None and self.iif != iif:
            return False
        if self.oif is not None and self.oif != oif:
            return False
        # fib_rule_match: (rule->mark ^ flowi_mark) & rule->mark_mask, so bits of the rule's
        # mark outside its mask are never compared (fwmark 0x4001/0x4000 selects mark 0x4000)
        if self.fwmark is not None and (self.fwmark ^ mark) & self.fwmask:
            return False
        return True

    def __str__(self) -> str:
        words = ["from", str(self.src) if self.src else "all"]
        if self.dst is not None:
            words += ["to", str(self.dst)]
        if self.fwmark is not None and (self.fwmark or self.fwmask):
            # the kernel dumps FRA_FWMARK if set and FRA_FWMASK if either is; iproute2 prints
            # them with "%#x" (0 without "0x") and leaves out a full mask
            words += ["fwmark", _c_hex(self.fwmark) + ("" if self.fwmask == 0xFFFFFFFF else f"/{_c_hex(self.fwmask)}")]
        if self.iif:
            words += ["iif", self.iif]
        if self.oif:
            words += ["oif", self.oif]
        words += ["lookup", RouteTable.name(self.table)]
        return f"{self.priority}:\t" + " ".join(words)


def _c_hex(n: int) -> str:
    """C's ``%#x``: ``0`` for zero, else ``0x`` and lowercase digits."""
    return hex(n) if n else "0"


DEFAULT_RULES = (
    FibRule(priority=0, table=RouteTable.LOCAL),
    FibRule(priority=32766, table=RouteTable.MAIN),
    FibRule(priority=32767, table=RouteTable.DEFAULT),
)


def _sort_key(route: Route) -> tuple[int, int, int]:
    # fib_trie dumps in key order; for one key the longer prefix first, then the aliases by
    # priority (fib_find_alias keeps them sorted), each metric's aliases in insertion order
    return (int(route.dst.network_address), -route.dst.prefixlen, route.metric)


RT_GC_TIMEOUT = 300.0
"""ip_rt_gc_timeout (route.c): a next-hop exception learnt from a redirect expires after 300 s."""
REDIRECT_LOAD = 0.02
"""ip_rt_redirect_load (HZ/50): the gap after the first redirect to a peer, doubled per redirect."""
REDIRECT_NUMBER = 9
"""ip_rt_redirect_number: after this many redirects a peer gets none until it has been quiet."""
REDIRECT_SILENCE = REDIRECT_LOAD * (1 << (REDIRECT_NUMBER + 1))
"""ip_rt_redirect_silence: 20.48 s without a redirected packet resets a peer's count."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NexthopException:
    """``struct fib_nh_exception``: the gateway a redirect taught, and the path MTU an ICMP
    "fragmentation needed" taught, for one destination.

    It hangs on the next hop of the FIB route that was chosen when it was learnt
    (update_or_create_fnhe); the route itself is unchanged, so ``ip route show``
    never shows it, while ``ip route get`` and every later packet to ``dst`` use
    ``gateway`` (rt_bind_exception) and ``pmtu`` until ``expires`` (one deadline for
    both: whichever was learnt last set it).
    """

    route: Route
    dst: IPv4Address
    gateway: IPv4Address | None
    expires: float
    pmtu: int = 0
    """The learnt path MTU (0: none)."""
    mtu_locked: bool = False
    """Learnt below ``min_pmtu``: clamped, locked (``mtu lock N``), and DF is no longer set."""


ERROR_COST = 1.0
"""ip_rt_error_cost (HZ): a route error to a peer costs one second of tokens."""
ERROR_BURST = 5.0
"""ip_rt_error_burst (5 * HZ): at most five route errors in a row."""


@dataclass(slots=True)
class InetPeer:
    """``struct inet_peer``'s rate state for one source address: ip_rt_send_redirect's count
    and ip_error's token bucket, which share ``rate_last`` (each sets it when it acts)."""

    rate_last: float
    n_redirects: int = 0
    rate_tokens: float = 0.0


@dataclass(slots=True)
class Fib:
    """A namespace's routing tables and policy rules (the only place routes live), with the
    next-hop exceptions learnt from redirects and the per-peer redirect rate limit."""

    tables: dict[int, list[Route]] = field(default_factory=lambda: {RouteTable.LOCAL: [], RouteTable.MAIN: []})
    rules: list[FibRule] = field(default_factory=lambda: list(DEFAULT_RULES))
    exceptions: dict[tuple[Route, IPv4Address], NexthopException] = field(default_factory=dict)
    """By (FIB route, destination); entries of a deleted or replaced route are gone with it."""
    peers: dict[IPv4Address, InetPeer] = field(default_factory=dict)
    """inet_peer entries by source address: how many redirects each sender got, and when."""
    custom_local_routes: bool = False
    """A local route was added by request (inet_rtm_newroute's fib_has_custom_local_routes)."""
    custom_rules: bool = False
    """A policy rule was added (fib4_rule_configure's fib_has_custom_rules).  Neither flag is
    ever cleared: both make fib_validate_source do its full FIB check."""
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)
    """Lookups already answered (:meth:`NetNamespace.lookup`, ``inet_addr_type``), cleared by every
    change of a table, a rule, or a device's state (:meth:`invalidate`): the answer of a lookup
    depends on nothing else.  The kernel keeps its answers in dst entries for the same reason."""

    def invalidate(self) -> None:
        """Forget the cached lookups: a route, a rule or a device changed."""
        self.cache.clear()

    def routes(self, table: int | None = RouteTable.MAIN) -> list[Route]:
        """Routes of one table (all tables if None) in ``ip route show`` order."""
        if table is None:
            out: list[Route] = []
            for t in sorted(self.tables, key=lambda t: (t != RouteTable.MAIN, -t if t in (254, 255) else t)):
                out += sorted(self.tables[t], key=_sort_key)
            return out
        return sorted(self.tables.get(table, []), key=_sort_key)

    # -- changes (``ip route add/del/replace``) ---------------------------------
    def add_rule(self, rule: FibRule) -> None:
        """``ip rule add``."""
        self.cache.clear()
        self.rules.append(rule)
        self.custom_rules = True

    def add(self, route: Route, *, replace: bool = False, how: str = "add") -> None:
        """``ip route add|replace|append|prepend|change`` as fib_table_insert takes them.

        The aliases of one (table, prefix, metric) form a list the lookup reads in order (the
        first usable one wins). ``add`` (NLM_F_EXCL) refuses any alias there, whatever its type;
        ``replace`` puts the route in the first alias's place; ``append``/``prepend`` add it
        after the last / before the first alias; ``change`` is replace without create. An
        identical alias (same type and attributes) makes replace a no-op when it is the first,
        and is EEXIST for every other verb.
        """
        self.cache.clear()
        if replace:
            how = "replace"
        entries = self.tables.setdefault(route.table, [])
        key = route.key()
        same = [i for i, old in enumerate(entries) if old.key() == key]
        if not same:
            if how == "change":
                raise KernelError(errno.ENOENT, "RTNETLINK answers: No such file or directory")
            entries.append(route)
            return
        if how == "add":
            raise KernelError(errno.EEXIST, "RTNETLINK answers: File exists")
        match = next((i for i in same if entries[i].same_entry(route)), None)
        if how in ("replace", "change"):
            if match is not None:
                if match == same[0]:
                    return
                raise KernelError(errno.EEXIST, "RTNETLINK answers: File exists")
            entries[same[0]] = route
            self._prune_exceptions()
            return
        if match is not None:
            raise KernelError(errno.EEXIST, "RTNETLINK answers: File exists")
        entries.insert(same[-1] + 1 if how == "append" else same[0], route)

    def delete(self, match: Callable[[Route], bool], *, table: int = RouteTable.MAIN) -> Route:
        self.cache.clear()
        entries = self.tables.get(table, [])
        for i, old in enumerate(entries):
            if match(old):
                del entries[i]
                self._prune_exceptions()
                return old
        raise KernelError(errno.ESRCH, "RTNETLINK answers: No such process")

    def remove_where(self, pred: Callable[[Route], bool]) -> list[Route]:
        self.cache.clear()
        removed: list[Route] = []
        for table, entries in self.tables.items():
            keep = [r for r in entries if not pred(r)]
            removed += [r for r in entries if pred(r)]
            self.tables[table] = keep
        if removed:
            self._prune_exceptions()
        return removed

    def rename_dev(self, old: str, new: str) -> None:
        self.cache.clear()
        for table, entries in self.tables.items():
            self.tables[table] = [_replace(r, dev=new) if r.dev == old else r for r in entries]
        self._prune_exceptions()

    # -- inet_peer (route.c, inetpeer.c) ------------------------------------------------
    def peer(self, addr: IPv4Address, now: float) -> InetPeer:
        """inet_getpeer_v4: a new peer's rate_last lies 60 s back (so its bucket starts full)."""
        found = self.peers.get(addr)
        if found is None:
            found = self.peers[addr] = InetPeer(rate_last=now - 60.0)
        return found

    def error_allowed(self, addr: IPv4Address, now: float) -> bool:
        """ip_error's per-peer token bucket for ICMP errors about error routes (no route,
        unreachable, prohibit): refilled by the time since the peer's ``rate_last`` (which a
        redirect to the peer also sets, so a route error right after a redirect is held back),
        at most 5 s, 1 s per error."""
        peer = self.peer(addr, now)
        # the kernel counts whole jiffies: a float a hair under a whole second is one
        peer.rate_tokens = min(peer.rate_tokens + (now - peer.rate_last), ERROR_BURST)
        peer.rate_last = now
        if peer.rate_tokens >= ERROR_COST - 1e-6:
            peer.rate_tokens = max(0.0, peer.rate_tokens - ERROR_COST)
            return True
        return False

    # -- next-hop exceptions (route.c) -------------------------------------------------
    def _prune_exceptions(self) -> None:
        """fib_release_info frees a route's exceptions with its next hop."""
        live = {r for entries in self.tables.values() for r in entries}
        self.exceptions = {k: e for k, e in self.exceptions.items() if e.route in live}

    def exception_for(self, route: Route, dst: IPv4Address, now: float) -> NexthopException | None:
        """find_exception: the live exception of ``route``'s next hop for ``dst``; an expired
        one is removed as the kernel does on lookup."""
        exc = self.exceptions.get((route, dst))
        if exc is not None and now > exc.expires:
            del self.exceptions[(route, dst)]
            return None
        return exc

    def learn_exception(self, route: Route, dst: IPv4Address, gateway: IPv4Address,
                        now: float) -> NexthopException:
        """update_or_create_fnhe: remember (or refresh) ``gateway`` for ``dst`` behind ``route``
        (a path MTU learnt before stays)."""
        old = self.exceptions.get((route, dst))
        exc = NexthopException(route=route, dst=dst, gateway=gateway, expires=now + RT_GC_TIMEOUT,
                               pmtu=old.pmtu if old is not None and now <= old.expires else 0,
                               mtu_locked=old.mtu_locked if old is not None and now <= old.expires else False)
        self.exceptions[(route, dst)] = exc
        return exc

    def learn_pmtu(self, route: Route, dst: IPv4Address, mtu: int, locked: bool, now: float,
                   lifetime: float) -> NexthopException:
        """update_or_create_fnhe from __ip_rt_update_pmtu: the path MTU for ``dst`` behind
        ``route`` for ``lifetime`` seconds (``mtu_expires``); a redirect's gateway stays."""
        old = self.exceptions.get((route, dst))
        gateway = old.gateway if old is not None and now <= old.expires else None
        exc = NexthopException(route=route, dst=dst, gateway=gateway, expires=now + lifetime, pmtu=mtu,
                               mtu_locked=locked)
        self.exceptions[(route, dst)] = exc
        return exc

    # -- lookup ----------------------------------------------------------------
    def lookup(self, dst: IPv4Address, *, src: IPv4Address | None = None, iif: str | None = None,
               oif: str | None = None, mark: int = 0,
               usable: Callable[[Route], bool] = lambda r: True) -> Route | None:
        """The route ``ip route get`` would choose, or None (ENETUNREACH).

        Policy rules in priority order; in a table, the longest prefix, then the
        lowest metric, skipping routes whose device cannot be used (linkdown
        routes are skipped as with ``ignore_routes_with_linkdown`` off they are
        still used: the caller decides through ``usable``).  A ``throw`` route
        ends the lookup in that table only.
        """
        for rule in sorted(self.rules, key=lambda r: r.priority):
            if not rule.selects(src=src, dst=dst, iif=iif, oif=oif, mark=mark):
                continue
            found = lookup_table(self.tables.get(rule.table, ()), dst, oif=oif, usable=usable)
            if found is not None and found.type is not RouteType.THROW:
                return found
        return None


def lookup_table(routes: Iterable[Route], dst: IPv4Address, *, oif: str | None = None,
                 usable: Callable[[Route], bool] = lambda r: True) -> Route | None:
    """Longest prefix match, then lowest metric; ties keep insertion order.

    >>> r1 = Route(dst=IPv4Network("10.0.0.0/8"), dev="a")
    >>> r2 = Route(dst=IPv4Network("10.1.0.0/16"), dev="b", metric=10)
    >>> r3 = Route(dst=IPv4Network("10.1.0.0/16"), dev="c", metric=5)
    >>> lookup_table([r1, r2, r3], IPv4Address("10.1.2.3")).dev
    'c'
    """
    best: Route | None = None
    d = int(dst)
    for route in routes:
        net = route.dst
        if (d & int(net.netmask)) != int(net.network_address):
            continue
        if oif is not None and route.dev is not None and route.dev != oif and route.type is RouteType.UNICAST:
            continue
        if not usable(route):
            continue
        if best is None or net.prefixlen > best.dst.prefixlen or (
            net.prefixlen == best.dst.prefixlen and route.metric < best.metric
        ):
            best = route
    return best


def select_source(addrs: Sequence[IfAddr], dev: str | None, towards: IPv4Address,
                  scope: Scope = Scope.LINK) -> IPv4Address | None:
    """``inet_select_addr``: a primary address of ``dev`` in scope, preferring towards's subnet.

    Falls back to any global-scope primary address of the namespace (the
    kernel walks the other devices) when the device has none.
    """
    first: IPv4Address | None = None
    for a in addrs:
        if a.dev != dev or a.secondary or a.scope.value > scope.value:
            continue
        if towards in a.interface.network:
            return a.address
        if first is None:
            first = a.address
    if first is not None:
        return first
    for a in addrs:
        if not a.secondary and a.scope is Scope.GLOBAL and a.dev != "lo":
            return a.address
    for a in addrs:
        if not a.secondary and a.scope.value <= scope.value:
            return a.address
    return None


# -- input routing (net/ipv4/route.c, fib_frontend.c) ------------------------------------------
class RouteInput(StrEnum):
    """What ``ip_route_input_slow`` decided for a received packet (the value is the trace's word)."""

    LOCAL = "local"
    BROADCAST = "broadcast"
    FORWARD = "forward"
    MARTIAN = "martian"
    FORWARDING_OFF = "forwarding off"
    NO_ROUTE = "no route"
    UNREACHABLE = "unreachable"
    PROHIBIT = "prohibit"
    BLACKHOLE = "blackhole"


def route_input(ns: "NetNamespace", skb: "Skb", dev: Device) -> tuple[RouteInput, Route | None]:
    """ip_route_input_slow: local, forward, or why not."""
    ip = skb.packet.ip
    assert ip is not None
    src, dst = ip_int(ip.src), ip_int(ip.dst)  # ints: ipaddress's is_multicast/is_loopback cost a network each
    if src >> 28 == 0xE or src >> 24 == 127 and dev.kind is not LinkKind.LOOPBACK and \
            not ns.sysctls.conf(dev.ifname, "route_localnet"):
        return RouteInput.MARTIAN, None
    if dst == 0xFFFFFFFF:
        return (RouteInput.BROADCAST if int(ip.src) == 0 or fib_validate_source(ns, skb, dev) else RouteInput.MARTIAN), None
    route = ns.lookup(ip.dst, src=ip.src, iif=dev.ifname, mark=skb.mark)
    if route is not None and route.type is RouteType.LOCAL:
        if dst >> 24 == 127 and dev.kind is not LinkKind.LOOPBACK and \
                not ns.sysctls.conf(dev.ifname, "route_localnet"):
            return RouteInput.MARTIAN, route
        if not fib_validate_source(ns, skb, dev):
            return RouteInput.MARTIAN, route
        return RouteInput.LOCAL, route
    if route is not None and route.type is RouteType.BROADCAST:
        return (RouteInput.BROADCAST if int(ip.src) == 0 or fib_validate_source(ns, skb, dev) else RouteInput.MARTIAN), route
    if dst >> 24 == 127 and dev.kind is not LinkKind.LOOPBACK and not ns.sysctls.conf(dev.ifname, "route_localnet"):
        return RouteInput.MARTIAN, route
    if not ns.sysctls.conf(dev.ifname, "forwarding"):
        return RouteInput.FORWARDING_OFF, route
    if route is None:
        return RouteInput.NO_ROUTE, None
    if route.type in (RouteType.UNREACHABLE, RouteType.PROHIBIT, RouteType.BLACKHOLE):
        return RouteInput(str(route.type)), route
    if not fib_validate_source(ns, skb, dev, oif=route.dev):
        return RouteInput.MARTIAN, route
    return RouteInput.FORWARD, route


def fib_validate_source(ns: "NetNamespace", skb: "Skb", dev: Device, oif: str | None = None) -> bool:
    """fib_validate_source: is the source of a packet received on ``dev`` acceptable?

    With rp_filter off (and no redirect to decide: ``oif`` is the forward route's device),
    the kernel only refuses one of the namespace's own addresses, unless accept_local.  But
    once the namespace has had a user-added local route or an ``ip rule`` (flags never
    cleared), and always with rp_filter on, it looks the source up in the FIB instead
    (__fib_validate_source): an own address is then refused because its route is local, so
    an own address without a local route (127.0.0.1 after ``ip route del local 127.0.0.0/8``)
    passes, and a source whose route is broadcast is refused.
    """
    ip = skb.packet.ip
    assert ip is not None
    if dev.kind is LinkKind.LOOPBACK:
        return True
    conf = ns.sysctls.conf
    rpf = conf(dev.ifname, "rp_filter")
    accept_local = bool(conf(dev.ifname, "accept_local"))
    if not rpf and (oif != dev.ifname or not conf(dev.ifname, "send_redirects")):
        if accept_local:
            return True
        if not (ns.fib.custom_local_routes or ns.fib.custom_rules):
            src = ip_int(ip.src)
            return not any(ip_int(a.interface) == src for a in ns.addrs)  # a.address builds a new IPv4Address
    mark = skb.mark if conf(dev.ifname, "src_valid_mark") else 0
    back = ns.lookup(ip.src, src=ip.dst, iif=oif or "lo", mark=mark)
    if back is None or back.type in (RouteType.UNREACHABLE, RouteType.PROHIBIT, RouteType.BLACKHOLE):
        return not rpf  # fib_lookup failed: last_resort
    if back.type is not RouteType.UNICAST and (back.type is not RouteType.LOCAL or not accept_local):
        return False
    if back.dev == dev.ifname:
        return True
    if not any(a.dev == dev.ifname for a in ns.addrs):
        return not rpf  # no_addr: last_resort
    return rpf != 1


def route_output(ns: "NetNamespace", dst: IPv4Address, *, src: IPv4Address | None = None,
                 oif: str | None = None, mark: int = 0) -> Route:
    """ip_route_output_key: the route for a locally generated packet, or the errno."""
    route = ns.lookup(dst, src=src, oif=oif, mark=mark)
    if route is None:
        raise SendError(errno.ENETUNREACH, "Network is unreachable")
    match route.type:
        case RouteType.BLACKHOLE:
            raise SendError(errno.EINVAL, "Invalid argument")
        case RouteType.UNREACHABLE:
            raise SendError(errno.EHOSTUNREACH, "No route to host")
        case RouteType.PROHIBIT:
            raise SendError(errno.EACCES, "Permission denied")
    if route.type is RouteType.LOCAL:
        return _replace(route, dev="lo")
    out = ns.devices.get(route.dev) if route.dev is not None else None
    if src is not None and src.is_loopback and out is not None and out.kind is not LinkKind.LOOPBACK and \
            not ns.sysctls.conf(out.ifname, "route_localnet"):
        # __mkroute_output: a loopback source may leave by a real device only with route_localnet
        raise SendError(errno.EINVAL, "Invalid argument")
    return route
