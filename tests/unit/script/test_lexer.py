"""The scenario-script lexer splits lines the way sh would, and refuses the rest of shell."""

from __future__ import annotations

import pytest

from simnet.script import Command, Expectation, ScriptError, lex
from simnet.script.lexer import netns_exec


def argvs(text: str) -> list[tuple[str, ...]]:
    return [c.argv for c in lex(text, "t.sh")]


def one(text: str) -> Command:
    cmds = lex(text, "t.sh")
    assert len(cmds) == 1, cmds
    return cmds[0]


# -- words, comments, lines -----------------------------------------------------------------


def test_words_are_split_on_blanks_and_lines_are_numbered_from_one() -> None:
    cmds = lex("\nip netns add a\n\n  ip -n a link set lo up\n", "s.sh")
    assert [(c.line, c.argv) for c in cmds] == [
        (2, ("ip", "netns", "add", "a")),
        (4, ("ip", "-n", "a", "link", "set", "lo", "up")),
    ]
    assert cmds[0].file == "s.sh"
    assert cmds[1].text == "ip -n a link set lo up"


def test_whole_line_and_trailing_comments_are_dropped_but_hash_inside_a_word_is_kept() -> None:
    assert argvs("# setup\nip link  # trailing\necho a#b '#c'\n") == [("ip", "link"), ("echo", "a#b", "#c")]


def test_shebang_is_a_comment_and_set_lines_are_commands() -> None:
    cmds = lex("#!/bin/sh\nset -e\nset -x\n")
    assert [c.argv for c in cmds] == [("set", "-e"), ("set", "-x")]
    assert cmds[0].line == 2


def test_backslash_newline_continues_a_command_which_keeps_its_first_line() -> None:
    c = lex("true\nip netns exec a \\\n   iptables -A INPUT \\\n   -j DROP\nip link\n")[1]
    assert c.line == 2
    assert c.argv == ("ip", "netns", "exec", "a", "iptables", "-A", "INPUT", "-j", "DROP")
    assert lex("true\nip netns exec a \\\n   iptables -A INPUT \\\n   -j DROP\nip link\n")[2].line == 5


def test_single_quotes_are_literal_and_double_quotes_honour_backslash_escapes() -> None:
    c = one("""iptables -m comment --comment 'a "b" $x \\n' "c \\"d\\" \\\\ \\$e \\q" ab'c d'"e"\n""")
    assert c.argv[4:] == ('a "b" $x \\n', 'c "d" \\ $e \\q', "abc de")


def test_quotes_may_span_lines() -> None:
    cmds = lex("echo 'a\nb' x\nip link\n")
    assert cmds[0].argv == ("echo", "a\nb", "x")
    assert cmds[1].line == 3


def test_dollar_bang_and_percent_jobs_stay_literal_words() -> None:
    assert argvs("kill $!\nkill %1\necho a$ \"$!\" $\n") == [("kill", "$!"), ("kill", "%1"), ("echo", "a$", "$!", "$")]


def test_crlf_line_endings_are_tolerated() -> None:
    assert argvs("ip link\r\nip addr\r\n") == [("ip", "link"), ("ip", "addr")]


def test_no_trailing_newline() -> None:
    assert argvs("ip link show") == [("ip", "link", "show")]


# -- operators ------------------------------------------------------------------------------


def test_trailing_ampersand_runs_in_the_background() -> None:
    c = one("ip netns exec b nc -l -k 8080 &\n")
    assert c.background and c.argv[-1] == "8080"
    assert one("ip netns exec b nc -l 80&").background


def test_redirect_to_proc_sys() -> None:
    c = one("ip netns exec r echo 1 > /proc/sys/net/ipv4/ip_forward\n")
    assert c.argv == ("ip", "netns", "exec", "r", "echo", "1")
    assert c.redirect == (">", "/proc/sys/net/ipv4/ip_forward")
    assert one("echo 1 >>/tmp/x").redirect == (">>", "/tmp/x")


def test_echo_piped_into_nc_gives_stdin_and_pipe_from() -> None:
    c = one("echo hello world | ip netns exec a nc -u -w1 10.0.0.2 53\n")
    assert c.pipe_from == ("echo", "hello", "world")
    assert c.stdin == "hello world\n"
    assert c.argv == ("ip", "netns", "exec", "a", "nc", "-u", "-w1", "10.0.0.2", "53")
    assert one("echo -n x | nc -u h 1").stdin == "x"
    assert one("printf 'a\\nb' | nc -u h 1").stdin == "a\nb"
    assert one("printf '%s=%s\\n' k v | nc -u h 1").stdin == "k=v\n"
    assert one("cat f | nc -u h 1").stdin is None


@pytest.mark.parametrize(
    ("opener", "body", "expected"),
    [
        ("<<EOF", "*filter\n-A INPUT -j DROP\nCOMMIT\nEOF\n", "*filter\n-A INPUT -j DROP\nCOMMIT\n"),
        ("<<'EOF'", "a $X `b`\nEOF\n", "a $X `b`\n"),
        ('<<"END"', "x\nEND\n", "x\n"),
        ("<<-EOF", "\t*nat\n\t\tCOMMIT\n\tEOF\n", "*nat\nCOMMIT\n"),
        ("<< EOF", "\\$ok\nEOF\n", "$ok\n"),
        ("<<EOF", "EOF\n", ""),
    ],
)
def test_heredocs_become_stdin(opener: str, body: str, expected: str) -> None:
    cmds = lex(f"ip netns exec a iptables-restore {opener}\n{body}ip link\n")
    assert cmds[0].argv == ("ip", "netns", "exec", "a", "iptables-restore")
    assert cmds[0].stdin == expected
    assert cmds[1].argv == ("ip", "link")
    assert cmds[1].line == 2 + body.count("\n")


# -- expectations ---------------------------------------------------------------------------


def test_expect_on_the_next_line_attaches_to_the_command() -> None:
    cmds = lex("ip netns exec a ping -c1 10.0.0.2\n# expect: reply from 10.0.0.2\nip link\n")
    assert cmds[0].expect == Expectation.parse("reply from 10.0.0.2")
    assert cmds[1].expect is None


def test_expect_after_a_heredoc_follows_its_terminator() -> None:
    cmds = lex("cmd <<EOF\nx\nEOF\n#expect: error EPERM\n")
    assert cmds[0].expect is not None and cmds[0].expect.errno == "EPERM"


def test_expect_as_trailing_comment() -> None:
    assert one("ip netns exec a nc -z h 80  # expect: refused\n").expect == Expectation(outcome="refused")


def test_expect_after_a_continued_command() -> None:
    c = one("ip netns exec a \\\n  ping 10.0.0.2\n# expect: timeout\n")
    assert c.expect is not None and c.expect.outcome == "timeout"


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "construct"),
    [
        ("ip link\nip a && ip r\n", 2, "'&&'"),
        ("ip a || true\n", 1, "'||'"),
        ("ip a; ip r\n", 1, "';'"),
        ("echo $(hostname)\n", 1, "'$(...)'"),
        ("echo `hostname`\n", 1, "'`...`'"),
        ("echo $HOME\n", 1, "'$HOME'"),
        ('echo "$HOME"\n', 1, "'$HOME'"),
        ("echo ${X}\n", 1, "'${...}'"),
        ("echo $1\n", 1, "'$1'"),
        ("cat <<< word\n", 1, "'<<<'"),
        ("ping x 2>/dev/null\n", 1, "'2>'"),
        ("ping x >&2\n", 1, "'>&'"),
        ("ping x &> f\n", 1, "'&>'"),
        ("(ip a)\n", 1, "'('"),
        ("a | b | c\n", 1, "'|'"),
        ("nc -l 80 & ip a\n", 1, "'&'"),
        ("\n\ncat <<EOF\n$(x)\nEOF\n", 4, "'$(...)'"),
    ],
)
def test_unsupported_shell_constructs_name_file_line_and_construct(text: str, line: int, construct: str) -> None:
    with pytest.raises(ScriptError) as info:
        lex(text, "scenario.sh")
    message = str(info.value)
    assert message.startswith(f"scenario.sh:{line}: unsupported shell construct {construct}: "), message
    assert info.value.line == line


def test_and_and_message_is_exact() -> None:
    with pytest.raises(ScriptError, match=r"^scenario\.sh:12: unsupported shell construct '&&': "
                                          r"simnet reads one command per line$"):
        lex("\n" * 11 + "ip a && ip b\n", "scenario.sh")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("ip a\necho 'abc\n\n", 2, "unbalanced single quote"),
        ('echo "abc\n', 1, "unbalanced double quote"),
        ("x\niptables-restore <<EOF\n*filter\nCOMMIT\n", 2, "unterminated here-document"),
        ("# expect: reply\n", 1, "'# expect:' with no preceding command"),
        ("ping x\n\n# expect: reply\n", 3, "'# expect:' with no preceding command"),
        ("ping x\n# note\n# expect: reply\n", 3, "'# expect:' with no preceding command"),
        ("ping x\n# expect: reply\n# expect: reply\n", 3, "second '# expect:'"),
        ("ping x\n# expect: works\n", 2, "unknown outcome 'works'"),
        ("| nc -u h 1\n", 1, "'|' with no command before it"),
        ("echo x |\n", 1, "'|' with no command after it"),
        ("echo x >\n", 1, "'>' needs a file name"),
        ("a <<A <<B\nA\nB\n", 1, "more than one here-document"),
        ("cat <<\n", 1, "needs a delimiter"),
        ("echo x | cat <<EOF\nEOF\n", 1, "both a pipe and a here-document"),
    ],
)
def test_malformed_scripts_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScriptError) as info:
        lex(text, "bad.sh")
    assert str(info.value).startswith(f"bad.sh:{line}: ")
    assert fragment in str(info.value)


def test_script_error_is_a_value_error() -> None:
    assert issubclass(ScriptError, ValueError)


# -- netns_exec ---------------------------------------------------------------------------


def test_netns_exec_strips_the_prefix_only() -> None:
    assert netns_exec(one("ip netns exec r1 iptables -S")) == ("r1", ("iptables", "-S"))
    assert netns_exec(one("ip -n r1 route")) == (None, ("ip", "-n", "r1", "route"))
    assert netns_exec(("ip", "netns", "add", "x")) == (None, ("ip", "netns", "add", "x"))
    assert netns_exec(("ip", "netns", "exec", "x")) == ("x", ())
    assert netns_exec(("ip", "netns", "exec")) == (None, ("ip", "netns", "exec"))


def test_command_is_frozen_and_slotted() -> None:
    c = one("ip link\n")
    with pytest.raises(AttributeError):
        c.line = 3  # type: ignore[misc]
    assert not hasattr(c, "__dict__")
    assert c.where() == "t.sh:1"


def test_stdin_from_a_file_is_read_when_the_command_runs() -> None:
    """`CMD < FILE` names the file (opened by the shell when the line runs); one '<' per command."""
    (c,) = lex("ip netns exec a iptables-restore < /tmp/rules\n")
    assert c.stdin_path == "/tmp/rules" and c.stdin is None
    with pytest.raises(ScriptError, match="only one '<'"):
        lex("cat < a < b\n")
    with pytest.raises(ScriptError, match="both '< a'"):
        lex("cat < a <<EOF\nx\nEOF\n")
