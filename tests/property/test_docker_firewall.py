"""Property testing a Docker host's firewall as users do it (issue #12, "Property testing as users do it").

The mistake: an SSH guard in DOCKER-USER written as ``-p tcp --dport 22 -j DROP``. DOCKER-USER
sits in FORWARD, after nat PREROUTING's DNAT, so it sees the *container's* port: a container
published as ``-p 22:80`` is reached on the host's port 22 anyway. Docker's documentation
matches the original destination with conntrack instead (``--ctorigdstport 22``).

Hypothesis finds that with :func:`simnet.strategies.docker_hosts`, shrinks it to one nginx
container published on 22, and :func:`simnet.testing.replay_script` prints it as a script that
``simnet run`` replays; the replay fails the same way. The conntrack guard holds for every drawn
host, and through a stateful machine of rule edits and docker commands.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, find, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, precondition, rule

from simnet import strategies as sst
from simnet.cli import main as simnet_main
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from simnet.strategies import DockerContainer, DockerHost
from simnet.testing import ReachabilityError, assert_unreachable, replay_script

HOST = "203.0.113.10"

#: a plausible hand-written firewall: the host's own sshd and published ports, "guarded"
NAIVE = """\
iptables -A INPUT -i eth0 -p tcp --dport 22 -j DROP
iptables -I DOCKER-USER -i eth0 -p tcp --dport 22 -j DROP
"""
#: the same intent, matching the port the client asked for (before DNAT)
GUARDED = """\
iptables -A INPUT -i eth0 -p tcp --dport 22 -j DROP
iptables -I DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 22 -j DROP
"""


def _ssh_from_outside(host: DockerHost, firewall: str) -> ReachabilityError | None:
    """The failure of "outside cannot connect to the host's port 22", or None when it holds."""
    try:
        report = host.build(firewall=firewall)
    except ScriptError:
        return None  # the daemon refused a drawn command: nothing to check
    try:
        assert_unreachable(report.world, host.outside, HOST, port=22)
    except ReachabilityError as e:
        return e
    return None


def test_hypothesis_finds_and_shrinks_the_dport_guard_mistake(tmp_path, capsys) -> None:
    shrunk = find(sst.docker_hosts(), lambda h: _ssh_from_outside(h, NAIVE) is not None,
                  settings=settings(max_examples=500, derandomize=True, database=None, deadline=None,
                                    suppress_health_check=list(HealthCheck)))
    # the smallest counterexample: the first era, no options, one nginx published on 22
    assert shrunk == DockerHost(era="29", containers=(DockerContainer(name="c0", image="nginx", publish=("22:80",)),))
    failure = _ssh_from_outside(shrunk, NAIVE)
    assert failure is not None and failure.result.outcome == "connected"
    script = replay_script(shrunk.script(firewall=NAIVE), failure)
    print(script)  # what a user sees with pytest -s: the counterexample as a script
    assert "ip netns exec host docker run -d --name c0 -p 22:80 nginx\n" in script
    assert script.endswith("ip netns exec outside nc -z -w 1 203.0.113.10 22\n# expect: timeout\n")

    # the replay fails the same way: simnet run exits 1, the probe connects to the container
    path = tmp_path / "counterexample.sh"
    path.write_text(script)
    assert simnet_main(["run", str(path)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"→ connected .*host-c0.* +expect timeout: FAILED", out)
    (probe,) = run_script(script).probes
    assert (probe.result.outcome, probe.ok) == ("connected", False)
    # and the documented fix makes the same script pass
    fixed = script.replace("--dport 22 -j DROP\nip netns exec host docker",
                           "-m conntrack --ctorigdstport 22 -j DROP\nip netns exec host docker", 1)
    fixed = fixed.replace("-I DOCKER-USER -i eth0 -p tcp --dport 22", "-I DOCKER-USER -i eth0 -p tcp -m conntrack "
                          "--ctorigdstport 22")
    (probe,) = run_script(fixed).probes
    assert (probe.result.outcome, probe.ok) == ("timeout", True)


@settings(max_examples=40, deadline=None)
@given(sst.docker_hosts())
def test_the_conntrack_guard_holds_for_any_docker_host(host: DockerHost) -> None:
    failure = _ssh_from_outside(host, GUARDED)
    assert failure is None, replay_script(host.script(firewall=GUARDED), failure)


def test_docker_hosts_checks_its_bounds_and_writes_docker_commands() -> None:
    import pytest
    from hypothesis.errors import InvalidArgument

    for bad in ({"eras": ("30",)}, {"max_containers": -1}, {"host_ports": (0,)}):
        with pytest.raises(InvalidArgument):
            sst.docker_hosts(**bad).example()
    net = sst.DockerNetwork(name="back", subnet="10.10.0.0/24", internal=True, icc=False)
    assert net.command() == ("docker network create --subnet 10.10.0.0/24 --internal "
                             "-o com.docker.network.bridge.enable_icc=false back")
    c = DockerContainer(name="db", image="redis", network="back", publish=("127.0.0.1:6379:6379",), restart="always")
    assert c.command() == "docker run -d --name db --network back -p 127.0.0.1:6379:6379 --restart always redis"


# ----------------------------------------------------------------------------- a stateful machine


class DockerHostFirewall(RuleBasedStateMachine):
    """Steps an operator takes on a Docker host: docker commands and firewall edits.

    Invariant: nothing reaches port 22 from outside, neither the host's own sshd nor a published
    port. Each check replays the whole script so far (simnet is deterministic), so a failure is
    reported with the script that shows it.
    """

    containers = Bundle("containers")

    def __init__(self) -> None:
        super().__init__()
        self.host = DockerHost(options=("--userland-proxy=false",))
        self.lines: list[str] = []
        self.count = 0
        self.edits: list[str] = []

    def _try(self, *lines: str) -> bool:
        """Run the script with these lines added; keep them when it runs (a refused docker
        command, as the real CLI refuses it, changes nothing)."""
        try:
            self._build(self.lines + list(lines))
        except ScriptError as e:
            note(f"refused: {e}")
            return False
        self.lines += lines
        return True

    def _script(self, lines: list[str]) -> str:
        return self.host.script(before_docker="nc -l -k -p 22 &", firewall=GUARDED + "\n".join(lines))

    def _build(self, lines: list[str]):
        return run_script(self._script(lines), filename="<machine>")

    @rule(target=containers, image=st.sampled_from(["nginx", "redis", "busybox"]),
          publish=st.lists(st.sampled_from(["22:80", "2222:22", "8080:80", "22:6379", "443:443"]), max_size=2,
                           unique=True), network=st.sampled_from(["bridge", "front"]))
    def docker_run(self, image: str, publish: list[str], network: str) -> str:
        name = f"c{self.count}"
        self.count += 1
        words = ["docker run -d", f"--name {name}"] + [f"--network {network}"] * (network != "bridge")
        self._try(" ".join(words + [f"-p {p}" for p in publish] + [image]))  # no "front" yet: refused
        return name

    @rule()
    def docker_network_create(self) -> None:
        self._try("docker network create --subnet 10.10.0.0/24 front")

    @rule(name=consumes(containers))
    def docker_rm(self, name: str) -> None:
        self._try(f"docker rm -f {name}")

    @rule(name=containers)
    def docker_restart(self, name: str) -> None:
        self._try(f"docker restart {name}")

    @rule()
    def restart_the_daemon(self) -> None:
        self._try("systemctl restart docker")

    @rule(port=st.sampled_from([80, 443, 8080]))
    def open_a_web_port(self, port: int) -> None:
        edit = f"iptables -A INPUT -p tcp --dport {port} -j ACCEPT"
        if self._try(edit):
            self.edits.append(edit)

    @rule(port=st.sampled_from([80, 443]))
    def let_a_container_port_through(self, port: int) -> None:
        edit = f"iptables -A DOCKER-USER -p tcp --dport {port} -j RETURN"
        if self._try(edit):
            self.edits.append(edit)

    @precondition(lambda self: bool(self.edits))
    @rule(data=st.data())
    def undo_an_edit(self, data: st.DataObject) -> None:
        edit = data.draw(st.sampled_from(self.edits))
        if self._try(edit.replace(" -A ", " -D ", 1)):
            self.edits.remove(edit)

    @invariant()
    def nothing_reaches_port_22_from_outside(self) -> None:
        report = self._build(self.lines)
        try:
            assert_unreachable(report.world, self.host.outside, HOST, port=22)
        except ReachabilityError as e:
            raise AssertionError(f"{e}\n\nreplay with simnet run:\n{replay_script(self._script(self.lines), e)}") \
                from None


DockerHostFirewall.TestCase.settings = settings(max_examples=12, stateful_step_count=6, deadline=None,
                                                suppress_health_check=list(HealthCheck))
TestDockerHostFirewall = DockerHostFirewall.TestCase
