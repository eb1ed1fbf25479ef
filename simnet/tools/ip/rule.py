"""``ip rule add|delete|show`` (iproute2's iprule.c)."""

from __future__ import annotations

import errno as _errno
from typing import Any, Callable, TYPE_CHECKING

from simnet.errors import KernelError
from simnet.routing import FibRule, RouteTable
from simnet.tools.ip.common import Args, get_integer, inet_prefix, Opts, subcommand, table_id, Unsupported

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["compile_rule"]

def compile_rule(args: Args, opts: Opts) -> Callable[["World", "NetNamespace"], str]:
    sub = subcommand(args, ("add", "delete", "show", "list", "lst", "flush", "save", "restore", "help"),
                      "rule")
    fields: dict[str, Any] = {}
    while args.more():
        w = args.peek()
        if w == "from":
            word = args.next_arg()
            fields["src"] = None if word == "all" else inet_prefix(word)
        elif w == "to":
            word = args.next_arg()
            fields["dst"] = None if word == "all" else inet_prefix(word)
        elif w in ("iif", "dev"):
            fields["iif"] = args.next_arg()
        elif w == "oif":
            fields["oif"] = args.next_arg()
        elif w in ("fwmark",):
            word = args.next_arg()
            mark, _, mask = word.partition("/")
            fields["fwmark"] = get_integer(mark, "fwmark")
            # fib_nl2rule: a mark given alone is compared in full, but 0 alone compares nothing
            fields["fwmask"] = get_integer(mask, "fwmask") if mask else 0xFFFFFFFF if fields["fwmark"] else 0
        elif w in ("table", "lookup"):
            fields["table"] = table_id(args.next_arg())
        elif w in ("priority", "pref", "preference", "prio"):
            fields["priority"] = get_integer(args.next_arg(), "preference")
        else:
            raise Unsupported(f"the ip rule selector {w!r}")
    if sub in ("show", "list", "lst"):
        if fields:
            raise Unsupported("ip rule show with selectors")

        def show(world: "World", ns: "NetNamespace") -> str:
            return "".join(f"{r}\n" for r in sorted(ns.fib.rules, key=lambda r: r.priority))
        return show
    if sub == "add":
        def add(world: "World", ns: "NetNamespace") -> str:
            prio = fields.get("priority")
            if prio is None:
                rules = sorted(ns.fib.rules, key=lambda r: r.priority)
                prio = (rules[1].priority - 1) if len(rules) > 1 and rules[1].priority > 0 else 0
            kw = {k: v for k, v in fields.items() if k != "priority"}
            kw.setdefault("table", RouteTable.MAIN)
            rule = FibRule(priority=int(prio), **kw)
            if rule.table not in ns.fib.tables:
                ns.fib.tables[rule.table] = []
            ns.fib.add_rule(rule)
            return ""
        return add
    if sub == "delete":
        if not fields:
            raise Unsupported("ip rule del without selectors")

        # rule_find: "from all", "to all" and a zero mark or mask leave that field unconstrained
        wanted = {k: v for k, v in fields.items() if v is not None and (k not in ("fwmark", "fwmask") or v)}

        def delete(world: "World", ns: "NetNamespace") -> str:
            for i, r in enumerate(sorted(ns.fib.rules, key=lambda r: r.priority)):
                if all(getattr(r, k) == v for k, v in wanted.items()):
                    ns.fib.rules.remove(r)
                    ns.fib.invalidate()
                    return ""
            raise KernelError(_errno.ENOENT, "RTNETLINK answers: No such file or directory")
        return delete
    raise Unsupported(f"ip rule {sub}")
