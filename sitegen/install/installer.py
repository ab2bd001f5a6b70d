"""`sitegen install`: verify one entry's archive, then write it where an agent reads it.

Every refusal raises before anything is written; the registry records what was installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitegen.catalog import Catalog
from sitegen.install.archive import InstallRefused, check_layout, read_members, verify_digest
from sitegen.install.folders import hash_tree, local_state, sha256_hex, target_path, write_entry
from sitegen.install.registry import Record, Registry
from sitegen.targets import Scope


@dataclass(frozen=True)
class InstallResult:
    name: str
    kind: str
    format: str
    path: str
    digest: str
    catalog: str
    action: str  # installed | updated | unchanged

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def install(
    catalog: Catalog,
    name: str,
    *,
    agent: str = "claude",
    scope: Scope = "user",
    folder: str | os.PathLike[str] | None = None,
    force: bool = False,
    registry: Registry | None = None,
    replace_older: bool = False,
    target: Path | None = None,
) -> InstallResult:
    """Install one entry; every refusal raises before anything is written.

    `replace_older` (for `update`) replaces an unmodified older copy without `force`;
    `target` (for `update`) is the recorded path, whatever the current folder is.
    """
    registry = registry or Registry()
    summary = catalog.find(name)
    archive = catalog.archive(summary.kind, summary.name)
    verify_digest(archive)
    files = check_layout(read_members(archive), archive)
    if target is None:
        target = target_path(summary.name, archive.format, agent=agent, scope=scope, folder=folder)
    record = registry.get(target)
    state = local_state(target, record)
    shown = f"{summary.kind}/{summary.name}"
    new_files = (
        {target.name: sha256_hex(next(iter(files.values())))}
        if archive.format == "agent"
        else {p: sha256_hex(d) for p, d in files.items()}
    )
    action = "installed"
    if state == "modified":
        raise InstallRefused(
            f"{target}: has local edits since it was installed; move it away to reinstall "
            f"{shown}; nothing written"
        )
    if state == "foreign":
        if hash_tree(target) == new_files:
            action = "unchanged"  # the same files, put there by hand: adopt them
        else:
            raise InstallRefused(
                f"{target}: already exists and was not installed by sitegen; move it away "
                f"to install {shown}; nothing written"
            )
    if state == "unmodified":
        assert record is not None
        if record.digest == archive.sha256:
            action = "unchanged"
        elif not force and not replace_older:
            raise InstallRefused(
                f"{target}: an older copy of {shown} is installed; run `sitegen update` or "
                "pass --force; nothing written"
            )
        else:
            action = "updated"
    if action != "unchanged":
        write_entry(target, files, archive.format)
    registry.put(
        Record(
            path=str(target),
            name=summary.name,
            kind=summary.kind,
            format=archive.format,
            catalog=catalog.source,
            digest=archive.sha256,
            files=new_files,
            agent=None if folder is not None else agent,
            scope=None if folder is not None else scope,
            installed=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
    return InstallResult(
        summary.name,
        summary.kind,
        archive.format,
        str(target),
        archive.sha256,
        catalog.source,
        action,
    )
