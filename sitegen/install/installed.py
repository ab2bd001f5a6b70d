"""`sitegen installed` and `update`: each recorded install's state, and bringing it up to date.

`update` replaces only unmodified copies; an edited or deleted copy is skipped, never touched.
Each catalog is opened once per command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.catalog import Catalog, open_catalog
from sitegen.errors import SitegenError, UsageError
from sitegen.install.folders import local_state
from sitegen.install.installer import install
from sitegen.install.registry import Record, Registry


@dataclass(frozen=True)
class Status:
    record: Record
    state: str  # unmodified | modified | missing
    latest: str | None  # the catalog's digest now, None when unknown
    error: str | None = None

    @property
    def outdated(self) -> bool:
        return self.latest is not None and self.latest != self.record.digest

    def summary(self) -> str:
        if self.state == "missing":
            return "missing (deleted since install)"
        if self.error:
            return f"catalog unreachable ({self.error})"
        parts = []
        if self.state == "modified":
            parts.append("local edits")
        if self.latest is None:
            parts.append("no longer in the catalog")
        elif self.outdated:
            parts.append("update available")
        return ", ".join(parts) or "up to date"

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.record.as_dict(),
            "state": self.state,
            "latest": self.latest,
            "update_available": self.outdated,
            "error": self.error,
            "status": self.summary(),
        }


def statuses(
    registry: Registry | None = None,
    *,
    check: bool = True,
    opener: Callable[[str], Catalog] = open_catalog,
) -> list[Status]:
    """Every recorded install, its local state and the catalog's current digest."""
    registry = registry or Registry()
    records = sorted(registry.load().values(), key=lambda r: (r.kind, r.name, r.path))
    catalogs: dict[str, Catalog | str] = {}
    out = []
    for record in records:
        state = local_state(Path(record.path), record)
        state = "missing" if state == "absent" else state
        if not check:
            out.append(Status(record, state, record.digest))
            continue
        catalog = _open_once(catalogs, record.catalog, opener)
        if isinstance(catalog, str):
            out.append(Status(record, state, None, catalog))
            continue
        try:
            out.append(Status(record, state, catalog.digest(record.kind, record.name)))
        except SitegenError as exc:
            out.append(Status(record, state, None, str(exc)))
    return out


def _open_once(
    cache: dict[str, Catalog | str], source: str, opener: Callable[[str], Catalog]
) -> Catalog | str:
    """Each catalog is opened once per command; a failure is remembered as its message."""
    if source not in cache:
        try:
            cache[source] = opener(source)
        except SitegenError as exc:
            cache[source] = str(exc)
    return cache[source]


@dataclass(frozen=True)
class UpdateOutcome:
    record: Record
    action: str  # updated | unchanged | skipped | failed
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.record.name, "kind": self.record.kind, "path": self.record.path,
                "action": self.action, "message": self.message}  # fmt: skip


def update(
    names: Sequence[str] = (),
    *,
    registry: Registry | None = None,
    opener: Callable[[str], Catalog] = open_catalog,
) -> list[UpdateOutcome]:
    """Bring unmodified installs up to their catalog's digest; never touch edited copies."""
    registry = registry or Registry()
    wanted = set(names)
    records = [
        r
        for r in sorted(registry.load().values(), key=lambda r: (r.kind, r.name, r.path))
        if not wanted or r.name in wanted or f"{r.kind}/{r.name}" in wanted
    ]
    if wanted and not records:
        raise UsageError(f"nothing installed named {', '.join(sorted(wanted))}")
    catalogs: dict[str, Catalog | str] = {}
    outcomes = []
    for record in records:
        path = Path(record.path)
        state = local_state(path, record)
        if state == "modified":
            outcomes.append(UpdateOutcome(record, "skipped", "local edits; left as it is"))
            continue
        if state == "absent":
            outcomes.append(UpdateOutcome(record, "skipped", "deleted since install"))
            continue
        catalog = _open_once(catalogs, record.catalog, opener)
        if isinstance(catalog, str):
            outcomes.append(UpdateOutcome(record, "failed", catalog))
            continue
        try:
            result = install(
                catalog,
                f"{record.kind}/{record.name}",
                agent=record.agent or "claude",
                scope="project" if record.scope == "project" else "user",
                folder=None if record.agent else path.parent,
                registry=registry,
                replace_older=True,
                target=path,
            )
        except SitegenError as exc:
            outcomes.append(UpdateOutcome(record, "failed", str(exc)))
            continue
        message = f"sha256:{result.digest[:12]}"
        outcomes.append(UpdateOutcome(record, result.action, message))
    return outcomes
