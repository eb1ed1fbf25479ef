"""Copy-on-write sysctls (:class:`simnet.sysctl.Sysctls`) show exactly what the eager copy showed.

A namespace shares the captured defaults and its devices share the table their registration
copied from ``default``; the reference model (:class:`EagerSysctls`, the code before the change)
copies every key into each namespace.  Random device changes, writes and reads in two
namespaces at once must give the same answers, errors and final trees in both.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import errno as _errno
from collections.abc import Callable, Iterable

from simnet.sysctl import (_INT_OF, _INT_RE, _NEIGH_ALIASES, _NOT_DEVICES, _UNPARSED, CONF_COMBINE,
                           PER_DEVICE_PREFIXES, SysctlError, Sysctls, _C_INT_MAX, _C_INT_MIN, _comp, _default_ints,
                           _defaults, _device_leaves, _ifname, _invalid, _no_such_key, _parse_ints, _spec_key,
                           _split_device)


DEVICES = ["lo", "eth0", "br0", "v.1", "veth9"]
LEAVES = ["forwarding", "rp_filter", "accept_redirects", "arp_ignore", "mtu", "disable_policy", "proxy_arp",
          "base_reachable_time_ms", "base_reachable_time", "retrans_time", "retrans_time_ms", "gc_stale_time",
          "mc_forwarding", "accept_ra", "nosuchleaf"]
COMMON = ["forwarding", "rp_filter", "mtu", "base_reachable_time_ms"]
NS_KEYS = ["net.ipv4.ip_forward", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_congestion_control",
           "net.ipv4.route.flush", "net.core.rmem_max", "net.core.somaxconn", "net.bridge.bridge-nf-call-iptables",
           "net.ipv4.ip_unprivileged_port_start", "net.ipv4.neigh.default.gc_stale_time", "net.nosuch"]
PREFIXES = ["net.ipv4.conf.", "net.ipv4.neigh.", "net.ipv6.conf."]


@st.composite
def keys(draw: st.DrawFn) -> tuple[str, ...]:
    """A key: namespace-wide, or of all/default/a device (an existing one by index, or any name)."""
    if draw(st.integers(0, 3)) == 0:
        return ("ns", draw(st.sampled_from(NS_KEYS)))
    leaf = draw(st.sampled_from(COMMON)) if draw(st.booleans()) else draw(st.sampled_from(LEAVES))
    dev = draw(st.one_of(st.integers(0, 9).map(str), st.sampled_from(["all", "default", *DEVICES])))
    return ("dev", draw(st.sampled_from(PREFIXES)), dev, leaf)


def _key(spec: tuple[str, ...], devs: list[str]) -> str:
    if spec[0] == "ns":
        return spec[1]
    _, prefix, dev, leaf = spec
    if dev.isdigit():  # the n-th device the namespace has
        dev = devs[int(dev) % len(devs)] if devs else "lo"
    return prefix + dev.replace(".", "/") + "." + leaf


values = st.sampled_from(["0", "1", "2", "-1", "7", "5000", "0x10", "010", "abc", "", "10 20", "40000 50000",
                          "reno", "cubic", "3\t4"])
existing = st.integers(0, 9)  # the n-th device the namespace has
ops = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 1), keys(), values),
    st.tuples(st.just("set"), st.integers(0, 1), keys(), st.sampled_from(["0", "1", "2"])),
    st.tuples(st.just("get"), st.integers(0, 1), keys()),
    st.tuples(st.just("get_int"), st.integers(0, 1), keys()),
    st.tuples(st.just("contains"), st.integers(0, 1), keys()),
    st.tuples(st.just("write_only"), st.integers(0, 1), keys()),
    st.tuples(st.just("conf"), st.integers(0, 1), st.sampled_from(DEVICES), st.sampled_from(sorted(CONF_COMBINE))),
    st.tuples(st.just("add"), st.integers(0, 1), st.sampled_from(DEVICES), st.sampled_from([None, None, 1400])),
    st.tuples(st.just("appear"), st.integers(0, 1), st.sampled_from(DEVICES)),  # a device its keys follow lazily
    st.tuples(st.just("del"), st.integers(0, 1), existing),
    st.tuples(st.just("rename"), st.integers(0, 1), existing, st.sampled_from(DEVICES)),
    st.tuples(st.just("flags"), st.integers(0, 1)),
)


def _apply(s: Any, devs: list[str], op: tuple[Any, ...]) -> object:
    """What one operation returns (or the error it raises), on either model."""
    kind = op[0]
    try:
        if kind == "set":
            return s.set(_key(op[2], devs), op[3])
        if kind == "get":
            return s.get(_key(op[2], devs))
        if kind == "get_int":
            return s.get_int(_key(op[2], devs))
        if kind == "contains":
            return _key(op[2], devs) in s
        if kind == "write_only":
            return s.write_only(_key(op[2], devs))
        if kind == "conf":
            return s.conf(op[2], op[3])
        if kind == "add":
            if op[2] not in devs:
                devs.append(op[2])
            return s.add_device(op[2], mtu=op[3])
        if kind == "appear":
            if op[2] not in devs:
                devs.append(op[2])
            return None
        if kind == "del":
            name = devs[op[2] % len(devs)] if devs else "lo"
            if name in devs and name != "lo":
                devs.remove(name)
                return s.del_device(name)
            return None
        if kind == "rename":
            old, new = (devs[op[2] % len(devs)] if devs else "lo"), op[3]
            if old in devs and new not in devs:  # as NetNamespace.set_name: the new name is free
                devs[devs.index(old)] = new
                return s.rename_device(old, new)
            return None
        return (s.ip_forward, s.bridge_nf_call_iptables)
    except (SysctlError, ValueError, KeyError) as e:
        return (type(e).__name__, str(e))


def _tree(s: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    for key in s.keys():
        try:
            out[key] = s.get(key)
        except SysctlError as e:
            out[key] = str(e)
    return out


# ------------------------------------------------------------ the eager model (before 3ea572e's successor)

class EagerSysctls:
    """The sysctl tree of one network namespace (a new namespace's defaults).

    Kernel: each ``struct net`` has its own ipv4.devconf_all/devconf_dflt,
    per-device ``in_device->cnf``/``inet6_dev->cnf``/``neigh_parms``, and
    per-netns tables for the rest of net.ipv4, net.core, net.bridge and
    net.netfilter.

    Args:
        devices: returns the namespace's device names; per-device keys exist
            only for those (``all`` and ``default`` always exist).  Without
            it, the devices are those given to :meth:`add_device` (``lo`` is
            there from the start, as in a new namespace).
    """

    __slots__ = ("_values", "_ints", "_devices_fn", "_known")

    def __init__(self, devices: Callable[[], Iterable[str]] | None = None) -> None:
        d = _defaults()
        self._values: dict[str, str] = dict(d.values)
        self._ints: dict[str, int] = dict(_default_ints())
        self._devices_fn = devices
        self._known: set[str] = {"lo"}

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
        values, ints, get = self._values, self._ints, self._values.get
        for prefix, leaves in _device_leaves():
            head = prefix + comp + "."
            for leaf, value, default_key in leaves:
                if name == "lo":  # registered with the namespace: lo's own captured keys (inetdev_init)
                    value = _defaults().values.get(head + leaf, value)
                elif default_key is not None:
                    value = get(default_key, value)
                if mtu is not None and leaf == "mtu" and prefix == "net.ipv6.conf.":
                    value = str(mtu)
                key = head + leaf
                values[key] = value  # _store, inlined: ~110 keys a device
                n = _INT_OF.get(value, _UNPARSED)
                if n is _UNPARSED:
                    n = _INT_OF[value] = int(value) if _INT_RE.fullmatch(value) else None
                if n is None:
                    ints.pop(key, None)
                else:
                    ints[key] = n  # type: ignore[assignment]
        self._known.add(name)

    def del_device(self, name: str) -> None:
        """Drop ``name``'s per-device keys (unregister_netdevice)."""
        for prefix in PER_DEVICE_PREFIXES:
            head = f"{prefix}{_comp(name)}."
            for key in [k for k in self._values if k.startswith(head)]:
                del self._values[key]
                self._ints.pop(key, None)
        self._known.discard(name)

    def rename_device(self, old: str, new: str) -> None:
        """Move ``old``'s keys to ``new`` keeping their values (devinet_sysctl re-register)."""
        if old not in self._known:
            self._sync(old)
        for prefix in PER_DEVICE_PREFIXES:
            head = f"{prefix}{_comp(old)}."
            for key in [k for k in self._values if k.startswith(head)]:
                value = self._values.pop(key)
                self._ints.pop(key, None)
                self._store(f"{prefix}{_comp(new)}.{key[len(head):]}", value)
        self._known.discard(old)
        self._known.add(new)

    # ---- generic access

    def _exists(self, key: str) -> bool:
        split = _split_device(key)
        if split is not None and split[1] not in _NOT_DEVICES:
            if not self._sync(_ifname(split[1])):
                return False
        return key in self._values or _spec_key(key) in _defaults().write_only

    def keys(self) -> list[str]:
        """Every readable key, in ``sysctl -a`` order."""
        for dev in self._device_names():
            self._sync(dev)
        alive = {_comp(n) for n in self._device_names()}
        out = []
        for key in self._values:
            split = _split_device(key)
            if split is None or split[1] in _NOT_DEVICES or split[1] in alive:
                out.append(key)
        return sorted(out, key=lambda k: k.split("."))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._exists(key)

    def write_only(self, key: str) -> bool:
        """An existing key that can be written but not read (``net.ipv4.route.flush``)."""
        return key in self and _spec_key(key) in _defaults().write_only

    def get(self, key: str) -> str:
        """The value ``cat /proc/sys/...`` shows (no trailing newline)."""
        if not self._exists(key) or key not in self._values:
            raise _no_such_key(key)
        return self._values[key]

    def get_int(self, key: str) -> int:
        """An integer key's value (cached)."""
        try:
            return self._ints[key]
        except KeyError:
            return int(self.get(key))

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
        current = self._values[key]
        if "\t" in current and all(_INT_RE.fullmatch(p) for p in current.split("\t")):
            self._write_vector(key, text)
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

    def _write_vector(self, key: str, text: str) -> None:
        current = [int(p) for p in self._values[key].split("\t")]
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
            if text not in self._values["net.ipv4.tcp_available_congestion_control"].split():
                raise SysctlError(
                    f'sysctl: setting key "{key}": No such file or directory',
                    errno=_errno.ENOENT,
                )
        self._store(key, text)

    def _store(self, key: str, value: str) -> None:
        self._values[key] = value
        n = _INT_OF.get(value, _UNPARSED)
        if n is _UNPARSED:
            n = _INT_OF[value] = int(value) if _INT_RE.fullmatch(value) else None
        if n is None:
            self._ints.pop(key, None)
        else:
            self._ints[key] = n  # type: ignore[assignment]

    def _set_int(self, key: str, n: int) -> None:
        split = _split_device(key)
        old = self._ints.get(key)
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
            if key in self._values:
                self._store(key, str(n))

    # ---- hot-path accessors

    @property
    def ip_forward(self) -> bool:
        """``net.ipv4.ip_forward`` (== ``net.ipv4.conf.all.forwarding``)."""
        return self._ints["net.ipv4.conf.all.forwarding"] != 0

    @property
    def bridge_nf_call_iptables(self) -> bool:
        """``net.bridge.bridge-nf-call-iptables``: bridged IPv4 traverses iptables."""
        return self._ints["net.bridge.bridge-nf-call-iptables"] != 0

    def conf(self, dev: str, key: str) -> int:
        """The effective ``net.ipv4.conf`` value the kernel uses for ``dev``.

        Applies the IN_DEV_* rule of include/linux/inetdevice.h (see
        :data:`CONF_COMBINE`); keys without a rule use the device's value.
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
        everyone = ints[f"net.ipv4.conf.all.{key}"]
        if rule == "redirects":
            if ints[f"net.ipv4.conf.{dev}.forwarding"]:
                rule = "and"
            else:
                rule = "or"
        if rule == "max":
            return max(everyone, mine)
        if rule == "or":
            return int(bool(everyone or mine))
        return int(bool(everyone and mine))


@settings(max_examples=120, deadline=None)
@given(st.lists(ops, min_size=20, max_size=80), st.booleans())
def test_copy_on_write_sysctls_equal_the_eager_copy(program: list[tuple[Any, ...]], in_netns: bool) -> None:
    devs: list[list[str]] = [["lo"], ["lo"]]
    eager_devs: list[list[str]] = [["lo"], ["lo"]]
    if in_netns:  # as NetNamespace does: lo registered again, devices listed by the namespace
        cow = [Sysctls(lambda d=d: list(d)) for d in devs]  # type: ignore[misc]
        eager = [EagerSysctls(lambda d=d: list(d)) for d in eager_devs]  # type: ignore[misc]
        for s in (*cow, *eager):
            s.add_device("lo")
    else:
        cow = [Sysctls(), Sysctls()]
        eager = [EagerSysctls(), EagerSysctls()]
        devs, eager_devs = [[], []], [[], []]
    for op in program:
        k = op[1]
        assert _apply(cow[k], devs[k], op) == _apply(eager[k], eager_devs[k], op), op
    for k in (0, 1):
        assert _tree(cow[k]) == _tree(eager[k])
        assert cow[k].ip_forward == eager[k].ip_forward


def test_namespaces_share_the_defaults_until_written() -> None:
    """A write in one namespace is not seen in another; devices registered after a write to
    ``default`` copy it, devices registered before keep what they copied."""
    a, b = Sysctls(), Sysctls()
    a.add_device("eth0")
    a.set("net.ipv4.conf.default.rp_filter", "2")
    a.add_device("eth1")
    b.add_device("eth1")
    assert (a.get("net.ipv4.conf.eth0.rp_filter"), a.get("net.ipv4.conf.eth1.rp_filter")) == ("0", "2")
    assert b.get("net.ipv4.conf.eth1.rp_filter") == "0"
    assert b.get("net.ipv4.conf.default.rp_filter") == "0"
