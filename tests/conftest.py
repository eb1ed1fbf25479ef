"""Shared fixtures: small worlds built through the same API users call."""

from __future__ import annotations

import os
from ipaddress import IPv4Interface

import pytest
from hypothesis import HealthCheck, settings

from simnet.world import World

# "ci" (the default) draws the same examples on every run, so a red CI always means a change broke
# something; "dev" and "thorough" draw fresh ones to hunt for new counterexamples. A loaded machine
# must not fail a test by its speed: the too_slow health check is off in "ci".
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pair(world: World, a: str, b: str, addr_a: str, addr_b: str, *, dev_a: str = "eth0",
         dev_b: str = "eth0") -> None:
    """Two namespaces joined by a veth pair, addressed and up (lo up too)."""
    for name in (a, b):
        if name not in world.namespaces:
            world.add_netns(name).set_up("lo", True)
    na, nb = world[a], world[b]
    na.link_add(dev_a, "veth", peer=dev_b, peer_netns=nb)
    na.addr_add(dev_a, IPv4Interface(addr_a))
    nb.addr_add(dev_b, IPv4Interface(addr_b))
    na.set_up(dev_a, True)
    nb.set_up(dev_b, True)


@pytest.fixture
def world() -> World:
    return World(seed=7)


def pytest_configure(config: pytest.Config) -> None:
    """simnet's pytest plugin ships as its ``pytest11`` entry point; an installation made before
    the entry point existed (an older editable install) does not load it, so load it here."""
    if not config.pluginmanager.has_plugin("simnet.pytest_plugin"):
        config.pluginmanager.import_plugin("simnet.pytest_plugin")
