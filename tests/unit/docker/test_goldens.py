"""Golden fidelity: simnet's Docker rules against moby's own generated files.

* ``iptabler-golden``: ``iptables-save -t raw/filter/nat`` after moby's
  ``TestIptabler`` (NewIptabler, NewNetwork br-dummy 192.168.0.0/24,
  AddEndpoint 192.168.0.2, AddPorts 8080->80), driven through
  :class:`~simnet.docker.Firewaller` exactly as that test drives the iptabler.
* ``iptablesdoc``: the ``iptables -S`` blocks of each generated page, after
  the page's own ``docker network create`` / ``docker run`` commands on a
  :class:`~simnet.docker.DockerDaemon` (host with forwarding already on, as
  the generator's host had).
* Era 1.9 has no goldens: the RECONSTRUCTED listings of docker-rules.md §2.2.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from simnet.docker import DockerDaemon, Firewaller, NetConfig, PortBinding
from simnet.netfilter.iptables import iptables, iptables_save
from simnet.netfilter.syntax import format_save
from simnet.world import World

DATA = Path(__file__).parents[2] / "data" / "docker"
GOLDEN_DIRS = {"28": DATA / "v28.5.2" / "iptabler-golden", "29": DATA / "v29.7.2" / "iptabler-golden"}
DOC_DIRS = {"27": DATA / "era27-master-59cf8e85" / "iptablesdoc", "28": DATA / "v28.5.2" / "iptablesdoc",
            "29": DATA / "v29.7.2" / "iptablesdoc"}
SKIPPED_DOCS = {
    "index.md": "no rules: the index page",
    "swarm-portmap.md": "swarm mode (ingress overlay, docker_gwbridge) is not simulated",
}


def _save(ns, tables=("raw", "filter", "nat")) -> str:
    out = ""
    for t in tables:
        out += iptables_save(ns.ruleset, ["-t", t])  # prints an absent table too, creating nothing
    return out


def _golden_params(path: Path) -> dict[str, str]:
    base = path.name.removeprefix("TestIptabler_").split("__")[0]
    return dict(kv.split("=") if "=" in kv else (kv, "true") for kv in base.split(","))


def _golden_cases() -> list[tuple[str, Path]]:
    return [(era, p) for era, d in GOLDEN_DIRS.items() for p in sorted(d.glob("*.golden"))]


@pytest.mark.parametrize("era,path", _golden_cases(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_iptabler_golden(era: str, path: Path) -> None:
    p = _golden_params(path)
    world = World()
    ns = world.add_netns("host")
    if "no" not in p:  # "no": iptables disabled, nothing programmed
        fw = Firewaller(ns, era, hairpin=p["hairpin"] == "true")
        fw.init()
        net = NetConfig(bridge="br-dummy", subnet=IPv4Network("192.168.0.0/24"),
                        icc=p.get("icc", "true") == "true", internal=p.get("internal", "false") == "true",
                        masq=p.get("masq", "true") == "true", gateway_mode=p.get("gwm", "nat"),
                        host_ipv4=IPv4Address("192.168.123.0") if p.get("snat") == "true" else None)
        addr = IPv4Address("192.168.0.2")
        ports = [PortBinding.parse(("127.0.0.1:" if p.get("bindlh") == "true" else "") + "8080:80")]
        fw.new_network(net)
        fw.add_endpoint(net, addr)
        if not net.internal:
            fw.add_ports(net, addr, ports)
        if "cleaned" in p:
            fw.del_ports(net, addr, ports)
            fw.del_endpoint(net, addr)
            fw.del_network(net)
    assert _save(ns) == path.read_text()


# --------------------------------------------------------------------------- iptablesdoc pages


def _doc_commands(text: str) -> list[list[str]]:
    """The page's shell commands (tab-indented, with backslash continuations), as word lists."""
    lines = [ln[1:] for ln in text.splitlines() if ln.startswith("\t")]
    cmds, cur = [], ""
    for ln in lines:
        cur += " " + ln.strip().rstrip("\\")
        if not ln.rstrip().endswith("\\"):
            cmds.append(cur.split())
            cur = ""
    return cmds


def _doc_blocks(text: str) -> list[tuple[str, str]]:
    """Each ``iptables commands`` block: (table, expected ``iptables -t TABLE -S``)."""
    out = []
    for block in re.findall(r"<summary>iptables commands</summary>\n(.*?)</details>", text, re.S):
        rules = "".join(ln[4:] + "\n" for ln in block.splitlines() if ln.startswith("    -"))
        chains = set(re.findall(r"^-P (\S+)", rules, re.M))
        table = "filter" if "FORWARD" in chains else "nat" if "POSTROUTING" in chains else "raw"
        out.append((table, rules))
    return out


def _apply_doc(daemon: DockerDaemon, cmds: list[list[str]], page: str) -> None:
    last_net = "bridge"
    for words in cmds:
        if words[:3] == ["docker", "network", "create"]:
            opts, subnet, internal, i = {}, None, False, 3
            while i < len(words):
                w = words[i]
                if w == "-o":
                    k, v = words[i + 1].split("=", 1)
                    opts[k] = v
                    i += 2
                elif w == "--subnet":
                    subnet, i = words[i + 1], i + 2
                elif w == "--gateway":
                    i += 2
                elif w == "--internal":
                    internal, i = True, i + 1
                else:
                    i += 1
            name = opts["com.docker.network.bridge.name"]
            if page == "usernet-internal.md" and name == "bridgeNoICC":
                # the page's prose says enable_icc=true; its generator (and its rules) use false
                opts["com.docker.network.bridge.enable_icc"] = "false"
            daemon.network_create(name, subnet=subnet, internal=internal, options=opts)
            last_net = name
        elif words[:2] == ["docker", "run"]:
            publish, net = [], last_net
            for j, w in enumerate(words):
                if w == "-p":
                    publish.append(words[j + 1])
                elif w == "--network":
                    net = words[j + 1]
            daemon.run(f"c{len(daemon.containers) + 1}", network=net, publish=publish)


def _doc_cases() -> list[tuple[str, Path]]:
    return [(era, p) for era, d in DOC_DIRS.items() for p in sorted(d.glob("*.md"))]


@pytest.mark.parametrize("era,path", _doc_cases(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_iptablesdoc_page(era: str, path: Path) -> None:
    if era == "27" and path.name == "usernet-portmap-routed.md":
        pytest.skip("era 27's gateway_mode_ipv4=routed rules are not simulated")
    if path.name in SKIPPED_DOCS:
        pytest.skip(SKIPPED_DOCS[path.name])
    text = path.read_text()
    world = World()
    host = world.add_netns("host")
    host.sysctls.set("net.ipv4.ip_forward", 1)  # the generator's host already forwarded
    daemon = DockerDaemon(world, "host", era=era, userland_proxy="noproxy" not in path.name)
    daemon.start()
    _apply_doc(daemon, _doc_commands(text), path.name)
    blocks = _doc_blocks(text)
    assert blocks
    for table, expected in blocks:
        assert iptables(host.ruleset, ["-t", table, "-S"]) == expected, table


# --------------------------------------------------------------------------- era 1.9 (RECONSTRUCTED, §2.2)

V19_NEW_DAEMON = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
COMMIT
"""

V19_PORT_NAT = """\
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j MASQUERADE
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 1180 -j DNAT --to-destination 172.17.0.2:5000
"""
V19_PORT_FILTER = "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5000 -j ACCEPT\n"

V19_NET1 = """\
-A POSTROUTING -s 172.18.0.0/16 ! -o br-XXXXXXXXXXXX -j MASQUERADE
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A FORWARD -s 172.17.0.0/16 -d 172.18.0.0/16 -j DROP
-A FORWARD -s 172.18.0.0/16 -d 172.17.0.0/16 -j DROP
-A FORWARD -o br-XXXXXXXXXXXX -j DOCKER
-A FORWARD -o br-XXXXXXXXXXXX -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i br-XXXXXXXXXXXX ! -o br-XXXXXXXXXXXX -j ACCEPT
-A FORWARD -i br-XXXXXXXXXXXX -o br-XXXXXXXXXXXX -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
"""

V19_NOPROXY_NAT = """\
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j MASQUERADE
-A DOCKER -p tcp -m tcp --dport 1180 -j DNAT --to-destination 172.17.0.2:5000
"""


def _v19(**kw) -> DockerDaemon:
    world = World()
    world.add_netns("host")
    d = DockerDaemon(world, "host", era="1.9", **kw)
    d.start()
    return d


def _lines(text: str, prefix: tuple[str, ...]) -> str:
    return "".join(ln + "\n" for ln in text.splitlines() if ln.startswith(prefix))


def test_v19_new_daemon() -> None:
    d = _v19()
    got = format_save(d.host.ruleset, tables=["nat"]) + format_save(d.host.ruleset, tables=["filter"])
    assert got == V19_NEW_DAEMON


def test_v19_published_port() -> None:
    d = _v19()
    d.run("registry", publish=["1180:5000"])
    nat = format_save(d.host.ruleset, tables=["nat"])
    assert _lines(nat, ("-A POSTROUTING", "-A DOCKER")) == V19_PORT_NAT
    assert _lines(format_save(d.host.ruleset, tables=["filter"]), ("-A DOCKER",)) == V19_PORT_FILTER


def test_v19_user_network_isolation_pairs() -> None:
    d = _v19()
    net = d.network_create("net1")
    assert str(net.subnet) == "172.18.0.0/16"
    got = format_save(d.host.ruleset, tables=["nat"]) + format_save(d.host.ruleset, tables=["filter"])
    got = got.replace(net.bridge, "br-XXXXXXXXXXXX")
    assert _lines(got, ("-A POSTROUTING", "-A FORWARD")) == V19_NET1


def test_v19_icc_false_and_ip_masq_false() -> None:
    d = _v19(icc=False)
    filt = format_save(d.host.ruleset, tables=["filter"])
    assert filt.splitlines()[-2] == "-A FORWARD -i docker0 -o docker0 -j DROP"
    assert d.host.sysctls.get("net.bridge.bridge-nf-call-iptables") == "1"
    d = _v19(ip_masq=False)
    assert "MASQUERADE" not in format_save(d.host.ruleset, tables=["nat"])


def test_v19_userland_proxy_false() -> None:
    d = _v19(userland_proxy=False)
    c = d.run("registry", publish=["1180:5000"])
    nat = format_save(d.host.ruleset, tables=["nat"])
    assert _lines(nat, ("-A ",)) == V19_NOPROXY_NAT
    assert d.host.sysctls.get("net.ipv4.conf.docker0.route_localnet") == "1"
    assert d.host.dev(c.veth).hairpin and not c.proxies
