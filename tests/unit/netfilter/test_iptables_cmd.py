"""The iptables command: stdout, stderr and exit codes of iptables 1.8.9 (nf_tables).

tests/data/iptables/cmdsN.out is the transcript of cmdsN.sh run with the real
tool in a fresh namespace; simnet must reproduce it exactly.
"""

import pathlib
import shlex

import pytest

from simnet.netfilter.iptables import IptablesError, iptables, iptables_restore, iptables_save
from simnet.netfilter.ruleset import Ruleset

DATA = pathlib.Path(__file__).parents[2] / "data" / "iptables"


def replay(script: str) -> str:
    rs = Ruleset()
    out = []
    for line in script.splitlines():
        if not line.startswith("r "):
            continue
        argv = shlex.split(line[2:])
        out.append("$ iptables " + " ".join(argv))
        try:
            text = iptables(rs, argv)
            rc = 0
            if text:
                out.append(text.rstrip("\n"))
        except IptablesError as e:
            out.append(str(e))
            rc = e.exit_code
        out.append(f"rc={rc}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", ["cmds1", "cmds2", "cmds3", "tcpmss"])
def test_transcript_matches_real_iptables(name):
    assert replay((DATA / f"{name}.sh").read_text()) == (DATA / f"{name}.out").read_text()


def test_save_and_restore_entry_points():
    rs = Ruleset()
    iptables_restore(rs, ["-n"], "*nat\n:DOCKER - [0:0]\n-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\nCOMMIT\n")
    assert iptables_save(rs, ["-t", "nat"]).startswith("*nat\n:PREROUTING ACCEPT [0:0]\n")
    with pytest.raises(IptablesError) as e:
        iptables_restore(rs, [], "*nat\n-A NOPE -j ACCEPT\nCOMMIT\n")
    assert e.value.line == 2


def test_no_command():
    with pytest.raises(IptablesError) as e:
        iptables(Ruleset(), ["-t", "nat"])
    assert e.value.exit_code == 2 and "no command specified" in str(e.value)
