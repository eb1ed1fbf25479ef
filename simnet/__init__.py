"""simnet: a pure-Python simulator of the Linux network stack as container platforms use it.

The names below are the public face: notebooks, the README and users' code import
them from here, so the modules behind them can move without breaking anyone.

>>> import simnet
>>> report = simnet.run_script("ip netns add a\\nip -n a link set lo up\\nip netns exec a ping -c 1 -W 1 127.0.0.1\\n")
>>> report.probes[0].result.outcome
'reply'
"""

from simnet.docker.daemon import DockerDaemon
from simnet.errors import ConfigError, KernelError, RuleSyntaxError, SimnetError
from simnet.explain import Diagnosis, describe, explain
from simnet.files import FileSystem
from simnet.netfilter.rule import Rule
from simnet.netfilter.ruleset import Ruleset
from simnet.netns import NetNamespace
from simnet.probe import ProbeResult, ping, tcp_connect, udp_send
from simnet.reach import reach as reachability_matrix
from simnet.script.expect import ScriptError
from simnet.script.interpreter import Report, run_script
from simnet.testing import assert_reachable, assert_unreachable, reachability, replay_script, world_script
from simnet.trace import Disposition, Trace
from simnet.world import World

_DRAWINGS = {"draw_chains": "chains", "draw_hooks": "hooks", "draw_sequence": "sequence",
             "draw_topology": "topology"}


def __getattr__(name: str) -> object:
    """The pictures (simnet.draw) load on first use: matplotlib is needed only to draw."""
    if name in _DRAWINGS or name == "draw":
        import importlib

        draw = importlib.import_module("simnet.draw")
        return draw if name == "draw" else getattr(draw, _DRAWINGS[name])
    raise AttributeError(f"module 'simnet' has no attribute {name!r}")


__all__ = [
    "draw", "draw_chains", "draw_hooks", "draw_sequence", "draw_topology",
    "ConfigError", "Diagnosis", "Disposition", "DockerDaemon", "FileSystem", "KernelError", "NetNamespace",
    "ProbeResult", "Report", "Rule", "RuleSyntaxError", "Ruleset", "ScriptError", "SimnetError",
    "Trace", "World", "assert_reachable", "assert_unreachable", "describe", "explain", "ping",
    "reachability", "reachability_matrix", "replay_script", "run_script", "tcp_connect", "udp_send",
    "world_script",
]
__version__ = "0.1.0"
