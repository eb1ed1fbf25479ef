"""Docker's era as a closed type: made from the --era word, ordered, printed as the word."""

import json

import pytest

from simnet.docker import ERAS, DockerDaemon, DockerError, Era
from simnet.docker.firewall import Firewaller
from simnet.world import World


def test_eras_are_ordered_and_print_as_their_words() -> None:
    assert ERAS == ("1.9", "27", "28", "29") == tuple(Era)
    assert [e.rank for e in Era] == [0, 1, 2, 3]
    assert Era.V28.at_least(Era.V28) and Era.V29.at_least(Era.V28) and not Era.V27.at_least(Era.V28)
    assert Era.V1_9.before(Era.V27) and not Era.V28.before(Era.V28)
    assert f"dockerd --era {Era.V1_9}" == "dockerd --era 1.9" and json.dumps(Era.V27) == '"27"'
    assert Era("28") is Era.V28 and Era.V29 == "29"


def test_daemon_and_firewaller_hold_an_era_and_refuse_others() -> None:
    w = World(seed=1)
    w.add_netns("h1")
    d = DockerDaemon(w, "h1", era="28")
    assert d.era is Era.V28 and d.fw.era is Era.V28
    d.start()
    d.restart(era="27")
    assert d.era is Era.V27 and d.fw.era is Era.V27
    with pytest.raises(DockerError, match=r"^unknown era '30': choose one of 1\.9, 27, 28, 29$"):
        DockerDaemon(w, "h1", era="30")
    with pytest.raises(DockerError, match="unknown era '26'"):
        d.restart(era="26")
    with pytest.raises(ValueError, match="unknown Docker era '2'"):
        Firewaller(w.netns("h1"), "2")
