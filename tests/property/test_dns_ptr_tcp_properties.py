"""PTR names and TCP forwarding over drawn inputs: an in-addr.arpa name and its address convert
both ways; dnsmasq answers a PTR for each --host-record address with the record's first name;
a query relayed over TCP by a forwarding dnsmasq gets the upstream's own answer."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simnet.dns.resolver import ptr_address, reverse_name
from simnet.script.interpreter import run_script

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
names = st.lists(label, min_size=1, max_size=2).map(".".join).filter(
    lambda n: n.upper() not in {"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "ANY", "IN"})
addrs = st.integers(0, 0xFFFFFFFF).map(IPv4Address)


@given(addrs, st.booleans(), st.booleans())
def test_ptr_name_and_address_round_trip(addr: IPv4Address, upper: bool, dot: bool) -> None:
    name = reverse_name(addr)
    assert name.endswith(".in-addr.arpa") and len(name.split(".")) == 6
    variant = (name.upper() if upper else name) + ("." if dot else "")
    assert ptr_address(variant) == addr


@given(st.text(alphabet="0123456789.abcdefghijklmnopqrstuvwxyz-", max_size=40))
def test_ptr_address_only_takes_four_decimal_labels_under_in_addr_arpa(name: str) -> None:
    got = ptr_address(name)
    if got is not None:
        assert reverse_name(got) == name.rstrip(".").lower()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, st.integers(0x0A000001, 0x0A0000FE).map(IPv4Address), min_size=1, max_size=3),
       st.sampled_from(["dig", "dig +tcp"]))
def test_ptr_answers_the_first_name_and_tcp_forwarding_is_transparent(records: dict[str, IPv4Address],
                                                                      dig: str) -> None:
    lines = ["ip netns add a", "ip -n a link set lo up", "ip -n a addr add 127.0.0.2/8 dev lo",
             "ip netns exec a dnsmasq -k --listen-address=127.0.0.2 --bind-interfaces --no-resolv --no-hosts "
             + " ".join(f"--host-record={n},{a}" for n, a in records.items()) + " &",
             "ip netns exec a dnsmasq -k --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts "
             "--server=127.0.0.2 &"]
    asks = [(f"{dig} @127.0.0.1 -x {a} +short", a) for a in dict.fromkeys(records.values())]
    asks += [(f"{dig} @127.0.0.1 {n} +short", n) for n in records]
    report = run_script("\n".join(lines + [f"ip netns exec a {q}" for q, _ in asks]) + "\n")
    out = {o["line"]: o["stdout"] for o in report.outputs}
    for i, (_, what) in enumerate(asks):
        got = out.get(len(lines) + 1 + i, "")
        if isinstance(what, IPv4Address):
            first = next(n for n, a in records.items() if a == what)
            assert got == f"{first}.\n"
        else:
            assert got == f"{records[what]}\n"
    assert all(p["outcome"] == "reply" for p in report.to_json()["probes"])
