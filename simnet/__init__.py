"""simnet: a pure-Python simulator of the Linux network stack as container platforms use it."""

from simnet.errors import ConfigError, KernelError, RuleSyntaxError, SimnetError
from simnet.trace import Disposition, Trace
from simnet.world import World

__all__ = ["ConfigError", "Disposition", "KernelError", "RuleSyntaxError", "SimnetError", "Trace", "World"]
__version__ = "0.1.0"
