"""Moved to :mod:`simnet.tools.ip` and :mod:`simnet.tools.bridge` (kept so older imports keep working)."""

from simnet.tools.bridge import bridge, compile_bridge
from simnet.tools.ip import ROOT, IpCommand, IpError, Unsupported, compile_ip, ip, root_netns

__all__ = ["ROOT", "IpCommand", "IpError", "Unsupported", "bridge", "compile_bridge", "compile_ip", "ip",
           "root_netns"]
