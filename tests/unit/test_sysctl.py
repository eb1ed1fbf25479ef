"""Per-namespace sysctls: keys and defaults of a new netns, kernel couplings, the sysctl tool.

Expected texts were taken from procps-ng 4.0.2 ``sysctl`` run in a fresh
``unshare --net`` namespace on Linux 6.18 (see tests/kernel for the live check).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.errors import SimnetError
from simnet.sysctl import CONF_COMBINE, SysctlError, Sysctls, proc_sys_write
from simnet.tools.sysctl import run_sysctl, sysctl_command


@pytest.fixture
def s() -> Sysctls:
    return Sysctls()


# ---------------------------------------------------------------- defaults


def test_new_namespace_defaults(s: Sysctls) -> None:
    """A new netns: forwarding off, br_netfilter on, rp_filter 0, lo's xfrm bypass."""
    assert s.get("net.ipv4.ip_forward") == "0"
    assert s.ip_forward is False
    assert s.get("net.bridge.bridge-nf-call-iptables") == "1"
    assert s.bridge_nf_call_iptables is True
    assert s.get("net.ipv4.conf.all.rp_filter") == "0"
    assert s.get("net.ipv4.conf.default.accept_source_route") == "1"
    assert s.get("net.ipv4.conf.all.accept_source_route") == "0"
    assert s.get("net.ipv4.conf.lo.disable_policy") == "1"
    assert s.get("net.ipv4.ip_local_port_range") == "32768\t60999"
    assert s.get("net.ipv4.ip_local_reserved_ports") == ""
    assert s.get("net.ipv4.neigh.lo.base_reachable_time_ms") == "30000"


def test_a_namespace_lo_has_the_captured_loopback_keys() -> None:
    """A namespace registers lo as the kernel does: inetdev_init sets disable_xfrm and
    disable_policy for a loopback device and its IPv6 mtu is lo's 65536, so every lo key
    equals the value captured in a fresh namespace (default's copy said 0, 0 and 1280)."""
    from simnet.sysctl import _defaults
    from simnet.world import World

    ns = World().add_netns("a")
    captured = {k: v for k, v in _defaults().values.items() if ".lo." in k}
    assert {k: ns.sysctls.get(k) for k in captured} == captured
    assert captured["net.ipv4.conf.lo.disable_xfrm"] == "1" and captured["net.ipv6.conf.lo.mtu"] == "65536"


def test_neigh_default_exists_only_in_init_net(s: Sysctls) -> None:
    """net.ipv4.neigh.default is registered for init_net only."""
    assert "net.ipv4.neigh.default.gc_stale_time" not in s
    with pytest.raises(SysctlError):
        s.get("net.ipv4.neigh.default.gc_stale_time")


def test_keys_are_sorted_like_sysctl_a(s: Sysctls) -> None:
    keys = s.keys()
    assert keys == sorted(keys, key=lambda k: k.split("."))
    assert "net.ipv4.conf.lo.forwarding" in keys
    assert not any("<dev>" in k for k in keys)
    assert len(keys) > 450


# ---------------------------------------------------------------- get/set


def test_unknown_key_message(s: Sysctls) -> None:
    with pytest.raises(SysctlError) as info:
        s.set("net.ipv4.foo", "1")
    assert info.value.message == "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory"
    assert isinstance(info.value, SimnetError)


@pytest.mark.parametrize("value", ["abc", "", "1x", "+1", "08", "0x", "-", "2147483648"])
def test_ip_forward_rejects_non_integers(s: Sysctls, value: str) -> None:
    """proc_dointvec: base-0 integer followed by whitespace or the end, within C int."""
    with pytest.raises(SysctlError) as info:
        s.set("net.ipv4.ip_forward", value)
    assert info.value.message == 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument'


@pytest.mark.parametrize(
    ("value", "stored"), [("1", "1"), ("0x1", "1"), ("01", "1"), (" 1 ", "1"), ("1\tx", "1"),
                          ("2", "2"), ("-1", "-1"), ("-2147483648", "-2147483648")]
)
def test_ip_forward_accepts_what_the_kernel_accepts(s: Sysctls, value: str, stored: str) -> None:
    """ip_forward has no range check (devinet_sysctl_forward uses proc_dointvec)."""
    s.set("net.ipv4.ip_forward", value)
    assert s.get("net.ipv4.ip_forward") == stored


def test_range_checked_keys(s: Sysctls) -> None:
    """ip_default_ttl is 1..255; rp_filter/arp_ignore are not range-checked by the kernel."""
    for bad in ("0", "256"):
        with pytest.raises(SysctlError):
            s.set("net.ipv4.ip_default_ttl", bad)
    s.set("net.ipv4.ip_default_ttl", "255")
    s.set("net.ipv4.conf.all.rp_filter", "3")
    s.set("net.ipv4.conf.all.arp_ignore", "9")
    with pytest.raises(SysctlError):
        s.set("net.ipv4.tcp_ecn", "3")


def test_bridge_nf_call_iptables_normalises_to_one(s: Sysctls) -> None:
    """brnf_sysctl_call_tables: any non-zero write reads back as 1."""
    s.set("net.bridge.bridge-nf-call-iptables", "2")
    assert s.get("net.bridge.bridge-nf-call-iptables") == "1"
    s.set("net.bridge.bridge-nf-call-iptables", "0")
    assert s.bridge_nf_call_iptables is False


def test_read_only_key(s: Sysctls) -> None:
    with pytest.raises(SysctlError) as info:
        s.set("net.netfilter.nf_conntrack_count", "5")
    assert info.value.message == 'sysctl: permission denied on key "net.netfilter.nf_conntrack_count"'


def test_vectors_and_port_range(s: Sysctls) -> None:
    s.set("net.ipv4.ip_local_port_range", "40000")
    assert s.get("net.ipv4.ip_local_port_range") == "40000\t60999"
    s.set("net.ipv4.tcp_rmem", "4096 8192")
    assert s.get("net.ipv4.tcp_rmem") == "4096\t8192\t33554432"
    for bad in ("50000 40000", "1000 2000"):
        with pytest.raises(SysctlError):
            s.set("net.ipv4.ip_local_port_range", bad)


def test_congestion_control_must_be_available(s: Sysctls) -> None:
    with pytest.raises(SysctlError) as info:
        s.set("net.ipv4.tcp_congestion_control", "foo")
    assert info.value.message == (
        'sysctl: setting key "net.ipv4.tcp_congestion_control": No such file or directory'
    )
    s.set("net.ipv4.tcp_congestion_control", "reno")
    assert s.get("net.ipv4.tcp_congestion_control") == "reno"


def test_neigh_aliases(s: Sysctls) -> None:
    """base_reachable_time (s) and retrans_time (USER_HZ) mirror their _ms twins."""
    s.set("net.ipv4.neigh.lo.base_reachable_time_ms", "60000")
    assert s.get("net.ipv4.neigh.lo.base_reachable_time") == "60"
    s.set("net.ipv4.neigh.lo.retrans_time_ms", "2000")
    assert s.get("net.ipv4.neigh.lo.retrans_time") == "200"


# ---------------------------------------------------------------- forwarding coupling


def test_ip_forward_propagates_like_inet_forward_change(s: Sysctls) -> None:
    s.add_device("eth0")
    s.set("net.ipv4.ip_forward", "1")
    for key in ("conf.all.forwarding", "conf.default.forwarding", "conf.lo.forwarding",
                "conf.eth0.forwarding"):
        assert s.get("net.ipv4." + key) == "1"
    assert s.get("net.ipv4.conf.all.accept_redirects") == "0"
    s.set("net.ipv4.conf.all.forwarding", "5")
    assert s.get("net.ipv4.ip_forward") == "5"
    assert s.get("net.ipv4.conf.eth0.forwarding") == "5"


def test_device_forwarding_does_not_touch_all(s: Sysctls) -> None:
    s.add_device("br0")
    s.set("net.ipv4.conf.br0.forwarding", "1")
    assert s.ip_forward is False
    assert s.conf("br0", "forwarding") == 1


def test_unchanged_all_forwarding_does_not_propagate(s: Sysctls) -> None:
    """devinet_sysctl_forward calls inet_forward_change only if the value changed."""
    s.set("net.ipv4.conf.default.forwarding", "1")
    s.set("net.ipv4.conf.all.forwarding", "0")
    assert s.get("net.ipv4.conf.default.forwarding") == "1"


def test_ipv6_all_forwarding_propagates(s: Sysctls) -> None:
    s.add_device("v0")
    s.set("net.ipv6.conf.all.forwarding", "1")
    assert s.get("net.ipv6.conf.default.forwarding") == "1"
    assert s.get("net.ipv6.conf.v0.forwarding") == "1"
    assert s.get("net.ipv4.conf.v0.forwarding") == "0"


# ---------------------------------------------------------------- devices


def test_add_device_copies_current_default(s: Sysctls) -> None:
    """inetdev_init copies net.ipv4.conf.default as it is now."""
    s.set("net.ipv4.conf.default.rp_filter", "2")
    s.set("net.ipv4.conf.default.forwarding", "1")
    s.add_device("v2", mtu=9000)
    assert s.get("net.ipv4.conf.v2.rp_filter") == "2"
    assert s.get("net.ipv4.conf.v2.forwarding") == "1"
    assert s.get("net.ipv4.conf.v2.disable_policy") == "0"
    assert s.get("net.ipv6.conf.v2.mtu") == "9000"
    assert s.get("net.ipv4.neigh.v2.unres_qlen") == "101"


def test_del_and_rename_device(s: Sysctls) -> None:
    s.add_device("eth0")
    s.set("net.ipv4.conf.eth0.route_localnet", "1")
    s.rename_device("eth0", "eth1")
    assert s.get("net.ipv4.conf.eth1.route_localnet") == "1"
    assert "net.ipv4.conf.eth0.route_localnet" not in s
    s.del_device("eth1")
    with pytest.raises(SysctlError) as info:
        s.set("net.ipv4.conf.eth1.forwarding", "1")
    assert info.value.message == (
        "sysctl: cannot stat /proc/sys/net/ipv4/conf/eth1/forwarding: No such file or directory"
    )


def test_devices_callable_decides_existence() -> None:
    devs = ["lo", "eth0"]
    s = Sysctls(lambda: devs)
    assert s.get("net.ipv4.conf.eth0.forwarding") == "0"
    assert "net.ipv4.conf.eth9.forwarding" not in s
    devs.remove("eth0")
    assert "net.ipv4.conf.eth0.forwarding" not in s
    assert not any(".eth0." in k for k in s.keys())


def test_device_names_with_dots(s: Sysctls) -> None:
    """A VLAN-style name appears as v0/5 in dotted keys (procps slashdot)."""
    s.add_device("v0.5")
    assert sysctl_command(s, ["net/ipv4/conf/v0.5/forwarding"]) == "net.ipv4.conf.v0/5.forwarding = 0\n"
    assert sysctl_command(s, ["net.ipv4.conf.v0/5.forwarding"]) == "net.ipv4.conf.v0/5.forwarding = 0\n"
    assert s.conf("v0.5", "forwarding") == 0


# ---------------------------------------------------------------- conf() combination


@pytest.mark.parametrize(
    ("key", "all_v", "dev_v", "want"),
    [
        ("rp_filter", 1, 2, 2), ("rp_filter", 2, 0, 2),
        ("arp_ignore", 8, 1, 8), ("arp_announce", 0, 2, 2),
        ("route_localnet", 1, 0, 1), ("route_localnet", 0, 1, 1),
        ("proxy_arp", 0, 0, 0), ("send_redirects", 0, 1, 1),
        ("accept_source_route", 1, 0, 0), ("accept_source_route", 0, 1, 0),
        ("forwarding", 1, 0, 0), ("tag", 5, 3, 3), ("medium_id", 1, 0, 0),
    ],
)
def test_conf_applies_in_dev_macros(s: Sysctls, key: str, all_v: int, dev_v: int, want: int) -> None:
    s.add_device("eth0")
    if key == "forwarding":
        s._store("net.ipv4.conf.all.forwarding", str(all_v))  # bypass propagation
    else:
        s.set(f"net.ipv4.conf.all.{key}", all_v)
    s.set(f"net.ipv4.conf.eth0.{key}", dev_v)
    assert s.conf("eth0", key) == want


def test_accept_redirects_depends_on_forwarding(s: Sysctls) -> None:
    """IN_DEV_RX_REDIRECTS: AND on a forwarding device, OR otherwise."""
    s.add_device("eth0")
    s.set("net.ipv4.conf.all.accept_redirects", "0")
    assert s.conf("eth0", "accept_redirects") == 1
    s.set("net.ipv4.conf.eth0.forwarding", "1")
    assert s.conf("eth0", "accept_redirects") == 0


def test_every_combine_rule_names_a_real_key(s: Sysctls) -> None:
    for key in CONF_COMBINE:
        assert f"net.ipv4.conf.all.{key}" in s


# ---------------------------------------------------------------- the command


def test_sysctl_read_forms(s: Sysctls) -> None:
    assert sysctl_command(s, ["net.ipv4.ip_forward"]) == "net.ipv4.ip_forward = 0\n"
    assert sysctl_command(s, ["-n", "net.ipv4.ip_forward"]) == "0\n"
    assert sysctl_command(s, ["-N", "net.ipv4.ip_forward"]) == "net.ipv4.ip_forward\n"
    assert sysctl_command(s, ["net/ipv4/ip_forward"]) == "net.ipv4.ip_forward = 0\n"
    assert sysctl_command(s, ["-n", "net.ipv4.tcp_syncookies", "net.ipv4.ip_forward"]) == "1\n0\n"
    assert sysctl_command(s, ["net.ipv4.ip_local_reserved_ports"]) == (
        "net.ipv4.ip_local_reserved_ports = \n"
    )


def test_sysctl_write_forms(s: Sysctls) -> None:
    assert sysctl_command(s, ["-w", "net.ipv4.ip_forward=1"]) == "net.ipv4.ip_forward = 1\n"
    assert sysctl_command(s, ["-q", "-w", "net.ipv4.ip_forward=0"]) == ""
    assert sysctl_command(s, ["net.ipv4.ip_forward=1"]) == "net.ipv4.ip_forward = 1\n"
    assert sysctl_command(s, ["-w", "net.ipv4.ip_forward = 0x1 "]) == "net.ipv4.ip_forward = 0x1\n"
    assert s.get("net.ipv4.ip_forward") == "1"
    assert sysctl_command(s, ["-n", "-w", "net.ipv4.ip_forward=1"]) == "1\n"
    assert sysctl_command(s, ["-w", "net/ipv4/conf/all/rp_filter=2"]) == (
        "net.ipv4.conf.all.rp_filter = 2\n"
    )
    assert sysctl_command(s, ["-w", "net.ipv4.route.flush=1"]) == "net.ipv4.route.flush = 1\n"
    assert sysctl_command(s, ["net.ipv4.route.flush"]) == ""


def test_sysctl_errors(s: Sysctls) -> None:
    with pytest.raises(SysctlError) as info:
        sysctl_command(s, ["net.ipv4.foo"])
    assert (info.value.message, info.value.exit_code) == (
        "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory", 1)
    with pytest.raises(SysctlError) as info:
        sysctl_command(s, ["-w", "net.ipv4.ip_forward=abc"])
    assert (info.value.message, info.value.exit_code) == (
        'sysctl: setting key "net.ipv4.ip_forward": Invalid argument', 1)
    with pytest.raises(SysctlError) as info:
        sysctl_command(s, ["-w", "net.ipv4.ip_forward"])
    assert info.value.message == "sysctl: command line(0): invalid syntax, continuing..."
    with pytest.raises(SysctlError) as info:
        sysctl_command(s, ["net.ipv4.conf.lo/forwarding"])
    assert info.value.message == (
        "sysctl: cannot stat /proc/sys/net/ipv4/conf/lo.forwarding: No such file or directory"
    )
    assert sysctl_command(s, ["-e", "net.ipv4.foo"]) == ""


def test_sysctl_continues_after_a_bad_key(s: Sysctls) -> None:
    with pytest.raises(SysctlError) as info:
        sysctl_command(s, ["-w", "net.ipv4.ip_forward=1", "net.ipv4.foo=1",
                           "net.ipv4.conf.all.rp_filter=1"])
    assert info.value.stdout == "net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.rp_filter = 1\n"
    assert info.value.message == "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory"
    assert s.get("net.ipv4.conf.all.rp_filter") == "1"


def test_read_only_write_warns_but_exits_zero(s: Sysctls) -> None:
    """procps quirk observed: message "Invalid argument", exit status 0."""
    r = run_sysctl(s, ["-w", "net.netfilter.nf_conntrack_max=5"])
    assert r.stderr == 'sysctl: setting key "net.netfilter.nf_conntrack_max": Invalid argument\n'
    assert (r.stdout, r.exit_code) == ("", 0)


def test_sysctl_subtree_listing_hides_deprecated(s: Sysctls) -> None:
    out = sysctl_command(s, ["net.ipv4.neigh.lo"])
    assert out.splitlines()[0] == "net.ipv4.neigh.lo.anycast_delay = 100"
    assert "retrans_time =" not in out and len(out.splitlines()) == 15
    out = sysctl_command(s, ["--deprecated", "net.ipv4.neigh.lo"])
    assert "net.ipv4.neigh.lo.retrans_time = 100\n" in out


def test_sysctl_all_and_pattern(s: Sysctls) -> None:
    out = sysctl_command(s, ["-a", "-r", "ip_forward"])
    assert out == ("net.ipv4.ip_forward = 0\nnet.ipv4.ip_forward_update_priority = 1\n"
                   "net.ipv4.ip_forward_use_pmtu = 0\n")
    assert len(sysctl_command(s, ["-a"]).splitlines()) == len(s.keys()) - 2  # 2 deprecated on lo


def test_sysctl_without_variables(s: Sysctls) -> None:
    r = run_sysctl(s, ["-w"])
    assert r.stderr == "sysctl: no variables specified\nTry `sysctl --help' for more information.\n"
    assert r.exit_code == 1


def test_proc_sys_write(s: Sysctls) -> None:
    proc_sys_write(s, "/proc/sys/net/ipv4/ip_forward", "1\n")
    assert s.ip_forward
    with pytest.raises(SysctlError, match=r"^/proc/sys/net/ipv4/foo: No such file or directory$"):
        proc_sys_write(s, "/proc/sys/net/ipv4/foo", "1\n")
    with pytest.raises(SysctlError, match=r"^echo: write error: Invalid argument$"):
        proc_sys_write(s, "/proc/sys/net/ipv4/ip_forward", "abc\n")
    with pytest.raises(SysctlError, match=r"Permission denied$"):
        proc_sys_write(s, "/proc/sys/net/netfilter/nf_conntrack_count", "5\n")


# ---------------------------------------------------------------- property

_DEVS = ["eth0", "eth1", "br0", "v0.5"]
_KEYS = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding",
         "net.ipv4.conf.{dev}.forwarding", "net.ipv4.conf.{dev}.rp_filter",
         "net.ipv6.conf.all.forwarding", "net.bridge.bridge-nf-call-iptables"]
_ops = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(_KEYS), st.sampled_from(_DEVS + ["lo"]),
              st.sampled_from(["0", "1", "2", "-1", "0x10", "abc", ""])),
    st.tuples(st.just("add"), st.sampled_from(_DEVS)),
    st.tuples(st.just("del"), st.sampled_from(_DEVS)),
    st.tuples(st.just("ren"), st.sampled_from(_DEVS), st.sampled_from(_DEVS)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ops, max_size=25))
def test_forwarding_invariant_and_only_valid_keys(ops: list[tuple]) -> None:
    """ip_forward == conf.all.forwarding always; per-device keys only for live devices."""
    devs = {"lo"}
    s = Sysctls(lambda: devs)
    for op in ops:
        if op[0] == "set":
            key = op[1].format(dev=op[2].replace(".", "/"))
            try:
                s.set(key, op[3])
            except SysctlError:
                pass
        elif op[0] == "add" and op[1] not in devs:
            devs.add(op[1])
            s.add_device(op[1])
        elif op[0] == "del" and op[1] in devs:
            devs.discard(op[1])
            s.del_device(op[1])
        elif op[0] == "ren" and op[1] in devs and op[2] not in devs:
            devs.discard(op[1])
            devs.add(op[2])
            s.rename_device(op[1], op[2])
        assert s.get("net.ipv4.ip_forward") == s.get("net.ipv4.conf.all.forwarding")
        assert s.ip_forward == (int(s.get("net.ipv4.ip_forward")) != 0)
    live = {d.replace(".", "/") for d in devs} | {"all", "default"}
    for key in s.keys():
        parts = key.split(".")
        if parts[1] in ("ipv4", "ipv6") and parts[2] in ("conf", "neigh"):
            assert parts[3] in live, key


def test_write_only_keys_and_the_command_that_hides_them(s: Sysctls) -> None:
    """``net.ipv4.route.flush`` can be written, not read: Sysctls.write_only says so and the
    sysctl command (tools/sysctl.py) prints nothing for it, as procps does."""
    assert s.write_only("net.ipv4.route.flush")
    assert not s.write_only("net.ipv4.ip_forward") and not s.write_only("net.ipv4.nonexistent")
    assert sysctl_command(s, ["net.ipv4.route.flush", "net.ipv4.ip_forward"]) == "net.ipv4.ip_forward = 0\n"
