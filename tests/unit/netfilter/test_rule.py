"""Rule.parse / str(rule): the canonical forms iptables-save 1.8.9 (nf_tables) prints."""

import pytest

from simnet.errors import RuleSyntaxError
from simnet.netfilter.rule import Rule, iface_matches, split_words

CANONICAL = [
    ("-s 10.0.0.1 -p tcp --dport 80 -j ACCEPT", "-s 10.0.0.1/32 -p tcp -m tcp --dport 80 -j ACCEPT"),
    ("! -i eth+ -p tcp --syn -j DROP", "! -i eth+ -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP"),
    ("-p icmp --icmp-type echo-request -j ACCEPT", "-p icmp -m icmp --icmp-type 8 -j ACCEPT"),
    ("-d 10.0.0.0/255.255.0.0", "-d 10.0.0.0/16"),
    ("-f -p tcp ! -s 1.2.3.4 -o eth0 -d 5.6.7.0/24 -i lo", "! -s 1.2.3.4/32 -d 5.6.7.0/24 -i lo -o eth0 -p tcp -f"),
    ("-m conntrack --ctstate NEW -p tcp --dport 22 -m mark --mark 1/0x1",
     "-p tcp -m conntrack --ctstate NEW -m tcp --dport 22 -m mark --mark 0x1/0x1"),
    ("-p ALL -s 0.0.0.0/0 -i +", ""),
    ("-p 47", "-p gre"),
    ("-j MARK --set-mark 5", "-j MARK --set-xmark 0x5/0xffffffff"),
    ("-j LOG --log-level warning --log-prefix 'x'", "-j LOG --log-prefix \"\\'x\\'\""),
    ("-p tcp -j DNAT --to 1.2.3.4:80-80", "-p tcp -j DNAT --to-destination 1.2.3.4:80"),
    ("-j REJECT", "-j REJECT --reject-with icmp-port-unreachable"),
    ("-m comment --comment \"a b\" -j ACCEPT", "-m comment --comment \"a b\" -j ACCEPT"),
    ("-g FOO", "-g FOO"),
]


@pytest.mark.parametrize(("given", "canonical"), CANONICAL)
def test_canonical_form_matches_iptables_save(given, canonical):
    rule = Rule.parse(given)
    assert str(rule) == canonical
    assert Rule.parse(str(rule)) == rule


@pytest.mark.parametrize(("spec", "message"), [
    ("-m foo", "Couldn't load match `foo'"),
    ("--bogus", 'unknown option "--bogus"'),
    ("--dport 80", 'unknown option "--dport"'),
    ("-s 1.2.3.400", "host/network `1.2.3.400' not found"),
    ("-p tcpx", 'unknown protocol "tcpx" specified'),
    ("-p tcp --dport 99999", "invalid port/service `99999' specified"),
    ("extra", "Bad argument `extra'"),
    ("-j DNAT --to-destination 1.2.3.4:80", "Need TCP, UDP, SCTP or DCCP with port specification"),
])
def test_bad_specs_raise_with_iptables_wording(spec, message):
    with pytest.raises(RuleSyntaxError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Rule.parse(spec)


def test_iface_wildcard():
    assert iface_matches("veth+", "veth0")
    assert not iface_matches("veth", "veth0")
    assert iface_matches("+", "anything")
    assert not iface_matches("eth0", None)


def test_restore_tokenizer_quotes_only_double_quotes():
    assert split_words('-m comment --comment "a \\"b\\"" -j X') == ["-m", "comment", "--comment", 'a "b"', "-j", "X"]
    assert split_words("--comment 'a'") == ["--comment", "'a'"]
    assert split_words('--comment ""') == ["--comment", ""]
