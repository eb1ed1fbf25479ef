"""Issue 19.5: daemon and network options, each in the eras that have it."""

from __future__ import annotations

import pytest

from simnet.netfilter.iptables import iptables
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

HOST = """ip netns add h1
ip netns add client
ip -n h1 link set lo up
ip -n client link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns client
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n client link set eth0 up
ip -n client route add 172.16.0.0/12 via 203.0.113.10
ip netns exec h1 sysctl -w net.ipv4.ip_forward=1
"""


def _raw(r) -> str:
    return iptables(r.world["h1"].ruleset, ["-t", "raw", "-S", "PREROUTING"])


@pytest.mark.parametrize("era", ["1.9", "27", "29"])
def test_bridge_flag_needs_an_existing_bridge(era: str) -> None:
    with pytest.raises(ScriptError, match=r's\.sh:12: failed to start daemon: Error initializing network controller: '
                                          r'[eE]rror creating default "bridge" network: bridge device with non default '
                                          r"name br0 must be created manually$"):
        run_script(HOST + f"ip netns exec h1 dockerd --era {era} -b br0 &\n", filename="s.sh")
    r = run_script(HOST + "ip -n h1 link add br0 type bridge\nip -n h1 addr add 10.99.0.1/24 dev br0\n"
                   f"ip netns exec h1 dockerd --era {era} -b br0 &\n"
                   "ip netns exec h1 docker run -d --name a busybox\n")
    assert str(r.docker["h1"].containers["a"].address) == "10.99.0.2"
    assert "docker0" not in r.world["h1"].devices


def test_bridge_none_has_no_default_network() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd -b none &\n"
                   "ip netns exec h1 docker run -d --name a busybox\n"
                   "ip netns exec h1 docker network ls\n"
                   "ip netns exec h1-a ip -br link\n")
    assert "docker0" not in r.world["h1"].devices
    assert [row.split()[1] for row in r.outputs[-2]["stdout"].splitlines()[1:]] == ["host", "none"]
    assert [ln.split()[0] for ln in r.outputs[-1]["stdout"].splitlines()] == ["lo"]
    r = run_script(HOST + "ip netns exec h1 dockerd -b none &\n"  # even asked for, bridge is just disabled
                   "ip netns exec h1 docker run -d --network bridge --name a busybox\n")
    assert set(r.world["h1-a"].devices) == {"lo"}


@pytest.mark.parametrize("era,ok", [("27", False), ("28", False), ("29", True)])
def test_ip_without_subnet_from_29_1(era: str, ok: bool) -> None:
    script = (HOST + f"ip netns exec h1 dockerd --era {era} &\nip netns exec h1 docker network create n\n"
              "ip netns exec h1 docker run -d --network n --ip {ip} --name a busybox\n")
    if ok:
        assert str(run_script(script.format(ip="172.18.0.50")).docker["h1"].containers["a"].address) == "172.18.0.50"
        with pytest.raises(ScriptError, match="Error response from daemon: invalid endpoint settings:\n"
                                              "no configured subnet contains IP address 10.9.9.9$"):
            run_script(script.format(ip="10.9.9.9"))
    else:
        with pytest.raises(ScriptError, match="Error response from daemon: invalid endpoint settings:\n"
                                              "user specified IP address is supported only when connecting to "
                                              "networks with user configured subnets$"):
            run_script(script.format(ip="172.18.0.50"))
    with pytest.raises(ScriptError, match="invalid endpoint settings:\nuser.specified IP address is supported on "
                                          "user.defined networks only$"):
        run_script(HOST + f"ip netns exec h1 dockerd --era {era} &\n"
                   "ip netns exec h1 docker run -d --ip 172.17.0.9 --name a busybox\n")


def test_ip_forward_no_drop() -> None:
    script = ("ip netns add h1\nip netns exec h1 dockerd --era {era} {flag} &\n"
              "ip netns exec h1 iptables -S FORWARD\n")
    out = run_script(script.format(era="29", flag="--ip-forward-no-drop")).outputs[-1]["stdout"]
    assert out.splitlines()[0] == "-P FORWARD ACCEPT"
    assert run_script(script.format(era="29", flag="")).outputs[-1]["stdout"].splitlines()[0] == "-P FORWARD DROP"
    with pytest.raises(ScriptError, match="unknown flag: --ip-forward-no-drop"):
        run_script(script.format(era="27", flag="--ip-forward-no-drop"))


@pytest.mark.parametrize("flags,dropped", [("", True), ("--allow-direct-routing", False),
                                           ("-o com.docker.network.bridge.trusted_host_interfaces=eth0", False),
                                           ("env", False)])
def test_direct_routing_to_a_container(flags: str, dropped: bool) -> None:
    daemon = ("env DOCKER_INSECURE_NO_IPTABLES_RAW=1 dockerd --era 29 &" if flags == "env" else
              f"dockerd --era 29 {flags if flags.startswith('--') else ''} &")
    netopt = flags if flags.startswith("-o") else ""
    r = run_script(HOST + f"ip netns exec h1 {daemon}\n"
                   f"ip netns exec h1 docker network create --subnet 172.20.0.0/16 {netopt} n\n"
                   "ip netns exec h1 docker run -d --network n -p 8080:80 --name web busybox nc -l -k -p 80\n"
                   "ip netns exec client nc -z -w 1 172.20.0.2 80\n")  # the published port, directly
    assert (r.probes[-1].result.outcome == "timeout") is dropped
    raw = _raw(r)
    assert ("-A PREROUTING -d 172.20.0.2/32 ! -i br-" in raw) is (flags in ("", "-o com.docker.network.bridge."
                                                                          "trusted_host_interfaces=eth0"))
    if "trusted" in flags:
        assert raw.index("-d 172.20.0.2/32 -i eth0 -j ACCEPT") < raw.index("! -i br-")
    with pytest.raises(ScriptError, match="unknown flag: --allow-direct-routing"):
        run_script(HOST + "ip netns exec h1 dockerd --era 27 --allow-direct-routing &\n")


def test_gateway_mode_isolated() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd --era 29 &\n"
                   "ip netns exec h1 docker network create --internal -o com.docker.network.bridge.gateway_mode_ipv4"
                   "=isolated iso\n"
                   "ip netns exec h1 docker run -d --network iso --name a busybox nc -l -k -p 80\n"
                   "ip netns exec h1 docker run -d --network iso --name b busybox\n"
                   "ip netns exec h1 docker exec b nc -z -w 1 172.18.0.1 80\n"
                   "ip netns exec h1 nc -z -w 1 172.18.0.1 80\n")
    d = r.docker["h1"]
    bridge = d.networks["iso"].bridge
    assert not [a for a in r.world["h1"].addrs if a.dev == bridge]  # no address on the bridge
    assert str(d.containers["a"].address) == "172.18.0.1"  # no gateway: the first address is a container's
    assert [p.result.outcome for p in r.probes] == ["connected", "error"]
    with pytest.raises(ScriptError, match="gateway mode 'isolated' can only be used for an internal network"):
        run_script(HOST + "ip netns exec h1 dockerd &\n"
                   "ip netns exec h1 docker network create -o com.docker.network.bridge.gateway_mode_ipv4=isolated x\n")
    with pytest.raises(ScriptError, match=r"failed to parse com\.docker\.network\.bridge\.gateway_mode_ipv4 value: "
                                          r"isolated \(unknown gateway mode isolated\)"):
        run_script(HOST + "ip netns exec h1 dockerd --era 27 &\n"
                   "ip netns exec h1 docker network create --internal -o "
                   "com.docker.network.bridge.gateway_mode_ipv4=isolated x\n")


def test_inhibit_ipv4_leaves_the_bridge_without_address() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd &\n"
                   "ip netns exec h1 docker network create --subnet 10.50.0.0/24 "
                   "-o com.docker.network.bridge.inhibit_ipv4=true n\n"
                   "ip netns exec h1 docker run -d --network n --name a busybox\n"
                   "ip netns exec h1-a ip route\n")
    bridge = r.docker["h1"].networks["n"].bridge
    assert not [a for a in r.world["h1"].addrs if a.dev == bridge]
    assert r.outputs[-1]["stdout"].startswith("default via 10.50.0.1 dev eth0")
    with pytest.raises(ScriptError, match=r'failed to parse com\.docker\.network\.bridge\.inhibit_ipv4 value: maybe '
                                          r'\(strconv\.ParseBool: parsing "maybe": invalid syntax\)'):
        run_script(HOST + "ip netns exec h1 dockerd &\n"
                   "ip netns exec h1 docker network create -o com.docker.network.bridge.inhibit_ipv4=maybe n\n")


def test_default_network_opt_and_sysctl() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd --default-network-opt "
                   "bridge=com.docker.network.bridge.enable_icc=false &\n"
                   "ip netns exec h1 docker network create n\n"
                   "ip netns exec h1 docker run -d --network n --sysctl net.ipv4.conf.eth0.rp_filter=2 "
                   "--sysctl net.ipv4.ip_forward=1 --name a busybox\n"
                   "ip netns exec h1 iptables -S DOCKER-FORWARD\n")
    assert "-A DOCKER-FORWARD -i br-" in r.outputs[-1]["stdout"] and "-j DROP" in r.outputs[-1]["stdout"]
    ns = r.world["h1-a"]
    assert ns.sysctls.get_int("net.ipv4.conf.eth0.rp_filter") == 2 and ns.sysctls.get_int("net.ipv4.ip_forward") == 1
    with pytest.raises(ScriptError, match="unknown flag: --default-network-opt"):
        run_script("ip netns add h1\nip netns exec h1 dockerd --era 1.9 --default-network-opt bridge=a=b &\n")
    with pytest.raises(ScriptError, match="unknown flag: --sysctl"):
        run_script("ip netns add h1\nip netns exec h1 dockerd --era 1.9 &\n"
                   "ip netns exec h1 docker run -d --sysctl net.ipv4.ip_forward=1 busybox\n")


@pytest.mark.parametrize("live", [False, True])
def test_live_restore_keeps_containers_and_rules(live: bool) -> None:
    r = run_script(HOST + f"ip netns exec h1 dockerd --era 29 {'--live-restore' if live else ''} &\n"
                   "ip netns exec h1 docker run -d -p 8080:80 --name web busybox nc -l -k -p 80\n"
                   "ip netns exec h1 systemctl restart docker\n"
                   "ip netns exec client nc -z -w 1 203.0.113.10 8080\n"
                   "ip netns exec h1 iptables -t nat -S DOCKER\n")
    assert (r.probes[-1].result.outcome == "connected") is live
    assert ("--dport 8080 -j DNAT --to-destination 172.17.0.2:80" in r.outputs[-1]["stdout"]) is live
    assert ("h1-web" in r.world.namespaces) is live
    with pytest.raises(ScriptError, match="unknown flag: --live-restore"):
        run_script("ip netns add h1\nip netns exec h1 dockerd --era 1.9 --live-restore &\n")
