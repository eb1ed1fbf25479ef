"""``ip netns add|delete|list`` (iproute2's ipnetns.c; ``exec`` is the interpreter's prefix)."""

from __future__ import annotations

from typing import Callable, TYPE_CHECKING

from simnet.tools.ip.common import Args, devices, IpError, ROOT, subcommand, Unsupported

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["check_name", "compile_netns"]


def check_name(name: str) -> str:
    """ipnetns.c's is_valid_netns_name: not empty, no '/', not '.' or '..' (checked on 6.18 with iproute2 6.1)."""
    if not name or "/" in name or name in (".", ".."):
        raise IpError(f'Invalid netns name "{name}"', 255)
    return name

def compile_netns(args: Args) -> Callable[["World", "NetNamespace"], str]:
    sub = subcommand(args, ("list", "add", "attach", "set", "delete", "identify", "pids", "exec", "monitor",
                             "list-id", "help"), "netns", default="list")
    if sub == "list":
        def list_(world: "World", ns: "NetNamespace") -> str:
            ids: dict[str, int] = {}
            root = world.namespaces.get(ROOT)
            if root is not None:
                for d in devices(root):
                    if d.peer is not None and d.peer.netns is not root:
                        ids.setdefault(d.peer.netns.name, len(ids))
            names = [n for n in world.namespaces if n != ROOT][::-1]
            return "".join(n + (f" (id: {ids[n]})" if n in ids else "") + "\n" for n in names)
        return list_
    if sub in ("add", "delete"):
        if not args.more():
            raise IpError("No netns name specified", 255)
        name = check_name(args.take())
        if args.more():
            raise Unsupported(f"ip netns {sub} with more than a name")

        def change(world: "World", ns: "NetNamespace") -> str:
            if sub == "add":
                if name == ROOT:
                    raise Unsupported(f"a namespace named {ROOT!r} (simnet's name for the root namespace)")
                world.add_netns(name)
            else:
                if name not in world.namespaces or name == ROOT:
                    raise IpError(f'Cannot remove namespace file "/run/netns/{name}": No such file or directory', 1)
                world.del_netns(name)
            return ""
        return change
    if sub == "exec":
        raise Unsupported("ip netns exec outside a script line (the interpreter runs it)")
    raise Unsupported(f"ip netns {sub}")
