"""Chain policy counters through iptables-restore and -P, against iptables 1.8.9 (nf_tables) in ``unshare --net``:
``:CHAIN POLICY [p:b]`` sets the counters only with ``-c`` and zeroes them without (``--noflush`` too); ``-P``
zeroes them, even with ``-c``. Each sequence's final ``iptables-save -c`` must be byte-equal."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from simnet.netfilter.iptables import iptables, iptables_restore, iptables_save
from simnet.netfilter.ruleset import Ruleset
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

DUMP = "*filter\n:INPUT ACCEPT [5:300]\n:FORWARD DROP [7:700]\n:OUTPUT ACCEPT [0:0]\n:MY - [3:30]\n[9:900] -A INPUT -j MY\nCOMMIT\n"
SMALL = "*filter\n:INPUT DROP [1:1]\nCOMMIT\n"
SEQUENCES = [
    [("restore", [], DUMP)],
    [("restore", ["-c"], DUMP)],
    [("restore", ["-c"], DUMP), ("restore", ["--noflush"], SMALL)],
    [("restore", ["-c"], DUMP), ("restore", ["--noflush", "-c"], SMALL)],
    [("restore", ["-c"], DUMP), ("iptables", ["-P", "INPUT", "ACCEPT"], "")],
    [("restore", ["-c"], DUMP), ("iptables", ["-c", "4", "4", "-P", "INPUT", "DROP"], "")],
    [("restore", ["-c"], DUMP), ("iptables", ["-A", "INPUT", "-j", "ACCEPT"], "")],
]


def _kernel(seq: list[tuple[str, list[str], str]]) -> str:
    script = []
    for tool, args, stdin in seq:
        if tool == "restore":
            script.append(f"printf %s {shlex.quote(stdin)} | iptables-restore {' '.join(args)}")
        else:
            script.append(f"iptables {' '.join(args)}")
    script.append("iptables-save -c")
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-ec", " && ".join(script)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return "".join(line + "\n" for line in proc.stdout.splitlines() if not line.startswith("#"))


def _simnet(seq: list[tuple[str, list[str], str]]) -> str:
    rs = Ruleset()
    for tool, args, stdin in seq:
        if tool == "restore":
            iptables_restore(rs, args, stdin)
        else:
            iptables(rs, args)
    out = iptables_save(rs, ["-c"])
    return "".join(line + "\n" for line in out.splitlines() if not line.startswith("#"))


@pytest.mark.parametrize("seq", SEQUENCES, ids=lambda s: " ; ".join(f"{t} {' '.join(a)}" for t, a, _ in s))
def test_policy_counters_agree_with_the_kernel(seq: list[tuple[str, list[str], str]]) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    assert _simnet(seq) == _kernel(seq)


TEXTS = ["*filter\r\n:INPUT ACCEPT [0:0]\r\nCOMMIT\r\n", "*filter\n:INPUT ACCEPT [0:0]\r\n-A INPUT -s 1.2.3.4\r\nCOMMIT\n",
         "*filter\n-A INPUT -p tcp --dport 22\r\nCOMMIT\n", "*filter\n-A INPUT -j ACCEPT\nCOMMIT \n",
         "*filter\n-A INPUT -j ACCEPT\n COMMIT\n", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\r\n", "*foo\nCOMMIT\n",
         "*filter\n:MY -\r\n-A MY -j ACCEPT\nCOMMIT\n", "*filter\n-A INPUT -j ACCEPT \nCOMMIT\n"]


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_restore_lines_read_as_the_kernel_reads_them(text: str) -> None:
    """CRs stay in a line (files from Windows), and only a line that is exactly ``COMMIT`` commits."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", "iptables-restore && iptables-save"], input=text,
                          capture_output=True, text=True, timeout=30)
    rs = Ruleset()
    try:
        iptables_restore(rs, [], text)
    except Exception as e:  # noqa: BLE001 - the exit status and the reason are compared
        reason_k = proc.stderr.splitlines()[0] if proc.stderr else ""
        assert proc.returncode == getattr(e, "exit_code", None), (proc.stderr, str(e))
        ours = str(e).splitlines()[0].split(" failed: ", 1)[1]
        assert ours in reason_k, (ours, reason_k)
        return
    assert proc.returncode == 0, proc.stderr
    assert _body(iptables_save(rs)) == _body(proc.stdout)


def _body(save: str) -> str:
    return "".join(line + "\n" for line in save.splitlines() if not line.startswith("#"))


SET_LINES = ["iptables -A INPUT -m set --match-set known src -j DROP",
             "iptables -A INPUT -m set ! --match-set nosuch src,dst -j DROP",
             "iptables -I INPUT -m set --match-set nosuch src",
             "printf '*filter\\n-A INPUT -m set --match-set nosuch src\\nCOMMIT\\n' | iptables-restore"]


@pytest.mark.parametrize("line", SET_LINES)
def test_rules_naming_a_missing_set_are_refused(line: str) -> None:
    """libxt_set looks the set up while parsing: 'Set X doesn't exist.' (exit 2), the ruleset unchanged."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    import shutil

    if shutil.which("ipset") is None:
        pytest.skip("no ipset on this machine")
    from simnet.script.interpreter import run_script
    from simnet.script import ScriptError

    script = f"ipset create known hash:ip; {line}; rc=$?; iptables-save | grep -c -- '-A INPUT'; exit $rc"
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    first = proc.stderr.splitlines()[0] if proc.stderr else ""
    text = f"ip netns add a\nip netns exec a ipset create known hash:ip\n"
    if line.startswith("printf"):
        text += "ip netns exec a iptables-restore <<EOF\n*filter\n-A INPUT -m set --match-set nosuch src\nCOMMIT\nEOF\n"
    else:
        text += f"ip netns exec a {line}\n"
    try:
        report = run_script(text)
    except ScriptError as e:
        assert proc.returncode == 2 and proc.stdout.strip() == "0", (proc.stdout, proc.stderr)
        assert "Set nosuch doesn't exist." in first and "Set nosuch doesn't exist." in str(e)
        return
    assert proc.returncode == 0 and proc.stdout.strip() == "1", proc.stderr
    assert report.world.namespaces["a"].ruleset.tables
