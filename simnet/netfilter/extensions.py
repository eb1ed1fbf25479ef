"""Extensions loaded by name on first use, as libxtables loads ``libxt_NAME.so``.

iptables knows every ``-m``/``-j`` name it may meet but ``dlopen``\\s an extension only when a
rule first names it (``xtables_find_match``/``xtables_find_target``).  simnet does the same
with its match and target files: a script that never says ``-m time`` never imports
``xt_time``, which keeps a run's start-up to the modules it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

__all__ = ["Extensions"]

V = TypeVar("V")


class Extensions(Mapping[str, V]):
    """A read-only mapping of names -> values whose ``load(name)`` runs on the first lookup only.

    Membership, iteration (in the order given) and length need no loading.
    """

    __slots__ = ("_names", "_load", "_loaded")

    def __init__(self, names: Iterable[str], load: Callable[[str], V]) -> None:
        self._names: dict[str, None] = dict.fromkeys(names)
        self._load = load
        self._loaded: dict[str, V] = {}

    def __getitem__(self, name: str) -> V:
        try:
            return self._loaded[name]
        except KeyError:
            if name not in self._names:
                raise
        value = self._loaded[name] = self._load(name)
        return value

    def get(self, name: str, default: V | None = None) -> V | None:  # type: ignore[override]
        value = self._loaded.get(name)
        if value is not None:
            return value
        return self[name] if name in self._names else default

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def loaded(self) -> list[str]:
        """The names looked up so far (the extensions whose files are imported)."""
        return list(self._loaded)

    def __repr__(self) -> str:
        return f"Extensions({list(self._names)})"
