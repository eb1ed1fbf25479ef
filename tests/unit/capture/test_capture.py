"""The reader (through a replaying runner), the writer, redaction and the ``simnet capture`` command."""

from __future__ import annotations

from datetime import datetime, timezone
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simnet.capture import Redactor, read_host, write_script
from simnet.capture.reader import NsRef, Result
from simnet.script.interpreter import run_script
from tests.unit.capture.replay import Replay

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def capture(**kw: object):  # type: ignore[no-untyped-def]
    return read_host(Replay(**kw.pop("replay", {})), now=NOW, **kw)  # type: ignore[arg-type]


def test_script_header_names_host_kernel_time_and_everything_left_out() -> None:
    script = write_script(capture(listeners=True))
    head = script.text.splitlines()
    assert head[0] == "# simnet capture of host recorded, kernel 6.18.0, at 2026-12-07T12:00:00Z"
    assert head[1] == "# namespaces: host (the root namespace), a, b"
    said = {n.what for n in script.notes}
    assert "tap0: a tun device (not modelled)" in said and "mv0: a macvlan device (not modelled)" in said
    assert "net.ipv4.conf.up0.proxy_arp = 1: not modelled" in said
    assert any("u32" in w for w in said) and any("IPv6" in w for w in said)
    for what in said:  # every note is in the script too
        assert what in script.text
    # the stand-ins are marked where they stand
    assert "# tap0: a tun device (not modelled): a dummy device stands in\nip -n host link add tap0" in script.text


def test_script_is_deterministic_and_runs_in_simnet_as_the_host_was() -> None:
    text = write_script(capture(listeners=True)).text
    assert text == write_script(capture(listeners=True)).text
    assert "ip -n host link add va address 02:00:00:00:00:0a type veth peer name eth0 address 02:00:00:00:01:0a " \
           "netns a" in text
    assert "ip -n host link set va type bridge_slave hairpin on" in text
    assert "ip -n host link add vx0 address 02:00:00:00:00:42 type vxlan id 42 remote 192.0.2.9 local 10.1.0.1 " \
           "dev up0 dstport 4789 nolearning" in text
    assert "ip netns exec host bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.10" in text
    assert "ip netns exec a nc -u -l -s 172.17.0.2 -p 5353 &" in text
    report = run_script(text + "ip netns exec b nc -z -w 1 172.17.0.2 80\n"
                               "ip netns exec b ping -c 1 -W 1 10.1.0.1\n"
                               "ip -n host route show table 100\nip -n host rule\n", filename="captured.sh")
    outcomes = [p.result.outcome for p in report.probes]
    assert outcomes == ["connected", "error"]  # b has no route beyond its bridge (ENETUNREACH)
    out = {o["command"]: o["stdout"] for o in report.outputs}
    assert out["ip -n host route show table 100"] == "10.5.0.0/16 via 10.1.0.254 dev up0 \n"
    assert "1000:\tfrom all fwmark 0x4/0xf lookup 100" in out["ip -n host rule"]


def test_without_root_it_captures_what_is_readable_and_names_what_it_skipped() -> None:
    cap = capture(replay={"root": False})
    assert [ns.name for ns in cap.namespaces] == ["host"]
    skipped = [n.what for n in cap.notes if n.skipped]
    assert any(n.startswith("could not enter the namespace") for n in skipped)
    assert any(n.startswith("`iptables-save` could not be read") and "you must be root" in n for n in skipped)
    text = write_script(cap).text
    assert "skipped: `iptables-save` could not be read" in text
    assert "ip -n host addr add 172.17.0.1/16 brd 172.17.255.255 dev br0" in text


def test_the_reader_only_runs_read_only_tools() -> None:
    replay = Replay()
    read_host(replay, docker=False, listeners=True, neigh=True, counters=True, now=NOW)
    tools = {argv[0] for argv, _ in replay.calls}
    assert tools <= {"uname", "ip", "bridge", "sysctl", "iptables-save", "ip6tables-save", "ipset", "ss", "readlink"}
    for argv, _ in replay.calls:
        if argv[0] == "ip":
            assert not {"add", "del", "delete", "set", "change", "replace", "flush", "exec"} & set(argv)
        if argv[0] == "sysctl":
            assert not {"-w", "--write", "-p"} & set(argv) and not any("=" in a for a in argv)
        if argv[0] == "ipset":
            assert argv == ("ipset", "save")


def test_docker_containers_are_read_through_their_pids_and_named_like_simnet_names_them() -> None:
    inner = Replay()

    def runner(argv, netns):  # type: ignore[no-untyped-def]
        argv = tuple(argv)
        if argv[:2] == ("docker", "ps"):
            return Result("c0ffee\nbeef\n")
        if argv[:2] == ("docker", "inspect"):
            return Result("/web 4242\n/same 4343\n")
        if netns is not None and netns.path == "/proc/4242/ns/net":
            return inner(argv, NsRef("a", "/run/netns/a"))
        if netns is not None and netns.path == "/proc/4343/ns/net":  # shares a's namespace: read once
            return inner(argv, NsRef("a", "/run/netns/a"))
        return inner(argv, netns)

    cap = read_host(runner, netns=["b"], docker=True, now=NOW)
    assert [ns.name for ns in cap.namespaces] == ["host", "b", "host-same"] or \
        [ns.name for ns in cap.namespaces] == ["host", "b", "host-web"]
    text = write_script(cap).text
    # the container's eth0 is paired with the host's va by peer index, though its nsid has no name
    assert "type veth peer name eth0 address 02:00:00:00:01:0a netns host-" in text


def test_a_veth_whose_peer_was_not_captured_gets_a_marked_stand_in() -> None:
    cap = read_host(Replay(), netns=["b"], now=NOW)
    script = write_script(cap)
    assert "# va: a veth whose peer is in a namespace not captured: a dummy device stands in\n" \
           "ip -n host link add va address 02:00:00:00:00:0a type dummy" in script.text


# ----------------------------------------------------------------------------- redaction

PROBES = [("b", "nc -z -w 1 {a} 80"), ("b", "ping -c 1 -W 1 {a}"), ("a", "ping -c 1 -W 1 {host}"),
          ("a", "nc -z -w 1 {host} 22"), ("b", "ping -c 1 -W 1 {up}"), ("a", "nc -z -w 1 {nowhere} 80"),
          ("a", "nc -u -w 1 {a} 5353 < /dev/null")]
ADDRS = {"a": "172.17.0.2", "host": "172.17.0.1", "up": "10.1.0.7", "nowhere": "10.6.3.4"}


def _probe_lines(red: Redactor | None) -> str:
    lines = []
    for ns, cmd in PROBES:
        addrs = {k: (str(red.ip(IPv4Address(v))) if red else v) for k, v in ADDRS.items()}
        lines.append(f"ip netns exec {red.ns(ns) if red else ns} {cmd.format(**addrs)}")
    return "\n".join(lines) + "\n"


def test_a_redacted_capture_gives_the_same_probe_outcomes_as_the_plain_one() -> None:
    cap = capture(listeners=True)
    plain = run_script(write_script(cap).text + _probe_lines(None), filename="plain.sh")
    red = Redactor(b"test key")
    redacted = write_script(cap, redactor=red)
    for secret in ("172.17.0", "10.1.0.1", "02:00:00:00:00:0a", "icc between containers", "recorded", " va ",
                   "allow"):
        assert secret not in redacted.text
    hidden = run_script(redacted.text + _probe_lines(red), filename="redacted.sh")
    assert len(plain.probes) == len(PROBES)
    for p, q in zip(plain.probes, hidden.probes):
        assert p.result.outcome == q.result.outcome
        assert (p.result.errno, p.result.icmp is None) == (q.result.errno, q.result.icmp is None)
        pc = {(c["table"], c["chain"], c["rule"]): c["packets"] for cs in p.to_json()["counters"].values() for c in cs}
        qc = {(c["table"], c["chain"], c["rule"]): c["packets"] for cs in q.to_json()["counters"].values() for c in cs}
        assert pc == qc
    assert [p.result.outcome for p in plain.probes] == [
        "connected", "timeout", "timeout", "refused", "error", "timeout", "lost"]


@given(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=20), st.integers(8, 32))
def test_redaction_is_consistent_prefix_preserving_and_keeps_private_addresses_private(values: list[int],
                                                                                     plen: int) -> None:
    red = Redactor(b"k")
    addrs = [IPv4Address(v) for v in values]
    mapped = [red.ip(a) for a in addrs]
    assert mapped == [red.ip(a) for a in addrs]  # the same address, the same replacement
    for a, m in zip(addrs, mapped):
        if a.is_private and not a.is_loopback and not a.is_link_local and int(a) >> 24 in (10, 172, 192):
            for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"):
                assert (a in IPv4Network(block)) == (m in IPv4Network(block))
    for a, m in zip(addrs, mapped):
        net = IPv4Network((int(a), plen), strict=False)
        if net.prefixlen >= 16 or any(a in IPv4Network(b) for b in ("10.0.0.0/8", "172.16.0.0/12")):
            assert m in red.net(net)  # an address stays inside the networks it was in
    distinct = {a: m for a, m in zip(addrs, mapped)}
    assert len(set(distinct.values())) == len(distinct)  # injective


def test_redacted_subnet_broadcast_stays_the_broadcast() -> None:
    from ipaddress import IPv4Interface

    red = Redactor(b"k")
    iface = IPv4Interface("172.17.0.1/16")
    assert red.broadcast(IPv4Address("172.17.255.255"), iface) == red.net(iface.network).broadcast_address


@pytest.mark.parametrize("argv", [["--help"]])
def test_the_capture_subcommand_exists(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from simnet.cli import main

    with pytest.raises(SystemExit):
        main(["capture", *argv])
    assert "--listeners" in capsys.readouterr().out


def test_counters_and_dynamic_neighbours_only_when_asked() -> None:
    plain = write_script(capture()).text
    assert "iptables-restore <<'RULES'" in plain and "nud reachable" not in plain
    asked = write_script(capture(counters=True, neigh=True)).text
    assert "iptables-restore -c <<'RULES'" in asked and "[0:0] -A INPUT -m set --match-set allow src -j ACCEPT" in asked
    assert "ip -n host neigh add 10.1.0.253 lladdr 02:00:00:00:00:fd dev up0 nud reachable" in asked
    report = run_script(asked + "ip -n host neigh\n", filename="asked.sh")
    assert "10.1.0.253 dev up0 lladdr 02:00:00:00:00:fd REACHABLE" in report.outputs[0]["stdout"]


def test_a_vlan_filtering_bridge_is_said_not_modelled() -> None:
    from dataclasses import replace

    from simnet.capture.model import Link

    cap = capture()
    host = cap.namespaces[0]
    links = tuple(replace(l, options=(("vlan_filtering", "1"),)) if l.name == "br0" else l for l in host.links)
    cap = replace(cap, namespaces=(replace(host, links=links, vlans=("va vid 10 pvid untagged",)),
                                   *cap.namespaces[1:]))
    script = write_script(cap)
    said = {n.what for n in script.notes}
    assert "br0: bridge vlan_filtering 1 (not modelled; the bridge acts as with vlan_filtering 0)" in said
    assert "bridge port VLANs (not modelled): va vid 10 pvid untagged" in said
    assert isinstance(host.links[0], Link)


def test_sets_and_rulesets_simnet_refuses_are_said_and_left_out() -> None:
    from dataclasses import replace

    cap = capture()
    host = cap.namespaces[0]
    sets = (host.ipsets or "") + ("create ports hash:net,port family inet hashsize 1024 maxelem 65536\n"
                                  "add ports 10.0.0.0/8,tcp:80\n")
    script = write_script(replace(cap, namespaces=(replace(host, ipsets=sets), *cap.namespaces[1:])))
    assert any(n.what.startswith("ipset create ports hash:net,port") and "unknown" in n.what for n in script.notes)
    assert "\n# not modelled (ipset v7.17: Syntax error: typename 'hash:net,port' is unknown): ipset create ports" \
           in script.text
    assert "ipset add ports" not in script.text.replace("# not modelled (its set is not modelled): ipset add ports", "")
    run_script(script.text, filename="sets.sh")  # still runs


def test_a_named_namespace_called_like_the_root_one_keeps_its_name() -> None:
    replay = Replay()

    def runner(argv, netns):  # type: ignore[no-untyped-def]
        if tuple(argv) == ("ip", "-j", "netns", "list"):
            return Result('[{"name":"host"}]\n')
        if netns is not None and netns.name == "host" and netns.path is not None:
            return replay(argv, NsRef("a", "/run/netns/a"))
        return replay(argv, netns)

    cap = read_host(runner, now=NOW)
    assert [ns.name for ns in cap.namespaces] == ["host-root", "host"] and cap.root == "host-root"
    assert "# namespaces: host-root (the root namespace), host\n" in write_script(cap).text


def test_all_netns_reads_namespaces_only_a_process_holds_once_each() -> None:
    replay = Replay()
    lsns = ('{"namespaces": [{"ns": 4026531840, "pid": 1, "nsfs": null},'
            ' {"ns": 4026532001, "pid": 300, "nsfs": "/run/netns/a"},'
            ' {"ns": 4026532002, "pid": 400, "nsfs": null}]}')

    def runner(argv, netns):  # type: ignore[no-untyped-def]
        if argv[0] == "lsns":
            return Result(lsns)
        if netns is not None and netns.path == "/proc/1/ns/net":
            return replay(argv, None)  # pid 1 is in the root namespace: found to be the same, read once
        if netns is not None and netns.path == "/proc/400/ns/net":
            return replay(argv, NsRef("b", "/run/netns/b"))
        return replay(argv, netns)

    cap = read_host(runner, netns=["a"], all_netns=True, now=NOW)
    assert [ns.name for ns in cap.namespaces] == ["host", "a", "ns4026532002"]
    text = write_script(cap).text
    assert "netns ns4026532002" in text and "# va: a veth" not in text


def test_the_command_says_what_it_left_out_on_stderr_redacted_too(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: object) -> None:
    import argparse

    from simnet.capture.command import add_arguments, run

    def args(*argv: str) -> argparse.Namespace:
        p = argparse.ArgumentParser()
        add_arguments(p)
        return p.parse_args(list(argv))

    out = f"{tmp_path}/host.sh"
    assert run(args("-o", out), runner=Replay()) == 0
    err = capsys.readouterr().err
    assert "simnet capture: host: not modelled: tap0: a tun device (not modelled)" in err
    assert open(out).read().startswith("# simnet capture of host recorded, kernel 6.18.0, at ")
    assert run(args("--redact", "--redact-key", "k"), runner=Replay()) == 0
    captured = capsys.readouterr()
    assert "simnet capture: ns1: not modelled:" in captured.err and "up0" not in captured.err
    assert "172.17.0.1" not in captured.out and captured.out.startswith("# simnet capture of host host,")
