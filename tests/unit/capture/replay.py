"""A command runner that answers from outputs recorded by tools/record_capture_samples.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simnet.capture.reader import NsRef, Result

DATA = Path(__file__).resolve().parents[2] / "data" / "capture"

_FILES = {
    ("ip", "-d", "-j", "link"): "link", ("ip", "-j", "addr"): "addr",
    ("ip", "-4", "-j", "route", "show", "table", "all"): "route",
    ("ip", "-6", "-j", "route", "show", "table", "all"): "route6", ("ip", "-4", "-j", "rule"): "rule",
    ("ip", "-4", "-j", "neigh"): "neigh", ("bridge", "-j", "fdb"): "fdb", ("ip", "-j", "netns", "list-id"): "nsid",
    ("iptables-save",): "iptables", ("iptables-save", "-c"): "iptables-c", ("ipset", "save"): "ipset",
    ("ss", "-H", "-ltnu"): "ss",
}


class Replay:
    """``runner(argv, netns)`` over the recorded world (root namespace and namespaces a, b)."""

    def __init__(self, *, root: bool = True) -> None:
        self.root = root
        self.calls: list[tuple[tuple[str, ...], str | None]] = []

    def __call__(self, argv: Sequence[str], netns: NsRef | None) -> Result:
        argv = tuple(argv)
        ns = "root" if netns is None or netns.path is None else netns.name
        self.calls.append((argv, ns))
        if argv == ("uname", "-n"):
            return Result("recorded\n")
        if argv == ("uname", "-r"):
            return Result("6.18.0\n")
        if argv == ("ip", "-j", "netns", "list"):
            return Result('[{"name":"b","id":1},{"name":"a","id":0}]\n')
        if argv == ("readlink", "/proc/self/ns/net"):
            if ns != "root" and not self.root:
                return Result("", "nsenter: cannot open /run/netns/a: Permission denied", 1)
            return Result(f"net:[{ {'root': 4026531840, 'a': 4026532001, 'b': 4026532002}[ns]}]\n")
        if argv[0] in ("iptables-save", "ipset") and not self.root:
            return Result("", "iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: "
                              "Permission denied (you must be root)", 4)
        if argv[0] == "sysctl":
            path = DATA / f"{ns}.sysctl.txt"
            if not path.exists():
                return Result("")
            wanted = set(argv)
            return Result("".join(l + "\n" for l in path.read_text().splitlines() if l.split(" = ")[0] in wanted))
        name = _FILES.get(argv)
        if name is None:
            return Result("", f"{argv[0]}: not recorded", 127)
        path = DATA / f"{ns}.{name}.txt"
        return Result(path.read_text()) if path.exists() else Result("", f"{argv[0]}: not recorded", 1)
