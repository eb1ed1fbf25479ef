"""Issue 14: Docker's embedded DNS, era by era: the 127.0.0.11 nat rules inside a container, the names
it answers, resolv.conf and hosts as Docker writes them (moby's goldens as test data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.docker import DockerDaemon
from simnet.docker.resolver import DnsSettings, ExtServer, hosts_file, nat_commands, resolv_conf, resolve_name
from simnet.netfilter.iptables import iptables_save
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from simnet.world import World

DATA = Path(__file__).parent / "data" / "moby_resolvconf"


def _nat_listing(udp: int, tcp: int) -> str:
    """A real container's ``iptables-save -t nat`` (moby's -I order puts tcp above udp)."""
    return (
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
        ":DOCKER_OUTPUT - [0:0]\n:DOCKER_POSTROUTING - [0:0]\n"
        "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT\n"
        "-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING\n"
        f"-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:{tcp}\n"
        f"-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:{udp}\n"
        f"-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport {tcp} -j SNAT --to-source :53\n"
        f"-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport {udp} -j SNAT --to-source :53\n"
        "COMMIT\n")


def _daemon(era: str, seed: int = 7) -> tuple[World, DockerDaemon]:
    w = World(seed=seed)
    w.add_netns("h1")
    d = DockerDaemon(w, "h1", era=era)
    d.start()
    d.network_create("front", subnet="10.10.0.0/24")
    d.network_create("back", subnet="10.20.0.0/24")
    return w, d


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_user_network_container_nat_table_is_mobys_shape(era: str) -> None:
    w, d = _daemon(era)
    c = d.run("web", network="front")
    res = c.resolver
    assert res is not None and 32768 <= res.udp_port <= 60999 and 32768 <= res.tcp_port <= 60999
    assert iptables_save(w[c.netns].ruleset, ["-t", "nat"]) == _nat_listing(res.udp_port, res.tcp_port)
    # the sockets the rules lead to exist, on 127.0.0.11 only
    socks = {(s.proto, str(s.addr), s.port) for s in w[c.netns].sockets.listeners if s.open}
    assert {("udp", "127.0.0.11", res.udp_port), ("tcp", "127.0.0.11", res.tcp_port)} <= socks
    # and the daemon issued them in libnetwork's order (for the export)
    issued = [line for ns, line in d.commands if ns == c.netns and line.startswith("iptables ")]
    assert issued == ["iptables " + " ".join(a) for a in nat_commands(res.udp_port, res.tcp_port)]


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_default_bridge_has_no_resolver(era: str) -> None:
    w, d = _daemon(era)
    c = d.run("old")
    assert c.resolver is None
    assert "DOCKER_OUTPUT" not in iptables_save(w[c.netns].ruleset, ["-t", "nat"])


def test_docker_19_has_no_embedded_dns_on_user_networks() -> None:
    w, d = _daemon("1.9")
    c = d.run("web", network="front")
    assert c.resolver is None and not any(s.port for s in w[c.netns].sockets.listeners if str(s.addr) == "127.0.0.11")


def test_ephemeral_ports_are_deterministic_and_per_container() -> None:
    ports = []
    for _ in range(2):
        _, d = _daemon("29", seed=11)
        a, b = d.run("a", network="front"), d.run("b", network="front")
        ports.append((a.resolver.udp_port, a.resolver.tcp_port, b.resolver.udp_port, b.resolver.tcp_port))
    assert ports[0] == ports[1]
    assert ports[0][:2] != ports[0][2:]


def test_resolver_starts_once_when_a_user_network_is_connected_later() -> None:
    w, d = _daemon("29")
    c = d.run("app")
    assert c.resolver is None
    d.network_connect("front", "app")
    first = c.resolver
    assert first is not None
    d.network_connect("back", "app")
    assert c.resolver is first
    assert iptables_save(w[c.netns].ruleset, ["-t", "nat"]).count("-j DNAT") == 2


def test_names_aliases_and_network_scoped_names() -> None:
    _, d = _daemon("29")
    web = d.run("web", network="front", aliases=["www"], names=DnsSettings(hostname="web-host"))
    app = d.run("app", network="front")
    db = d.run("db", network="back")
    ip = [web.address]
    assert resolve_name(d, app, "web") == ip
    assert resolve_name(d, app, "www.") == ip
    assert resolve_name(d, app, "WEB.front") == ip
    assert resolve_name(d, app, web.id[:12]) == ip
    assert resolve_name(d, app, "web-host") == ip
    assert resolve_name(d, app, "web.back") == []
    assert resolve_name(d, app, "db") == []          # another network: not visible
    d.network_connect("back", "app")
    assert resolve_name(d, app, "db") == [db.address]
    d.stop("web")
    assert resolve_name(d, app, "web") == []


def test_two_containers_sharing_an_alias_both_answer() -> None:
    _, d = _daemon("29")
    a = d.run("a", network="front", aliases=["svc"])
    b = d.run("b", network="front", aliases=["svc"])
    c = d.run("c", network="front")
    assert sorted(resolve_name(d, c, "svc")) == sorted([a.address, b.address])


# -- resolv.conf: moby's goldens (header and required options as moby's tests pass them) --------
def _host(text: str | None):  # type: ignore[no-untyped-def]
    return lambda path: text if path == "/etc/resolv.conf" else None


@pytest.mark.parametrize("golden,era,host,settings,internal,required", [
    ("v29_TestRCTransformForIntNS_ndots_present_and_required", "29", "nameserver 127.0.0.53\noptions ndots:1",
     DnsSettings(), True, ("ndots:0",)),
    ("v29_TestRCTransformForLegacyNw_Override_nameservers", "29", "nameserver 127.0.0.53",
     DnsSettings(dns=("127.0.0.1", "::1")), False, ()),
    ("v29_TestRCTransformForLegacyNw_Routable_IPv4_only", "29", "nameserver 10.0.0.1", DnsSettings(), False, ()),
    ("v29_TestRCTransformForLegacyNw_IPv4_localhost__ipv6_disabled", "29", "nameserver 127.0.0.53", DnsSettings(),
     False, ()),
    ("v27_TestRCTransformForIntNS_No_host_nameserver__no_iv6", "27", "", DnsSettings(), True, ()),
    ("v27_TestRCTransformForIntNS_ndots_missing_but_required", "27", "nameserver 127.0.0.53", DnsSettings(), True,
     ("ndots:0",)),
])
def test_resolv_conf_matches_mobys_goldens(golden: str, era: str, host: str, settings: DnsSettings, internal: bool,
                                           required: tuple[str, ...]) -> None:
    text, _ = resolv_conf(era, _host(host), settings, internal=internal, header=False, required=required,
                          detect_systemd=False)
    assert text == (DATA / f"{golden}.golden").read_text()


def test_resolv_conf_upstreams_per_era() -> None:
    host = _host("nameserver 127.0.0.53\nnameserver 10.0.0.1\n")
    assert resolv_conf("27", host, DnsSettings(), internal=True)[1] == (
        ExtServer(ip("127.0.0.53"), True), ExtServer(ip("10.0.0.1"), False))
    for era in ("28", "29"):
        assert resolv_conf(era, host, DnsSettings(), internal=True)[1] == (
            ExtServer(ip("127.0.0.53"), True), ExtServer(ip("10.0.0.1"), True))
    # --dns servers are reached from the container's namespace
    assert resolv_conf("29", host, DnsSettings(dns=("127.0.0.53",)), internal=True)[1] == (
        ExtServer(ip("127.0.0.53"), False),)


def ip(text: str):  # type: ignore[no-untyped-def]
    from ipaddress import ip_address
    return ip_address(text)


def test_resolv_conf_whole_file_with_header_search_and_systemd_resolved() -> None:
    files = {"/etc/resolv.conf": "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
             "/run/systemd/resolve/resolv.conf": "nameserver 192.0.2.53\nsearch lab.example\n"}
    text, ext = resolv_conf("29", files.get, DnsSettings(dns_search=("corp.example",)), internal=True)
    assert text == (
        "# Generated by Docker Engine.\n"
        "# This file can be edited; Docker Engine will not make further changes once it\n"
        "# has been modified.\n\n"
        "nameserver 127.0.0.11\n"
        "search corp.example\n"
        "options ndots:0\n\n"
        "# Based on host file: '/run/systemd/resolve/resolv.conf' (internal resolver)\n"
        "# ExtServers: [host(192.0.2.53)]\n"
        "# Overrides: [search]\n"
        "# Option ndots from: internal\n")
    # the default bridge: loopback servers dropped, Google's if none is left
    files["/run/systemd/resolve/resolv.conf"] = "nameserver 127.0.0.1\n"
    text, _ = resolv_conf("28", files.get, DnsSettings(), internal=False)
    assert "nameserver 8.8.8.8\nnameserver 8.8.4.4\n" in text and "# Used default nameservers.\n" in text


def test_resolv_conf_docker_19() -> None:
    host = _host("search lab\nnameserver 127.0.1.1\nnameserver 10.0.0.1\n")
    assert resolv_conf("1.9", host, DnsSettings(), internal=False)[0] == "search lab\nnameserver 10.0.0.1\n"
    assert resolv_conf("1.9", _host("nameserver 127.0.0.53\n"), DnsSettings(), internal=False)[0] == \
        "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
    assert resolv_conf("1.9", host, DnsSettings(dns=("1.1.1.1",), dns_options=("ndots:2",)), internal=False)[0] == \
        "search lab\nnameserver 1.1.1.1\noptions ndots:2\n"


def test_hosts_file_per_era() -> None:
    from ipaddress import IPv4Address
    s = DnsSettings(extra_hosts=(("db", "10.9.9.9"),))
    addr = [IPv4Address("10.10.0.2")]
    assert hosts_file("27", s, "abcdef012345", addr) == (
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        "10.9.9.9\tdb\n10.10.0.2\tabcdef012345\n")
    assert "fe00::\tip6-localnet\nff00::\tip6-mcastprefix\n" in hosts_file("29", s, "web", addr)
    assert hosts_file("29", DnsSettings(), "web.example.com", addr).endswith("10.10.0.2\tweb.example.com web\n")
    assert hosts_file("1.9", DnsSettings(), "web", addr, [("db", IPv4Address("10.10.0.3"))]).splitlines()[::6] == [
        "10.10.0.2\tweb", "ff02::2\tip6-allrouters", ]


def test_docker_19_service_records_in_hosts() -> None:
    _, d = _daemon("1.9")
    a = d.run("a", network="front")
    b = d.run("b", network="front")
    d.run(None, network="front")                  # anonymous: no records
    assert a.etc["hosts"].endswith(f"{b.address}\tb\n{b.address}\tb.front\n")
    assert b.etc["hosts"].endswith(f"{a.address}\ta\n{a.address}\ta.front\n")
    d.stop("b")
    assert "\tb\n" not in a.etc["hosts"]


# -- through the stack: dig in a container, the DNAT and the resolver's answer -------------------
SCRIPT = """\
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name web --network-alias www nginx
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker run -d --name old busybox
ip netns exec h1 docker exec app dig @127.0.0.11 www +short
ip netns exec h1 docker exec old dig @127.0.0.11 web +time=1 +tries=1
ip netns exec h1 docker exec app iptables -t nat -F DOCKER_OUTPUT
ip netns exec h1 docker exec app dig @127.0.0.11 web +time=1 +tries=1
"""


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_dig_in_a_container_goes_through_the_dnat(era: str) -> None:
    report = run_script(SCRIPT.format(era=era)).to_json()
    assert [p["outcome"] for p in report["probes"]] == ["reply", "refused", "refused"]
    out = {o["line"]: o["stdout"] for o in report["outputs"]}
    assert out[8] == "10.10.0.2\n"
    assert "connection refused" in out[9] and "no servers could be reached" in out[11]
    ct = report["probes"][0]["conntrack"]["h1-app"][0]
    assert "dst=127.0.0.11" in ct and "dport=53" in ct and "sport=53" not in ct.split("src=127.0.0.11")[1]


# -- the CLI's forms and words -------------------------------------------------------------------
_HEAD = "ip netns add h1\nip netns exec h1 dockerd --era {era} &\n"


def _run(body: str, era: str = "29") -> dict:  # type: ignore[type-arg]
    return run_script(_HEAD.format(era=era) + body).to_json()


@pytest.mark.parametrize("line,words", [
    ("docker run -d --add-host nocolon busybox",
     'docker: invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"'),
    ("docker run -d --dns 10.0.0.300 busybox",
     'docker: invalid argument "10.0.0.300" for "--dns" flag: IP address is not correctly formatted: 10.0.0.300'),
    ("docker run -d --network-alias x busybox",
     "docker: Error response from daemon: network-scoped alias is supported only for containers in user "
     "defined networks"),
])
def test_run_name_options_are_checked_with_dockers_words(line: str, words: str) -> None:
    from simnet.script.expect import ScriptError
    with pytest.raises(ScriptError) as e:
        _run(f"ip netns exec h1 {line}\n")
    assert words in str(e.value)


def test_docker_exec_cat_shows_what_docker_wrote() -> None:
    out = _run("ip netns exec h1 docker network create --subnet 10.10.0.0/24 front\n"
               "ip netns exec h1 docker run -d --network front --name app -h app.example.com "
               "--add-host gw:host-gateway --dns 10.0.0.53 --dns-search lab --dns-option ndots:2 busybox\n"
               "ip netns exec h1 docker exec app cat /etc/resolv.conf\n"
               "ip netns exec h1 docker exec app cat /etc/hosts\n")
    texts = {o["line"]: o["stdout"] for o in out["outputs"]}
    assert texts[5].split("\n\n")[1] == "nameserver 127.0.0.11\nsearch lab\noptions ndots:2"
    assert "# ExtServers: [10.0.0.53]\n# Overrides: [nameservers search options]\n# Option ndots from: override\n" \
        in texts[5]
    assert texts[6].endswith("172.17.0.1\tgw\n10.10.0.2\tapp.example.com app\n")


def test_docker_19_link_writes_the_alias_line() -> None:
    out = _run("ip netns exec h1 docker run -d --name db redis\n"
               "ip netns exec h1 docker run -d --name web --link db:database busybox\n"
               "ip netns exec h1 docker exec web cat /etc/hosts\n", era="1.9")
    db_id, hosts = out["outputs"][0]["stdout"].strip(), out["outputs"][-1]["stdout"]
    assert hosts.splitlines()[0].startswith("172.17.0.3\t")          # 1.9: its own line first
    assert hosts.splitlines()[-1] == f"172.17.0.2\tdatabase {db_id[:12]} db"


def test_iptables_restore_reads_a_saved_file_and_words_a_missing_one() -> None:
    from simnet.script.expect import ScriptError
    out = run_script("ip netns add a\nip netns exec a iptables -t nat -A OUTPUT -d 127.0.0.11 -j ACCEPT\n"
                     "ip netns exec a iptables-save -t nat > /tmp/nat.rules\n"
                     "ip netns exec a iptables -t nat -F\n"
                     "ip netns exec a iptables-restore /tmp/nat.rules\n"
                     "ip netns exec a iptables -t nat -S OUTPUT\n").to_json()
    assert out["outputs"][-1]["stdout"] == "-P OUTPUT ACCEPT\n-A OUTPUT -d 127.0.0.11/32 -j ACCEPT\n"
    with pytest.raises(ScriptError, match="Can't open /tmp/none.rules: No such file or directory"):
        run_script("ip netns add a\nip netns exec a iptables-restore /tmp/none.rules\n")


FORWARD = """\
ip netns add h1
ip netns add lan
ip -n h1 link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns lan
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n lan addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n lan link set eth0 up
mkdir -p /etc/netns/h1
echo "nameserver 203.0.113.20" > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/git.example.com/198.51.100.7 &
ip netns exec h1 dockerd --era {era} &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker exec app dig +short git.example.com
"""


@pytest.mark.parametrize("era,origin", [("27", "h1-app"), ("28", "h1"), ("29", "h1")])
def test_forwarded_query_leaves_from_the_eras_namespace(era: str, origin: str) -> None:
    """27 reaches a non-loopback host server from the container's namespace (MASQUERADEd on the
    way out); 28+ from the host's own."""
    report = run_script(FORWARD.format(era=era)).to_json()
    probe = report["probes"][-1]
    assert probe["outcome"] == "reply" and report["outputs"][-1]["stdout"] == "198.51.100.7\n"
    forwards = [t for t in probe["trace"] if "> 203.0.113.20.53: UDP" in t["packet"]]
    assert forwards and forwards[0]["origin"] == origin


ROOT = Path(__file__).resolve().parents[3]


def test_explain_says_where_the_forgetful_firewall_killed_dns() -> None:
    import simnet
    path = ROOT / "scenarios" / "docker" / "dns-devcontainer-firewall.sh"
    report = simnet.run_script(path.read_text())
    assert report.ok
    bad = next(p for p in report.probes if "bad dig" in p.command)
    text = simnet.explain(report, line=bad.line)[0].text()
    assert "delivered in h1-bad to kernel: no udp socket on 127.0.0.11:53" in text
    assert "answered with ICMP port unreachable: nothing listens on udp port 53" in text
    good = next(p for p in report.probes if "good dig" in p.command)
    assert "nat/DOCKER_OUTPUT#2" in simnet.explain(report, line=good.line)[0].text()


def test_export_stands_a_resolver_in_and_restarts_it_when_names_change() -> None:
    from simnet.docker.export import export_scenario
    text = ("ip netns add h1\nip netns exec h1 dockerd --era 29 &\n"
            "ip netns exec h1 docker network create --subnet 10.10.0.0/24 front\n"
            "ip netns exec h1 docker run -d --network front --name a busybox\n"
            "ip netns exec h1 docker run -d --network front --name b busybox\n"
            "ip netns exec h1 docker rm -f b\n"
            "ip netns exec h1 docker exec a dig +short b\n")
    out = export_scenario(text).text.splitlines()
    standins = [i for i, line in enumerate(out) if line.startswith("ip netns exec h1-a simnet-embedded-dns --udp-port=")]
    assert len(standins) == 3          # a alone, a+b, a again after b left
    assert "--record=b,10.10.0.3" in out[standins[1]] and "--record=b," not in out[standins[2]]
    assert "--host-netns=h1" in out[standins[0]] and "--tcp-port=" in out[standins[0]]
    kills = [line for line in out if line.startswith("kill %")]
    assert len(kills) == 3             # a's first two stand-ins and b's own
    assert "cat > /etc/netns/h1-a/resolv.conf <<'EOF'" in "\n".join(out)
    # a script that looks no names up gets neither files nor stand-ins (the rules stay)
    quiet = export_scenario(text.replace("dig +short b", "ip route")).text
    assert "simnet-embedded-dns" not in quiet and "/etc/netns" not in quiet and "DOCKER_OUTPUT" in quiet


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_the_stand_in_lists_upstreams_in_order_with_the_host_ones_marked(era: str) -> None:
    """28/29 ask every server of the host's file from the host's namespace (host:IP); 27 only its
    loopback ones; --dns servers are asked from the container's."""
    from simnet.docker.export import export_scenario
    text = ("ip netns add h1\nip -n h1 link set lo up\nmkdir -p /etc/netns/h1\n"
            "printf 'nameserver 127.0.0.53\\nnameserver 203.0.113.20\\n' > /etc/netns/h1/resolv.conf\n"
            f"ip netns exec h1 dockerd --era {era} &\n"
            "ip netns exec h1 docker network create --subnet 10.10.0.0/24 front\n"
            "ip netns exec h1 docker run -d --network front --name a busybox\n"
            "ip netns exec h1 docker run -d --network front --dns 192.0.2.53 --name b busybox\n"
            "ip netns exec h1 docker exec a dig +short b\n")
    out = export_scenario(text).text.splitlines()
    a = [line for line in out if line.startswith("ip netns exec h1-a simnet-embedded-dns ")][-1]
    b = [line for line in out if line.startswith("ip netns exec h1-b simnet-embedded-dns ")][-1]
    want = "--upstream=host:127.0.0.53 --upstream=" + ("203.0.113.20" if era == "27" else "host:203.0.113.20")
    assert a.endswith(want + " &")
    assert b.endswith("--upstream=192.0.2.53 &")


def test_the_stand_in_simulates_as_the_resolver_and_words_bad_options() -> None:
    """The exported line runs in simnet too: the names it holds answer, a host: upstream is asked
    from the host's namespace (the host's OUTPUT counts it, the container's does not)."""
    script = ("ip netns add h1\nip netns add c\nip -n h1 link set lo up\nip -n c link set lo up\n"
              "ip netns exec h1 iptables -A OUTPUT -p udp --dport 53\n"
              "ip netns exec c iptables -A OUTPUT -p udp -d 127.0.0.53\n"
              "ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 127.0.0.53 "
              "--address=/corp/10.7.0.1 &\n"
              "ip netns exec c simnet-embedded-dns --udp-port=40000 --tcp-port=40001 --host-netns=h1 "
              "--record=web,10.10.0.2 --upstream=host:127.0.0.53 &\n"
              "ip netns exec c dig @127.0.0.11 -p 40000 +short web\n"
              "ip netns exec c dig @127.0.0.11 -p 40000 +short vpn.corp\n")
    report = run_script(script).to_json()
    out = {o["line"]: o["stdout"] for o in report["outputs"]}
    assert out[9] == "10.10.0.2\n" and out[10] == "10.7.0.1\n"
    host = {(c["chain"], c["rule"]): c["packets"] for c in report["probes"][1]["counters"]["h1"]}
    assert host[("OUTPUT", 1)] == 1
    assert all(c["packets"] == 0 for c in report["probes"][1]["counters"].get("c", []) if c["rule"] == 1)
    with pytest.raises(ScriptError, match=r"s\.sh:2: simnet-embedded-dns: bad port 'x' in '--udp-port=x'"):
        run_script("ip netns add c\nip netns exec c simnet-embedded-dns --udp-port=x --tcp-port=1 &\n",
                   filename="s.sh")


@pytest.mark.parametrize("era", ["27", "29"])
def test_dig_tcp_in_a_container_reaches_the_resolvers_tcp_socket(era: str) -> None:
    """dig +tcp goes through the tcp DNAT to the resolver's TCP port and gets the name's address;
    the flush of DOCKER_OUTPUT leaves no tcp listener on 127.0.0.11:53 (refused)."""
    script = SCRIPT.format(era=era).replace("app dig @127.0.0.11 www +short", "app dig +tcp @127.0.0.11 www +short")
    report = run_script(script).to_json()
    assert [p["outcome"] for p in report["probes"]] == ["reply", "refused", "refused"]
    assert report["probes"][0]["proto"] == "tcp"
    out = {o["line"]: o["stdout"] for o in report["outputs"]}
    assert out[8] == "10.10.0.2\n"
    rules = {c["rule"]: c["packets"] for c in report["probes"][0]["counters"]["h1-app"]
             if c["table"] == "nat" and c["chain"] == "DOCKER_OUTPUT" and c["rule"]}
    assert rules[1] == 1  # the tcp DNAT (listed first) took the connection's SYN
    ct = report["probes"][0]["conntrack"]["h1-app"][0]
    assert ct.startswith("tcp") and "dport=53" in ct and "TIME_WAIT" in ct


def test_the_stand_in_forwards_a_tcp_query_over_tcp_from_the_host() -> None:
    """The exported line's TCP socket forwards a name it does not hold over TCP, as the resolver's
    model does: a host: upstream dialled from the host's namespace (its tcp/53 rule counts the
    connection, the container's does not), the answer relayed on the client's connection; with no
    upstream left answering well the client gets SERVFAIL (kernel: test_tcp_forwarding_per_era_...)."""
    script = ("ip netns add h1\nip netns add c\nip -n h1 link set lo up\nip -n c link set lo up\n"
              "ip netns exec h1 iptables -A OUTPUT -p tcp --dport 53\n"
              "ip netns exec c iptables -A OUTPUT -p tcp -d 127.0.0.53\n"
              "ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 127.0.0.53 "
              "--address=/corp/10.7.0.1 &\n"
              "ip netns exec c simnet-embedded-dns --udp-port=40000 --tcp-port=40001 --host-netns=h1 "
              "--record=web,10.10.0.2 --upstream=host:127.0.0.53 &\n"
              "ip netns exec c dig +tcp @127.0.0.11 -p 40001 +short vpn.corp\n"
              "ip netns exec c dig +tcp @127.0.0.11 -p 40001 nobody.knows\n"
              "ip netns exec c dig +tcp @127.0.0.11 -p 40001 +short web\n")
    report = run_script(script).to_json()
    out = {o["line"]: o["stdout"] for o in report["outputs"]}
    assert out[9] == "10.7.0.1\n" and "status: SERVFAIL" in out[10] and out[11] == "10.10.0.2\n"
    counters = report["probes"][0]["counters"]
    host = {(c["chain"], c["rule"]): c["packets"] for c in counters["h1"] if c["table"] == "filter"}
    assert host[("OUTPUT", 1)] >= 3  # SYN, query, FIN at least: the forwarder's connection on h1's lo
    assert all(c["packets"] == 0 for c in counters.get("c", []) if c["table"] == "filter" and c["rule"] == 1)
    assert [p["proto"] for p in report["probes"]] == ["tcp"] * 3
