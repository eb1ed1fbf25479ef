"""Read a scenario script (shell syntax, one command per line) into :class:`Command` values.

simnet never runs scenario scripts through a shell: it lexes them the way
``sh`` would split them into words, for the small subset of shell that
scenario scripts use, and refuses everything else with a :class:`ScriptError`
that names ``file:line``, the construct and why.

Supported:

* one command per line; ``\\``-newline continuations; blank lines;
* whole-line comments and trailing `` # ...`` comments; a ``#!`` shebang;
* single quotes (fully literal) and double quotes (``\\"``, ``\\\\``, ``\\$``,
  ``\\``` escapes); no parameter expansion: ``$!`` and ``%1`` stay literal words;
* here-documents ``<<EOF``, ``<<'EOF'``, ``<<"EOF"`` and ``<<-EOF`` (leading
  tabs stripped), which become :attr:`Command.stdin`;
* a trailing ``&`` (background), one ``|`` (``echo DATA | nc -u ...``: the data
  becomes :attr:`Command.stdin`), one ``>`` or ``>>`` redirect;
* ``set -e``/``set -x`` lines (kept as commands whose ``argv[0]`` is ``set``);
* ``# expect: ...`` on the line right after a command (or as that command's
  trailing comment), parsed into an :class:`~simnet.script.expect.Expectation`.

* ``< /dev/null``: an empty :attr:`Command.stdin`; ``< FILE``: :attr:`Command.stdin_path` (read when it runs).

Rejected: ``&&``, ``||``, ``;``, ``$(...)``, backticks, ``$VAR``/``${...}``,
``<<<``, ``2>``/``>&`` fd redirects, subshells ``( )``, unbalanced
quotes, unterminated here-documents, and ``# expect:`` without a command.

Example:
    >>> cmds = lex('''ip netns exec a ping -c1 10.0.0.2
    ... # expect: reply
    ... echo hi | ip netns exec b nc -u -w1 10.0.0.1 53
    ... ''', "demo.sh")
    >>> cmds[0].argv[4:], str(cmds[0].expect), cmds[1].line, cmds[1].stdin
    (('ping', '-c1', '10.0.0.2'), 'reply', 3, 'hi\\n')
    >>> netns_exec(cmds[1])
    ('b', ('nc', '-u', '-w1', '10.0.0.1', '53'))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from simnet.script.expect import Expectation, ScriptError

__all__ = ["Command", "ScriptError", "lex", "netns_exec"]

_ONE_PER_LINE = "simnet reads one command per line"
_NO_SHELL = "simnet does not run a shell, so there is no expansion; write the value literally"
_WORD_END = frozenset(" \t\n&|;<>()")
_PLAIN = re.compile(r"[^ \t\n&|;<>()\r'\"\\$`]+")
"""A run of characters a word takes as they are (no quote, escape, expansion or end)."""
_EXPECT = re.compile(r"#\s*expect\s*:(.*)\Z", re.S)
_SIMPLE_LINE = re.compile(r"([ \t!%*+,\-./0-9:=?@A-Z\[\]^_a-z{}~]*)(&[ \t]*)?(?:\n|\Z)")
"""A whole line of plain words, perhaps ending in ``&``: printable ASCII without a quote, escape,
expansion, other operator or comment (most lines of a generated script), split on blanks at once
(space and tab are its only blanks, so ``str.split`` splits it as sh does)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """One command of a scenario script, after word splitting and quote removal."""

    file: str
    """The script's file name, for messages."""
    line: int
    """1-based line on which the command starts."""
    argv: tuple[str, ...]
    """The words of the command (the right-hand side of a pipe)."""
    stdin: str | None = None
    """Here-document body, the data of ``echo DATA |``/``printf ... |`` piped in, or ``""`` (``< /dev/null``)."""
    pipe_from: tuple[str, ...] | None = None
    """argv of the left-hand side of a ``|``, if any."""
    background: bool = False
    """Whether the command ends with ``&``."""
    redirect: tuple[str, str] | None = None
    """``('>', path)`` or ``('>>', path)``."""
    stdin_path: str | None = None
    """``< FILE``: standard input read from the host's file when the command runs."""
    redirect_netns: str | None = None
    """The ``ip netns exec`` namespace of the shell that opens :attr:`redirect` and :attr:`stdin_path`
    (``ip netns exec NS sh -c 'echo x > F'``), whose /etc/netns/NS binds it sees; None when the script's
    own shell opens them."""
    expect: Expectation | None = None
    """The ``# expect:`` annotation that follows the command, if any."""
    text: str = ""
    """The command's original source text (without comment), for messages."""
    limit: float | None = None
    """Seconds ``timeout(1)`` gives the command (set by :func:`simnet.script.shell.expand`)."""

    def where(self) -> str:
        """``file:line``, the prefix of every message about this command."""
        return f"{self.file}:{self.line}"


def netns_exec(cmd: Command | Sequence[str]) -> tuple[str | None, tuple[str, ...]]:
    """Split an ``ip netns exec NS`` prefix off a command: ``(NS, inner argv)``.

    ``ip -n NS ...`` is an ``ip`` option, not a prefix, and is left alone.
    ``ip netns exec NS`` with no command gives ``(NS, ())``.

    >>> netns_exec(("ip", "netns", "exec", "r1", "sysctl", "-w", "a=1"))
    ('r1', ('sysctl', '-w', 'a=1'))
    >>> netns_exec(("ip", "-n", "r1", "link"))
    (None, ('ip', '-n', 'r1', 'link'))
    """
    argv = tuple(cmd.argv if isinstance(cmd, Command) else cmd)
    if len(argv) >= 4 and argv[:3] == ("ip", "netns", "exec"):
        return argv[3], argv[4:]
    return None, argv


def lex(text: str, filename: str = "<script>", *, inline: bool = False) -> tuple[Command, ...]:
    """Split a scenario script into commands; raise :class:`ScriptError` on anything else.

    ``inline`` reads the text of ``sh -c 'TEXT'``, where ``;`` and ``&&`` also end a
    command (simnet stops at the first failing command, so ``a && b`` runs as ``a; b``).

    >>> [c.argv for c in lex("ip netns add a  # the client\\nip -n a link set lo up\\n")]
    [('ip', 'netns', 'add', 'a'), ('ip', '-n', 'a', 'link', 'set', 'lo', 'up')]
    >>> [c.argv for c in lex("sysctl -w a=1; echo 1 > /proc/x && true", inline=True)]
    [('sysctl', '-w', 'a=1'), ('echo', '1'), ('true',)]
    """
    return _Lexer(text, filename, inline=inline).run()


# --------------------------------------------------------------------------------------
# The scanner


@dataclass(frozen=True, slots=True)
class _Heredoc:
    delim: str
    strip_tabs: bool
    quoted: bool
    op: str


class _Lexer:
    """A one-pass scanner over the whole text (quotes may span lines, as in sh)."""

    plain_lines = True
    """Take a line of plain words in one step (False: character by character, for the equivalence test)."""

    def __init__(self, text: str, filename: str, *, inline: bool = False) -> None:
        self.src = text
        self.file = filename
        self.inline = inline
        self.i = 0
        self.line = 1
        self.out: list[Command] = []
        self.last_end_line = 0  # last line of the previous command (heredoc included)

    # -- helpers -----------------------------------------------------------------------

    def error(self, message: str, line: int | None = None) -> ScriptError:
        return ScriptError(self.file, self.line if line is None else line, message)

    def unsupported(self, construct: str, why: str = _ONE_PER_LINE, line: int | None = None) -> ScriptError:
        return self.error(f"unsupported shell construct {construct!r}: {why}", line)

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.src[j] if j < len(self.src) else ""

    def rest_of_line(self) -> str:
        end = self.src.find("\n", self.i)
        end = len(self.src) if end < 0 else end
        s = self.src[self.i:end]
        self.i = end
        return s

    # -- top level ---------------------------------------------------------------------

    def run(self) -> tuple[Command, ...]:
        src, end = self.src, len(self.src)
        while self.i < end:
            c = src[self.i]
            if c in (" ", "\t", "\r"):
                self.i += 1
            elif c == "\n":
                self.i += 1
                self.line += 1
            elif c == "\\" and self.peek(1) == "\n":
                self.i += 2
                self.line += 1
            elif c == "#":
                line = self.line
                comment = self.rest_of_line()
                m = _EXPECT.match(comment)
                if m:
                    self.attach_expect(m.group(1), line)
                elif comment.startswith("#!") and line == 1:
                    pass  # shebang
            else:
                self.command()
        return tuple(self.out)

    def attach_expect(self, body: str, line: int) -> None:
        if not self.out or self.last_end_line != line - 1:
            raise self.error(
                "'# expect:' with no preceding command: put it on the line right after the probe it describes",
                line,
            )
        prev = self.out[-1]
        if prev.expect is not None:
            raise self.error(f"second '# expect:' for the command on line {prev.line}", line)
        exp = Expectation.parse(body, filename=self.file, line=line)
        self.out[-1] = replace(prev, expect=exp)
        self.last_end_line = line  # a comment cannot attach twice, but keep the chain tidy

    # -- one command ---------------------------------------------------------------------

    def command(self) -> None:
        start_line, start_i = self.line, self.i
        m = _SIMPLE_LINE.match(self.src, start_i) if self.plain_lines else None
        argv = tuple(m.group(1).split()) if m is not None else ()
        if argv:  # plain words only: what the loop below would make of them, at once
            seg = m.group()  # type: ignore[union-attr]
            self.i = m.end()  # type: ignore[union-attr]
            if seg.endswith("\n"):
                seg = seg[:-1]
                self.line += 1
            self.out.append(Command(file=self.file, line=start_line, argv=argv, text=seg.rstrip(),
                                    background=m.group(2) is not None))  # type: ignore[union-attr]
            self.last_end_line = start_line
            return
        tokens: list[tuple[str, object, int]] = []  # (kind, value, line)
        comment: str | None = None
        comment_line = start_line
        end_i = self.i
        while True:
            c = self.peek()
            if c == "" or c == "\n":
                end_i = self.i
                break
            if c in (" ", "\t", "\r"):
                self.i += 1
                continue
            if c == "\\" and self.peek(1) == "\n":
                self.i += 2
                self.line += 1
                continue
            if c == "#":
                end_i = self.i
                comment_line = self.line
                comment = self.rest_of_line()
                break
            line = self.line
            if self.inline and (c == ";" and self.peek(1) != ";" or c == "&" and self.peek(1) == "&"):
                end_i = self.i
                self.i += 1 if c == ";" else 2
                break
            if c == "&":
                if self.peek(1) == "&":
                    raise self.unsupported("&&")
                if self.peek(1) == ">":
                    raise self.unsupported("&>", "only '>' and '>>' redirects are supported")
                tokens.append(("op", "&", line))
                self.i += 1
            elif c == "|":
                if self.peek(1) == "|":
                    raise self.unsupported("||")
                if self.peek(1) == "&":
                    raise self.unsupported("|&", "only a plain '|' pipe is supported")
                tokens.append(("op", "|", line))
                self.i += 1
            elif c == ";":
                raise self.unsupported(";;" if self.peek(1) == ";" else ";", _ONE_PER_LINE + "; put each command on its own line")
            elif c == ">":
                op = ">>" if self.peek(1) == ">" else ">"
                self.i += len(op)
                if self.peek() in ("&", "|"):
                    raise self.unsupported(op + self.peek(), "only '>' and '>>' to a file are supported")
                tokens.append(("op", op, line))
            elif c == "<":
                if self.peek(1) != "<":
                    self.i += 1
                    while self.peek() in (" ", "\t"):
                        self.i += 1
                    if self.peek() in ("", "\n") or self.peek() in _WORD_END:
                        raise self.error("'<' needs a file name after it")
                    path = self.word()
                    if any(t[0] in ("devnull", "infile") for t in tokens):
                        raise self.error("only one '<' redirect per command is supported")
                    tokens.append(("devnull" if path == "/dev/null" else "infile", path, line))
                    continue
                if self.peek(2) == "<":
                    raise self.unsupported("<<<", "here-strings are not supported; use a here-document (<<EOF)")
                self.i += 2
                strip = self.peek() == "-"
                if strip:
                    self.i += 1
                while self.peek() in (" ", "\t"):
                    self.i += 1
                if self.peek() in ("", "\n") or self.peek() in _WORD_END:
                    raise self.error("here-document '<<' needs a delimiter word, e.g. <<EOF")
                word_start = self.i
                delim = self.word(expand=False)
                quoted = any(q in self.src[word_start:self.i] for q in "'\"\\")
                tokens.append(("heredoc", _Heredoc(delim, strip, quoted, "<<-" if strip else "<<"), line))
            elif c in "()":
                raise self.unsupported(c, "subshells and grouping are not supported; " + _ONE_PER_LINE)
            else:
                word = self.word()
                if (word.isascii() and word.isdigit() and self.peek() in ("<", ">")
                        and self.src[self.i - 1] not in "'\""):
                    raise self.unsupported(word + self.peek(), "only '>' and '>>' of stdout to a file are supported")
                tokens.append(("word", word, line))
        end_line = self.line
        text = self.src[start_i:end_i].rstrip()
        if self.peek() == "\n":
            self.i += 1
            self.line += 1
        heredocs = [t for t in tokens if t[0] == "heredoc"]
        body: str | None = None
        if len(heredocs) > 1:
            raise self.error("more than one here-document on one command is not supported", start_line)
        if heredocs and any(t[0] == "devnull" for t in tokens):
            raise self.error("a command cannot read both a here-document and '< /dev/null'", start_line)
        infile = next((t[1] for t in tokens if t[0] == "infile"), None)
        if infile is not None and (heredocs or any(t[:2] == ("op", "|") for t in tokens)):
            raise self.error(f"a command cannot read both '< {infile}' and a here-document or pipe", start_line)
        tokens = [t for t in tokens if t[0] != "infile"]
        if heredocs:
            body, end_line = self.heredoc_body(heredocs[0][1], start_line)  # type: ignore[arg-type]
        elif any(t[0] == "devnull" for t in tokens):
            body = ""
        tokens = [t for t in tokens if t[0] != "devnull"]
        if not tokens:
            return
        cmd = self.build(tokens, body, start_line, text)
        if infile is not None:
            cmd = replace(cmd, stdin_path=str(infile))
        if comment is not None:
            m = _EXPECT.match(comment)
            if m:
                cmd = replace(cmd, expect=Expectation.parse(m.group(1), filename=self.file, line=comment_line))
        self.out.append(cmd)
        self.last_end_line = end_line

    def word(self, *, expand: bool = True) -> str:
        """Read one shell word with quote removal; stop at whitespace or an operator."""
        out: list[str] = []
        while True:
            c = self.peek()
            if c == "" or c in _WORD_END or c == "\r":
                return "".join(out)
            if c == "'":
                start = self.line
                end = self.src.find("'", self.i + 1)
                if end < 0:
                    raise self.error("unbalanced single quote: the quote opened here is never closed", start)
                chunk = self.src[self.i + 1:end]
                self.line += chunk.count("\n")
                out.append(chunk)
                self.i = end + 1
            elif c == '"':
                start = self.line
                self.i += 1
                while True:
                    d = self.peek()
                    if d == "":
                        raise self.error("unbalanced double quote: the quote opened here is never closed", start)
                    if d == '"':
                        self.i += 1
                        break
                    if d == "\\":
                        e = self.peek(1)
                        if e == "\n":
                            self.line += 1
                        elif e in '$`"\\':
                            out.append(e)
                        else:
                            out.append("\\" + e)
                        self.i += 2
                    elif d == "$" and expand:
                        out.append(self.dollar())
                    elif d == "`" and expand:
                        raise self.unsupported("`...`", "simnet does not run a shell, so command substitution is not available; write the value literally")
                    else:
                        if d == "\n":
                            self.line += 1
                        out.append(d)
                        self.i += 1
            elif c == "\\":
                e = self.peek(1)
                if e == "\n":
                    self.line += 1
                elif e == "":
                    raise self.error("a lone '\\' at the end of the script escapes nothing")
                else:
                    out.append(e)
                self.i += 2
            elif c == "$" and expand:
                out.append(self.dollar())
            elif c == "`" and expand:
                raise self.unsupported("`...`", "simnet does not run a shell, so command substitution is not available; write the value literally")
            else:
                m = _PLAIN.match(self.src, self.i)  # the whole plain run at once
                if m is None:  # '$' or '`' taken literally (a here-document's delimiter)
                    out.append(c)
                    self.i += 1
                else:
                    out.append(m.group())
                    self.i = m.end()

    def dollar(self) -> str:
        """Handle a ``$``: ``$!`` and a lone ``$`` are literal; every expansion is refused."""
        nxt = self.peek(1)
        if nxt == "!":
            self.i += 2
            return "$!"
        if nxt == "(":
            construct = "$((...))" if self.peek(2) == "(" else "$(...)"
            raise self.unsupported(construct, "simnet does not run a shell, so command substitution is not available; write the value literally")
        if nxt == "{":
            raise self.unsupported("${...}", _NO_SHELL)
        if nxt and (nxt.isalnum() or nxt in "_?$#@*-"):
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*|.", self.src[self.i + 1:])
            raise self.unsupported("$" + (m.group(0) if m else nxt), _NO_SHELL)
        self.i += 1
        return "$"

    def heredoc_body(self, hd: _Heredoc, start_line: int) -> tuple[str, int]:
        lines: list[str] = []
        while True:
            if self.i >= len(self.src):
                raise self.error(
                    f"unterminated here-document: no line {hd.delim!r} ends the {hd.op}{hd.delim} started here",
                    start_line,
                )
            body_line = self.line
            raw = self.rest_of_line()
            if self.peek() == "\n":
                self.i += 1
            self.line += 1
            if hd.strip_tabs:
                raw = raw.lstrip("\t")
            if raw.rstrip("\r") == hd.delim:
                return "".join(lines), body_line
            if not hd.quoted:
                m = re.search(r"(?<!\\)(\$\(|\$\{|\$[A-Za-z_?#@*$0-9-]|`)", raw)
                if m:
                    construct = {"$(": "$(...)", "${": "${...}", "`": "`...`"}.get(m.group(1), m.group(1))
                    raise self.unsupported(
                        construct,
                        f"the unquoted here-document would expand it; {_NO_SHELL}, or quote the delimiter (<<'{hd.delim}')",
                        body_line,
                    )
                raw = re.sub(r"\\([$`\\])", r"\1", raw)
            lines.append(raw + "\n")

    def build(self, tokens: list[tuple[str, object, int]], body: str | None, line: int, text: str) -> Command:
        background = False
        if tokens[-1][:2] == ("op", "&"):
            background = True
            tokens = tokens[:-1]
        if any(t[:2] == ("op", "&") for t in tokens):
            raise self.unsupported("&", "'&' may only end a command (run it in the background)", line)
        pipes = [k for k, t in enumerate(tokens) if t[:2] == ("op", "|")]
        if len(pipes) > 1:
            raise self.unsupported("|", "only a single pipe per command is supported", tokens[pipes[1]][2])
        left: list[tuple[str, object, int]] | None = None
        if pipes:
            left, tokens = tokens[: pipes[0]], tokens[pipes[0] + 1:]
            if not left:
                raise self.error("'|' with no command before it", line)
            if not tokens:
                raise self.error("'|' with no command after it", line)
            if any(t[0] != "word" for t in left):
                raise self.error("the left side of '|' may only be a plain command such as 'echo DATA'", line)
        argv: list[str] = []
        redirect: tuple[str, str] | None = None
        stdin = body
        k = 0
        while k < len(tokens):
            kind, value, tline = tokens[k]
            if kind == "word":
                argv.append(value)  # type: ignore[arg-type]
            elif kind == "op":  # '>' or '>>'
                if redirect is not None:
                    raise self.error("only one '>' redirect per command is supported", tline)
                if k + 1 >= len(tokens) or tokens[k + 1][0] != "word":
                    raise self.error(f"'{value}' needs a file name after it", tline)
                redirect = (value, tokens[k + 1][1])  # type: ignore[assignment]
                k += 1
            k += 1
        if not argv:
            raise self.error("a redirect or here-document with no command", line)
        pipe_from = tuple(str(v) for _, v, _ in left) if left is not None else None  # all words (checked above)
        if pipe_from is not None:
            if stdin is not None:
                raise self.error("a command cannot read both a pipe and a here-document", line)
            stdin = _piped_data(pipe_from)
        return Command(
            file=self.file, line=line, argv=tuple(argv), stdin=stdin, pipe_from=pipe_from,
            background=background, redirect=redirect, text=text,
        )


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "0": "\0", "e": "\x1b"}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), s)


def _piped_data(argv: tuple[str, ...]) -> str | None:
    """What ``echo``/``printf`` on the left of a pipe would write; ``None`` for other commands.

    >>> _piped_data(("echo", "-n", "hi")), _piped_data(("printf", "%s-%s\\\\n", "a", "b"))
    ('hi', 'a-b\\n')
    """
    if argv[0] == "echo":
        args = list(argv[1:])
        newline, escapes = True, False
        while args and re.fullmatch(r"-[neE]+", args[0]):
            flags = args.pop(0)
            newline = newline and "n" not in flags
            escapes = "e" in flags or (escapes and "E" not in flags)
        data = " ".join(args)
        return (_unescape(data) if escapes else data) + ("\n" if newline else "")
    if argv[0] == "printf" and len(argv) >= 2:
        fmt, args = _unescape(argv[1]), list(argv[2:])
        out: list[str] = []
        while True:
            used = 0

            def sub(m: re.Match[str]) -> str:
                nonlocal used
                if m.group(0) == "%%":
                    return "%"
                val = args[used] if used < len(args) else ""
                used += 1
                return val
            out.append(re.sub(r"%%|%[sdb]", sub, fmt))
            args = args[used:]
            if not args or used == 0:
                return "".join(out)
    return None
