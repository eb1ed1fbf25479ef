"""Properties of the host file model: what is written reads back, and ip netns exec's binds."""

from __future__ import annotations

from hypothesis import given, strategies as st

from simnet.files import Content, FileSystem
from simnet.script.interpreter import run_script

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8).filter(
    lambda s: s not in ("netns",))
chunks = st.one_of(st.binary(max_size=40), st.integers(0, 5000).map(Content.zeros))


@given(st.lists(st.tuples(st.booleans(), chunks), min_size=1, max_size=8))
def test_written_bytes_read_back(writes: list[tuple[bool, bytes | Content]]) -> None:
    """`>` replaces and `>>` appends: the file holds exactly the bytes a real file would."""
    fs = FileSystem()
    expect = b""
    for append, data in writes:
        raw = data if isinstance(data, bytes) else data.materialize()
        expect = expect + raw if append else raw
        fs.write("/tmp/f", data, append=append)
    assert fs.read("/tmp/f") == expect
    assert fs.size("/tmp/f") == len(expect)


@given(chunks, st.integers(0, 10000))
def test_truncate_cuts_or_extends_with_zeros(data: bytes | Content, size: int) -> None:
    fs = FileSystem()
    fs.write("/tmp/f", data)
    before = fs.read("/tmp/f")
    fs.truncate("/tmp/f", size)
    assert fs.read("/tmp/f") == (before + b"\0" * size)[:size]


@given(names, st.sets(names, max_size=4), st.sets(st.sampled_from(["hosts", "resolv.conf", "nsswitch.conf"]),
                                                    max_size=3), st.binary(max_size=30))
def test_netns_exec_sees_its_own_etc_netns_file_else_the_hosts(ns: str, others: set[str], mine: set[str],
                                                               data: bytes) -> None:
    """Under `ip netns exec NS`, /etc/X is /etc/netns/NS/X when that exists and /etc/X does; other
    namespaces and the host keep the host's file."""
    fs = FileSystem()
    fs.write("/etc/nsswitch.conf", b"hosts: files dns\n")
    host = {x: fs.read(f"/etc/{x}") for x in ("hosts", "resolv.conf", "nsswitch.conf")}
    fs.mkdir(f"/etc/netns/{ns}", parents=True)
    for x in mine:
        fs.write(f"/etc/netns/{ns}/{x}", data + x.encode())
    for x, content in host.items():
        assert fs.read(f"/etc/{x}", netns=ns) == (data + x.encode() if x in mine else content)
        assert fs.read(f"/etc/{x}") == content
        for other in others - {ns}:
            assert fs.read(f"/etc/{x}", netns=other) == content


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="'\\%"),
               max_size=30), st.booleans())
def test_script_echo_then_cat_roundtrips(text: str, inside: bool) -> None:
    """`echo 'TEXT' > FILE` then `cat FILE` prints TEXT and a newline, in or out of a namespace."""
    prefix = "ip netns exec a " if inside else ""
    r = run_script(f"ip netns add a\necho '{text}' > /tmp/t\nprintf '%s' '{text}' >> /tmp/t\n{prefix}cat /tmp/t\n")
    assert r.outputs[0]["stdout"] == text + "\n" + text
