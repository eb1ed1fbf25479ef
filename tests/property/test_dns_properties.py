"""DNS through the simulated stack, over drawn names and records: dnsmasq answers exactly what it
was given, dig prints it, and every datagram's bytes are header + question (+ answer) + EDNS."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simnet.script.interpreter import run_script

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
# a word that names a type (a, ns, mx, any...) is a type to dig, wherever it stands
names = st.lists(label, min_size=1, max_size=3).map(".".join).filter(
    lambda n: n.upper() not in {"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "ANY", "IN"})
addrs = st.integers(0x0A000001, 0x0AFFFFFE).map(IPv4Address)


def _qname(name: str) -> int:
    return sum(len(p) + 1 for p in name.split(".")) + 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, addrs, min_size=1, max_size=4), names)
def test_dnsmasq_answers_its_records_and_sizes_add_up(records: dict[str, IPv4Address], other: str) -> None:
    lines = ["ip netns add a", "ip -n a link set lo up",
             "ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts "
             + " ".join(f"--host-record={n},{a}" for n, a in records.items()) + " &",
             "ip netns exec a iptables -A INPUT -p udp --dport 53",
             "ip netns exec a iptables -A INPUT -p udp --sport 53"]
    asked = [*records, other]
    lines += [f"ip netns exec a dig @127.0.0.1 {n} +short" for n in asked]
    r = run_script("\n".join(lines) + "\n")
    for probe, name in zip(r.probes, asked):
        out = "".join(o["stdout"] for o in r.outputs if o["line"] == probe.line)
        rows = {c["rule"]: (c["packets"], c["bytes"]) for c in probe.counters["a"] if c["chain"] == "INPUT"}
        query = 28 + 12 + _qname(name) + 4 + 11 + 12  # dig's EDNS0 with an 8-byte cookie
        assert rows[1] == (1, query)
        if name in records:
            assert out == f"{records[name]}\n"
            assert rows[2] == (1, 28 + 12 + _qname(name) + 4 + 16 + 11)  # answer: pointer + 10 + 4
        else:
            assert out == ""
            assert rows[2] == (1, 28 + 12 + _qname(name) + 4 + 11 + 6)  # REFUSED with EDE 14
