"""Hypothesis properties of the scenario-script lexer: what sh-style quoting writes, lex reads back."""

from __future__ import annotations

import re
import shlex

from hypothesis import given, strategies as st

from simnet.script import ScriptError, lex
from simnet.script.lexer import _Lexer

# Any character a word may hold, shell metacharacters and blanks included.
chars = st.one_of(
    st.sampled_from(list(" \t'\"\\$`#&|;<>()*?[]{}~!%=:,./-_@+\n\r")),
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
)
words = st.text(chars, max_size=12)


def quote_single(word: str) -> str:
    return shlex.quote(word)


def quote_double(word: str) -> str:
    return '"' + re.sub(r'([\\"$`])', r"\\\1", word) + '"'


def quote_backslash(word: str) -> str:
    if not word or "\n" in word:
        return shlex.quote(word)  # a backslash before a newline is a continuation, not a quote
    return "".join("\\" + c if not (c.isascii() and c.isalnum()) else c for c in word)


quoters = st.sampled_from([quote_single, quote_double, quote_backslash])
separators = st.sampled_from([" ", "  ", "\t", " \\\n", " \\\n    ", "\\\n "])
comment_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\n\r"),
                       max_size=20).filter(lambda t: not re.match(r"\s*expect\s*:", t))


@st.composite
def scripts(draw: st.DrawFn) -> tuple[str, list[tuple[int, tuple[str, ...]]]]:
    """A script and, for each command, its first line and argv."""
    lines = 1
    parts: list[str] = []
    expected: list[tuple[int, tuple[str, ...]]] = []
    for _ in range(draw(st.integers(0, 6))):
        for _ in range(draw(st.integers(0, 2))):  # blank lines and whole-line comments
            filler = draw(st.sampled_from(["\n", "#", "   \n", "\t# "])) + ""
            if filler.lstrip(" \t").startswith("#"):
                filler += draw(comment_text) + "\n"
            parts.append(filler)
            lines += filler.count("\n")
        argv = tuple(draw(st.lists(words, min_size=1, max_size=5)))
        text = ""
        for k, word in enumerate(argv):
            if k:
                text += draw(separators)
            text += draw(quoters)(word)
        if draw(st.booleans()):
            text += " # " + draw(comment_text)
        expected.append((lines, argv))
        lines += text.count("\n") + 1
        parts.append(text + "\n")
    return "".join(parts), expected


@given(scripts())
def test_quoted_words_lex_back_to_the_same_argv_and_lines(script: tuple[str, list[tuple[int, tuple[str, ...]]]]) -> None:
    text, expected = script
    commands = lex(text, "p.sh")
    assert [(c.line, c.argv) for c in commands] == expected
    assert all(c.file == "p.sh" and not c.background and c.redirect is None and c.stdin is None for c in commands)


@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\n\r"),
                        max_size=30).filter(lambda line: line != "EOF"), max_size=6),
       st.sampled_from(["'EOF'", '"EOF"', "\\EOF"]))
def test_quoted_heredoc_bodies_are_read_verbatim(body: list[str], delimiter: str) -> None:
    text = f"ip netns exec a iptables-restore <<{delimiter}\n" + "".join(f"{ln}\n" for ln in body) + "EOF\nip link\n"
    first, second = lex(text)
    assert first.stdin == "".join(f"{ln}\n" for ln in body)
    assert second.line == len(body) + 3


@given(st.lists(st.sampled_from(list("ab \t\n'\"\\$`#&|;<>()!%1-=:") + ["<<EOF", "<<-'EOF'", "\tEOF", "EOF",
                                   "# expect: reply", "\n# expect: timeout via filter/INPUT#1\n"]),
                max_size=40).map("".join))
def test_arbitrary_text_either_lexes_or_raises_script_error(text: str) -> None:
    try:
        commands = lex(text, "f.sh")
    except ScriptError as e:
        assert re.match(r"f\.sh:\d+: ", str(e))
    else:
        assert all(c.argv for c in commands)
        assert [c.line for c in commands] == sorted(c.line for c in commands)


class _CharByChar(_Lexer):
    plain_lines = False


def _lexed(lexer: type[_Lexer], text: str, inline: bool) -> object:
    try:
        return lexer(text, "f.sh", inline=inline).run()
    except ScriptError as e:
        return str(e)


@given(st.lists(st.sampled_from(list("ab \t\n'\"\\$`#&|;<>()!%1-=:\r\x0b\x0c\x1c\x85\u00a0\u3000é") +
                                ["ip", "nc -l -p 80 &", " &\n", "&&", "<<EOF", "EOF", "# expect: reply",
                                 "\n# expect: timeout\n", "\\\n"]),
                max_size=40).map("".join), st.booleans())
def test_plain_lines_in_one_step_lex_as_character_by_character(text: str, inline: bool) -> None:
    """The lexer's one-step reading of a line of plain words (the build of a large world is mostly
    such lines) gives the same commands, lines, texts and errors as the character-by-character scan."""
    assert _lexed(_Lexer, text, inline) == _lexed(_CharByChar, text, inline)
