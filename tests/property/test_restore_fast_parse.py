"""The restore's fast rule parser (memoised segments, the Rule builder) agrees with the general one.

``Rule.parse`` tries ``_parse_fast`` first and falls back to ``_parse``; the fast path shares
match and target objects between rules by their exact text.  These properties check that,
for generated rules, for kube-proxy shaped lines and for word soups, the fast path either
declines or builds exactly the rule the general parser builds (equal, same hash, same text),
and that ``Rule.parse`` refuses exactly what the general parser refuses, in the same words.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet import strategies as sst
from simnet.errors import RuleSyntaxError
from simnet.netfilter.rule import Rule, _parse, _parse_fast, _parse_saved
from simnet.netfilter.xtables import split_words


def _same(fast: Rule, general: Rule) -> None:
    assert type(fast) is Rule
    assert fast == general
    assert hash(fast) == hash(general)
    assert str(fast) == str(general)
    assert Rule.parse(str(fast)) == fast


def _outcome(words: list[str]) -> tuple[str, object]:
    try:
        return "ok", _parse(list(words))
    except RuleSyntaxError as e:
        return "error", str(e)


@given(st.sampled_from(["filter", "nat", "mangle", "raw"]).flatmap(lambda t: sst.rules(table=t)))
def test_fast_parse_of_a_saved_rule_equals_the_general_parse(rule):
    words = split_words(str(rule))
    for _ in range(2):  # the second time every segment comes from the memo
        fast = _parse_fast(list(words))
        if fast is not None:
            _same(fast, _parse(list(words)))


_octet = st.integers(0, 255)
_addr = st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", _octet, _octet, _octet, _octet)
_net = st.one_of(_addr, st.builds(lambda a, n: f"{a}/{n}", _addr, st.integers(0, 33)),
                 st.sampled_from(["10.1", "0/0", "010.1.2.3", "10.0.0.0/255.255.0.0", "1.2.3.4/08", "x"]))
_comment = st.one_of(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
                     st.sampled_from(["ns1/svc-1:http cluster IP", "a" * 256, "é" * 130, "-j", "--dport"]))
_chain = st.one_of(st.sampled_from(["KUBE-SVC-ABCDEFGHIJKLMNOP", "KUBE-MARK-MASQ", "ACCEPT", "RETURN", "DROP",
                                    "DNAT", "MASQUERADE", "-x", "A" * 29]),
                   st.from_regex(r"KUBE-SEP-[A-Z2-7]{16}", fullmatch=True))
_port = st.one_of(st.integers(0, 70000).map(str), st.sampled_from(["http", "0x50", "010", "1:2", "80,"]))


@st.composite
def kube_lines(draw: st.DrawFn) -> list[str]:
    """kube-proxy's rule shapes, with values (and now and then an option) drawn at random."""
    words: list[str] = []
    if draw(st.booleans()):
        words += draw(st.sampled_from([[], ["!"]])) + ["-s", draw(_net)]
    if draw(st.booleans()):
        words += draw(st.sampled_from([[], ["!"]])) + ["-d", draw(_net)]
    proto = draw(st.sampled_from([None, "tcp", "udp", "all", "sctp"]))
    if proto:
        words += ["-p", proto]
    if draw(st.booleans()):
        words += ["-m", "comment", "--comment", draw(_comment)]
    if proto in ("tcp", "udp") and draw(st.booleans()):
        words += ["-m", proto] + draw(st.sampled_from([[], ["--dport"], ["!", "--dport"], ["--sport"]]))
        if words[-1].endswith("port"):
            words.append(draw(_port))
    if draw(st.booleans()):
        words += ["-m", "statistic", "--mode", "random", "--probability",
                  draw(st.sampled_from(["0.33333333349", "0.50000000000", "1.5", "0"]))]
    kind = draw(st.sampled_from(["jump", "dnat", "mark", "masq", "none"]))
    if kind == "jump":
        words += [draw(st.sampled_from(["-j", "-g"])), draw(_chain)]
    elif kind == "dnat":
        words += ["-j", "DNAT", "--to-destination", draw(st.builds(lambda a, p: f"{a}:{p}", _addr, _port))]
    elif kind == "mark":
        words += ["-j", "MARK", "--set-xmark", draw(st.sampled_from(["0x4000/0x4000", "0x4000/0x0", "x"]))]
    elif kind == "masq":
        words += ["-j", "MASQUERADE"] + draw(st.sampled_from([[], ["--random-fully"]]))
    if draw(st.integers(0, 4)) == 0 and words:  # now and then one word dropped or moved
        k = draw(st.integers(0, len(words) - 1))
        w = words.pop(k)
        if draw(st.booleans()):
            words.insert(draw(st.integers(0, len(words))), w)
    return words


@settings(max_examples=400)
@given(kube_lines())
def test_kube_proxy_shapes_fast_equals_general(words):
    outcome = _outcome(words)
    for _ in range(2):
        try:
            fast = _parse_fast(list(words))
        except RuleSyntaxError:
            fast = None  # Rule.parse then asks the general parser
        if fast is not None:
            assert outcome[0] == "ok", (words, outcome)
            _same(fast, outcome[1])  # type: ignore[arg-type]
        try:
            got: tuple[str, object] = ("ok", Rule.parse(list(words)))
        except RuleSyntaxError as e:
            got = ("error", str(e))
        assert got == outcome


def _save_line(words: list[str]) -> str:
    """``-A CHAIN`` and the words as iptables-save writes them (a word with a blank in quotes)."""
    return " ".join(["-A", "KUBE-X"] + [f'"{w}"' if (" " in w or not w) else w for w in words])


@settings(max_examples=400)
@given(kube_lines())
def test_saved_line_shapes_equal_the_general_parse(words):
    line = _save_line(words)
    try:
        outcome = _outcome(split_words(line)[2:])
    except RuleSyntaxError as e:  # an unbalanced quote
        outcome = ("error", str(e))
    for _ in range(2):
        saved = _parse_saved(line, len("-A KUBE-X"))
        if saved is not None:
            assert outcome[0] == "ok", (line, outcome)
            _same(saved, outcome[1])  # type: ignore[arg-type]


_soup = st.lists(st.sampled_from(["-s", "-d", "-i", "-o", "-p", "!", "-m", "-j", "-g", "tcp", "udp", "comment",
                                  "--comment", "--dport", "80", "10.0.0.1/32", "eth0", "+", "KUBE-X", "ACCEPT",
                                  "DNAT", "--to-destination", "10.0.0.2:8080", "statistic", "--mode", "nth",
                                  "--every", "2", "-f", "mark", "--mark", "0x1"]), max_size=12)


@settings(max_examples=400)
@given(_soup)
def test_word_soup_fast_never_accepts_what_the_general_parser_refuses(words):
    outcome = _outcome(words)
    try:
        fast = _parse_fast(list(words))
    except RuleSyntaxError:
        fast = None
    if fast is not None:
        assert outcome[0] == "ok", (words, outcome)
        _same(fast, outcome[1])  # type: ignore[arg-type]
