"""Sized transfers (issue #15): ``head -c N /dev/zero | nc``, ``dd ... | nc``, curl of a file.

The same worlds ran on Linux 6.18 through the conformance runner (scenarios/mtu/
http-download-blackhole.sh and docker-host-vpn-uplink-tcp.sh are kernel-checked): a
segment is min(path MTU - 40, peer MSS) - 12 (timestamps); a frag-needed shrinks it at once;
with the ICMP dropped the transfer stalls with nothing delivered.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import simnet
from simnet.tools.sized import piped_size

ROUTER = """\
ip netns add c
ip netns add s
ip netns add r
ip -n c link add eth0 type veth peer name lan netns r
ip -n s link add eth0 type veth peer name wan netns r
ip -n c addr add 10.0.1.2/24 dev eth0
ip -n r addr add 10.0.1.1/24 dev lan
ip -n s addr add 10.0.2.2/24 dev eth0
ip -n r addr add 10.0.2.1/24 dev wan
ip -n c link set eth0 up
ip -n r link set lan up
ip -n r link set wan up
ip -n s link set eth0 up
ip -n c route add default via 10.0.1.1
ip -n s route add default via 10.0.2.1
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
ip -n r link set wan mtu {mtu}
ip netns exec s nc -l -k -p 80 &
"""


def _transfer(script: str) -> dict:
    report = simnet.run_script(script).to_json()
    return report["probes"][-1]["transfer"]


@pytest.mark.parametrize("argv, size", [
    (("head", "-c", "1000", "/dev/zero"), 1000), (("head", "-c1K", "/dev/zero"), 1024),
    (("head", "-c", "2kB", "/dev/zero"), 2000), (("head", "-c", "1M", "/dev/zero"), 1 << 20),
    (("dd", "if=/dev/zero", "bs=1000", "count=3"), 3000), (("dd", "if=/dev/zero", "bs=1K", "count=2"), 2048),
    (("dd", "if=/dev/zero", "count=2"), 1024), (("head", "-c", "5", "/etc/hosts"), None), (("cat", "x"), None),
    (("head", "-c", "12x", "/dev/zero"), "head: invalid number of bytes: '12x'"),
    (("dd", "if=/dev/zero", "bs=x", "count=1"), "dd: invalid number: 'x'"),
])
def test_sized_sources(argv: tuple[str, ...], size: int | str | None) -> None:
    assert piped_size(argv) == size


def test_transfer_completes_in_mss_segments() -> None:
    t = _transfer(ROUTER.format(mtu=1500) + "head -c 100000 /dev/zero | ip netns exec c nc -w 1 10.0.2.2 80\n")
    assert t == {"size": 100000, "received": 100000, "complete": True, "stalled": False, "mss": 1448,
                 "last_mss": 1448, "retransmissions": 0}


def test_frag_needed_shrinks_the_segments_and_is_learnt() -> None:
    report = simnet.run_script(ROUTER.format(mtu=1400) + "dd if=/dev/zero bs=10000 count=2 | "
                               "ip netns exec c nc -w 1 10.0.2.2 80\nip -n c route get 10.0.2.2\n")
    t = report.to_json()["probes"][-1]["transfer"]
    assert (t["complete"], t["mss"], t["last_mss"]) == (True, 1448, 1348)
    assert "cache expires 599sec mtu 1400" in report.to_json()["outputs"][-1]["stdout"]


def test_black_hole_stalls_and_tcpmss_clamp_fixes_it() -> None:
    base = ROUTER.format(mtu=1400) + "ip netns exec r iptables -A OUTPUT -p icmp -j DROP\n"
    probe = "head -c 20000 /dev/zero | ip netns exec c nc -w 2 10.0.2.2 80\n"
    t = _transfer(base + probe)
    assert (t["received"], t["complete"], t["stalled"], t["last_mss"]) == (0, False, True, 1448)
    assert t["retransmissions"] >= 3  # RTO 0.2, 0.4, 0.8 s within nc's 2 s
    # --syn matches the client's SYN only: the server's SYN-ACK keeps 1460 and the upload stalls
    syn_only = "ip netns exec r iptables -t mangle -A FORWARD -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\n"
    assert _transfer(base + syn_only + probe)["stalled"]
    # SYN,RST SYN takes the SYN-ACK too: lowered to 1360 by the reverse route's 1400-byte MTU
    clamp = ("ip netns exec r iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN "
             "-j TCPMSS --clamp-mss-to-pmtu\n")
    t = _transfer(base + clamp + probe)
    assert (t["received"], t["complete"], t["mss"]) == (20000, True, 1348)


def test_curl_fetches_a_file_of_the_file_model() -> None:
    # the router's link towards the client is the narrow one: it forwards each segment by that MTU
    # (a veth peer with the smaller MTU would let the server's GSO bursts in)
    script = ROUTER.format(mtu=1500) + "ip -n r link set lan mtu 1400\n" + (
        "mkdir -p /srv\ntruncate -s 50000 /srv/f\nhead -c 10 /dev/zero > /srv/small\n"
        "ip netns exec s python3 -m http.server --directory /srv 8000 &\n"
        "ip netns exec r iptables -A OUTPUT -p icmp -j DROP\n"
        "ip netns exec c curl -s -m 1 -o /dev/null -w '%{http_code} %{exitcode}' http://10.0.2.2:8000/small\n"
        "ip netns exec c curl -s -m 1 -o /dev/null -w '%{http_code} %{exitcode}' http://10.0.2.2:8000/f\n"
        "ip netns exec c curl -s -m 1 -o /dev/null -w '%{http_code}' http://10.0.2.2:8000/missing\n")
    report = simnet.run_script(script).to_json()
    small, big, missing = report["probes"]
    assert small["transfer"]["complete"] and small["transfer"]["size"] == 10
    assert big["transfer"] == {**big["transfer"], "size": 50000, "received": 0, "stalled": True}
    assert "transfer" not in missing
    assert [o["stdout"] for o in report["outputs"]] == ["200 0", "000 28", "200"]


def test_expectations_name_complete_or_stalled() -> None:
    script = ROUTER.format(mtu=1400) + ("ip netns exec r iptables -A OUTPUT -p icmp -j DROP\n"
                                        "head -c 20000 /dev/zero | ip netns exec c nc -w 1 10.0.2.2 80\n"
                                        "# expect: connected complete\n")
    report = simnet.run_script(script)
    assert report.to_json()["probes"][0]["expect"]["ok"] is False


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 30000), mtu=st.integers(576, 1500), icmp=st.booleans())
def test_a_transfer_completes_unless_a_black_hole_eats_its_segments(size: int, mtu: int, icmp: bool) -> None:
    script = ROUTER.format(mtu=mtu) + ("" if icmp else "ip netns exec r iptables -A OUTPUT -p icmp -j DROP\n")
    t = _transfer(script + f"head -c {size} /dev/zero | ip netns exec c nc -w 2 10.0.2.2 80\n")
    first = min(size, 1448)
    blackhole = not icmp and first + 52 > mtu
    assert t["complete"] is not blackhole
    assert t["received"] == (0 if blackhole else size)
    assert t["last_mss"] <= max(mtu - 52, 1448 if first + 52 <= mtu else 0) or not t["complete"]
