"""The kernel runner's stand-in for Docker's resolver (simnet/conformance/inside/embedded_dns.py):
its answers are byte for byte what simnet's model writes, and the runner refuses bad lines with
the script's file and line before anything runs."""

from __future__ import annotations

import sys
from dataclasses import replace
from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.conformance.inside import common
from simnet.dns.message import Message, QType, Question, Record
from simnet.docker.dns_server import encode_plain
from simnet.script.expect import ScriptError
from simnet.script.lexer import lex

sys.path.insert(0, common.INSIDE)
import embedded_dns  # noqa: E402  (standard-library module of the inner runner)

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
names = st.lists(label, min_size=1, max_size=3).map(".".join)


def _query(name: str, qtype: QType, qid: int = 1, rd: bool = True, cd: bool = False) -> Message:
    return Message(id=qid, rd=rd, cd=cd, questions=(Question(name=name, qtype=qtype),))


@settings(max_examples=60, deadline=None)
@given(names, st.lists(st.integers(0x0A000001, 0x0AFFFFFE).map(IPv4Address), min_size=1, max_size=3),
       st.sampled_from([QType.A, QType.AAAA]), st.integers(0, 0xFFFF), st.booleans(), st.booleans())
def test_local_answers_are_the_models_bytes(name: str, addrs: list[IPv4Address], qtype: QType, qid: int,
                                             rd: bool, cd: bool) -> None:
    query = _query(name, qtype, qid, rd, cd)
    spec = common.parse_embedded_dns(["--udp-port=1", "--tcp-port=2", *(f"--record={name},{a}" for a in addrs)])
    got = embedded_dns.local(spec, query.encode())
    model = replace(Message(id=qid, qr=True, opcode=0, rd=rd, cd=cd, ra=True, questions=query.questions),
                    answers=tuple(Record(name=name, rtype=QType.A, ttl=600, data=a) for a in addrs)
                    if qtype == QType.A else ())
    assert got == encode_plain(model)


def test_unknown_names_and_other_types_are_forwarded() -> None:
    spec = common.parse_embedded_dns(["--udp-port=1", "--tcp-port=2", "--record=web,10.0.0.2"])
    assert embedded_dns.local(spec, _query("db", QType.A).encode()) is None
    assert embedded_dns.local(spec, _query("web", QType.MX).encode()) is None
    assert embedded_dns.local(spec, _query("WEB", QType.A).encode()) is not None


def test_servfail_when_no_upstream_answers() -> None:
    spec = common.parse_embedded_dns(["--udp-port=1", "--tcp-port=2"])
    wire = _query("x.example", QType.A, 0x1234).encode()
    got = embedded_dns.forward(spec, wire, -1, -1)
    assert got[:2] == b"\x12\x34" and got[3] & 0x0F == 2 and not got[3] & 0x80  # SERVFAIL, RA clear
    assert embedded_dns.forward_tcp(spec, wire, -1, -1) == got  # over TCP the same reply


@pytest.mark.parametrize(("line", "why"), [
    ("ip netns exec c simnet-embedded-dns --udp-port=1 &", "--udp-port and --tcp-port are required"),
    ("ip netns exec c simnet-embedded-dns --udp-port=1 --tcp-port=2 --host-netns=nowhere &",
     "namespace 'nowhere' was not created by this script"),
    ("ip netns exec c simnet-embedded-dns --udp-port=1 --tcp-port=2 --bogus &", "unknown option '--bogus'"),
    ("ip netns exec c simnet-embedded-dns --udp-port=1 --tcp-port=2", "a listener must run in the background"),
])
def test_the_runner_refuses_bad_stand_in_lines(line: str, why: str) -> None:
    from simnet.conformance.run import validate

    commands = lex("ip netns add c\n" + line + "\n", filename="x.sh")
    with pytest.raises(ScriptError, match=rf"x\.sh:2: .*{why}"):
        validate(tuple(commands))


@pytest.mark.parametrize(("line", "by_name"), [
    ("ip netns exec h1 docker exec app ping -c 1 web", True),
    ("ip netns exec h1 docker exec -i -e A=1 app nc -z -w 1 web 80", True),
    ("ip netns exec a curl -s http://web:8080/", True),
    ("ip netns exec a ping -c 1 -I eth0 10.0.0.1", False),
    ("ip netns exec a nc -l -p 80 &", False),
    ("ip netns exec a curl -s http://10.0.0.1:8080/x", False),
    ("ip netns exec h1 docker exec app nc -z 10.0.0.1 80", False),
])
def test_probes_by_name_are_recognised(line: str, by_name: bool) -> None:
    from simnet.docker.export import probes_by_name

    assert probes_by_name(line + "\n") is by_name


def test_a_script_that_pings_a_container_by_name_gets_the_stand_in() -> None:
    from simnet.docker.export import export_scenario
    from simnet.script.interpreter import run_script

    text = ("ip netns add h1\nip -n h1 link set lo up\nip netns exec h1 dockerd --era 29 &\n"
            "ip netns exec h1 docker network create --subnet 10.10.0.0/24 front\n"
            "ip netns exec h1 docker run -d --network front --name web nginx\n"
            "ip netns exec h1 docker run -d --network front --name app busybox\n"
            "ip netns exec h1 docker exec app ping -c 1 -W 1 web\n")
    exported = export_scenario(text)
    assert "ip netns exec h1-app simnet-embedded-dns " in exported.text
    assert "/etc/netns/h1-app/resolv.conf" in exported.text
    again = run_script(exported.text)
    assert again.probes[-1].result.outcome == "reply"
