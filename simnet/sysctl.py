"""Per-namespace sysctls: the kernel's keys, the defaults of a new netns, the ``sysctl`` tool.

One :class:`Sysctls` manager per network namespace holds every ``net.*`` key a
fresh namespace shows (``simnet/data/sysctl_netns_defaults.txt``, captured from
the real kernel by ``tools/capture_sysctl_defaults.py``), plus the per-device
``net.ipv4.conf.<dev>.*``, ``net.ipv4.neigh.<dev>.*`` and
``net.ipv6.conf.<dev>.*`` keys of the devices the namespace has.

It is a mutable manager, not a frozen value (style guide G15 sketches a frozen
``Sysctls``): the kernel couples keys on write (``ip_forward`` rewrites every
device's ``forwarding``), devices come and go, and the datapath reads the hot
keys on every packet, so one owner that keeps cached ints is both faithful and
cheap.  The owning :class:`~simnet.netns.NetNamespace` passes it a callable
listing its device names.

Kernel: net/ipv4/devinet.c, include/linux/inetdevice.h, net/core/neighbour.c,
net/ipv6/addrconf.c, net/bridge/br_netfilter_hooks.c, kernel/sysctl.c
(proc_dointvec*).  The ``sysctl`` command (procps-ng 4.0.2) that reads and
writes them is a tool: :mod:`simnet.tools.sysctl`.

Example:
    >>> s = Sysctls()
    >>> s.set("net.ipv4.ip_forward", 1)
    >>> s.get("net.ipv4.conf.all.forwarding"), s.ip_forward
    ('1', True)
"""

from __future__ import annotations

import errno as _errno
import functools
import os
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from simnet.errors import ToolError

__all__ = [
    "Sysctls",
    "SysctlError",
    "proc_sys_write",
    "CONF_COMBINE",
    "DEPRECATED",
]

#: Prefixes of per-device directories (the device name is the next component).
PER_DEVICE_PREFIXES = ("net.ipv4.conf.", "net.ipv4.neigh.", "net.ipv6.conf.")
_DEV = "<dev>"
#: ``all`` and ``default`` are not devices; they exist in every namespace.
_NOT_DEVICES = frozenset({"all", "default"})
#: Legacy keys procps hides from listings unless ``--deprecated`` (procps sysctl.c).
DEPRECATED = frozenset({"base_reachable_time", "retrans_time"})

_INT_RE = re.compile(r"-?\d+")
_C_INT_MIN, _C_INT_MAX = -(2**31), 2**31 - 1


class SysctlError(ToolError):
    """A failed sysctl read or write, with procps-ng's message and exit status.

    Attributes:
        message: stderr text, exactly as ``sysctl`` prints it (no newline).
        exit_code: the process exit status ``sysctl`` would return.
        errno: the kernel errno behind it, where there is one.
        stdout: what ``sysctl`` had already printed (earlier keys of the argv).
    """

    def __init__(
        self, message: str, *, exit_code: int = 1, errno: int | None = None, stdout: str = ""
    ) -> None:
        super().__init__(message, exit_code)
        self.message = message
        self.errno = errno
        self.stdout = stdout


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True, kw_only=True)
class _Defaults:
    values: dict[str, str]  # concrete keys of a fresh netns (all/default/lo)
    templates: dict[str, dict[str, str]]  # prefix -> leaf -> value for <dev>
    ranges: dict[str, tuple[int, int]]  # key or <dev>-key -> accepted interval
    normalise: frozenset[str]
    read_only: frozenset[str]
    write_only: frozenset[str]


@functools.cache
def _defaults() -> _Defaults:
    # pkgutil (the package loader's get_data, zip-safe) costs ~1 ms to import, importlib.resources ~7 (#16)
    data = pkgutil.get_data("simnet", "data/sysctl_netns_defaults.txt")
    assert data is not None
    text = data.decode()
    values: dict[str, str] = {}
    templates: dict[str, dict[str, str]] = {p: {} for p in PER_DEVICE_PREFIXES}
    ranges: dict[str, tuple[int, int]] = {}
    normalise: set[str] = set()
    read_only: set[str] = set()
    write_only: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#@"):
            word, key, *rest = line[2:].split()
            if word == "range":
                ranges[key] = (int(rest[0]), int(rest[1]))
            elif word == "normalise":
                normalise.add(key)
            elif word == "read-only":
                read_only.add(key)
            elif word == "write-only":
                write_only.add(key)
            continue
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(" = ")
        if not sep:  # an empty value is written as "key = "
            key, value = line.rstrip(" ="), ""
        for prefix in PER_DEVICE_PREFIXES:
            if key.startswith(prefix + _DEV + "."):
                templates[prefix][key[len(prefix) + len(_DEV) + 1 :]] = value
                break
        else:
            values[key] = value
    return _Defaults(
        values=values,
        templates=templates,
        ranges=ranges,
        normalise=frozenset(normalise),
        read_only=frozenset(read_only),
        write_only=frozenset(write_only),
    )


def _split_device(key: str) -> tuple[str, str, str] | None:
    """``net.ipv4.conf.eth0.rp_filter`` -> (prefix, "eth0", "rp_filter")."""
    for prefix in PER_DEVICE_PREFIXES:
        if key.startswith(prefix):
            dev, dot, leaf = key[len(prefix) :].partition(".")
            if dot and dev:
                return prefix, dev, leaf
    return None


def _spec_key(key: str) -> str:
    """The key under which ranges/flags are recorded (devices map to ``<dev>``)."""
    split = _split_device(key)
    if split is None or split[1] in _NOT_DEVICES or split[1] == "lo":
        return key
    return f"{split[0]}{_DEV}.{split[2]}"


# ----------------------------------------------------------------- value parsing


def _parse_c_long(token: str) -> int | None:
    """Parse one integer as kernel/sysctl.c proc_get_long does (base 0, no '+')."""
    neg = token.startswith("-")
    body = token[1:] if neg else token
    if not body or not body[0].isdigit():
        return None
    try:
        if body[:2].lower() == "0x":
            n = int(body[2:], 16) if body[2:] else None
        elif body.startswith("0") and len(body) > 1:
            n = int(body[1:], 8)
        else:
            n = int(body, 10)
    except ValueError:
        return None
    if n is None:
        return None
    return -n if neg else n


def _parse_ints(value: str, count: int) -> list[int] | None:
    """Up to ``count`` whitespace-separated ints; extra text after them is ignored.

    Kernel: __do_proc_dointvec: each number must be followed by whitespace or
    the end; the first unparsable number is EINVAL; an empty write is EINVAL.
    """
    tokens = value.split()
    if not tokens:
        return None
    out: list[int] = []
    for token in tokens[:count]:
        n = _parse_c_long(token)
        if n is None:
            return None
        out.append(n)
    return out


# ---------------------------------------------------------------- combination

#: How the kernel combines ``conf.all.KEY`` with ``conf.<dev>.KEY`` when it
#: consults a device (include/linux/inetdevice.h, IN_DEV_* macros):
#: "and"  = IN_DEV_ANDCONF, "or" = IN_DEV_ORCONF, "max" = IN_DEV_MAXCONF,
#: "dev"  = IN_DEV_CONF_GET (the device's own value only).
CONF_COMBINE: dict[str, str] = {
    "forwarding": "dev",  # IN_DEV_FORWARD (all.forwarding is pushed to devices on write)
    "mc_forwarding": "and",  # IN_DEV_MFORWARD
    "bc_forwarding": "and",  # IN_DEV_BFORWARD
    "rp_filter": "max",  # IN_DEV_RPFILTER
    "src_valid_mark": "or",  # IN_DEV_SRC_VMARK
    "accept_source_route": "and",  # IN_DEV_SOURCE_ROUTE
    "accept_local": "or",  # IN_DEV_ACCEPT_LOCAL
    "bootp_relay": "and",  # IN_DEV_BOOTP_RELAY
    "log_martians": "or",  # IN_DEV_LOG_MARTIANS
    "proxy_arp": "or",  # IN_DEV_PROXY_ARP
    "proxy_arp_pvlan": "dev",  # IN_DEV_PROXY_ARP_PVLAN
    "shared_media": "or",  # IN_DEV_SHARED_MEDIA
    "send_redirects": "or",  # IN_DEV_TX_REDIRECTS
    "secure_redirects": "or",  # IN_DEV_SEC_REDIRECTS
    "tag": "dev",  # IN_DEV_IDTAG
    "medium_id": "dev",  # IN_DEV_MEDIUM_ID
    "promote_secondaries": "or",  # IN_DEV_PROMOTE_SECONDARIES
    "route_localnet": "or",  # IN_DEV_ROUTE_LOCALNET
    "accept_redirects": "redirects",  # IN_DEV_RX_REDIRECTS: forwarding ? AND : OR
    "ignore_routes_with_linkdown": "dev",  # IN_DEV_IGNORE_ROUTES_WITH_LINKDOWN
    "arp_filter": "or",  # IN_DEV_ARPFILTER
    "arp_accept": "max",  # IN_DEV_ARP_ACCEPT (MAXCONF since 6.0; was ORCONF)
    "arp_announce": "max",  # IN_DEV_ARP_ANNOUNCE
    "arp_ignore": "max",  # IN_DEV_ARP_IGNORE
    "arp_notify": "max",  # IN_DEV_ARP_NOTIFY
    "arp_evict_nocarrier": "and",  # IN_DEV_ARP_EVICT_NOCARRIER
}

#: Keys whose value is mirrored in another unit (net/core/neighbour.c):
#: base_reachable_time is seconds, retrans_time is USER_HZ (1/100 s).
_NEIGH_ALIASES = {
    "base_reachable_time_ms": ("base_reachable_time", 1000),
    "retrans_time_ms": ("retrans_time", 10),
}


# -------------------------------------------------------------------- manager


class Sysctls:
    """The sysctl tree of one network namespace (a new namespace's defaults).

    Kernel: each ``struct net`` has its own ipv4.devconf_all/devconf_dflt,
    per-device ``in_device->cnf``/``inet6_dev->cnf``/``neigh_parms``, and
    per-netns tables for the rest of net.ipv4, net.core, net.bridge and
    net.netfilter.

    Copy-on-write: a namespace holds only the keys written in it.  Every other
    namespace-wide key reads through to the captured defaults, shared by every
    namespace, and a device's keys to the table its registration copied from
    ``default`` (one table for every device registered while no ``default`` key
    was written), so a world of 10,000 namespaces does not hold a million keys.
    Integer reads are cached (the datapath reads a few keys on every packet).

    Args:
        devices: returns the namespace's device names; per-device keys exist
            only for those (``all`` and ``default`` always exist).  Without
            it, the devices are those given to :meth:`add_device` (``lo`` is
            there from the start, as in a new namespace).
    """

    __slots__ = ("_values", "_ints", "_devices_fn", "_known", "_devs", "_dflt")

    def __init__(self, devices: Callable[[], Iterable[str]] | None = None) -> None:
        self._values: dict[str, str] = {}
        """The keys written in this namespace."""
        self._ints: dict[str, int] = {}
        """Integer values of the keys read or written so far (a cache)."""
        self._devices_fn = devices
        self._known: set[str] = {"lo"}
        self._devs: dict[str, dict[str, str]] = {"lo": _captured_lo()}
        """A device's key component -> its keys as registered (prefix + leaf -> value; shared, never written)."""
        self._dflt: dict[str, str] | None = _fresh_device()
        """The table a device registered now gets (None: a ``default`` key was written since it was built)."""

    # ---- the copy-on-write store

    def _lookup(self, key: str) -> str | None:
        """``key``'s value; None when the namespace has no such key."""
        value = self._values.get(key)
        if value is not None:
            return value
        split = _split_device(key)
        if split is None or split[1] in _NOT_DEVICES:
            return _namespace_defaults().get(key)
        table = self._devs.get(split[1])
        return None if table is None else table.get(split[0] + split[2])

    def _int(self, key: str) -> int | None:
        """An existing key's integer value; None when its text is not an integer (or there is no such key)."""
        try:
            return self._ints[key]
        except KeyError:
            pass
        value = self._lookup(key)
        n = None if value is None else _int_of(value)
        if n is not None:
            self._ints[key] = n
        return n

    def _forget_device(self, comp: str) -> None:
        """Drop a device's written keys and cached integers."""
        values, ints = self._values, self._ints
        if not values and not ints:
            return  # a new namespace registering lo: nothing written or read yet
        for prefix, leaves in _device_leaves():
            head = prefix + comp + "."
            for leaf, _, _ in leaves:
                values.pop(head + leaf, None)
                ints.pop(head + leaf, None)

    # ---- devices

    def _device_names(self) -> set[str]:
        if self._devices_fn is None:
            return self._known
        return set(self._devices_fn())

    def _sync(self, dev: str) -> bool:
        """Make sure ``dev``'s keys exist if (and only if) the namespace has it."""
        if dev not in self._device_names():
            return False
        if dev not in self._known:
            self.add_device(dev)
        return True

    def add_device(self, name: str, *, mtu: int | None = None) -> None:
        """Create ``name``'s per-device keys, as registering a netdev does.

        Kernel: inetdev_init copies ``net.ipv4.conf.default`` (devconf_dflt);
        ipv6_add_dev copies ``net.ipv6.conf.default`` and sets ``mtu`` to the
        device's MTU; neigh_parms_alloc copies the ARP table's default parms
        (global, so taken from the captured template).
        """
        if name in _NOT_DEVICES or "/" in name or not name:
            raise SysctlError(f"invalid device name {name!r}", errno=_errno.EINVAL)
        comp = _comp(name)
        if comp in self._devs:
            self._forget_device(comp)
        table: dict[str, str]
        if name == "lo":
            # registered with the namespace, before anything can be written; inetdev_init sets
            # NOXFRM and NOPOLICY for a loopback device, so lo's keys are not default's copy
            table = _captured_lo()
        elif self._dflt is not None:
            table = self._dflt
        else:
            table = self._dflt = _device_table(self._lookup)
        if mtu is not None and "net.ipv6.conf.mtu" in table:
            table = {**table, "net.ipv6.conf.mtu": str(mtu)}
        self._devs[comp] = table
        self._known.add(name)

    def del_device(self, name: str) -> None:
        """Drop ``name``'s per-device keys (unregister_netdevice)."""
        comp = _comp(name)
        self._forget_device(comp)
        self._devs.pop(comp, None)
        self._known.discard(name)

    def rename_device(self, old: str, new: str) -> None:
        """Move ``old``'s keys to ``new`` keeping their values (devinet_sysctl re-register)."""
        if old not in self._known:
            self._sync(old)
        src, dst = _comp(old), _comp(new)
        table = self._devs.pop(src, None)
        if table is not None:
            written = [(prefix, leaf, self._values.get(prefix + src + "." + leaf))
                       for prefix, leaves in _device_leaves() for leaf, _, _ in leaves]
            self._forget_device(src)
            self._forget_device(dst)
            self._devs[dst] = table
            for prefix, leaf, value in written:
                if value is not None:
                    self._store(prefix + dst + "." + leaf, value)
        self._known.discard(old)
        self._known.add(new)

    # ---- generic access

    def _exists(self, key: str) -> bool:
        split = _split_device(key)
        if split is not None and split[1] not in _NOT_DEVICES:
            if not self._sync(_ifname(split[1])):
                return False
        return self._lookup(key) is not None or _spec_key(key) in _defaults().write_only

    def keys(self) -> list[str]:
        """Every readable key, in ``sysctl -a`` order."""
        for dev in self._device_names():
            self._sync(dev)
        alive = {_comp(n) for n in self._device_names()}
        out = set(_namespace_defaults())
        out.update(key for key in self._values if (split := _split_device(key)) is None or split[1] in _NOT_DEVICES)
        for comp in self._devs.keys() & alive:
            out.update(prefix + comp + "." + leaf for prefix, leaves in _device_leaves() for leaf, _, _ in leaves)
        return sorted(out, key=lambda k: k.split("."))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._exists(key)

    def write_only(self, key: str) -> bool:
        """An existing key that can be written but not read (``net.ipv4.route.flush``)."""
        return key in self and _spec_key(key) in _defaults().write_only

    def get(self, key: str) -> str:
        """The value ``cat /proc/sys/...`` shows (no trailing newline)."""
        value = self._lookup(key) if self._exists(key) else None
        if value is None:
            raise _no_such_key(key)
        return value

    def get_int(self, key: str) -> int:
        """An integer key's value (cached)."""
        try:
            return self._ints[key]
        except KeyError:
            pass
        value = self.get(key)
        n = _int_of(value)
        if n is None:
            return int(value)
        self._ints[key] = n
        return n

    def set(self, key: str, value: str | int) -> None:
        """Write ``value`` to ``key`` as ``echo value > /proc/sys/...`` would.

        Raises:
            SysctlError: unknown key (ENOENT), read-only key (EACCES), or a
                value the kernel rejects (EINVAL; ENOENT for an unknown
                congestion control), with procps-ng's wording.
        """
        if not self._exists(key):
            raise _no_such_key(key)
        spec = _spec_key(key)
        d = _defaults()
        if spec in d.read_only:
            raise SysctlError(
                f'sysctl: permission denied on key "{key}"', errno=_errno.EACCES
            )
        text = str(value)
        if spec in d.write_only:
            if _parse_ints(text, 1) is None:
                raise _invalid(key)
            return
        self._write(key, spec, text)

    def _write(self, key: str, spec: str, text: str) -> None:
        current = self._lookup(key)
        assert current is not None  # _exists held, and write-only keys do not get here
        if "\t" in current and all(_INT_RE.fullmatch(p) for p in current.split("\t")):
            self._write_vector(key, current, text)
            return
        if not _INT_RE.fullmatch(current):
            self._write_string(key, text)
            return
        parsed = _parse_ints(text, 1)
        if parsed is None:
            raise _invalid(key)
        n = parsed[0]
        lo, hi = _defaults().ranges.get(spec, (_C_INT_MIN, _C_INT_MAX))
        if not lo <= n <= hi:
            raise _invalid(key)
        if spec in _defaults().normalise and n:
            n = 1
        self._set_int(key, n)

    def _write_vector(self, key: str, current_text: str, text: str) -> None:
        current = [int(p) for p in current_text.split("\t")]
        parsed = _parse_ints(text, len(current))
        if parsed is None or any(not _C_INT_MIN <= n <= _C_INT_MAX for n in parsed):
            raise _invalid(key)
        new = parsed + current[len(parsed) :]
        if key == "net.ipv4.ip_local_port_range":
            # ipv4_local_port_range: low <= high and low >= ip_unprivileged_port_start
            if new[1] < new[0] or new[0] < self.get_int("net.ipv4.ip_unprivileged_port_start"):
                raise _invalid(key)
        self._store(key, "\t".join(str(n) for n in new))

    def _write_string(self, key: str, text: str) -> None:
        text = text.rstrip("\n")
        if key == "net.ipv4.tcp_congestion_control":
            if text not in (self._lookup("net.ipv4.tcp_available_congestion_control") or "").split():
                raise SysctlError(
                    f'sysctl: setting key "{key}": No such file or directory',
                    errno=_errno.ENOENT,
                )
        self._store(key, text)

    def _store(self, key: str, value: str) -> None:
        self._values[key] = value
        n = _int_of(value)
        if n is None:
            self._ints.pop(key, None)
        else:
            self._ints[key] = n
        if key in _copied_defaults():
            self._dflt = None  # devices registered from now on copy the new value

    def _set_int(self, key: str, n: int) -> None:
        split = _split_device(key)
        old = self._int(key)
        if key == "net.ipv4.ip_forward":
            key, split = "net.ipv4.conf.all.forwarding", ("net.ipv4.conf.", "all", "forwarding")
        self._store(key, str(n))
        if split is None:
            return
        prefix, dev, leaf = split
        if leaf == "forwarding" and dev == "all" and prefix != "net.ipv4.neigh.":
            if prefix == "net.ipv4.conf.":
                self._store("net.ipv4.ip_forward", str(n))
            # IPv4 (devinet_sysctl_forward) acts only when the value changed;
            # IPv6 (addrconf_fixup_forwarding) on every write.
            if prefix == "net.ipv6.conf." or old != n:
                self._forward_change(prefix, n)
        if prefix == "net.ipv4.neigh." and leaf in _NEIGH_ALIASES:
            other, div = _NEIGH_ALIASES[leaf]
            self._store(f"{prefix}{dev}.{other}", str(n // div))
        for ms_leaf, (other, div) in _NEIGH_ALIASES.items():
            if prefix == "net.ipv4.neigh." and leaf == other:
                self._store(f"{prefix}{dev}.{ms_leaf}", str(n * div))

    def _forward_change(self, prefix: str, n: int) -> None:
        """inet_forward_change / addrconf_forward_change: push to default and devices."""
        if prefix == "net.ipv4.conf.":
            # inet_forward_change also turns accept_redirects off on a router.
            self._store("net.ipv4.conf.all.accept_redirects", str(int(not n)))
        self._store(f"{prefix}default.forwarding", str(n))
        for name in self._known:
            key = f"{prefix}{_comp(name)}.forwarding"
            if self._lookup(key) is not None:
                self._store(key, str(n))

    # ---- hot-path accessors

    @property
    def ip_forward(self) -> bool:
        """``net.ipv4.ip_forward`` (== ``net.ipv4.conf.all.forwarding``)."""
        try:
            return self._ints["net.ipv4.conf.all.forwarding"] != 0
        except KeyError:
            return self.get_int("net.ipv4.conf.all.forwarding") != 0

    @property
    def bridge_nf_call_iptables(self) -> bool:
        """``net.bridge.bridge-nf-call-iptables``: bridged IPv4 traverses iptables."""
        try:
            return self._ints["net.bridge.bridge-nf-call-iptables"] != 0
        except KeyError:
            return self.get_int("net.bridge.bridge-nf-call-iptables") != 0

    def conf(self, dev: str, key: str) -> int:
        """The effective ``net.ipv4.conf`` value the kernel uses for ``dev``.

        Applies the IN_DEV_* rule of include/linux/inetdevice.h (see
        :data:`CONF_COMBINE`); keys without a rule use the device's value.

        Example:
            >>> s = Sysctls()
            >>> s.set("net.ipv4.conf.all.rp_filter", 2)
            >>> s.conf("lo", "rp_filter"), s.get("net.ipv4.conf.lo.rp_filter")
            (2, '0')
        """
        ints = self._ints
        try:
            mine = ints[f"net.ipv4.conf.{dev}.{key}"]
        except KeyError:
            dev = _comp(dev)
            mine = self.get_int(f"net.ipv4.conf.{dev}.{key}")
        rule = CONF_COMBINE.get(key, "dev")
        if rule == "dev":
            return mine
        try:
            everyone = ints[f"net.ipv4.conf.all.{key}"]
        except KeyError:
            everyone = self.get_int(f"net.ipv4.conf.all.{key}")
        if rule == "redirects":
            try:
                forwarding = ints[f"net.ipv4.conf.{dev}.forwarding"]
            except KeyError:
                forwarding = self.get_int(f"net.ipv4.conf.{_comp(dev)}.forwarding")
            rule = "and" if forwarding else "or"
        if rule == "max":
            return max(everyone, mine)
        if rule == "or":
            return int(bool(everyone or mine))
        return int(bool(everyone and mine))


_UNPARSED = object()
_INT_OF: dict[str, object] = {}
"""A value's integer (None: not one), memoised: a world of 10,000 namespaces stores the same few
hundred default texts millions of times."""


def _int_of(value: str) -> int | None:
    n = _INT_OF.get(value, _UNPARSED)
    if n is _UNPARSED:
        n = _INT_OF[value] = int(value) if _INT_RE.fullmatch(value) else None
    return n  # type: ignore[return-value]


@functools.cache
def _device_leaves() -> tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...]:
    """Per prefix, each per-device leaf: (leaf, template value, the ``default`` key a new device
    copies it from, None for the ARP parms, taken from the template)."""
    d = _defaults()
    return tuple((prefix, tuple((leaf, value, None if prefix == "net.ipv4.neigh." else f"{prefix}default.{leaf}")
                                for leaf, value in d.templates[prefix].items()))
                 for prefix in PER_DEVICE_PREFIXES)


@functools.cache
def _copied_defaults() -> frozenset[str]:
    """The ``default`` keys a registering device copies (a write to one changes what later devices get)."""
    return frozenset(key for _, leaves in _device_leaves() for _, _, key in leaves if key is not None)


def _device_table(lookup: Callable[[str], str | None]) -> dict[str, str]:
    """A registering device's keys (prefix + leaf -> value): the ``default`` keys' values as ``lookup``
    reads them, the template's for the ARP parms."""
    out = {}
    for prefix, leaves in _device_leaves():
        for leaf, value, default_key in leaves:
            current = None if default_key is None else lookup(default_key)
            out[prefix + leaf] = value if current is None else current
    return out


@functools.cache
def _namespace_defaults() -> dict[str, str]:
    """A new namespace's keys but its devices' (shared by every namespace; never written)."""
    return {key: value for key, value in _defaults().values.items()
            if (split := _split_device(key)) is None or split[1] in _NOT_DEVICES}


@functools.cache
def _fresh_device() -> dict[str, str]:
    """What a device registered in a namespace whose ``default`` keys were never written gets."""
    return _device_table(_namespace_defaults().get)


@functools.cache
def _captured_lo() -> dict[str, str]:
    """``lo``'s keys as captured in a fresh namespace (prefix + leaf -> value)."""
    values = _defaults().values
    return {prefix + leaf: values[f"{prefix}lo.{leaf}"] for prefix, leaves in _device_leaves()
            for leaf, _, _ in leaves if f"{prefix}lo.{leaf}" in values}


@functools.cache
def _default_ints() -> dict[str, int]:
    """The integer keys of a new namespace's table (the eager model's copy, for the equivalence test)."""
    return {key: int(value) for key, value in _defaults().values.items() if _INT_RE.fullmatch(value)}


def _comp(ifname: str) -> str:
    """A device name as a key component: '.' in names is shown as '/'."""
    return ifname.replace(".", "/")


def _ifname(comp: str) -> str:
    return comp.replace("/", ".")


def _proc_path(key: str) -> str:
    return "/proc/sys/" + "/".join(p.replace("/", ".") for p in key.split("."))


def _no_such_key(key: str) -> SysctlError:
    return SysctlError(
        f"sysctl: cannot stat {_proc_path(key)}: No such file or directory",
        errno=_errno.ENOENT,
    )


def _invalid(key: str) -> SysctlError:
    return SysctlError(f'sysctl: setting key "{key}": Invalid argument', errno=_errno.EINVAL)


def proc_sys_write(sysctls: Sysctls, path: str, value: str) -> None:
    """``echo VALUE > /proc/sys/...``: write one key through procfs.

    Raises:
        SysctlError: with the shell's wording (bash prints it after "bash: "):
            ``/proc/sys/net/ipv4/foo: No such file or directory`` (open fails),
            ``/proc/sys/...: Permission denied`` (read-only key) or
            ``echo: write error: Invalid argument`` (the kernel rejects it).
    """
    norm = os.path.normpath(path)
    if not norm.startswith("/proc/sys/"):
        raise SysctlError(f"{path}: not a sysctl path", errno=_errno.EINVAL)
    key = ".".join(p.replace(".", "/") for p in norm[len("/proc/sys/") :].split("/"))
    if key not in sysctls:
        raise SysctlError(f"{path}: No such file or directory", errno=_errno.ENOENT)
    try:
        sysctls.set(key, value)
    except SysctlError as exc:
        if exc.errno == _errno.EACCES:
            raise SysctlError(f"{path}: Permission denied", errno=_errno.EACCES) from None
        reason = os.strerror(exc.errno or _errno.EINVAL)
        raise SysctlError(f"echo: write error: {reason}", errno=exc.errno) from None
