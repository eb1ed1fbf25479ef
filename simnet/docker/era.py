"""The Docker releases simnet models, as a closed type.

Each era is a daemon whose rules and words differ (docker-rules.md): ``1.9`` (the chapter's),
``27`` (20.10 to 27.x), ``28`` (28.x) and ``29`` (current).  :class:`Era` is a ``StrEnum``, so
an era prints, compares and serialises as the ``--era`` word it was given.

>>> Era("28").at_least(Era.V28), Era.V27.before(Era.V28), f"{Era.V1_9}"
(True, True, '1.9')
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ERAS", "Era"]


class Era(StrEnum):
    """One modelled Docker release, ordered oldest first."""

    V1_9 = "1.9"
    V27 = "27"
    V28 = "28"
    V29 = "29"

    @property
    def rank(self) -> int:
        """Position in release order (1.9 is 0)."""
        return _ORDER.index(self)

    def at_least(self, other: "Era") -> bool:
        """This era is ``other`` or a later one."""
        return self.rank >= other.rank

    def before(self, other: "Era") -> bool:
        """This era is older than ``other``."""
        return self.rank < other.rank


_ORDER = tuple(Era)
ERAS = tuple(e.value for e in Era)
"""The ``--era`` words, oldest first."""
