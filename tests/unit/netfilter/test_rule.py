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


# --- as iptables 1.8.9 (nf_tables) prints them back after iptables-restore (verified)

@pytest.mark.parametrize("spec,saved", [
    ("-d 0/0 -j ACCEPT", "-j ACCEPT"),
    ("-s 0/0 -d 0.0.0.0/0 -j ACCEPT", "-j ACCEPT"),
    ("-s 0 -j ACCEPT", "-s 0.0.0.0/32 -j ACCEPT"),
    ("-s 10.1 -j ACCEPT", "-s 10.1.0.0/32 -j ACCEPT"),
    ("-s 10.1/16 -j ACCEPT", "-s 10.1.0.0/16 -j ACCEPT"),
    ("-s 010.1.2.3/010 -j ACCEPT", "-s 8.0.0.0/8 -j ACCEPT"),
    ("-s 0x0a.1.2.3 -j ACCEPT", "-s 10.1.2.3/32 -j ACCEPT"),
    ("-s 10.1.2.3/255.255.0.0 -j ACCEPT", "-s 10.1.0.0/16 -j ACCEPT"),
    ("-p tcp --dport 0:65535 -j ACCEPT", "-p tcp -m tcp -j ACCEPT"),
    ("-p tcp ! --dport 0:65535 -j ACCEPT", "-p tcp -j ACCEPT"),
    ("-p tcp -m tcp --tcp-flags NONE NONE -j ACCEPT", "-p tcp -m tcp -j ACCEPT"),
    ("-p tcp -m tcp --tcp-flags NONE SYN -j ACCEPT", "-p tcp -j ACCEPT"),
    ("-p tcp -m tcp --dport 1 -m tcp --dport 2 -j ACCEPT", "-p tcp -m tcp --dport 2 -j ACCEPT"),
    ("-p tcp -m tcp --dport 1 -m comment --comment x -m tcp --sport 2 -j ACCEPT",
     "-p tcp -m tcp --sport 2 --dport 1 -m comment --comment x -j ACCEPT"),
    ("-p tcp -m tcp --tcp-flags SYN SYN -m tcp --dport 1 -j ACCEPT", "-p tcp -m tcp --dport 1 --tcp-flags SYN SYN -j ACCEPT"),
    ("-p tcp -m tcp -m tcp --dport 1 -j ACCEPT", "-p tcp -m tcp -m tcp --dport 1 -j ACCEPT"),
    ("-p tcp -m tcp ! --sport 0:65535 -m comment --comment x -j ACCEPT", "-p tcp -m comment --comment x -j ACCEPT"),
    ("-p udp -m udp --sport 0:65535 -m udp --dport 3 -j ACCEPT", "-p udp -m udp -m udp --dport 3 -j ACCEPT"),
    ("-p udp -m udp --dport 1 -m udp --sport 2 -j ACCEPT", "-p udp -m udp --sport 2 --dport 1 -j ACCEPT"),
    ("-p tcp -m tcp --tcp-option 5 -j ACCEPT", "-p tcp -m tcp --tcp-option 5 -j ACCEPT"),
])
def test_kernel_canonical_text(spec, saved):
    r = Rule.parse(spec)
    assert str(r) == saved
    assert Rule.parse(saved) == r


@pytest.mark.parametrize("addr,msg", [("256.1.1.1", "host/network `256.1.1.1' not found"),
                                      ("1.2.3.4/33", "invalid mask `33' specified"),
                                      ("1.2.3.4/", "invalid mask `' specified"),
                                      ("1.2.3.4/08", "invalid mask `08' specified"),
                                      ("1.2.3.4.", "host/network `1.2.3.4.' not found")])
def test_bad_addresses_worded_like_iptables(addr, msg):
    with pytest.raises(RuleSyntaxError, match=msg.replace(".", r"\.").replace("/", "/")):
        Rule.parse(f"-s {addr} -j ACCEPT")


def test_fast_path_and_general_parser_agree():
    from simnet.netfilter.rule import _parse, _parse_fast, split_words

    for line in ['-d 10.96.0.1/32 -p tcp -m comment --comment "a b" -m tcp --dport 80 -j KUBE-SVC-X',
                 '! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ',
                 '-p tcp -m comment --comment x -m tcp -j DNAT --to-destination 10.244.0.2:8080',
                 '-m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X',
                 '-m mark ! --mark 0x4000/0x4000 -j RETURN', '-j MARK --set-xmark 0x4000/0x4000', '-g X']:
        w = split_words(line)
        fast = _parse_fast(list(w))
        assert fast is not None and fast == _parse(list(w)) and str(fast) == str(_parse(list(w)))
    for odd in ["-p tcp --dport 80 -j ACCEPT", "-m tcp --dport 80 -p tcp -j ACCEPT", "-j ACCEPT -s 1.2.3.4",
                "-m comment --comm x -j ACCEPT", "-f -j ACCEPT"]:
        assert _parse_fast(split_words(odd)) is None


@pytest.mark.parametrize("given, listed", [
    # iptables 1.8.9 (nf_tables) `iptables -S` after `iptables -A INPUT <given> -j ACCEPT`, kernel 6.18
    ("-p udp -m udp ! --dport 0:37505", "-p udp -m udp --dport 37506:65535"),
    ("-p udp -m udp ! --dport 0:65534", "-p udp -m udp --dport 65535"),
    ("-p udp -m udp ! --dport 0:0", "-p udp -m udp ! --dport 0"),
    ("-p udp -m udp ! --dport 37506:65535", "-p udp -m udp ! --dport 37506:65535"),
    ("-p tcp -m tcp ! --sport 0:1023 ! --dport 0:80", "-p tcp -m tcp --sport 1024:65535 --dport 81:65535"),
    ("-p tcp -m tcp ! --sport 0:65535 --dport 80", "-p tcp -m tcp --dport 80"),
    ("-p udp -m udp ! --dport 0:65535", "-p udp"),
])
def test_port_ranges_read_back_as_iptables_nft_prints_them(given: str, listed: str) -> None:
    assert str(Rule.parse(given + " -j ACCEPT")) == listed + " -j ACCEPT"
