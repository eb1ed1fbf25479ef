"""Docker's MTU (issue #15): dockerd ``--mtu`` and ``-o com.docker.network.driver.mtu``.

libnetwork's bridge driver reads the option with strconv.Atoi (its parseErr words), refuses a
negative MTU, sets it on both ends of each endpoint's veth pair, and (23+, so eras 27-29) on the
bridge itself; dockerd's ``--mtu`` is the default bridge network's option. A container's SYN
then advertises its eth0's MTU less 40.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

import simnet
from simnet.tcp_output import route_mss

BASE = """\
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era {era} --mtu 1400 &
ip netns exec h1 docker network create -o com.docker.network.driver.mtu=1450 --subnet 10.30.0.0/24 ov
ip netns exec h1 docker run -d --name a busybox
ip netns exec h1 docker run -d --network ov --name b busybox
"""


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_driver_mtu_reaches_the_veths_and_the_bridge(era: str) -> None:
    world = simnet.run_script(BASE.format(era=era)).world
    host, a, b = world.netns("h1"), world.netns("h1-a"), world.netns("h1-b")
    assert a.dev("eth0").mtu == 1400 and b.dev("eth0").mtu == 1450
    ports = {d.master: d.mtu for d in host.devices.values() if d.master is not None}
    assert ports == {"docker0": 1400, next(n for n in ports if n.startswith("br-")): 1450}
    assert host.dev("docker0").mtu == 1400
    # the containers' SYNs advertise their MTU less 40
    assert route_mss(a, IPv4Address("172.17.0.1")) == 1360
    assert route_mss(b, IPv4Address("10.30.0.1")) == 1410


def test_no_mtu_leaves_1500() -> None:
    world = simnet.run_script("ip netns add h1\nip netns exec h1 dockerd &\n"
                              "ip netns exec h1 docker run -d --name a busybox\n").world
    assert world.netns("h1-a").dev("eth0").mtu == 1500


@pytest.mark.parametrize("value, words", [
    ("abc", 'failed to parse com.docker.network.driver.mtu value: abc (strconv.Atoi: parsing "abc": invalid syntax)'),
    ("-5", "invalid MTU number: -5"),
])
def test_bad_driver_mtu_is_refused_with_dockers_words(value: str, words: str) -> None:
    with pytest.raises(ValueError) as e:
        simnet.run_script("ip netns add h1\nip netns exec h1 dockerd &\n"
                          f"ip netns exec h1 docker network create -o com.docker.network.driver.mtu={value} x\n")
    assert str(e.value) == f"<script>:3: Error response from daemon: {words}"


def test_dockerd_mtu_must_be_a_number() -> None:
    with pytest.raises(ValueError) as e:
        simnet.run_script("ip netns add h1\nip netns exec h1 dockerd --mtu big &\n")
    assert str(e.value) == ('<script>:2: invalid argument "big" for "--mtu" flag: strconv.ParseInt: parsing "big": '
                            "invalid syntax")
