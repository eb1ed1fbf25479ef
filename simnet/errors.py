"""The errors simnet raises on purpose.

Exceptions are for misuse and bad configuration; a dropped packet is a result
(see :mod:`simnet.trace`), never an exception.  Errors that a real ``ip`` or
``iptables`` call would fail with carry the kernel's errno and the tool's
wording, so a user sees the message they would see on a real host.
"""

from __future__ import annotations

import errno as _errno


class SimnetError(Exception):
    """Base class for every error simnet raises on purpose."""


class ConfigError(SimnetError, ValueError):
    """An invalid topology or configuration value."""


class RuleSyntaxError(ConfigError):
    """iptables text that cannot be parsed; names the offending token."""


class KernelError(SimnetError, OSError):
    """What a real ``ip``/``iptables`` call would fail with (errno + message)."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(errno, message)

    def __str__(self) -> str:
        return str(self.strerror)


class SendError(KernelError):
    """A local send failed before leaving the host: the errno the application sees.

    Kernel: ``ip_route_output_key`` and ``__mkroute_output`` (ENETUNREACH, EHOSTUNREACH,
    EACCES, EINVAL); ``str()`` is strerror's text.
    """

    @property
    def errno_name(self) -> str:
        """The errno's symbolic name (``ENETUNREACH``), as probes report it."""
        assert self.errno is not None
        return _errno.errorcode[self.errno]


class ToolError(SimnetError):
    """A userspace tool's failure as the tool reports it.

    ``str()`` is what it prints on stderr, ``exit_code`` its exit status: the one base of
    the ``ip``, ``iptables``, ``iptables-restore``, ``ipset`` and ``sysctl`` errors.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class NoSuchDevice(KernelError, LookupError):
    """ENODEV: ``Cannot find device "eth9"``."""

    def __init__(self, ifname: str) -> None:
        super().__init__(_errno.ENODEV, f'Cannot find device "{ifname}"')


class DeviceExists(KernelError):
    """EEXIST from rtnetlink."""

    def __init__(self, message: str = "RTNETLINK answers: File exists") -> None:
        super().__init__(_errno.EEXIST, message)


class NoSuchNamespace(KernelError, LookupError):
    """``Cannot open network namespace "x": No such file or directory``."""

    def __init__(self, name: str) -> None:
        super().__init__(
            _errno.ENOENT,
            f'Cannot open network namespace "{name}": No such file or directory',
        )


class NoSuchChain(KernelError, LookupError):
    """iptables: No chain/target/match by that name."""

    def __init__(self, message: str = "iptables: No chain/target/match by that name.") -> None:
        super().__init__(_errno.ENOENT, message)
