"""Docker on a simulated host (issue 6).  The core never imports this package."""

from simnet.docker.daemon import Container, DockerDaemon, DockerError, Network
from simnet.docker.export import export_script
from simnet.docker.firewall import ERAS, Firewaller, NetConfig, PortBinding

__all__ = ["ERAS", "Container", "DockerDaemon", "DockerError", "Firewaller", "NetConfig", "Network",
           "PortBinding", "export_script"]
