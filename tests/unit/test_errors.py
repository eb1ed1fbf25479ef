"""The error tree: one ToolError base for the tools' stderr + exit status, SendError with an int errno."""

from __future__ import annotations

import errno

import pytest

from simnet.errors import KernelError, SendError, SimnetError, ToolError
from simnet.netfilter.ipset import IpsetError
from simnet.netfilter.iptables import IptablesError, iptables
from simnet.netfilter.ruleset import Ruleset
from simnet.netfilter.syntax import RestoreError
from simnet.tools.ip import IpError
from simnet.sysctl import SysctlError


@pytest.mark.parametrize("cls", [IptablesError, IpsetError, RestoreError, IpError, SysctlError])
def test_every_tool_error_is_a_tool_error(cls: type) -> None:
    assert issubclass(cls, ToolError) and issubclass(cls, SimnetError)


def test_a_tool_error_carries_the_tools_words_and_status() -> None:
    with pytest.raises(ToolError) as e:
        iptables(Ruleset(), ["-A", "NOPE", "-j", "ACCEPT"])
    assert e.value.exit_code == 1
    assert str(e.value) == "iptables: No chain/target/match by that name."


def test_send_error_is_a_kernel_error_with_an_int_errno() -> None:
    err = SendError(errno.ENETUNREACH, "Network is unreachable")
    assert isinstance(err, KernelError) and isinstance(err, OSError)
    assert (err.errno, err.errno_name, str(err)) == (errno.ENETUNREACH, "ENETUNREACH", "Network is unreachable")
