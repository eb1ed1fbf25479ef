"""ncat (7.93) as a client, against socat echo services, as it behaved on Linux 6.18 in a throwaway
namespace (``unshare -n``, iptables --tcp-flags counters, stdout/stderr and exit words recorded):

* ``echo hi | ncat HOST 7``: prints ``hi``; SYN 60, three ACKs, the data 55, FIN one way; SYN-ACK,
  ACK, the echo 55, FIN,ACK the other (the echo service closes when ncat ends its input);
* ``echo hi | ncat -u HOST 7``: prints nothing: ncat exits at its input's end and the echo's reply
  meets a closed port (a 59-byte ICMP port unreachable back to the service);
* refused (TCP RST or UDP port unreachable): ``Ncat: Connection refused.`` on stderr;
* ``-w 1`` against a dropped SYN: ``Ncat: TIMEOUT.``; a name that does not resolve:
  ``Ncat: Could not resolve hostname "NAME": WHY. QUITTING.``."""

from __future__ import annotations

import pytest

from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

FLAGS = ("ALL SYN", "ALL ACK", "ALL PSH,ACK", "ALL FIN,ACK")
LAB = ("ip netns add a\nip -n a link set lo up\n"
       + "".join(f"ip netns exec a iptables -A OUTPUT -p tcp --dport 7 --tcp-flags {f}\n" for f in FLAGS)
       + "".join(f"ip netns exec a iptables -A OUTPUT -p tcp --sport 7 --tcp-flags {f}\n"
                 for f in ("ALL SYN,ACK", "ALL ACK", "ALL PSH,ACK", "ALL FIN,ACK"))
       + "ip netns exec a iptables -A OUTPUT -p udp --dport 7\nip netns exec a iptables -A OUTPUT -p udp --sport 7\n"
       "ip netns exec a iptables -A OUTPUT -p icmp\n"
       "ip netns exec a socat TCP-LISTEN:7,fork,reuseaddr EXEC:cat &\n"
       "ip netns exec a socat UDP-LISTEN:7,fork EXEC:cat &\n")
FIRST = 16  # the line of the first probe after LAB


def _run(lines: str) -> tuple[list[dict[str, object]], dict[int, dict[str, str]]]:
    r = run_script(LAB + lines)
    outs = {o["line"]: o for o in r.outputs}
    counts = [{c["rule"]: (c["packets"], c["bytes"]) for c in p.counters["a"]
               if c["chain"] == "OUTPUT" and c["rule"] and c["packets"]} for p in r.probes]
    return counts, outs  # type: ignore[return-value]


def test_tcp_echo_prints_the_answer_with_the_kernels_segments() -> None:
    counts, outs = _run("echo hi | ip netns exec a ncat 127.0.0.1 7\n")
    assert outs[FIRST]["stdout"] == "hi\n" and not outs[FIRST].get("stderr")
    assert counts[0] == {1: (1, 60), 2: (3, 156), 3: (1, 55), 4: (1, 52),
                         5: (1, 60), 6: (1, 52), 7: (1, 55), 8: (1, 52)}


def test_udp_prints_nothing_and_the_echo_meets_a_closed_port() -> None:
    counts, outs = _run("echo hi | ip netns exec a ncat -u 127.0.0.1 7\n")
    assert FIRST not in outs or outs[FIRST]["stdout"] == ""
    assert counts[0] == {9: (1, 31), 10: (1, 31), 11: (1, 59)}


@pytest.mark.parametrize("form", ["ncat 127.0.0.1 8", "ncat -u 127.0.0.1 8"])
def test_refused_words_on_stderr(form: str) -> None:
    _, outs = _run(f"echo hi | ip netns exec a {form}\n")
    assert outs[FIRST]["stderr"] == "Ncat: Connection refused.\n" and outs[FIRST]["stdout"] == ""


def test_timeout_and_name_failure_words() -> None:
    _, outs = _run("ip netns exec a iptables -A INPUT -p tcp --dport 9 -j DROP\n"
                   "echo hi | ip netns exec a ncat -w 1 127.0.0.1 9\n"
                   "mkdir -p /etc/netns/a\necho 'nameserver 127.0.0.1' > /etc/netns/a/resolv.conf\n"
                   "echo hi | ip netns exec a ncat nothere 7\n")
    assert outs[FIRST + 1]["stderr"] == "Ncat: TIMEOUT.\n"
    assert outs[FIRST + 4]["stderr"] == ('Ncat: Could not resolve hostname "nothere": Temporary failure in name '
                                         "resolution. QUITTING.\n")


def test_bad_forms_are_refused_with_ncats_words() -> None:
    with pytest.raises(ScriptError, match="unrecognized option '--bogus'"):
        run_script(LAB + "echo hi | ip netns exec a ncat --bogus 127.0.0.1 7\n")
    with pytest.raises(ScriptError, match='Invalid port number "99999"'):
        run_script(LAB + "echo hi | ip netns exec a ncat 127.0.0.1 99999\n")
