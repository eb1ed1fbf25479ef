"""Docker on a simulated host (issue 6).  The core never imports this package."""

from simnet.docker.daemon import Container, DockerDaemon, DockerError, Network
from simnet.docker.era import ERAS, Era
from simnet.docker.export import export_script
from simnet.docker.firewall import Firewaller, NetConfig, PortBinding

__all__ = ["ERAS", "Container", "DockerDaemon", "DockerError", "Era", "Firewaller", "NetConfig", "Network",
           "PortBinding", "export_script"]
