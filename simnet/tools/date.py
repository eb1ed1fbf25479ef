"""``date``: print or set the world's wall clock (coreutils' words and formats).

The world has one wall clock, in UTC (simnet's kernel runs in UTC; ``-m time --kerneltz`` is UTC
too): ``World.epoch`` (the wall time at simulated time 0) plus the simulated time.  ``date -s
STRING`` sets it, so ``-m time`` rules can be tried at any date from a script; ``date`` and
``date -d STRING`` print (``+FORMAT`` as strftime).  STRING is one of the forms people write:
``2026-12-07 10:00[:SS]`` (or ``T`` between), ``2026-12-07``, ``10:00[:SS]`` (today),
``@SECONDS``, optionally followed by ``UTC`` or ``Z``.  The kernel runner never runs ``date -s``
(it would set the machine's clock).

>>> parse_date("2026-12-07 10:00:00", 0)
1796637600
>>> parse_date("10:00", 1796637600 + 3600 * 5)
1796637600
>>> format_date(1796637600, None)
'Mon Dec  7 10:00:00 UTC 2026'
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Sequence

from simnet.script.lexer import Command
from simnet.tools.base import Compiled, script_error, ToolRun

__all__ = ["compile_date", "format_date", "parse_date"]

_FORM = re.compile(r"\s*(?:(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2}))?"
                   r"(?:(?(y)[T ]\s*|)(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2}))?)?"
                   r"\s*(?P<tz>UTC|utc|Z|z)?\s*")


def parse_date(text: str, now: int) -> int:
    """Seconds since 1970 (UTC) that ``date -d TEXT`` means when the wall clock reads ``now``.

    Raises:
        ValueError: ``date: invalid date ‘TEXT’`` as coreutils words it.
    """
    bad = ValueError(f"date: invalid date \u2018{text}\u2019")
    if text.startswith("@"):
        if not re.fullmatch(r"@-?\d{1,12}", text):
            raise bad
        return int(text[1:])
    m = _FORM.fullmatch(text)
    if m is None:
        raise bad
    if m["y"] is not None:
        y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
        if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
            raise bad
        day = calendar.timegm((y, mo, d, 0, 0, 0))
    else:
        day = now - now % 86400  # a time alone: today
    h, mi, s = int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0)
    if h > 23 or mi > 59 or s > 60:
        raise bad
    return day + h * 3600 + mi * 60 + s


def format_date(stamp: int, fmt: str | None) -> str:
    """What ``date [+FORMAT]`` prints for ``stamp`` in UTC (default: ``%a %b %e %H:%M:%S %Z %Y``)."""
    fmt = "%a %b %e %H:%M:%S %Z %Y" if fmt is None else fmt
    fmt = fmt.replace("%%", "\0").replace("%s", str(stamp)).replace("%Z", "UTC").replace("%z", "+0000")
    return time.strftime(fmt, time.gmtime(stamp)).replace("\0", "%")


def _usage(message: str) -> ValueError:
    return ValueError(f"{message}\nTry 'date --help' for more information.")


def parse_args(argv: Sequence[str]) -> tuple[str | None, str | None, str | None]:
    """``date [-u] [-d STRING | -s STRING] [+FORMAT]``: (set, display, format)."""
    set_to = show = fmt = None
    args = list(argv[1:])
    while args:
        w = args.pop(0)
        if w in ("-u", "--utc", "--universal"):
            continue
        if w in ("-s", "--set", "-d", "--date") or re.match(r"^(-[sd].|--(set|date)=)", w):
            if w in ("-s", "--set", "-d", "--date"):
                if not args:
                    raise _usage(f"date: option requires an argument -- '{w[1]}'" if len(w) == 2
                                 else f"date: option '{w}' requires an argument")
                value = args.pop(0)
            else:
                value = w[2:] if w[1] != "-" else w.split("=", 1)[1]
            if w.startswith(("-s", "--set")):
                set_to = value
            else:
                show = value
            continue
        if w.startswith("+"):
            if fmt is not None:
                raise _usage(f"date: extra operand \u2018{w}\u2019")
            fmt = w[1:]
            continue
        if w.startswith("--"):
            raise _usage(f"date: unrecognized option '{w}'")
        if w.startswith("-") and w != "-":
            raise _usage(f"date: invalid option -- '{w[1]}'")
        raise ValueError(f"date: invalid date \u2018{w}\u2019")  # MMDDhhmm[[CC]YY] is not modelled
    if set_to is not None and show is not None:
        raise _usage("date: the options to print and set the time may not be used together")
    return set_to, show, fmt


def compile_date(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """Check a ``date`` line; its step prints the date or sets the world's wall clock."""
    try:
        set_to, show, fmt = parse_args(argv)
        for text in (set_to, show):
            if text is not None:
                parse_date(text, 0)  # the form is checked now; a time alone means today when it runs
    except ValueError as e:
        raise script_error(cmd, str(e)) from None

    def step(run: ToolRun) -> None:
        world = run.world
        now = int(world.epoch + world.now)
        if set_to is not None:
            stamp = parse_date(set_to, now)
            world.epoch = stamp - world.now  # the wall clock moves; simulated time does not
        else:
            stamp = parse_date(show, now) if show is not None else now
        run.output(cmd, format_date(stamp, fmt) + "\n")

    return Compiled(step)
