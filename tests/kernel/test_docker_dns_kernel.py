"""Issue 14: the nat rules Docker's embedded DNS puts in a container, replayed on the kernel.

The export replays libnetwork's ``setupIPTable`` commands (``-N``, ``-I OUTPUT``, ``-N``,
``-I POSTROUTING``, then four ``-I`` of DNAT/SNAT) in the container's namespace; the kernel's
``iptables-save -t nat`` there must be byte-equal to the simulator's (which is the shape a real
container shows: tcp above udp in both chains, ``-m udp``/``-m tcp`` added, ``/32`` on the
addresses), per era.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.docker.export import export_scenario
from simnet.script.interpreter import run_script
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

SCRIPT = """\
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker network connect bridge app
ip netns exec h1 docker exec app iptables-save -t nat
ip netns exec h1 docker exec app iptables -t nat -S
"""


def _strip(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_embedded_dns_nat_rules_listing_agrees_with_the_kernel(era: str, tmp_path: Path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import run_on_kernel

    src = tmp_path / "dns-rules.sh"
    src.write_text(SCRIPT.format(era=era))
    sim = {o["line"]: o["stdout"] for o in run_script(src.read_text()).to_json()["outputs"]}
    assert "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT" in sim[7]
    exported = export_scenario(src)
    script = tmp_path / "exported.sh"
    script.write_text(exported.text)
    kernel = run_on_kernel(str(script))
    ker = {o["command"]: o["stdout"] for o in kernel["outputs"]}
    assert _strip(ker["ip netns exec h1-app iptables-save -t nat"]) == _strip(sim[7])
    assert ker["ip netns exec h1-app iptables -t nat -S"] == sim[8]


ROOT = Path(__file__).resolve().parents[2]
DNS_SCENARIOS = sorted((ROOT / "scenarios" / "docker").glob("dns-*.sh"))


def _on_original_lines(report: dict, exported) -> dict:  # noqa: ANN001
    """The kernel's report with every line number turned back into the scenario's."""
    back = exported.original_line
    return {"probes": [dict(p, line=back(p["line"])) for p in report["probes"]],
            "outputs": [dict(o, line=back(o["line"])) for o in report["outputs"]]}


@pytest.mark.parametrize("path", DNS_SCENARIOS, ids=lambda p: p.name)
def test_docker_dns_scenario_agrees_in_full(path: Path, tmp_path: Path) -> None:
    """Every probe of every Docker DNS scenario, none skipped, agrees with the kernel on outcome,
    counters (packets and bytes), conntrack and what dig printed.  The resolver's kernel stand-in
    (simnet-embedded-dns) answers as libnetwork writes answers and forwards ``host(...)``
    upstreams from the host's namespace, so the queries 28/29 send from the host are compared too."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    sim = run_script(path.read_text(), filename=str(path)).to_json()
    exported = export_scenario(path)
    assert not exported.skips
    script = tmp_path / path.name
    script.write_text(exported.text)
    kernel = _on_original_lines(run_on_kernel(str(script)), exported)
    assert [p["line"] for p in kernel["probes"]] == [p["line"] for p in sim["probes"]]
    differences = compare({"probes": sim["probes"], "outputs": [o for o in sim["outputs"] if o["line"] in
                                                                 {p["line"] for p in sim["probes"]}]},
                          {"probes": kernel["probes"], "outputs": [o for o in kernel["outputs"] if o["line"] in
                                                                   {p["line"] for p in kernel["probes"]}]})
    assert not differences, "\n".join(differences)


#: the Docker host h1 and a LAN machine with its resolver (both forwarding worlds start so)
LAN = """\
ip netns add h1
ip netns add lan
ip -n h1 link set lo up
ip -n lan link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns lan
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n lan addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n lan link set eth0 up
"""

FORWARDING = LAN + """\
mkdir -p /etc/netns/h1
printf 'nameserver 127.0.0.53\\nnameserver 203.0.113.20\\n' > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/git.example.com/198.51.100.7 &
ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 127.0.0.53 --address=/vpn.corp/10.77.0.1 &
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker run -d --network front --dns 203.0.113.20 --name pinned busybox
ip netns exec h1 iptables -I OUTPUT -p udp --dport 53
ip netns exec h1 docker exec app iptables -I OUTPUT -p udp -d 203.0.113.20 --dport 53
ip netns exec h1 docker exec pinned iptables -I OUTPUT -p udp -d 203.0.113.20 --dport 53
ip netns exec h1 docker exec app dig vpn.corp
ip netns exec h1 docker exec app dig git.example.com
ip netns exec h1 docker exec app dig nobody.knows
ip netns exec h1 docker exec pinned dig git.example.com
ip netns exec h1 docker exec app dig pinned +short
"""


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_forwarding_per_era_agrees_with_the_kernel(era: str, tmp_path: Path) -> None:
    """Upstreams in order, from the era's namespace: the host's stub (127.0.0.53, always from the
    host) refuses what it does not know, so the next upstream is asked: 28/29 from the host's
    namespace (the host's OUTPUT counts it), 27 from the container's (the container's OUTPUT does);
    a name nobody knows ends in SERVFAIL; ``--dns`` servers are asked from the container's.  Compared
    with the kernel on outcomes, counters in both namespaces, conntrack and dig's lines."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    src = tmp_path / "forwarding.sh"
    src.write_text(FORWARDING.format(era=era))
    sim = run_script(src.read_text(), filename=str(src)).to_json()
    text = {o["line"]: o["stdout"] for o in sim["outputs"]}
    assert "status: SERVFAIL" in text[23] and "198.51.100.7" in text[22] and text[25] == "10.10.0.3\n"
    app = {(c["chain"], c["rule"]): c["packets"] for c in sim["probes"][1]["counters"]["h1-app"]
           if c["table"] == "filter"}
    assert app.get(("OUTPUT", 1), 0) == (1 if era == "27" else 0)
    exported = export_scenario(src)
    script = tmp_path / "exported.sh"
    script.write_text(exported.text)
    kernel = _on_original_lines(run_on_kernel(str(script)), exported)
    lines = {p["line"] for p in sim["probes"]}
    differences = compare({"probes": sim["probes"], "outputs": [o for o in sim["outputs"] if o["line"] in lines]},
                          {"probes": kernel["probes"], "outputs": [o for o in kernel["outputs"] if o["line"] in lines]})
    assert not differences, "\n".join(differences)


BY_NAME = """\
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era 29 &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name web nginx
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker exec app ping -c 1 -W 1 web
ip netns exec h1 docker exec app nc -z -w 1 web 80
ip netns exec h1 docker exec app ping -c 1 -W 1 nothing.here
"""


def test_tools_that_name_a_container_agree_with_the_kernel(tmp_path: Path) -> None:
    """A script without dig still gets the resolver's stand-in when its probes name containers:
    ping and nc resolve through 127.0.0.11 (A and AAAA, glibc) on both sides, and a name with no
    upstream to ask fails with the same error; counters and conntrack agree."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    src = tmp_path / "by-name.sh"
    src.write_text(BY_NAME)
    sim = run_script(BY_NAME, filename=str(src)).to_json()
    assert [p["outcome"] for p in sim["probes"]] == ["reply", "connected", "error"]
    exported = export_scenario(src)
    script = tmp_path / "exported.sh"
    script.write_text(exported.text)
    kernel = _on_original_lines(run_on_kernel(str(script)), exported)
    differences = compare({"probes": sim["probes"]}, {"probes": kernel["probes"]})
    assert not differences, "\n".join(differences)


TCP_FORWARDING = LAN + """\
ip -n h1 addr add 127.0.0.53/8 dev lo
mkdir -p /etc/netns/h1
printf 'nameserver 127.0.0.53\\nnameserver 203.0.113.20\\n' > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/git.example.com/198.51.100.7 &
ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 127.0.0.53 --address=/vpn.corp/10.77.0.1 &
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 iptables -I OUTPUT -p tcp --dport 53
ip netns exec h1 docker exec app iptables -I OUTPUT -p tcp -d 203.0.113.20 --dport 53
ip netns exec h1 docker exec app dig +tcp git.example.com
ip netns exec h1 docker exec app dig +tcp vpn.corp +short
ip netns exec h1 docker exec app dig +tcp nobody.knows
ip netns exec h1 docker exec app dig +tcp app +short
"""


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_tcp_forwarding_per_era_agrees_with_the_kernel(era: str, tmp_path: Path) -> None:
    """``dig +tcp`` from a container on a user network: a name the resolver does not hold is
    forwarded over TCP (the listener's proto), the host's stub over its own loopback from the host's
    namespace, the LAN server from the host's (28/29) or the container's (27); its answer written
    back on the client's connection; a name nobody knows ends in SERVFAIL; the resolver's own names
    answered over TCP.  127.0.0.53 is put on the host's lo: dnsmasq 2.90 (without --bind-interfaces)
    listening on a loopback address no interface holds answers it over UDP but closes TCP
    connections to it unanswered (``dig +tcp @127.0.0.53``: "end of file", seen with ``unshare -n``
    on Linux 6.18; simnet's dnsmasq answers them: not modelled).  Outcomes, every counter in both namespaces (the tcp/53 rules count the
    forwarded connections' packets), conntrack and dig's lines agree with the kernel."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel

    src = tmp_path / "tcp-forwarding.sh"
    src.write_text(TCP_FORWARDING.format(era=era))
    sim = run_script(src.read_text(), filename=str(src)).to_json()
    text = {o["line"]: o["stdout"] for o in sim["outputs"]}
    assert "198.51.100.7" in text[20] and "(TCP)" in text[20] and text[21] == "10.77.0.1\n"
    assert "status: SERVFAIL" in text[22] and text[23] == "10.10.0.2\n"
    app = {(c["chain"], c["rule"]): c["packets"] for c in sim["probes"][0]["counters"]["h1-app"]
           if c["table"] == "filter"}
    assert bool(app.get(("OUTPUT", 1), 0)) == (era == "27")
    exported = export_scenario(src)
    script = tmp_path / "exported.sh"
    script.write_text(exported.text)
    kernel = _on_original_lines(run_on_kernel(str(script)), exported)
    lines = {p["line"] for p in sim["probes"]}
    differences = compare({"probes": sim["probes"], "outputs": [o for o in sim["outputs"] if o["line"] in lines]},
                          {"probes": kernel["probes"], "outputs": [o for o in kernel["outputs"] if o["line"] in lines]})
    assert not differences, "\n".join(differences)
