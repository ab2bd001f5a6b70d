"""`sitegen install`, `installed` and `update`: put a catalog's entries where agents read them.

An install fetches the entry's zip from the catalog, checks its sha256 against the digest the
catalog vouches for, checks every member (no path that escapes the target, no symlink or
special file, no duplicate, a bounded size), and only then writes: into a temporary folder
beside the target, swapped in with a rename. Any refusal writes nothing.

What was installed (from which catalog, at which digest, each file's sha256) is recorded in a
small JSON registry, so `installed` can tell an unmodified copy from one with local edits and
from one the catalog has since replaced, and `update` replaces only unmodified copies.

Archives are accepted in both layouts: files at the zip's root, or all under one top folder
named after the entry. An agent-file role (format "agent") is one Markdown file and is
installed as `<folder>/<name>.md`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.catalog import Archive, Catalog, CatalogError, open_catalog
from sitegen.errors import SitegenError, UsageError
from sitegen.targets import AGENT_TOOLS, Format, NoFolderError, Scope, install_folder

STATE_ENV = "SITEGEN_STATE_DIR"
REGISTRY_FILE = "installs.json"
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # unpacked size of one entry
MAX_MEMBERS = 10_000
DEFINITION = {"skill": "SKILL.md", "role": "ROLE.md"}


class InstallRefused(SitegenError):
    """The install would be unsafe or would lose local work; nothing was written."""


# -- the registry --------------------------------------------------------------------------------


def state_dir() -> Path:
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("sitegen", appauthor=False))


@dataclass(frozen=True)
class Record:
    """One install as the registry remembers it."""

    path: str  # absolute: the entry's folder, or its .md file for an agent file
    name: str
    kind: str
    format: str
    catalog: str
    digest: str  # sha256 hex of the archive
    files: dict[str, str]  # path relative to `path` (or the file name) -> sha256 hex
    agent: str | None
    scope: str | None
    installed: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        return cls(
            path=str(data["path"]),
            name=str(data["name"]),
            kind=str(data["kind"]),
            format=str(data.get("format") or ("skill" if data["kind"] == "skills" else "role")),
            catalog=str(data["catalog"]),
            digest=str(data["digest"]),
            files={str(k): str(v) for k, v in dict(data.get("files") or {}).items()},
            agent=data.get("agent"),
            scope=data.get("scope"),
            installed=str(data.get("installed") or ""),
        )


class Registry:
    """installs.json in the state folder; written whole, atomically."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or state_dir()
        self.file = self.folder / REGISTRY_FILE

    def load(self) -> dict[str, Record]:
        if not self.file.exists():
            return {}
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            return {r["path"]: Record.from_dict(r) for r in data.get("installs", [])}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"{self.file}: unreadable install registry ({exc})") from exc

    def get(self, path: Path) -> Record | None:
        return self.load().get(str(path))

    def save(self, records: dict[str, Record]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {"installs": [records[k].as_dict() for k in sorted(records)]}
        fd, temp = tempfile.mkstemp(prefix=".installs-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, indent=2)
            os.replace(temp, self.file)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def put(self, record: Record) -> None:
        records = self.load()
        records[record.path] = record
        self.save(records)


# -- reading an archive safely -------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_digest(archive: Archive) -> None:
    actual = archive.sha256
    if actual != archive.expected_sha256:
        raise InstallRefused(
            f"{archive.source}: digest mismatch (catalog says "
            f"sha256:{archive.expected_sha256[:16]}…, archive is sha256:{actual[:16]}…); "
            "nothing written"
        )


def _member_path(info: zipfile.ZipInfo, where: str) -> PurePosixPath | None:
    """A member's safe relative path, None for a folder entry; refuses anything that could
    land outside the target or be something other than a regular file."""
    name = info.filename
    mode = (info.external_attr >> 16) & 0xFFFF
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise InstallRefused(f"{where}: member {name!r} is a symlink; nothing written")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise InstallRefused(f"{where}: member {name!r} is a special file; nothing written")
    if info.flag_bits & 0x1:
        raise InstallRefused(f"{where}: member {name!r} is encrypted; nothing written")
    if "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InstallRefused(
            f"{where}: member {name!r} has an absolute or non-POSIX path (zip slip); "
            "nothing written"
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InstallRefused(
            f"{where}: member {name!r} escapes the target folder (zip slip); nothing written"
        )
    if info.is_dir() or kind == stat.S_IFDIR:
        return None
    if not parts:
        raise InstallRefused(f"{where}: member {name!r} has no file name; nothing written")
    return PurePosixPath(*parts)


def read_members(archive: Archive) -> dict[str, bytes]:
    """The archive's files as {relative path: bytes}, after every safety check.

    Both layouts are accepted: files at the root, or everything under one top folder named
    after the entry (the top folder is dropped).
    """
    where = archive.source
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive.data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InstallRefused(f"{where}: not a zip archive ({exc}); nothing written") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InstallRefused(f"{where}: more than {MAX_MEMBERS} members; nothing written")
        paths: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        seen: set[str] = set()
        total = 0
        for info in infos:
            path = _member_path(info, where)
            if path is None:
                continue
            key = path.as_posix()
            if key.lower() in seen:
                raise InstallRefused(f"{where}: member {key!r} appears twice; nothing written")
            seen.add(key.lower())
            total += info.file_size
            if total > MAX_ARCHIVE_BYTES:
                raise InstallRefused(
                    f"{where}: unpacks to more than {MAX_ARCHIVE_BYTES // 2**20} MiB; "
                    "nothing written"
                )
            paths.append((info, path))
        if not paths:
            raise InstallRefused(f"{where}: the archive is empty; nothing written")
        files: dict[str, bytes] = {}
        for info, path in paths:
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
                raise InstallRefused(
                    f"{where}: member {path.as_posix()!r} is corrupt ({exc}); nothing written"
                ) from exc
            if len(data) != info.file_size:
                raise InstallRefused(f"{where}: member {path.as_posix()!r} lies about its size")
            files[path.as_posix()] = data
    return _strip_top_folder(files, archive.name)


def _strip_top_folder(files: dict[str, bytes], name: str) -> dict[str, bytes]:
    prefix = f"{name}/"
    if files and all(p.startswith(prefix) for p in files):
        return {p[len(prefix) :]: data for p, data in files.items()}
    return files


def _layout(files: dict[str, bytes], archive: Archive) -> dict[str, bytes]:
    """Check the unpacked files form the entry the catalog says they are."""
    if archive.format == "agent":
        md = [p for p in files if "/" not in p and p.lower().endswith(".md")]
        if len(files) != 1 or len(md) != 1:
            raise InstallRefused(
                f"{archive.source}: an agent file archive must hold exactly one .md file; "
                "nothing written"
            )
        return files
    definition = DEFINITION.get(archive.format)
    if definition and definition not in files:
        raise InstallRefused(f"{archive.source}: no {definition} at the top; nothing written")
    return files


# -- what is on disk ----------------------------------------------------------------------------


def _hash_tree(path: Path) -> dict[str, str] | None:
    """sha256 of every file under `path` (or of `path` itself), None if something there is not
    a regular file (a symlink, a socket): such a folder counts as locally changed."""
    if path.is_symlink():
        return None
    if path.is_file():
        return {path.name: _sha256(path.read_bytes())}
    found: dict[str, str] = {}
    for root, dirs, names in os.walk(path, followlinks=False):
        for d in dirs:
            if (Path(root) / d).is_symlink():
                return None
        for n in names:
            full = Path(root) / n
            if full.is_symlink() or not full.is_file():
                return None
            found[full.relative_to(path).as_posix()] = _sha256(full.read_bytes())
    return found


def local_state(path: Path, record: Record | None) -> str:
    """'absent', 'unmodified' (as installed), 'modified' (local edits) or 'foreign' (there,
    but not installed by sitegen)."""
    if not path.exists() and not path.is_symlink():
        return "absent"
    if record is None:
        return "foreign"
    return "unmodified" if _hash_tree(path) == record.files else "modified"


# -- install ------------------------------------------------------------------------------------


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
    files = _layout(read_members(archive), archive)
    if target is None:
        target = target_path(summary.name, archive.format, agent=agent, scope=scope, folder=folder)
    record = registry.get(target)
    state = local_state(target, record)
    shown = f"{summary.kind}/{summary.name}"
    new_files = (
        {target.name: _sha256(next(iter(files.values())))}
        if archive.format == "agent"
        else {p: _sha256(d) for p, d in files.items()}
    )
    action = "installed"
    if state == "modified":
        raise InstallRefused(
            f"{target}: has local edits since it was installed; move it away to reinstall "
            f"{shown}; nothing written"
        )
    if state == "foreign":
        if _hash_tree(target) == new_files:
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
        _write(target, files, archive.format)
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


def _write(target: Path, files: dict[str, bytes], fmt: str) -> None:
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


# -- installed / update -------------------------------------------------------------------------


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
