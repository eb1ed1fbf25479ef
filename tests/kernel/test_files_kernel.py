"""Files written by a script read back the same in simnet and on the kernel.

The kernel runner gives its run an overlay over /etc (holding simnet's default hosts and
resolv.conf, without the machine's /etc/netns) and a tmpfs on /tmp, so ``ip netns exec``'s
/etc/netns binds are judged by the real iproute2 while the machine's /etc is never written.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SCRIPT = """\
ip netns add fa
mkdir -p /etc/netns/fa
echo "nameserver 10.0.0.53" > /etc/netns/fa/resolv.conf
printf 'search lab\\noptions ndots:1\\n' >> /etc/netns/fa/resolv.conf
cat > /etc/netns/fa/hosts <<'EOF'
10.0.0.2 web
EOF
ip netns exec fa cat /etc/resolv.conf
ip netns exec fa cat /etc/hosts
cat /etc/hosts
cat /etc/resolv.conf
ip netns exec fa echo outer > /etc/resolv.conf
ip netns exec fa sh -c 'echo inner > /etc/resolv.conf'
cat /etc/resolv.conf
ip netns exec fa cat /etc/resolv.conf
head -c 1M /dev/zero > /tmp/big
truncate -s +1K /tmp/big
truncate -s '<1000' /tmp/big
ip netns exec fa iptables -A INPUT -p udp --dport 53 -j ACCEPT
ip netns exec fa iptables -S INPUT > /tmp/rules
ip netns exec fa cat /tmp/rules
echo extra > /etc/netns/fa/not-in-etc
ip netns exec fa cat /etc/hosts
rm -f /tmp/big /tmp/nothere
mkdir -p /tmp/a/b
"""


def _etc_digest() -> str:
    h = hashlib.sha256()
    for name in ("hosts", "resolv.conf"):
        path = os.path.join("/etc", name)
        h.update(open(path, "rb").read() if os.path.exists(path) else b"-")
    return h.hexdigest()


def test_files_and_netns_binds_agree_with_the_kernel() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    had_netns = os.path.exists("/etc/netns")
    before = _etc_digest()
    sim = run_script(SCRIPT, filename="files.sh").to_json()
    kernel = run_on_kernel(SCRIPT, filename="files.sh")
    printed = {o["line"]: o["stdout"] for o in kernel["outputs"]}
    assert {o["line"]: o["stdout"] for o in sim["outputs"]} == printed
    assert printed[8] == "nameserver 10.0.0.53\nsearch lab\noptions ndots:1\n"
    assert printed[9] == "10.0.0.2 web\n"
    assert printed[11].startswith("nameserver 127.0.0.53\n")
    assert printed[14] == "outer\n" and printed[15] == "inner\n"
    assert printed[21] == "-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n"
    assert printed[23] == "10.0.0.2 web\n"
    # the machine's own /etc is untouched
    assert _etc_digest() == before and os.path.exists("/etc/netns") == had_netns


@pytest.mark.parametrize("line, words", [
    ("echo x > /root/x", "writes files only under /etc/ and /tmp/"),
    ("cat /root/.bashrc", "touch only"),
    ("rm -rf /var/tmp", "touch only"),
    ("echo x > /etc/../root/x", "writes files only"),
])
def test_the_runner_refuses_files_outside_its_sandbox(line: str, words: str) -> None:
    from simnet.conformance.run import validate
    from simnet.script.lexer import lex
    from simnet.script.shell import expand

    with pytest.raises(ScriptError, match=words):
        validate(expand(lex(line + "\n")))
