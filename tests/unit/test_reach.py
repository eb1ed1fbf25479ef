"""simnet reach: the matrix, its port classes, isolation between probes, parallel = serial."""

from __future__ import annotations

import copy
import json
import sys
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from simnet import run_script
from simnet.cli import main
from simnet.reach import parse_ports, port_classes, reach, sweep
from simnet.testing import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fleet import fleet_script  # noqa: E402

FLEET = fleet_script(2, 2)

# s drops a second connection from the same source within a minute: only isolation lets every
# probe connect
RECENT = """ip netns add c
ip netns add s
ip -n c link add eth0 type veth peer name eth0 netns s
ip -n c addr add 10.0.0.1/24 dev eth0
ip -n s addr add 10.0.0.2/24 dev eth0
ip -n c link set eth0 up
ip -n s link set eth0 up
ip netns exec s iptables -A INPUT -p tcp --syn -m recent --name seen --rcheck --seconds 60 -j DROP
ip netns exec s iptables -A INPUT -p tcp --syn -m recent --name seen --set
ip netns exec s nc -l -k -p 80 &
ip netns exec s nc -l -k -p 443 &
"""


def test_port_classes_split_at_every_rule_and_listener_port() -> None:
    world = run_script(FLEET).world
    assert port_classes(world, "tcp") == [(1, 21), (22, 22), (23, 79), (80, 80), (81, 65535)]
    assert port_classes(world, "tcp", parse_ports("20-25,80")) == [(20, 21), (22, 22), (23, 25), (80, 80)]
    assert port_classes(world, "udp") == [(1, 65535)]


def test_parse_ports_merges_and_rejects() -> None:
    assert parse_ports("80,22,23-30,31") == [(22, 31), (80, 80)]
    with pytest.raises(ValueError, match="port specifications are illegal"):
        parse_ports("0-5")


def test_tcp_matrix_reports_ranges_per_outcome() -> None:
    m = reach(FLEET, sources=["c0x0", "h0"], to=["c1x0", "h1"], proto="tcp", jobs=1)
    cells = {(c.src, c.dst): c for c in m.cells}
    # the other host's FORWARD drops ssh into its containers; the web server answers
    assert cells["c0x0", "c1x0"].text() == "1-21, 23-79, 81-65535: refused; 22: timeout; 80: connected"
    assert cells["c0x0", "c1x0"].reached and not cells["c0x0", "h1"].reached
    assert cells["h0", "h1"].ranges == ((1, 65535, "refused"),)
    assert m.probes == 4 * 5


def test_each_probe_starts_from_the_set_up_state() -> None:
    isolated = reach(RECENT, sources=["c"], to=["s"], proto="tcp", ports="80,443", jobs=1)
    assert isolated.cells[0].ranges == ((80, 80, "connected"), (443, 443, "connected"))
    shared = reach(RECENT, sources=["c"], to=["s"], proto="tcp", ports="80,443", jobs=1, shared=True)
    assert [o for _, _, o in shared.cells[0].ranges] == ["connected", "timeout"]


# s accepts one new connection a minute from anyone (-m limit is global): probes that shared
# state across sources would depend on which source ran first, and so on --jobs
LIMITED = """ip netns add c
ip netns add d
ip netns add s
ip -n s link add br0 type bridge
ip -n s addr add 10.0.0.254/24 dev br0
ip -n s link set br0 up
ip -n s link add pc type veth peer name eth0 netns c
ip -n s link add pd type veth peer name eth0 netns d
ip -n s link set pc master br0
ip -n s link set pd master br0
ip -n s link set pc up
ip -n s link set pd up
ip -n c addr add 10.0.0.1/24 dev eth0
ip -n d addr add 10.0.0.2/24 dev eth0
ip -n c link set eth0 up
ip -n d link set eth0 up
ip netns exec s iptables -A INPUT -p tcp --syn -m limit --limit 1/min --limit-burst 1 -j ACCEPT
ip netns exec s iptables -A INPUT -p tcp --syn -j DROP
ip netns exec s nc -l -k -p 80 &
ip netns exec s nc -l -k -p 443 &
"""


def test_shared_state_is_per_source_and_the_same_with_any_jobs() -> None:
    serial = reach(LIMITED, sources=["c", "d"], to=["s"], proto="tcp", ports="80,443", jobs=1, shared=True)
    # each source starts from the set-up state: its first SYN gets the one token, its second none
    assert [c.ranges for c in serial.cells] == [((80, 80, "connected"), (443, 443, "timeout"))] * 2
    assert reach(LIMITED, sources=["c", "d"], to=["s"], proto="tcp", ports="80,443", jobs=2, shared=True) == serial
    isolated = reach(LIMITED, sources=["c", "d"], to=["s"], proto="tcp", ports="80,443", jobs=1)
    assert [c.ranges for c in isolated.cells] == [((80, 80, "connected"), (443, 443, "connected"))] * 2


def test_sweep_streams_the_cells_of_reach() -> None:
    run = sweep(FLEET, sources=["c0x0", "h1"], proto="icmp", jobs=1)
    cells = list(run)
    assert run.probes == len(cells) == 2 * 5
    assert tuple(cells) == reach(FLEET, sources=["c0x0", "h1"], proto="icmp", jobs=1).cells
    assert {c.ranges for c in cells} == {((0, 0, "reply"),)}


def test_isolated_sweep_equals_a_fresh_world_per_probe() -> None:
    m = reach(FLEET, proto="tcp", ports="22,80,81", jobs=1)
    pristine = run_script(FLEET).world
    for cell in m.cells:
        for lo, _, outcome in cell.ranges:
            world = copy.deepcopy(pristine)
            with world.untraced():
                assert probe(world, cell.src, cell.addr, proto="tcp", port=lo).outcome == outcome


@pytest.mark.parametrize("proto", ["icmp", "tcp"])
def test_parallel_sweep_equals_serial(proto: str) -> None:
    serial = reach(FLEET, proto=proto, ports="20-25,80", jobs=1)
    parallel = reach(FLEET, proto=proto, ports="20-25,80", jobs=2)
    assert parallel == serial
    assert len(serial.cells) == 7 * 6 - 6  # every namespace (lan has no address: no target) to every other


def test_dask_sweep_on_a_local_cluster_equals_serial() -> None:
    # two Dask worker processes, each rebuilding the world from the script once (skipped without
    # the optional 'distributed' package: pip install simnet[dask])
    pytest.importorskip("distributed")
    serial = reach(FLEET, proto="tcp", ports="20-25,80", jobs=1)
    on_dask = reach(FLEET, proto="tcp", ports="20-25,80", jobs=2, dask="local")
    assert on_dask == serial
    assert {r[2] for c in serial.cells for r in c.ranges} >= {"connected", "timeout"}


def test_dask_without_distributed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(ValueError, match=r"pip install simnet\[dask\]"):
        reach(FLEET, proto="icmp", dask="local")


def test_cli_reach_json_and_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "fleet.sh"
    script.write_text(FLEET)
    png = tmp_path / "m.png"
    assert main(["reach", str(script), "--from", "c0x0", "--to", "c1x0", "172.16.0.3", "--proto", "tcp",
                 "--ports", "22,80", "--jobs", "1", "--json", "-o", str(png)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(c["to"], [(r["ports"], r["outcome"]) for r in c["ranges"]]) for c in doc["cells"]] == [
        ("c1x0", [([22, 22], "timeout"), ([80, 80], "connected")]),
        ("172.16.0.3", [([22, 22], "timeout"), ([80, 80], "connected")])]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reach_bad_namespace_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "fleet.sh"
    script.write_text(FLEET)
    assert main(["reach", str(script), "--from", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == '--from nope: Cannot open network namespace "nope": No such file or directory'
    assert IPv4Address("172.16.0.3")  # the fleet's address plan, used above
