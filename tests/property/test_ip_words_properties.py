"""``ip`` reads a plain dotted quad (``10.0.0.1``, ``172.16.3.0/24``) at once, without :mod:`ipaddress`'s
parser (a generated script has tens of thousands); every word must give what :mod:`ipaddress` gives,
value and error alike."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address, IPv4Interface, IPv4Network, NetmaskValueError

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.tools.ip.common import IpError, Unsupported, inet_addr, inet_iface, inet_prefix


def _reference_prefix(word: str) -> IPv4Network:
    if word in ("default", "all", "any"):
        return IPv4Network("0.0.0.0/0")
    try:
        return IPv4Network(word, strict=False)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise IpError(f'Error: any valid prefix is expected rather than "{word}".', 1) from None


def _reference_addr(word: str) -> IPv4Address:
    try:
        return IPv4Address(word)
    except (AddressValueError, ValueError):
        if ":" in word:
            raise Unsupported(f"IPv6 ({word})") from None
        raise IpError(f'Error: inet address is expected rather than "{word}".', 1) from None


def _reference_iface(word: str) -> IPv4Interface:
    if ":" in word:
        raise Unsupported(f"IPv6 ({word})")
    try:
        return IPv4Interface(word)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise IpError(f'Error: any valid prefix is expected rather than "{word}".', 1) from None


def _outcome(fn, word: str) -> object:  # type: ignore[no-untyped-def]
    try:
        v = fn(word)
    except IpError as e:
        return (type(e).__name__, str(e))
    return (type(v).__name__, v, str(v), getattr(v, "network", None))


octet = st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "007", "256", "999", "", "-1", "1a",
                                                                   "١", "0x1", " 1"]))
length = st.one_of(st.integers(0, 32).map(str), st.sampled_from(["33", "024", "00", "", "255.255.255.0",
                                                                   "0.0.0.255", "x", "-1", "١"]))
words = st.one_of(
    st.builds(lambda o, n: ".".join(o) + ("" if n is None else "/" + n), st.lists(octet, min_size=3, max_size=5),
              st.none() | length),
    st.text(st.sampled_from(list("0123456789./:ax ")), max_size=20),
    st.sampled_from(["default", "all", "any", "::1", "1.2.3.4/"]),
)


@settings(max_examples=600, deadline=None)
@given(words)
def test_plain_dotted_quads_read_as_ipaddress_reads_them(word: str) -> None:
    assert _outcome(inet_addr, word) == _outcome(_reference_addr, word)
    assert _outcome(inet_prefix, word) == _outcome(_reference_prefix, word)
    assert _outcome(inet_iface, word) == _outcome(_reference_iface, word)
