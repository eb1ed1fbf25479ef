"""The host file model (simnet.files) and the script forms that write and read it."""

from __future__ import annotations

import errno

import pytest

from simnet.files import DEFAULT_HOSTS, DEFAULT_RESOLV_CONF, Content, FileError, FileSystem
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script


def outputs(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [o["stdout"] for o in report.outputs]


def test_fresh_host_has_debian_hosts_and_a_stub_resolver() -> None:
    fs = FileSystem()
    assert fs.read_text("/etc/hosts") == DEFAULT_HOSTS
    assert fs.read_text("/etc/hosts").startswith("127.0.0.1\tlocalhost\n")
    assert fs.read_text("/etc/resolv.conf") == DEFAULT_RESOLV_CONF
    assert not fs.exists("/etc/netns")


def test_ip_netns_exec_binds_each_entry_of_etc_netns_over_etc() -> None:
    fs = FileSystem()
    fs.mkdir("/etc/netns/a", parents=True)
    fs.write("/etc/netns/a/resolv.conf", b"nameserver 10.0.0.53\n")
    fs.write("/etc/netns/a/extra", b"x")  # /etc/extra does not exist: iproute2's bind fails, nothing shows
    assert fs.read("/etc/resolv.conf", netns="a") == b"nameserver 10.0.0.53\n"
    assert fs.read("/etc/hosts", netns="a") == DEFAULT_HOSTS.encode()  # not in /etc/netns/a: the host's
    assert fs.read("/etc/resolv.conf", netns="b") == DEFAULT_RESOLV_CONF.encode()
    with pytest.raises(FileError) as e:
        fs.read("/etc/extra", netns="a")
    assert e.value.errno == errno.ENOENT
    # a write through the bind lands in /etc/netns/a
    fs.write("/etc/resolv.conf", b"nameserver 1.1.1.1\n", netns="a")
    assert fs.read("/etc/netns/a/resolv.conf") == b"nameserver 1.1.1.1\n"
    assert fs.read("/etc/resolv.conf") == DEFAULT_RESOLV_CONF.encode()


def test_errors_carry_errno() -> None:
    fs = FileSystem()
    for call, code in [(lambda: fs.write("/nothere/x", b""), errno.ENOENT),
                       (lambda: fs.write("/etc", b""), errno.EISDIR),
                       (lambda: fs.read("/etc"), errno.EISDIR),
                       (lambda: fs.write("/etc/hosts/x", b""), errno.ENOTDIR),
                       (lambda: fs.mkdir("/etc"), errno.EEXIST),
                       (lambda: fs.mkdir("/a/b"), errno.ENOENT),
                       (lambda: fs.unlink("/etc"), errno.EISDIR),
                       (lambda: fs.unlink("/nope"), errno.ENOENT)]:
        with pytest.raises(FileError) as e:
            call()
        assert e.value.errno == code


def test_sparse_zeros_are_not_materialised_until_read() -> None:
    fs = FileSystem()
    fs.write("/tmp/z", Content.zeros(1 << 30))
    assert fs.size("/tmp/z") == 1 << 30
    fs.truncate("/tmp/z", 3)
    assert fs.read("/tmp/z") == b"\0\0\0"
    fs.write("/tmp/z", b"ab", append=True)
    assert fs.read("/tmp/z") == b"\0\0\0ab"


def test_script_writes_and_reads_files_through_the_netns_binds() -> None:
    r = run_script("""ip netns add a
mkdir -p /etc/netns/a
echo "nameserver 10.0.0.53" > /etc/netns/a/resolv.conf
printf 'search lab\\n' >> /etc/netns/a/resolv.conf
cat > /etc/netns/a/hosts <<EOF
10.0.0.2 web
EOF
ip netns exec a cat /etc/resolv.conf
ip netns exec a cat /etc/hosts
cat /etc/hosts
""")
    assert outputs(r) == ["nameserver 10.0.0.53\nsearch lab\n", "10.0.0.2 web\n", DEFAULT_HOSTS]
    assert [o["line"] for o in r.outputs] == [8, 9, 10]


def test_redirect_of_the_outer_shell_sees_the_host_view_but_sh_c_inside_sees_the_binds() -> None:
    """`ip netns exec a echo x > F`: bash opens F before ip runs, in the host's mount namespace."""
    r = run_script("""ip netns add a
mkdir -p /etc/netns/a
echo old > /etc/netns/a/resolv.conf
ip netns exec a echo outer > /etc/resolv.conf
ip netns exec a sh -c 'echo inner > /etc/resolv.conf'
cat /etc/resolv.conf
cat /etc/netns/a/resolv.conf
""")
    assert outputs(r) == ["outer\n", "inner\n"]


def test_head_truncate_rm_and_sized_files() -> None:
    r = run_script("""head -c 10M /dev/zero > /tmp/big
truncate -s +1K /tmp/big
head -c 3 /dev/urandom > /tmp/r
truncate -s 5 /tmp/new
rm -f /tmp/nothere
rm /tmp/r
""")
    fs = r.world.files
    assert fs.size("/tmp/big") == 10 * 1024 * 1024 + 1024
    assert fs.read("/tmp/new") == b"\0" * 5
    assert not fs.exists("/tmp/r")


def test_any_command_output_can_be_redirected() -> None:
    r = run_script("""ip netns add a
ip netns exec a iptables -A INPUT -p udp --dport 53 -j ACCEPT
ip netns exec a iptables-save > /tmp/rules
ip netns exec a cat /tmp/rules
""")
    assert "-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n" in r.world.files.read_text("/tmp/rules")
    assert len(r.outputs) == 1 and r.outputs[0]["line"] == 4


@pytest.mark.parametrize("line, message", [
    ("cat /nothere", "cat: /nothere: No such file or directory"),
    ("cat /etc", "cat: /etc: Is a directory"),
    ("echo hi > /nothere/x", "bash: /nothere/x: No such file or directory"),
    ("echo hi > /etc/", "bash: /etc/: Is a directory"),
    ("mkdir /etc", "mkdir: cannot create directory \u2018/etc\u2019: File exists"),
    ("mkdir /etc/q/r", "mkdir: cannot create directory \u2018/etc/q/r\u2019: No such file or directory"),
    ("rm /etc", "rm: cannot remove '/etc': Is a directory"),
    ("rm /etc/nothere", "rm: cannot remove '/etc/nothere': No such file or directory"),
    ("head -c 5 /nothere", "head: cannot open '/nothere' for reading: No such file or directory"),
])
def test_runtime_errors_as_coreutils_and_bash_word_them(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script(line + "\n")
    assert e.value.reason == message
    assert e.value.line == 1


@pytest.mark.parametrize("line, message", [
    ("head -c 1x /dev/zero > /tmp/f", "head: invalid number of bytes: \u20181x\u2019"),
    ("head -c", "head: option requires an argument -- 'c'"),
    ("truncate -s 5", "truncate: missing file operand"),
    ("truncate x", "truncate: you must specify either \u2018--size\u2019 or \u2018--reference\u2019"),
    ("truncate -s 10b x", "truncate: Invalid number: \u201810b\u2019"),
    ("mkdir", "mkdir: missing operand"),
    ("rm", "rm: missing operand"),
    ("cat /dev/zero", "never ends"),
    ("cat", "standard input"),
])
def test_bad_lines_are_refused_before_anything_runs(line: str, message: str) -> None:
    with pytest.raises(ScriptError) as e:
        run_script("mkdir /tmp/made\n" + line + "\n")
    assert message in e.value.reason and e.value.line == 2
    assert getattr(e.value, "report", None) is None  # refused when compiled: nothing ran
