"""docker, dockerd and systemctl lines in scenario scripts, and the export to plain ip/iptables."""

from __future__ import annotations

from pathlib import Path

import pytest

from simnet.docker.export import export_scenario
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

ROOT = Path(__file__).resolve().parents[3]
DOCKER_SCENARIOS = sorted((ROOT / "scenarios" / "docker").glob("*.sh"))

HOST = """ip netns add h1
ip netns add client
ip -n h1 link add eth0 type veth peer name eth0 netns client
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n client link set eth0 up
"""


@pytest.mark.parametrize("path", DOCKER_SCENARIOS, ids=lambda p: p.name)
def test_docker_scenarios_pass(path: Path) -> None:
    report = run_script(path)
    assert report.probes and report.ok, [(p.line, p.result.outcome) for p in report.failed]


@pytest.mark.parametrize("path", DOCKER_SCENARIOS, ids=lambda p: p.name)
def test_export_is_docker_free_and_simulates_the_same(path: Path) -> None:
    exported = export_scenario(path)
    code = [ln for ln in exported.text.splitlines() if not ln.startswith("#")]
    assert not any(ln.split()[4:5] in (["docker"], ["dockerd"]) or ln.startswith("docker") for ln in code)
    original = {p.line: p for p in run_script(path).probes}
    again = run_script(exported.text, filename="exported.sh")
    for p in again.probes:
        line = exported.original_line(p.line)
        if line in exported.skips:
            continue
        o = original[line].result
        assert (p.result.outcome, p.result.errno) == (o.outcome, o.errno), line
        assert (p.result.received and (p.result.received.ns, str(p.result.received.src))) == (
            o.received and (o.received.ns, str(o.received.src))), line


def test_errors_name_file_and_line_in_dockers_words() -> None:
    with pytest.raises(ScriptError, match=r"s\.sh:2: docker: Cannot connect to the Docker daemon"):
        run_script("ip netns add h1\nip netns exec h1 docker run -d --name x busybox\n", filename="s.sh")
    with pytest.raises(ScriptError, match=r"s\.sh:4: docker: Error response from daemon: Conflict\. The container "
                                          r'name "/x" is already in use'):
        run_script("ip netns add h1\nip netns exec h1 dockerd &\nip netns exec h1 docker run -d --name x busybox\n"
                   "ip netns exec h1 docker run -d --name x busybox\n", filename="s.sh")
    with pytest.raises(ScriptError, match=r"s\.sh:1: docker: 'frobnicate' is not a docker command"):
        run_script("docker frobnicate\n", filename="s.sh")
    with pytest.raises(ScriptError, match=r"s\.sh:1: docker run: unknown flag: --bogus"):
        run_script("docker run -d --bogus busybox\n", filename="s.sh")
    with pytest.raises(ScriptError, match="Error response from daemon: No such container: nope"):
        run_script(HOST + "ip netns exec h1 dockerd &\nip netns exec h1 docker exec nope ping -c 1 1.1.1.1\n")


def test_ps_and_network_ls_columns() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd &\n"
                   "ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2\n"
                   "ip netns exec h1 docker ps\nip netns exec h1 docker network ls\n")
    ps, ls = r.outputs[-2]["stdout"].splitlines(), r.outputs[-1]["stdout"].splitlines()
    assert ps[0].split("   ") [:2] == ["CONTAINER ID", "IMAGE"]
    assert ps[1].endswith("0.0.0.0:1180->5000/tcp   registry")
    assert '"/entrypoint.sh /etc…"' in ps[1]
    assert ls[0] == "NETWORK ID     NAME      DRIVER    SCOPE"
    assert [row.split()[1:] for row in ls[1:]] == [["bridge", "bridge", "local"], ["host", "host", "local"],
                                                   ["none", "null", "local"]]


def test_inspect_format_and_container_namespace_name() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd --era 1.9 &\n"
                   "ip netns exec h1 docker run -d --name web nginx\n"
                   "ip netns exec h1 docker inspect -f '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.MacAddress}}'"
                   " web\n"
                   "ip netns exec h1-web ip -br addr show eth0\n")
    assert r.outputs[-2]["stdout"] == "172.17.0.2 02:42:ac:11:00:02\n"
    assert "172.17.0.2/16" in r.outputs[-1]["stdout"]


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_restart_keeps_user_rules_and_docker_user(era: str) -> None:
    script = (HOST + "ip netns exec h1 iptables -A FORWARD -s 10.9.9.9 -j DROP\n"
              f"ip netns exec h1 dockerd --era {era} &\n"
              "ip netns exec h1 docker network create --subnet 10.10.0.0/24 front\n"
              "ip netns exec h1 iptables -A FORWARD -s 10.8.8.8 -j DROP\n"
              + ("ip netns exec h1 iptables -I DOCKER-USER -s 10.7.7.7 -j DROP\n" if era != "1.9" else "")
              + "ip netns exec h1 iptables-save\n"
              "ip netns exec h1 systemctl restart docker\n"
              "ip netns exec h1 iptables-save\n")
    r = run_script(script)
    before, after = r.outputs[-2]["stdout"], r.outputs[-1]["stdout"]

    def rules(text: str) -> list[str]:
        return sorted(ln for ln in text.splitlines() if ln.startswith(("-A", ":")) and "[" not in ln
                      or ln.startswith("-A"))
    assert rules(before) == rules(after)  # the same rules, none lost or duplicated
    fwd = [ln for ln in after.splitlines() if ln.startswith("-A FORWARD")]
    assert fwd.index("-A FORWARD -s 10.9.9.9/32 -j DROP") < fwd.index("-A FORWARD -s 10.8.8.8/32 -j DROP")
    if era != "1.9":
        assert fwd[0] == "-A FORWARD -j DOCKER-USER"
        assert "-A DOCKER-USER -s 10.7.7.7/32 -j DROP" in after
    d = r.docker["h1"]
    assert set(d.networks) == {"bridge", "front"}


def test_restart_restarts_only_restart_always_containers() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd &\n"
                   "ip netns exec h1 docker run -d --restart always --name a busybox\n"
                   "ip netns exec h1 docker run -d --name b busybox\n"
                   "ip netns exec h1 dockerd &\n")  # dockerd again = a restart
    d = r.docker["h1"]
    assert d.containers["a"].running and not d.containers["b"].running
    assert "h1-b" not in r.world.namespaces


def test_dockerd_again_can_change_era_and_options() -> None:
    r = run_script(HOST + "ip netns exec h1 dockerd --era 27 &\n"
                   "ip netns exec h1 dockerd --era 29 --userland-proxy=false &\n"
                   "ip netns exec h1 iptables -S DOCKER-FORWARD\n")
    d = r.docker["h1"]
    assert d.era == "29" and not d.userland_proxy
    assert "-A DOCKER-FORWARD -j DOCKER-CT" in r.outputs[-1]["stdout"]
