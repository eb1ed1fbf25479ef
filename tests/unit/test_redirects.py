"""ICMP redirects: who sends one, who learns from one, and what a learnt gateway changes.

The world is a LAN (a bridge in namespace ``lan``) with a client 192.168.1.10, h1 192.168.1.1
and h2 192.168.1.2; h2 routes the container subnet 10.20.0.0/24 (c2 is 10.20.0.2) and the
client sends that subnet to h1, which forwards it to h2 back out of eth0. Every outcome below
was read off Linux 6.18 with the same scripts (``simnet kernel-run``), except the expiry after
300 s (ip_rt_gc_timeout, from route.c). ``scenarios/router-on-a-stick-redirect.sh`` is the
kernel-checked story.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simnet.redirect
from simnet.script.interpreter import run_script

LAN = """\
ip netns add lan
ip netns add client
ip netns add h1
ip netns add h2
ip netns add c2
ip -n lan link add br0 type bridge
ip -n lan link set br0 up
ip -n lan link add p1 type veth peer name eth0 netns client
ip -n lan link add p2 type veth peer name eth0 netns h1
ip -n lan link add p3 type veth peer name eth0 netns h2
ip -n lan link set p1 master br0
ip -n lan link set p2 master br0
ip -n lan link set p3 master br0
ip -n lan link set p1 up
ip -n lan link set p2 up
ip -n lan link set p3 up
ip -n client addr add 192.168.1.10/24 dev eth0
ip -n client link set eth0 up
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h2 link set eth0 up
ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 addr add 10.20.0.1/24 dev veth1
ip -n h2 link set veth1 up
ip -n c2 addr add 10.20.0.2/24 dev eth0
ip -n c2 link set eth0 up
ip -n c2 route add default via 10.20.0.1
ip netns exec h1 sysctl -w net.ipv4.ip_forward=1
ip netns exec h2 sysctl -w net.ipv4.ip_forward=1
ip -n client route add 10.20.0.0/24 via 192.168.1.1
ip -n h1 route add 10.20.0.0/24 via 192.168.1.2
ip netns exec h1 iptables -A OUTPUT -p icmp --icmp-type redirect
ip netns exec h1 iptables -A FORWARD -d 10.20.0.0/24
ip netns exec client iptables -A INPUT -p icmp --icmp-type redirect
"""
PING = "ip netns exec client ping -c 1 -W 1 10.20.0.2\n"
GET = "ip -n client route get 10.20.0.2\n"


def _run(extra: str) -> Any:
    return run_script(LAN + extra, filename="redirect.sh")


def _hits(probe: dict[str, Any], ns: str, table: str, chain: str, rule: int) -> int:
    return sum(c["packets"] for c in probe["counters"].get(ns, [])
               if (c["table"], c["chain"], c["rule"]) == (table, chain, rule))


def _steps(probe: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for t in probe["trace"] for s in t["steps"] if s["kind"] == kind]


def _redirects_sent(probe: dict[str, Any]) -> int:
    """Redirects h1 sent (its OUTPUT rule) and the client received (its INPUT rule)."""
    sent, got = _hits(probe, "h1", "filter", "OUTPUT", 1), _hits(probe, "client", "filter", "INPUT", 1)
    return sent * 10 + got


def test_the_first_packet_is_forwarded_and_redirected_and_the_second_redirect_is_learnt() -> None:
    report = _run(PING + GET + "sleep 1\n" + PING + GET + "sleep 1\n" + PING).to_json()
    first, second, third = report["probes"]
    assert [p["outcome"] for p in report["probes"]] == ["reply"] * 3
    # forwarded by h1 (FORWARD counted) and redirected (h1 OUTPUT, client INPUT)
    assert _hits(first, "h1", "filter", "FORWARD", 1) == 1 and _redirects_sent(first) == 11
    (decision,) = _steps(first, "redirect")
    assert (decision["to"], decision["dst"], decision["gateway"], decision["sent"]) == (
        "192.168.1.10", "10.20.0.2", "192.168.1.2", True)
    # the client had no neighbour entry for h2 yet: ARP first, nothing learnt
    assert not _steps(first, "redirect learnt")
    assert "no valid neighbour entry for 192.168.1.2" in str(_steps(first, "note"))
    assert _redirects_sent(second) == 11
    (learnt,) = _steps(second, "redirect learnt")
    assert (learnt["dst"], learnt["gateway"], learnt["old_gateway"], learnt["dev"]) == (
        "10.20.0.2", "192.168.1.2", "192.168.1.1", "eth0")
    # straight to h2: h1 sees nothing
    assert "h1" not in third["counters"] and _redirects_sent(third) == 0
    assert _hits(third, "h2", "filter", "FORWARD", 0) == 0  # h2 has no filter table: nothing counted
    gets = [o["stdout"] for o in report["outputs"] if "route get" in o["command"]]
    assert gets == ["10.20.0.2 via 192.168.1.1 dev eth0 src 192.168.1.10 uid 0 \n    cache \n",
                    "10.20.0.2 via 192.168.1.2 dev eth0 src 192.168.1.10 uid 0 \n"
                    "    cache <redirected> expires 299sec \n"]


def test_the_redirect_is_an_icmp_host_redirect_naming_the_next_hop() -> None:
    report = _run(PING)
    redirect = next(t for t in report.world.tracer.all()
                    if t.packet.l4 is not None and getattr(t.packet.l4, "type", None) == 5)
    icmp = redirect.packet.l4
    assert (icmp.code, icmp.gateway) == (1, IPv4Address("192.168.1.2"))  # type: ignore[union-attr]
    assert redirect.packet.ip.src == IPv4Address("192.168.1.1")  # type: ignore[union-attr]
    assert redirect.packet.ip.dst == IPv4Address("192.168.1.10")  # type: ignore[union-attr]
    quoted = icmp.quoted  # type: ignore[union-attr]
    assert quoted.ip.dst == IPv4Address("10.20.0.2") and quoted.ip.ttl == 63  # quoted after the TTL decrement


@pytest.mark.parametrize(("sysctls", "sent"), [
    ("", True),
    ("net.ipv4.conf.all.send_redirects=0", True),  # ORed with eth0's own (IN_DEV_TX_REDIRECTS)
    ("net.ipv4.conf.eth0.send_redirects=0", True),
    ("net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0", False),
])
def test_send_redirects_is_all_or_the_device(sysctls: str, sent: bool) -> None:
    pre = f"ip netns exec h1 sysctl -w {sysctls}\n" if sysctls else ""
    (probe,) = _run(pre + PING).to_json()["probes"]
    assert probe["outcome"] == "reply"
    assert _redirects_sent(probe) == (11 if sent else 0)
    assert bool(_steps(probe, "redirect")) is sent


def test_forward_drop_does_not_stop_the_redirect() -> None:
    (probe,) = _run("ip netns exec h1 iptables -P FORWARD DROP\n" + PING).to_json()["probes"]
    assert probe["outcome"] == "timeout"
    assert _redirects_sent(probe) == 11


@pytest.mark.parametrize(("client_sysctls", "learnt"), [
    ("", True),
    ("net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0", False),
    ("net.ipv4.ip_forward=1", False),  # forwarding turns conf.all.accept_redirects off, ANDed there
    ("net.ipv4.conf.all.shared_media=0 net.ipv4.conf.eth0.shared_media=0", False),  # secure: h2 no gateway
    ("net.ipv4.conf.all.shared_media=0 net.ipv4.conf.eth0.shared_media=0 "
     "net.ipv4.conf.all.secure_redirects=0 net.ipv4.conf.eth0.secure_redirects=0", True),
])
def test_what_the_client_accepts(client_sysctls: str, learnt: bool) -> None:
    pre = f"ip netns exec client sysctl -w {client_sysctls}\n" if client_sysctls else ""
    report = _run(pre + PING + "sleep 1\n" + PING + GET)
    second = report.to_json()["probes"][1]
    assert _redirects_sent(second) == 11  # sent and received either way
    assert bool(_steps(second, "redirect learnt")) is learnt
    assert bool(report.world["client"].fib.exceptions) is learnt
    assert ("<redirected>" in report.to_json()["outputs"][-1]["stdout"]) is learnt


def test_secure_redirects_accepts_a_known_gateway_without_shared_media() -> None:
    pre = ("ip netns exec client sysctl -w net.ipv4.conf.all.shared_media=0 net.ipv4.conf.eth0.shared_media=0\n"
           "ip -n client route add default via 192.168.1.2\n")
    report = _run(pre + PING + "sleep 1\n" + PING)
    assert _steps(report.to_json()["probes"][1], "redirect learnt")


def test_a_redirect_from_another_host_than_the_gateway_is_ignored() -> None:
    report = _run(PING + "sleep 1\n" + PING + "sleep 1\n" + PING)
    # once learnt, the client's gateway for 10.20.0.2 is h2: an old redirect from h1 no longer fits
    client = report.world["client"]
    (exc,) = client.fib.exceptions.values()
    assert exc.gateway == IPv4Address("192.168.1.2")
    assert exc.expires == pytest.approx(1.0 + 300.0, abs=1e-6)


def test_nat_drops_a_redirect_about_a_new_or_natted_connection() -> None:
    # a nat table whose rule never matches is enough: the new connection's SNAT is only decided
    # at POSTROUTING, after ip_forward sent the redirect (nf_nat_icmp_reply_translation)
    pre = ("ip netns exec h1 iptables -t raw -A OUTPUT -p icmp --icmp-type redirect\n"
           "ip netns exec h1 iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE\n")
    report = _run(pre + PING + "sleep 1\n" + PING + GET).to_json()
    for probe in report["probes"]:
        assert probe["outcome"] == "reply"
        assert _hits(probe, "h1", "raw", "OUTPUT", 1) == 1  # generated...
        assert _redirects_sent(probe) == 0  # ...but never past nat OUTPUT
        assert any("NAT has rewritten or not finished" in s["reason"] for s in _steps(probe, "dropped"))
    assert "<redirected>" not in report["outputs"][-1]["stdout"]


def test_conntrack_without_nat_passes_the_redirect_as_related() -> None:
    pre = "ip netns exec h1 iptables -A OUTPUT -m conntrack --ctstate RELATED\n"
    (probe,) = _run(pre + PING).to_json()["probes"]
    assert _redirects_sent(probe) == 11
    assert _hits(probe, "h1", "filter", "OUTPUT", 2) == 1


def test_backoff_per_peer() -> None:
    # the client ignores redirects, so each forwarded ping earns one unless h1's backoff holds it
    # back: 20 ms << (redirects sent) after the last one; the probes are 1 s apart (timeouts),
    # so the 7th waits 1.28 s and is not sent, the 8th is (the same on Linux 6.18)
    pre = ("ip netns exec client sysctl -w net.ipv4.conf.all.accept_redirects=0 "
           "net.ipv4.conf.eth0.accept_redirects=0\nip netns exec h1 iptables -P FORWARD DROP\n")
    report = _run(pre + PING * 8).to_json()
    assert [_redirects_sent(p) for p in report["probes"]] == [11] * 6 + [0, 11]
    held = _steps(report["probes"][6], "redirect")
    assert [s["sent"] for s in held] == [False] and "waits 1280 ms" in held[0]["reason"]


def test_back_to_back_probes_share_one_instant_so_the_backoff_holds_the_second() -> None:
    # simnet's clock does not move between commands (a script says `sleep` to space them)
    report = _run("ip netns exec h1 iptables -P FORWARD DROP\n" + PING.replace("-W 1", "-W 0.01") * 2).to_json()
    assert [_redirects_sent(p) for p in report["probes"]] == [11, 0]


def test_the_exception_expires_after_ip_rt_gc_timeout() -> None:
    report = _run(PING + "sleep 1\n" + PING + GET + "sleep 301\n" + GET)
    before, after = [o["stdout"] for o in report.to_json()["outputs"] if "route get" in o["command"]]
    assert "via 192.168.1.2" in before and "via 192.168.1.1" in after
    assert not report.world["client"].fib.exceptions


def test_deleting_the_route_forgets_its_exceptions() -> None:
    report = _run(PING + "sleep 1\n" + PING + "ip -n client route del 10.20.0.0/24\n"
                  "ip -n client route add 10.20.0.0/24 via 192.168.1.1\n" + GET)
    assert "via 192.168.1.1" in report.to_json()["outputs"][-1]["stdout"]


def test_no_redirect_when_the_source_is_not_directly_connected() -> None:
    # c2 answers through h2, which sends 192.168.1.0/24 straight out: h1 never forwards back;
    # and a packet h1 forwards from a source behind a gateway gets no redirect
    pre = ("ip netns add far\n"
           "ip -n client link add d0 type veth peer name eth0 netns far\n"
           "ip -n client addr add 10.30.0.1/24 dev d0\nip -n client link set d0 up\n"
           "ip -n far addr add 10.30.0.2/24 dev eth0\nip -n far link set eth0 up\n"
           "ip -n far route add default via 10.30.0.1\n"
           "ip netns exec client sysctl -w net.ipv4.ip_forward=1\n"
           "ip -n h1 route add 10.30.0.0/24 via 192.168.1.10\n"
           "ip -n h2 route add 10.30.0.0/24 via 192.168.1.10\n")
    (probe,) = run_script(LAN + pre + "ip netns exec far ping -c 1 -W 1 10.20.0.2\n").to_json()["probes"]
    assert probe["outcome"] == "reply"
    assert _hits(probe, "h1", "filter", "FORWARD", 1) == 1 and not _steps(probe, "redirect")


# -- Hypothesis: random LANs of hosts routing container subnets through each other -------------

@st.composite
def _lans(draw: st.DrawFn) -> str:
    """A bridge with 3 or 4 hosts, each with a container subnet behind it; every host routes
    every other host's subnet via a randomly chosen host (often the wrong one); some forward."""
    n = draw(st.integers(3, 4))
    lines = ["ip netns add lan", *(f"ip netns add {x}{i}" for i in range(n) for x in "hc"),
             "ip -n lan link add br0 type bridge", "ip -n lan link set br0 up"]
    for i in range(n):
        lines += [f"ip -n lan link add p{i} type veth peer name eth0 netns h{i}",
                  f"ip -n lan link set p{i} master br0", f"ip -n lan link set p{i} up",
                  f"ip -n h{i} addr add 192.168.1.{i + 1}/24 dev eth0", f"ip -n h{i} link set eth0 up",
                  f"ip -n h{i} link add v0 type veth peer name eth0 netns c{i}",
                  f"ip -n h{i} addr add 10.{i}.0.1/24 dev v0", f"ip -n h{i} link set v0 up",
                  f"ip -n c{i} addr add 10.{i}.0.2/24 dev eth0", f"ip -n c{i} link set eth0 up",
                  f"ip -n c{i} route add default via 10.{i}.0.1"]
        if draw(st.integers(0, 9)) < 8:
            lines.append(f"ip netns exec h{i} sysctl -w net.ipv4.ip_forward=1")
    for i in range(n):
        for j in range(n):
            if i != j:
                via = draw(st.sampled_from([k for k in range(n) if k != i]))
                lines.append(f"ip -n h{i} route add 10.{j}.0.0/24 via 192.168.1.{via + 1}")
    for _ in range(draw(st.integers(1, 4))):
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        who = draw(st.sampled_from([f"h{i}", f"c{i}"]))
        lines += ["sleep 1", f"ip netns exec {who} ping -c 1 -W 1 10.{j}.0.2"]
    return "\n".join(lines) + "\n"


def _outcomes(report: Any) -> list[tuple[Any, ...]]:
    return [(p["outcome"], (p["icmp"] or {}).get("type"), (p["received"] or {}).get("src"), p["counters"])
            for p in report.to_json()["probes"]]


@settings(max_examples=40, deadline=None)
@given(_lans())
def test_without_send_redirects_nothing_changes(script: str) -> None:
    """send_redirects=0 everywhere (set before any device exists): no redirect, and the same
    outcomes, ICMP, receivers and counters as with the redirect step taken out of the datapath."""
    off = "".join(f"ip netns exec {ns} sysctl -w net.ipv4.conf.all.send_redirects=0 "
                  "net.ipv4.conf.default.send_redirects=0\n"
                  for ns in sorted({w.split()[3] for w in script.splitlines() if w.startswith("ip netns add")}))
    head, rest = script.split("ip -n lan link add br0", 1)
    text = head + off + "ip -n lan link add br0" + rest
    quiet = run_script(text)
    assert not any(getattr(t.packet.l4, "type", None) == 5 for t in quiet.world.tracer.all())
    original = simnet.redirect.wanted
    simnet.redirect.wanted = lambda *a: False  # type: ignore[assignment]
    try:
        before = run_script(text)
    finally:
        simnet.redirect.wanted = original
    assert _outcomes(quiet) == _outcomes(before)


@settings(max_examples=40, deadline=None)
@given(_lans())
def test_redirects_never_change_who_is_reachable(script: str) -> None:
    """A learnt gateway is the router's own next hop: without firewalls, every probe reaches the
    same receiver with or without redirects, and a redirect only ever names an on-link host."""
    on, off = run_script(script), None
    original = simnet.redirect.wanted
    simnet.redirect.wanted = lambda *a: False  # type: ignore[assignment]
    try:
        off = run_script(script)
    finally:
        simnet.redirect.wanted = original
    strip = [(o, i, r) for o, i, r, _ in _outcomes(on)]
    assert strip == [(o, i, r) for o, i, r, _ in _outcomes(off)]
    for t in on.world.tracer.all():
        icmp = t.packet.l4
        if getattr(icmp, "type", None) == 5:
            assert str(icmp.gateway).startswith("192.168.1.")  # type: ignore[union-attr]


# -- the inet_peer they share with ip_error's route-error bucket ------------------------------

def test_a_route_error_right_after_a_redirect_to_the_same_peer_is_held_back() -> None:
    # h1 has no route to 10.30.0.0/24: ip_error answers net unreachable, from a token bucket per
    # peer (1 s per error, 5 at most) that refills from the peer's rate_last, which the redirect
    # 0.5 s before set; a second later the bucket holds a token again
    no_route = "ip -n client route add 10.30.0.0/24 via 192.168.1.1\n"
    probe = "ip netns exec client nc -z -w 1 10.30.0.2 80\n"
    report = _run(no_route + "ip netns exec client sysctl -w net.ipv4.conf.eth0.accept_redirects=0\n"
                  + PING + "sleep 0.5\n" + probe + "sleep 1\n" + probe).to_json()
    redirected, held, answered = report["probes"]
    assert _redirects_sent(redirected) == 11
    assert held["outcome"] == "timeout"
    assert "token bucket is empty" in str(_steps(held, "note"))
    assert (answered["outcome"], answered["icmp"]) == ("unreachable", {"type": 3, "code": 0, "from": "192.168.1.1"})


def test_route_errors_to_a_new_peer_come_in_a_burst_of_five() -> None:
    probe = "ip netns exec client nc -z -w 0.01 10.30.0.2 80\n"
    report = _run("ip -n client route add 10.30.0.0/24 via 192.168.1.1\n" + probe * 6).to_json()
    assert [p["outcome"] for p in report["probes"]] == ["unreachable"] * 5 + ["timeout"]


def test_nc_reports_a_time_exceeded_as_unreachable_and_ping_apart() -> None:
    # h1 and h2 send 10.40.0.0/24 to each other until the TTL runs out
    loop = ("ip -n client route add 10.40.0.0/24 via 192.168.1.1\n"
            "ip -n h1 route add 10.40.0.0/24 via 192.168.1.2\nip -n h2 route add 10.40.0.0/24 via 192.168.1.1\n")
    report = _run(loop + "ip netns exec client ping -c 1 -W 1 10.40.0.2\nsleep 1\n"
                  "ip netns exec client nc -z -w 1 10.40.0.2 80\nsleep 1\n"
                  "echo x | ip netns exec client nc -u -w 1 10.40.0.2 53\n").to_json()
    assert [(p["outcome"], (p["icmp"] or {}).get("type"), p["errno"]) for p in report["probes"]] == [
        ("ttl-exceeded", 11, None), ("unreachable", 11, "EHOSTUNREACH"), ("unreachable", 11, "EHOSTUNREACH")]
