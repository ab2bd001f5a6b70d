"""Where an entry lands in an agent tool's folders, what is there now, and the atomic write.

An entry lands at `<folder>/<name>/`, or `<folder>/<name>.md` for an agent-file role. What is
on disk is compared with the registry's record by hashing every file. Writing happens in a
temporary folder beside the target, swapped in with a rename: a failure leaves the old copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from sitegen.catalog import CatalogError
from sitegen.errors import UsageError
from sitegen.install.archive import InstallRefused
from sitegen.install.registry import Record
from sitegen.targets import AGENT_TOOLS, Format, NoFolderError, Scope, install_folder


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_tree(path: Path) -> dict[str, str] | None:
    """sha256 of every file under `path` (or of `path` itself), None if something there is not
    a regular file (a symlink, a socket): such a folder counts as locally changed."""
    if path.is_symlink():
        return None
    if path.is_file():
        return {path.name: sha256_hex(path.read_bytes())}
    found: dict[str, str] = {}
    for root, dirs, names in os.walk(path, followlinks=False):
        for d in dirs:
            if (Path(root) / d).is_symlink():
                return None
        for n in names:
            full = Path(root) / n
            if full.is_symlink() or not full.is_file():
                return None
            found[full.relative_to(path).as_posix()] = sha256_hex(full.read_bytes())
    return found


def local_state(path: Path, record: Record | None) -> str:
    """'absent', 'unmodified' (as installed), 'modified' (local edits) or 'foreign' (there,
    but not installed by sitegen)."""
    if not path.exists() and not path.is_symlink():
        return "absent"
    if record is None:
        return "foreign"
    return "unmodified" if hash_tree(path) == record.files else "modified"


def target_path(
    name: str,
    fmt: str,
    *,
    agent: str,
    scope: Scope,
    folder: str | os.PathLike[str] | None = None,
) -> Path:
    """Where an entry lands: `<folder>/<name>/`, or `<folder>/<name>.md` for an agent file."""
    if folder is not None:
        base = Path(folder).expanduser().resolve()
    else:
        if agent not in AGENT_TOOLS:
            raise UsageError(f"--agent: unknown agent {agent!r}; choose {', '.join(AGENT_TOOLS)}")
        try:
            base = install_folder(agent, scope, fmt_of(fmt))
        except NoFolderError as exc:
            raise UsageError(str(exc)) from exc
        base = base.resolve()
    return base / (f"{name}.md" if fmt == "agent" else name)


def fmt_of(value: str) -> Format:
    if value in ("skill", "role", "agent"):
        return value  # type: ignore[return-value]
    raise CatalogError(f"unknown entry format {value!r}")


def write_entry(target: Path, files: dict[str, bytes], fmt: str) -> None:
    """Write beside the target, then swap it in with renames; on failure the old copy stays."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:10]
    staging = parent / f".{target.name}.sitegen-new-{token}"
    backup = parent / f".{target.name}.sitegen-old-{token}"
    try:
        if fmt == "agent":
            staging.write_bytes(next(iter(files.values())))
        else:
            staging.mkdir()
            for rel, data in sorted(files.items()):
                out = staging.joinpath(*rel.split("/"))
                if not out.resolve().is_relative_to(staging.resolve()):
                    raise InstallRefused(f"{rel!r} escapes the target (zip slip)")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
        if target.exists() or target.is_symlink():
            os.replace(target, backup)
        try:
            os.replace(staging, target)
        except BaseException:
            if backup.exists():
                os.replace(backup, target)
            raise
    finally:
        _remove(staging)
        _remove(backup)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
