"""Issue 19.8 (Docker's forms): network create --gateway/--ip-range/--aux-address, docker exec -i."""

from __future__ import annotations

import json

import pytest

from simnet.docker.export import export_scenario
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

HOST = """ip netns add h1
ip netns add client
ip -n h1 link add eth0 type veth peer name eth0 netns client
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n client link set eth0 up
ip netns exec h1 dockerd &
"""


def test_gateway_ip_range_and_aux_addresses() -> None:
    r = run_script(HOST + "ip netns exec h1 docker network create --subnet 10.10.0.0/24 --gateway 10.10.0.254 "
                   "--ip-range 10.10.0.128/25 --aux-address router=10.10.0.128 front\n"
                   "ip netns exec h1 docker run -d --network front --name a busybox\n"
                   "ip netns exec h1 docker run -d --network front --ip 10.10.0.5 --name b busybox\n"
                   "ip netns exec h1 docker network inspect -f '{{json .IPAM.Config}}' front\n"
                   "ip netns exec h1-a ip route\n")
    assert json.loads(r.outputs[-2]["stdout"]) == [{"Subnet": "10.10.0.0/24", "IPRange": "10.10.0.128/25",
                                                    "Gateway": "10.10.0.254",
                                                    "AuxiliaryAddresses": {"router": "10.10.0.128"}}]
    d = r.docker["h1"]
    assert [str(d.containers[n].address) for n in "ab"] == ["10.10.0.129", "10.10.0.5"]
    assert r.outputs[-1]["stdout"].startswith("default via 10.10.0.254 dev eth0")
    with pytest.raises(ScriptError, match="Address already in use"):
        run_script(HOST + "ip netns exec h1 docker network create --subnet 10.10.0.0/24 --aux-address r=10.10.0.9 n\n"
                   "ip netns exec h1 docker run -d --network n --ip 10.10.0.9 --name a busybox\n")


@pytest.mark.parametrize("flags,words", [
    ("--gateway 10.1.0.1", "every ip-range or gateway must have a corresponding subnet"),
    ("--subnet 10.2.0.0/24 --gateway 10.3.0.1", "no matching subnet for gateway 10.3.0.1"),
    ("--subnet 10.2.0.0/24 --ip-range 10.4.0.0/25", "no matching subnet for range 10.4.0.0/25"),
    ("--subnet 10.2.0.0/24 --aux-address r=10.5.0.1", "no matching subnet for aux-address 10.5.0.1"),
])
def test_ipam_flags_refused_in_the_clis_words(flags: str, words: str) -> None:
    with pytest.raises(ScriptError, match=f"s.sh:9: {words}$"):
        run_script(HOST + f"ip netns exec h1 docker network create {flags} x\n", filename="s.sh")


def test_docker_exec_i_passes_piped_input(tmp_path) -> None:
    script = (HOST + "ip netns exec client nc -u -l -k -p 53 &\n"
              "ip netns exec h1 docker run -d --name web busybox\n"
              "echo query | ip netns exec h1 docker exec -i web nc -u -w 1 203.0.113.20 53\n"
              "# expect: delivered from 203.0.113.10\n")
    r = run_script(script)
    assert r.ok and r.probes[-1].result.outcome == "delivered"
    path = tmp_path / "s.sh"
    path.write_text(script)
    exported = export_scenario(path)
    assert "echo query | ip netns exec h1-web nc -u -w 1 203.0.113.20 53" in exported.text
    again = run_script(exported.text)
    assert again.probes[-1].result.outcome == "delivered"
