"""Pictures of a simulated world: the netfilter hooks a probe went through, the topology, a
sequence diagram of a probe and the jumps between chains.

Each function returns a :class:`matplotlib.figure.Figure` (save it with
``fig.savefig("x.png")``; in a notebook it displays itself).  matplotlib is
imported only when a picture is drawn, so ``import simnet`` never needs it
(``pip install 'simnet[draw]'``).  The pictures are drawn on the Agg backend with
matplotlib's own font, so they need no system binary, and they carry their
meaning in labels, line styles, markers and hatching, never in colour alone.

``probe`` is a :class:`~simnet.probe.ProbeResult` or a record of a
:class:`~simnet.script.interpreter.Report` (``report.probes[i]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simnet.world import World

__all__ = ["chains", "hooks", "sequence", "topology"]


def hooks(probe: Any, *, world: "World | None" = None) -> "Figure":
    """The hook diagram with this probe's packets drawn through it ."""
    from simnet.draw._hooks import hooks as draw

    return draw(probe, world=world)


def topology(world: "World", *, probe: Any = None, routes: bool = False) -> "Figure":
    """Namespaces, devices, addresses, bridges, veth and VXLAN links; a probe's path on demand."""
    from simnet.draw._topology import topology as draw

    return draw(world, probe=probe, routes=routes)


def sequence(probe: Any, *, world: "World | None" = None) -> "Figure":
    """A lane per namespace, an arrow per packet hop (ARP, TCP, ICMP), NAT rewrites annotated."""
    from simnet.draw._sequence import sequence as draw

    return draw(probe, world=world)


def chains(world: "World", netns: str, *, table: str | None = None) -> "Figure":
    """The chains of a namespace's tables, their rules with packet counters and the jumps between them."""
    from simnet.draw._chains import chains as draw

    return draw(world, netns, table=table)
