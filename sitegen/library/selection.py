"""Which discovered entries a library keeps: sitegen.toml's include/exclude globs, per kind.

A pattern matches an entry's folder, its definition file, or any folder above it (so
`template` leaves out everything under template/). Agent files follow the roles' globs.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from fsspec.utils import glob_translate

from sitegen.config import Config


class Placed(Protocol):
    """What selection looks at: an entry candidate's format and where it is."""

    @property
    def format(self) -> str: ...
    @property
    def folder(self) -> str: ...
    @property
    def definition(self) -> str: ...


C = TypeVar("C", bound=Placed)


class Globs:
    """Compiled include/exclude patterns, matched against an entry's folder, its definition
    file, or any folder above it (so `template` leaves out everything under template/)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.everything = "**" in patterns
        self.regexes = [re.compile(glob_translate(p)) for p in patterns]

    def match_path(self, path: str) -> bool:
        return any(r.match(path) for r in self.regexes)

    def matches(self, folder: str, definition: str) -> bool:
        if self.everything:
            return True
        if self.match_path(definition):
            return True
        probe = folder
        while probe:
            if self.match_path(probe):
                return True
            probe = posixpath.dirname(probe)
        return False


def select(candidates: list[C], agents: list[C], config: Config) -> tuple[list[C], int]:
    """Apply sitegen.toml's include/exclude globs, per kind."""
    rules = {
        "skill": (Globs(config.skills.include), Globs(config.skills.exclude)),
        "role": (Globs(config.roles.include), Globs(config.roles.exclude)),
    }
    rules["agent"] = rules["role"]
    kept: list[C] = []
    excluded = 0
    for candidate in [*candidates, *agents]:
        include, exclude = rules[candidate.format]
        folder, definition = candidate.folder, candidate.definition
        if include.matches(folder, definition) and not (
            exclude.regexes and exclude.matches(folder, definition)
        ):
            kept.append(candidate)
        else:
            excluded += 1
    return kept, excluded
