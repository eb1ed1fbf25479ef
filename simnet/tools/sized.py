"""Sized sources on the left of a pipe: ``head -c N /dev/zero | ...`` and
``dd if=/dev/zero bs=N count=C | ...`` (a sized transfer's byte count, never the bytes).

Sizes are read as coreutils 9 reads them: a number with an optional multiplier suffix
(``b`` 512, ``kB`` 1000, ``K``/``KiB`` 1024, ``MB``/``M``/``MiB``, ``GB``/``G``/``GiB``; dd
also ``c`` 1 and ``w`` 2).
"""

from __future__ import annotations

import re

__all__ = ["piped_size", "SIZE_LIMIT"]

SIZE_LIMIT = 1 << 30
"""The largest transfer simnet simulates (1 GiB; every segment is a simulated packet)."""

_SUFFIX = {"": 1, "b": 512, "kB": 1000, "K": 1024, "KiB": 1024, "MB": 1000 ** 2, "M": 1024 ** 2,
           "MiB": 1024 ** 2, "GB": 1000 ** 3, "G": 1024 ** 3, "GiB": 1024 ** 3}
_DD_SUFFIX = _SUFFIX | {"c": 1, "w": 2, "k": 1024}


def _size(word: str, table: dict[str, int]) -> int | None:
    m = re.fullmatch(r"(\d+)([A-Za-z]*)", word)
    if m is None or m[2] not in table:
        return None
    return int(m[1]) * table[m[2]]


def piped_size(argv: tuple[str, ...] | None) -> int | str | None:
    """The bytes ``argv`` writes to the pipe: an int; a str is the tool's own error words (an
    invalid size); None when ``argv`` is not a sized source of zeros.

    >>> piped_size(("head", "-c", "1K", "/dev/zero")), piped_size(("dd", "if=/dev/zero", "bs=1000", "count=3"))
    (1024, 3000)
    >>> piped_size(("head", "-c", "12x", "/dev/zero"))
    "head: invalid number of bytes: '12x'"
    """
    if not argv:
        return None
    if argv[0] == "head":
        words = list(argv[1:])
        if len(words) == 2 and words[0].startswith("-c") and words[0] != "-c":
            words = ["-c", words[0][2:], words[1]]
        if len(words) != 3 or words[0] != "-c" or words[2] != "/dev/zero":
            return None
        n = _size(words[1], _SUFFIX)
        return f"head: invalid number of bytes: '{words[1]}'" if n is None else n
    if argv[0] == "dd":
        opts: dict[str, str] = {}
        for w in argv[1:]:
            key, eq, value = w.partition("=")
            if not eq or key not in ("if", "bs", "count", "status"):
                return None
            opts[key] = value
        if opts.get("if") != "/dev/zero" or "count" not in opts:
            return None
        bs = _size(opts.get("bs", "512"), _DD_SUFFIX)
        if bs is None or bs == 0:
            return f"dd: invalid number: '{opts.get('bs')}'"
        count = _size(opts["count"], _DD_SUFFIX)
        if count is None:
            return f"dd: invalid number: '{opts['count']}'"
        return bs * count
    return None
