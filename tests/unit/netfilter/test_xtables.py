"""libxtables' shared parsers: numbers of any length get iptables' own words, never a traceback.

The expected texts are what iptables 1.8.9 (nf_tables) printed on Linux 6.18 for the same
arguments (tests/kernel/test_iptables_numbers_kernel.py compares them live).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simnet.netfilter.iptables import IptablesError, iptables, iptables_restore
from simnet.netfilter.ruleset import Ruleset
from simnet.errors import RuleSyntaxError
from simnet.netfilter.xtables import (ULONG_MAX, getportbyname, parse_mport, parse_port, parse_rulenumber, scan_ull,
                                      strtoui)

BIG = "9" * 5000  # past Python's 4,300-digit int() limit


def _err(argv: str) -> str:
    rs = Ruleset()
    with pytest.raises(IptablesError) as e:
        iptables(rs, argv.split())
    assert e.value.exit_code == 2
    return str(e.value).splitlines()[0]


@pytest.mark.parametrize(("argv", "message"), [
    (f"-A INPUT -p tcp --dport {BIG} -j ACCEPT", f"invalid port/service `{BIG}' specified"),
    (f"-A INPUT -p tcp -m multiport --dports 1,{BIG} -j ACCEPT", f"invalid port/service `{BIG}' specified"),
    (f"-A INPUT -m conntrack --ctorigdstport {BIG} -j ACCEPT", f'Port "{BIG}" does not resolve to anything.'),
    ("-A INPUT -m conntrack --ctorigdstport -1 -j ACCEPT", 'Port "-1" does not resolve to anything.'),
    (f"-A INPUT -m limit --limit {BIG}/s -j ACCEPT", f'Rate too fast "{BIG}/s"'),
    ("-A INPUT -m limit --limit 0/s -j ACCEPT", "bad rate \"0/s\"'"),
    (f"-A INPUT -p icmp --icmp-type {BIG} -j ACCEPT", f"Unknown ICMP type `{BIG}'"),
    (f"-A INPUT -p icmp --icmp-type 3/{BIG} -j ACCEPT", f"Unknown ICMP code `3/{BIG}'"),
    ("-A INPUT -p icmp --icmp-type echo-re -j ACCEPT", "Ambiguous ICMP type `echo-re': `echo-reply' or `echo-request'?"),
    (f"-I INPUT {BIG} -j ACCEPT", f"Invalid rule number `{BIG}'"),
    ("-I INPUT 2147483648 -j ACCEPT", "Invalid rule number `2147483648'"),
    ("-I INPUT abc -j ACCEPT", "Invalid rule number `abc'"),
    ("-D INPUT 0", "Invalid rule number `0'"),
])
def test_numbers_of_any_length_get_iptables_words(argv: str, message: str) -> None:
    assert _err(argv) == f"iptables v1.8.9 (nf_tables): {message}"


def test_numbers_are_read_as_iptables_reads_them() -> None:
    """Ports base 0 (0x50, octal 010), conntrack ports through getaddrinfo (cut to 16 bits),
    rates decimal, ICMP types base 0, rule numbers base 0, -c counters as sscanf %llu."""
    rs = Ruleset()
    for argv in ("-A INPUT -p tcp --dport 0x50", "-A INPUT -p tcp --dport 010",
                 "-A INPUT -m conntrack --ctorigdstport 99999", "-A INPUT -m conntrack --ctorigdstport 1:99999",
                 "-A INPUT -m limit --limit 010/s", "-A INPUT -p icmp --icmp-type 3/0x3",
                 "-I INPUT 0x2 -p udp", f"-A INPUT -c {BIG} {BIG} -p icmp"):
        iptables(rs, argv.split())
    assert iptables(rs, ["-S", "INPUT"]).splitlines()[1:] == [
        "-A INPUT -p tcp -m tcp --dport 80",
        "-A INPUT -p udp",
        "-A INPUT -p tcp -m tcp --dport 8",
        "-A INPUT -m conntrack --ctorigdstport 34463",
        "-A INPUT -m conntrack --ctorigdstport 1:34463",
        "-A INPUT -m limit --limit 10/sec",
        "-A INPUT -p icmp -m icmp --icmp-type 3/3",
        "-A INPUT -p icmp",
    ]
    chain = rs.tables["filter"].chains["INPUT"]
    assert (chain.entries[-1].counters.packets, chain.entries[-1].counters.bytes) == (ULONG_MAX, ULONG_MAX)


def test_restore_counters_saturate_and_rule_numbers_are_bounded() -> None:
    rs = Ruleset()
    iptables_restore(rs, ["-c"], f"*filter\n:INPUT ACCEPT [{BIG}:5]\n[{BIG}:7] -A INPUT -j ACCEPT\nCOMMIT\n")
    chain = rs.tables["filter"].chains["INPUT"]
    assert (chain.policy_counters.packets, chain.entries[0].counters.packets) == (ULONG_MAX, ULONG_MAX)
    with pytest.raises(IptablesError) as e:
        iptables_restore(Ruleset(), [], f"*filter\n-I INPUT {BIG} -j ACCEPT\nCOMMIT\n")
    assert f"Invalid rule number `{BIG}'" in str(e.value)


@given(st.text(alphabet="0123456789xX+- ab", max_size=40) | st.just(BIG) | st.just("0" * 5000 + "7"))
def test_parsers_never_raise_anything_but_a_rule_error(text: str) -> None:
    """Every number parser returns a value in range, None, or RuleSyntaxError: never ValueError."""
    assert strtoui(text, 65535) is None or 0 <= strtoui(text, 65535) <= 65535  # type: ignore[operator]
    assert scan_ull(text) is None or 0 <= scan_ull(text) <= ULONG_MAX  # type: ignore[operator]
    assert getportbyname(text) is None or 0 <= getportbyname(text) <= 65535  # type: ignore[operator]
    for fn in (parse_port, parse_rulenumber, parse_mport):
        try:
            fn(text)
        except RuleSyntaxError:
            pass


def test_leading_zeros_do_not_make_a_number_long() -> None:
    assert strtoui("0" * 5000 + "7", 255) == 7
    assert getportbyname("0" * 5000 + "80") == 80
