"""simnet: a pure-Python simulator of the Linux network stack as container platforms use it.

The names below are the public face: notebooks, the README and users' code import
them from here, so the modules behind them can move without breaking anyone.

>>> import simnet
>>> report = simnet.run_script("ip netns add a\\nip -n a link set lo up\\nip netns exec a ping -c 1 -W 1 127.0.0.1\\n")
>>> report.probes[0].result.outcome
'reply'
"""

import sys
from types import ModuleType
from typing import TYPE_CHECKING

_LAZY = {
    "DockerDaemon": "simnet.docker.daemon", "DnsSettings": "simnet.docker.resolver",
    "ConfigError": "simnet.errors", "KernelError": "simnet.errors",
    "RuleSyntaxError": "simnet.errors", "SimnetError": "simnet.errors", "FileSystem": "simnet.files",
    "PmtuDisc": "simnet.pmtu",
    "Rule": "simnet.netfilter.rule",
    "Ruleset": "simnet.netfilter.ruleset", "NetNamespace": "simnet.netns", "ProbeResult": "simnet.probe",
    "ping": "simnet.probe", "tcp_connect": "simnet.probe", "udp_send": "simnet.probe",
    "reachability_matrix": "simnet.reach", "ScriptError": "simnet.script.expect",
    "Report": "simnet.script.interpreter", "run_script": "simnet.script.interpreter",
    "assert_reachable": "simnet.testing", "assert_unreachable": "simnet.testing", "reachability": "simnet.testing",
    "replay_script": "simnet.testing", "world_script": "simnet.testing", "Disposition": "simnet.trace",
    "Trace": "simnet.trace", "World": "simnet.world",
    "Diagnosis": "simnet.explain", "describe": "simnet.explain", "explain": "simnet.explain",
}
"""Public name -> the module that defines it: each loads on first use, so ``simnet run`` pays only
for the modules its script needs (Docker's daemon, explain, reach and testing are not imported by a
script without docker lines)."""
_RENAMED = {"reachability_matrix": "reach"}

_DRAWINGS = {"draw_chains": "chains", "draw_hooks": "hooks", "draw_sequence": "sequence",
             "draw_topology": "topology"}


class _Package(ModuleType):
    """simnet's module type: ``explain`` is both a public function and the name of its module.

    Importing the submodule ``simnet.explain`` binds the package's attribute of that name to the
    module (the import system's ``setattr``); the public name must stay the function, as it was when
    simnet imported it eagerly, so the function is bound instead.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "explain" and isinstance(value, ModuleType):
            value = value.explain
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:
    from simnet.explain import Diagnosis, describe, explain
    from simnet.docker.daemon import DockerDaemon
    from simnet.docker.resolver import DnsSettings
    from simnet.errors import ConfigError, KernelError, RuleSyntaxError, SimnetError
    from simnet.files import FileSystem
    from simnet.netfilter.rule import Rule
    from simnet.netfilter.ruleset import Ruleset
    from simnet.netns import NetNamespace
    from simnet.pmtu import PmtuDisc
    from simnet.probe import ProbeResult, ping, tcp_connect, udp_send
    from simnet.reach import reach as reachability_matrix
    from simnet.script.expect import ScriptError
    from simnet.script.interpreter import Report, run_script
    from simnet.testing import assert_reachable, assert_unreachable, reachability, replay_script, world_script
    from simnet.trace import Disposition, Trace
    from simnet.world import World


def __getattr__(name: str) -> object:
    """Public names load on first use; the pictures (simnet.draw) need matplotlib only to draw."""
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), _RENAMED.get(name, name))
        globals()[name] = value
        return value
    if name in _DRAWINGS or name == "draw":
        draw = importlib.import_module("simnet.draw")
        return draw if name == "draw" else getattr(draw, _DRAWINGS[name])
    raise AttributeError(f"module 'simnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "draw", "draw_chains", "draw_hooks", "draw_sequence", "draw_topology",
    "ConfigError", "Diagnosis", "Disposition", "DnsSettings", "DockerDaemon", "FileSystem", "KernelError",
    "NetNamespace", "PmtuDisc",
    "ProbeResult", "Report", "Rule", "RuleSyntaxError", "Ruleset", "ScriptError", "SimnetError",
    "Trace", "World", "assert_reachable", "assert_unreachable", "describe", "explain", "ping",
    "reachability", "reachability_matrix", "replay_script", "run_script", "tcp_connect", "udp_send",
    "world_script",
]
__version__ = "0.1.0"
