"""``simnet capture``: a real host's network, read-only, as a simnet script.

:func:`read_host` runs the host's own tools through an injectable runner and returns a
:class:`Capture` (pure parsers in :mod:`~simnet.capture.iproute`, :mod:`~simnet.capture.sysctl`,
:mod:`~simnet.capture.netfilter`); :func:`write_script` turns it into a deterministic script that
``simnet run`` turns back into the same world; :class:`Redactor` maps addresses and names for a
script that can be attached to a public bug report.
"""

from simnet.capture.model import Capture, Namespace, Note
from simnet.capture.reader import NsRef, Result, read_host, subprocess_runner
from simnet.capture.redact import Redactor
from simnet.capture.writer import Script, write_script

__all__ = ["Capture", "Namespace", "Note", "NsRef", "Redactor", "Result", "Script", "read_host",
           "subprocess_runner", "write_script"]
