"""Pairs of entries so close in embedding space that an agent may pick the wrong one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sitegen.entry import SINGULAR
from sitegen.neighbours import normalized, pairs_within

DEFAULT_COLLISION_DISTANCE = 0.3
_WORD = re.compile(r"[a-z][a-z0-9+#.-]{2,}")
_STOP = frozenset(
    """
    the and for with that this when use used uses using from into your you are can will
    what which who how about each their them they its it's any all not but also such than
    then there these those have has had was were been being does did doing out our over
    more most some very just only other both between before after while where why help
    helps need needs needed make makes made like get gets one two way ways work works
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class Collision:
    kind_a: str
    name_a: str
    kind_b: str
    name_b: str
    distance: float
    shared: tuple[str, ...]

    @property
    def same_kind(self) -> bool:
        return self.kind_a == self.kind_b

    def suggestion(self) -> str:
        words = ", ".join(self.shared[:6]) or "the same ideas"
        return (
            f"both descriptions lean on {words}; say what sets each apart "
            f"(inputs, outputs, and when to pick {self.name_a} over {self.name_b})"
        )

    def line(self) -> str:
        """One line of the report: distance, the pair, and what to sharpen."""
        return (
            f"{self.distance:.3f}  {SINGULAR[self.kind_a]} {self.name_a}  <->  "
            f"{SINGULAR[self.kind_b]} {self.name_b}: {self.suggestion()}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "a": {"type": self.kind_a, "name": self.name_a},
            "b": {"type": self.kind_b, "name": self.name_b},
            "distance": round(self.distance, 4),
            "shared_words": list(self.shared),
            "suggestion": self.suggestion(),
        }


@dataclass(frozen=True)
class CollisionReport:
    """The collision check of a whole library: `check --collisions` prints it."""

    library: str
    entries: int
    pairs: tuple[Collision, ...]
    max_distance: float

    @property
    def same_kind(self) -> int:
        """Pairs of one kind: those fail the check (a role and a skill may overlap)."""
        return sum(c.same_kind for c in self.pairs)

    def summary(self) -> str:
        return (
            f"{self.library}: {self.entries} entries, {len(self.pairs)} pair(s) within "
            f"distance {self.max_distance} ({self.same_kind} of one kind)"
        )


def content_words(text: str) -> set[str]:
    return {w.strip(".-") for w in _WORD.findall(text.lower())} - _STOP


def find_collisions(
    items: Sequence[tuple[str, str, str]],
    vectors: np.ndarray,
    *,
    max_distance: float = DEFAULT_COLLISION_DISTANCE,
) -> list[Collision]:
    """All pairs within `max_distance` (cosine), closest first.

    `items` are (kind, name, description) rows aligned with the L2-normalized `vectors`.
    One blocked scan (:mod:`sitegen.neighbours`), shared with the similar-entries lists.
    """
    found: list[Collision] = []
    for i, j, distance in pairs_within(normalized(vectors), max_distance):
        kind_a, name_a, text_a = items[i]
        kind_b, name_b, text_b = items[j]
        shared = tuple(sorted(content_words(text_a) & content_words(text_b)))
        found.append(Collision(kind_a, name_a, kind_b, name_b, distance, shared))
    found.sort(key=lambda c: (c.distance, c.name_a, c.name_b))
    return found
