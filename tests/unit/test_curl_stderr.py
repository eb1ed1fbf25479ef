"""curl's error lines on stderr, worded as curl 7.88.1 words them (seen on this machine, Linux 6.18,
in an ``unshare -n`` namespace: a listener that never answers, one that sends 1234 of 5000 bytes,
a DROP rule for the SYN, a closed port, an unknown name)."""

from pathlib import Path

import pytest

from simnet import run_script
from simnet.tcp_stream import TransferReport
from simnet.tools.curl import curl_error

ROOT = Path(__file__).resolve().parents[2]

_TWO = """\
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 10.0.0.1/24 dev va
ip -n b addr add 10.0.0.2/24 dev vb
ip -n a link set va up
ip -n b link set vb up
ip netns exec b iptables -A INPUT -p tcp --dport 81 -j DROP
"""


def _err(script: str) -> list[tuple[str, str]]:
    outs = run_script(script).to_json()["outputs"]
    return [(o["stdout"], o.get("stderr", "")) for o in outs if "curl" in o["command"]]


@pytest.mark.parametrize("cmd, stderr", [
    ("curl -sS -m 1 http://10.0.0.2:80/",
     "curl: (7) Failed to connect to 10.0.0.2 port 80 after 0 ms: Couldn't connect to server\n"),
    ("curl -sS -m 1 http://10.0.0.2:81/", "curl: (28) Connection timed out after 1000 milliseconds\n"),
    ("curl -sS -m 0.5 http://10.0.0.2:81/", "curl: (28) Connection timed out after 500 milliseconds\n"),
    ("curl -sS --connect-timeout 2 http://10.0.0.2:81/",
     "curl: (28) Failed to connect to 10.0.0.2 port 81 after 2000 ms: Timeout was reached\n"),
    ("curl -m 1 -o /dev/null http://nosuch.invalid/", "curl: (6) Could not resolve host: nosuch.invalid\n"),
    ("curl -s -m 1 http://10.0.0.2:81/", None),  # -s without -S: silent, no output at all
    ("curl -s http://nosuch.invalid/", None),
])
def test_connect_errors_on_stderr(cmd: str, stderr: str | None) -> None:
    assert _err(_TWO + f"ip netns exec a {cmd}\n") == ([] if stderr is None else [("", stderr)])


def test_stalled_download_prints_28_with_bytes_received() -> None:
    """The MTU black hole: the response's first segment (header and body) never arrives."""
    script = (ROOT / "scenarios" / "mtu" / "http-download-blackhole.sh").read_text().replace("curl -s ", "curl -sS ")
    outs = _err(script)
    assert outs == [
        ("200 0\n", ""),
        ("000 28\n", "curl: (28) Operation timed out after 2000 milliseconds with 0 bytes received\n"),
        ("000 28\n", "curl: (28) Operation timed out after 2000 milliseconds with 0 bytes received\n"),
        ("200 0\n", ""),
    ]


def test_operation_timed_out_words() -> None:
    part = TransferReport(size=5182, received=1416, mss=1448, last_mss=1448, retransmissions=0)
    assert curl_error("connected", "10.0.0.2", 80, 1000, timeout=1.0, transfer=part, header=182, size=5000) == (
        "curl: (28) Operation timed out after 1000 milliseconds with 1234 out of 5000 bytes received")
    head_only = TransferReport(size=5182, received=100, mss=1448, last_mss=1448, retransmissions=0)
    assert curl_error("connected", "10.0.0.2", 80, 1000, timeout=1.0, transfer=head_only, header=182,
                      size=5000) == "curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received"
    # without -m curl waits on (killed by `timeout`): no line; a complete transfer: none
    assert curl_error("connected", "10.0.0.2", 80, 1000, timeout=None, transfer=part, header=182, size=5000) == ""
    done = TransferReport(size=5182, received=5182, mss=1448, last_mss=1448, retransmissions=0)
    assert curl_error("connected", "10.0.0.2", 80, 5, timeout=1.0, transfer=done, header=182, size=5000) == ""


def test_compare_checks_stderr_where_both_reports_have_it() -> None:
    from simnet.conformance.compare import compare

    o = {"line": 9, "command": "ip netns exec a curl -sS -m 1 http://10.0.0.2:81/", "stdout": ""}
    sim = {"probes": [], "outputs": [dict(o, stderr="curl: (28) Connection timed out after 1000 milliseconds\n")]}
    same = {"probes": [], "outputs": [dict(o, stderr="curl: (28) Connection timed out after 1003 milliseconds\n")]}
    other = {"probes": [], "outputs": [dict(o, stderr="curl: (7) Failed to connect to 10.0.0.2 port 81 after 0 ms: "
                                                      "Couldn't connect to server\n")]}
    assert compare(sim, same) == []
    assert compare(sim, {"probes": [], "outputs": [o]}) == []  # the kernel runner has no curl stderr
    assert compare(sim, other) == [
        "line 9 `ip netns exec a curl -sS -m 1 http://10.0.0.2:81/`: stderr: simulator "
        "'curl: (28) Connection timed out after N milliseconds', kernel "
        "\"curl: (7) Failed to connect to 10.0.0.2 port 81 after N ms: Couldn't connect to server\""]
