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
from simnet.netfilter.rule import Rule
from simnet.netfilter.ruleset import Ruleset
from simnet.netns import NetNamespace
from simnet.probe import ProbeResult, ping, tcp_connect, udp_send
from simnet.script.expect import ScriptError
from simnet.script.interpreter import Report, run_script
from simnet.testing import assert_reachable, assert_unreachable, reachability
from simnet.trace import Disposition, Trace
from simnet.world import World

__all__ = [
    "ConfigError", "Diagnosis", "Disposition", "DockerDaemon", "KernelError", "NetNamespace",
    "ProbeResult", "Report", "Rule", "RuleSyntaxError", "Ruleset", "ScriptError", "SimnetError",
    "Trace", "World", "assert_reachable", "assert_unreachable", "describe", "explain", "ping",
    "reachability", "run_script", "tcp_connect", "udp_send",
]
__version__ = "0.1.0"
