"""Issue #20's findings: inputs that hung simnet, raised a traceback or acted on a hidden namespace.

Each is refused with the real tool's words (checked with iputils 20221126, OpenBSD nc, curl 7.88,
iproute2 6.1 and Python 3.11 in ``unshare -n`` on Linux 6.18) and changes nothing.
"""

from __future__ import annotations

import pytest

from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

BIG = "9" * 5000
"""Longer than the 4,300 digits CPython's int() converts."""

_LO = "ip netns add a\nip -n a link set lo up\nip -n a addr add 10.0.0.1/8 dev lo\n"


def _error(text: str) -> str:
    with pytest.raises(ScriptError) as e:
        run_script(text)
    return e.value.reason


@pytest.mark.parametrize("line, reason", [
    ("ip netns exec", "ip netns exec: No netns name specified"),
    ("timeout 1 ip netns exec", "ip netns exec: No netns name specified"),
    ("ip netns exec a timeout 1 ip netns exec", "ip netns exec: No netns name specified"),
    ("ip netns exec a", "ip netns exec a: No command specified"),
    ('ip netns exec "" true', 'ip netns exec: Invalid netns name ""'),
    ("ip netns add a/b", 'ip netns add: Invalid netns name "a/b"'),
    ("ip netns add ..", 'ip netns add: Invalid netns name ".."'),
])
def test_ip_netns_exec_without_a_name_is_refused_not_looped(line: str, reason: str) -> None:
    assert _error(line + "\n") == reason


def test_ip_n_with_an_empty_name_is_refused_as_ip_refuses_it() -> None:
    assert _error("ip netns add a\nip -n '' link set lo up\n").endswith(
        'setting the network namespace "" failed: Invalid argument')


@pytest.mark.parametrize("args, reason", [
    ("-c 99999999999999999999", "ping: invalid argument: '99999999999999999999': Numerical result out of range"),
    (f"-c {BIG}", f"ping: invalid argument: '{BIG}': Numerical result out of range"),
    ("-c 0", "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"),
    ("-c abc", "ping: invalid argument: 'abc'"),
    ("-c 1 -t 256", "ping: invalid argument: '256': out of range: 0 <= value <= 255"),
    (f"-c 1 -t {BIG}", f"ping: invalid argument: '{BIG}': Numerical result out of range"),
    ("-c 1 -t abc", "ping: invalid argument: 'abc'"),
    ("-c 1 -w 2147483648", "ping: invalid argument: '2147483648': out of range: 0 <= value <= 2147483647"),
    ("-c 1 -W -1", "ping: bad linger time: -1"),
    ("-c 1 -W 2147484", "ping: bad linger time: 2147484"),
    ("-c 1 -W 1e400", "ping: bad linger time: 1e400: Numerical result out of range"),
    ("-c 1 -i 99999999999999999999", "ping: bad timing interval: 99999999999999999999"),
])
def test_ping_numbers_are_refused_with_pings_words(args: str, reason: str) -> None:
    assert _error(_LO + f"ip netns exec a ping {args} 10.0.0.1\n") == reason


def test_a_long_ping_is_bounded_and_its_report_proportionate() -> None:
    # 1000 echoes run (lazily, one scheduled at a time); the JSON keeps 10 echoes' traces and the summary
    report = run_script(_LO + "ip netns exec a ping -c 1000 -i 0.2 10.0.0.1\n")
    probe = report.to_json()["probes"][0]
    assert probe["ping"] == {"transmitted": 1000, "received": 1000, "errors": 0, "loss": 0, "size": 56}
    assert len(probe["trace"]) == 20  # 10 requests, 10 replies
    assert report.world.now == pytest.approx(999 * 0.2, abs=1e-6)
    assert "at most 1000 echo requests" in _error(_LO + "ip netns exec a ping -c 65536 10.0.0.1\n")
    # under timeout only the echoes due before the kill are sent, whatever the count
    cut = run_script(_LO + "timeout 3 ip netns exec a ping -c 4294967295 10.0.0.1\n").to_json()["probes"][0]
    assert cut["ping"]["transmitted"] == 3


def test_ping_summary_counts_losses_as_ping_prints_them() -> None:
    # the neighbour never answers ARP; iputils on 6.18 in this world prints
    # "5 packets transmitted, 0 received, 100% packet loss"
    report = run_script("ip link add v0 type veth peer name v1\nip link set v0 up\nip link set v1 up\n"
                        "ip addr add 10.1.0.1/24 dev v0\nping -c 5 -i 0.5 -W 1 10.1.0.2\n")
    result = report.probes[0].result
    assert result.outcome == "timeout"
    assert str(result.ping) == "5 packets transmitted, 0 received, 100% packet loss"


@pytest.mark.parametrize("line, reason", [
    ("ip netns exec a nc -z 10.0.0.1 99999", "nc: port number too large: 99999"),
    (f"ip netns exec a nc -z 10.0.0.1 {BIG}", f"nc: port number too large: {BIG}"),
    ("ip netns exec a nc -z 10.0.0.1 0", "nc: port number too small: 0"),
    ("ip netns exec a nc -z 10.0.0.1 abc", "nc: port number invalid: abc"),
    (f"ip netns exec a nc -z -p {BIG} 10.0.0.1 80", f"nc: port number too large: {BIG}"),
    ("ip netns exec a nc -z -w 99999999999999999999 10.0.0.1 80", "nc: timeout too large: 99999999999999999999"),
    ("ip netns exec a nc -z -w abc 10.0.0.1 80", "nc: timeout invalid: abc"),
    (f"ip netns exec a nc -l {BIG} &", f"nc: port number too large: {BIG}"),
    ("ip netns exec a curl http://10.0.0.1:99999/", "curl: (3) URL using bad/illegal format or missing URL"),
    (f"ip netns exec a curl http://10.0.0.1:{BIG}/", "curl: (3) URL using bad/illegal format or missing URL"),
    ("ip netns exec a curl -m abc http://10.0.0.1/", "curl: option -m: expected a proper numerical parameter"),
    (f"ip netns exec a curl -m {BIG} http://10.0.0.1/", "curl: option -m: too large number"),
    (f"ip netns exec a python3 -m http.server {BIG} &",
     f"server.py: error: argument port: invalid int value: '{BIG}'"),
    (f"kill %{BIG}", f"kill %{BIG}: no such job"),
    ("sleep inf", "sleep inf never returns: simnet runs a script to its end"),
    ("sleep 1x", "sleep: invalid time interval '1x'"),
    (f"timeout -s {BIG} 1 true", f"timeout: '{BIG}': invalid signal"),
    ("timeout -s ² 1 true", "timeout: '²': invalid signal"),
])
def test_script_tool_numbers_of_any_length_get_the_tools_words(line: str, reason: str) -> None:
    assert _error(_LO + line + "\n") == reason


def test_http_server_keeps_the_low_16_bits_of_its_port_as_cpython_does() -> None:
    report = run_script(_LO + "ip netns exec a python3 -m http.server 99999 &\nip netns exec a nc -z 10.0.0.1 34463\n")
    assert report.probes[0].result.outcome == "connected"


def test_expect_ports_of_any_length_are_refused() -> None:
    line = f"ip netns exec a nc -z 10.0.0.1 80\n# expect: refused from 10.0.0.1:{BIG}\n"
    assert "out of range 1-65535" in _error(_LO + line)
