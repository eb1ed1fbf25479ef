"""`simnet capture --docker` on a Docker-like host built on the kernel (tests/kernel/capture_docker_host.py).

The containers' namespaces are unnamed (held by processes, found through ``docker inspect``'s
PIDs as on a real Docker host), the host is the sandbox's own network namespace; the machine's
namespaces are never read.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from simnet.script.interpreter import run_script
from tests.kernel.capture_docker_host import capture_docker_like_host
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "captured" / "docker-user-drop-before-accept.sh"


@pytest.fixture(autouse=True)
def _kernel() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


def _body(text: str) -> str:
    """A capture without its first line (host, kernel and time vary)."""
    start = text.index("# simnet capture of host")
    text = text[start:]
    end = text.find("# ---- end of the capture")
    return text[text.index("\n") + 1:end if end >= 0 else None]


def test_capture_of_the_docker_host_is_the_checked_in_scenario() -> None:
    out = capture_docker_like_host("--docker", "--listeners")
    assert out["returncode"] == 0 and out["stderr"] == ""
    text = str(out["stdout"])
    assert re.match(r"# simnet capture of host \S+, kernel \S+, at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", text)
    # containers named as simnet names Docker's (HOST-NAME), paired with their host veths by peer index
    assert "type veth peer name eth0 address 02:42:ac:11:00:03 netns host-app" in text
    assert "ip netns exec host-db nc -l -k -p 6379 &" in text
    assert _body(text) == _body(SCENARIO.read_text())


def test_without_root_it_captures_what_is_readable_and_says_what_it_skipped() -> None:
    out = capture_docker_like_host("--docker", "--listeners", "--as-nobody")
    assert out["returncode"] == 0
    text, err = str(out["stdout"]), str(out["stderr"])
    for ns in ("lan", "host-app", "host-db", "host-web"):
        assert f"simnet capture: {ns}: skipped: could not enter the namespace" in err
    assert "skipped: `iptables-save` could not be read" in err and "skipped: `iptables-save`" in text
    # the root namespace is all there but its ruleset; the containers' ends become marked stand-ins
    assert "ip -n host addr add 172.17.0.1/16 brd 172.17.255.255 dev docker0" in text
    assert "# eth0: a veth whose peer is in a namespace not captured: a dummy device stands in" in text
    report = run_script(text + "ip netns exec host ping -c 1 -W 1 172.17.0.1\n", filename="nobody.sh")
    assert report.probes[0].result.outcome == "reply"


def _probes(text: str, mapping: object | None = None) -> str:
    lines = [l for l in text[text.index("# ---- end of the capture"):].splitlines()
             if l.startswith("ip netns exec")]
    if mapping is None:
        return "\n".join(lines) + "\n"
    return "\n".join(mapping(l) for l in lines) + "\n"  # type: ignore[operator]


def test_a_redacted_capture_of_the_docker_host_answers_like_the_plain_one() -> None:
    from simnet.capture import Redactor

    plain = str(capture_docker_like_host("--docker", "--listeners")["stdout"])
    redacted = str(capture_docker_like_host("--docker", "--listeners", "--redact", "--redact-key", "k")["stdout"])
    # private addresses stay private, documentation ones stay documentation, but none is the same
    for secret in ("172.17.", "203.0.113.10/", "203.0.113.20/", "veth1b0c1b0", "host-web",
                   "02:42:ac:11:00:02"):
        assert secret not in redacted
    # the same key maps the probes' addresses the same way; namespaces are numbered in the script's order
    red = Redactor(b"k")
    for name in ("host", "lan", "host-app", "host-db", "host-web"):
        red.ns(name)

    def mapped(line: str) -> str:
        line = re.sub(r"(\d+\.\d+\.\d+\.\d+)", lambda m: str(red.ip(IPv4Address(m[1]))), line)
        return re.sub(r"ip netns exec (\S+)", lambda m: f"ip netns exec {red.ns(m[1])}", line)

    story = SCENARIO.read_text()
    a = run_script(plain + _probes(story), filename="plain.sh")
    b = run_script(redacted + _probes(story, mapped), filename="redacted.sh")
    assert [p.result.outcome for p in a.probes] == ["timeout", "connected", "timeout", "connected", "timeout"]
    assert [p.result.outcome for p in b.probes] == [p.result.outcome for p in a.probes]
