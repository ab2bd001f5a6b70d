"""Reading a catalog's archive safely, before anything is written.

The archive's sha256 must equal the digest the catalog vouches for; every member is checked
(no path that escapes the target, no symlink or special file, no duplicate, a bounded size);
the unpacked files must form the entry the catalog says they are. Archives are accepted in
both layouts: files at the zip's root, or all under one top folder named after the entry.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import PurePosixPath

from sitegen.catalog import Archive
from sitegen.errors import SitegenError

MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # unpacked size of one entry
MAX_MEMBERS = 10_000
DEFINITION = {"skill": "SKILL.md", "role": "ROLE.md"}


class InstallRefused(SitegenError):
    """The install would be unsafe or would lose local work; nothing was written."""


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


def check_layout(files: dict[str, bytes], archive: Archive) -> dict[str, bytes]:
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
