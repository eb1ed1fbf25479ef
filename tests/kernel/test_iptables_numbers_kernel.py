"""iptables' numbers of any length, compared with the real iptables 1.8.9 in ``unshare --net``:
the same first line of stderr and exit status for refused ones, the same ``-S`` for accepted ones
(issue #20.3: Python's int() raised ValueError past 4,300 digits)."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from simnet.netfilter.iptables import IptablesError, iptables
from simnet.netfilter.ruleset import Ruleset
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

BIG = "9" * 5000
CASES = [
    f"-A INPUT -p tcp --dport {BIG} -j ACCEPT", "-A INPUT -p tcp --dport 99999 -j ACCEPT",
    "-A INPUT -p tcp --dport 0x50 -j ACCEPT", "-A INPUT -p tcp --dport 010 -j ACCEPT",
    f"-A INPUT -p tcp -m multiport --dports 1,{BIG} -j ACCEPT", f"-A INPUT -p tcp -m multiport --dports 5:{BIG}",
    f"-A INPUT -m conntrack --ctorigdstport {BIG} -j ACCEPT", "-A INPUT -m conntrack --ctorigdstport 99999",
    "-A INPUT -m conntrack --ctorigdstport 4294967295", "-A INPUT -m conntrack --ctorigdstport 4294967296",
    "-A INPUT -m conntrack --ctorigdstport -1", "-A INPUT -m conntrack --ctorigdstport 0x50",
    "-A INPUT -m conntrack --ctorigdstport 99999:5", "-A INPUT -m conntrack --ctorigdstport http",
    f"-A INPUT -m limit --limit {BIG}/s", "-A INPUT -m limit --limit 10001/s", "-A INPUT -m limit --limit 0/s",
    "-A INPUT -m limit --limit 010/s", "-A INPUT -m limit --limit 0x10/s",
    f"-A INPUT -p icmp --icmp-type {BIG}", f"-A INPUT -p icmp --icmp-type 3/{BIG}", "-A INPUT -p icmp --icmp-type 300",
    "-A INPUT -p icmp --icmp-type 0x3", "-A INPUT -p icmp --icmp-type echo-re", "-A INPUT -p icmp --icmp-type /3",
    f"-I INPUT {BIG} -j ACCEPT", "-I INPUT 2147483648 -j ACCEPT", "-I INPUT 2147483647 -j ACCEPT",
    "-I INPUT 0x1 -j ACCEPT", "-I INPUT abc -j ACCEPT", "-I INPUT 0 -j ACCEPT",
    f"-A INPUT -c {BIG} 5 -j DROP", "-A INPUT -c 0x10 -1 -j DROP", "-A INPUT -c -1 5 -j DROP", "-A INPUT -c 5 ! -j DROP", "-A INPUT -c x 5 -j DROP",
]


def _kernel(argv: str) -> tuple[int, str, str]:
    script = f"iptables {argv}; rc=$?; iptables -S INPUT; exit $rc"
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stderr.splitlines()[0] if proc.stderr else "", proc.stdout


def _simnet(argv: str) -> tuple[int, str, str]:
    rs = Ruleset()
    try:
        iptables(rs, shlex.split(argv))
    except IptablesError as e:
        return e.exit_code, str(e).splitlines()[0], iptables(rs, ["-S", "INPUT"])
    return 0, "", iptables(rs, ["-S", "INPUT"])


@pytest.mark.parametrize("argv", CASES, ids=lambda a: a[:50])
def test_iptables_numbers_agree_with_the_real_tool(argv: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    assert _simnet(argv) == _kernel(argv)
