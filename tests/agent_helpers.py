"""Shared by the install and MCP tests: a built example site, and ways to doctor its archives
the way an attacker or a broken mirror would (keeping catalog.json and the discovery index
consistent with the doctored zip, so only the install's own checks stand in the way)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

from sitegen.build import build_site
from sitegen.library import Library

DISCOVERY = ".well-known/agent-skills/index.json"


def build_example_site(library: Path, out: Path, embedder) -> Path:  # type: ignore[no-untyped-def]
    build_site(Library(library), embedder, out)
    return out


def copy_site(site: Path, target: Path) -> Path:
    shutil.copytree(site, target)
    return target


def tree(path: Path) -> dict[str, bytes]:
    """Every file under `path` with its bytes (symlinks as their target text)."""
    if not path.exists():
        return {}
    out = {}
    for p in sorted(path.rglob("*")):
        if p.is_symlink():
            out[p.relative_to(path).as_posix()] = b"-> " + str(p.readlink()).encode()
        elif p.is_file():
            out[p.relative_to(path).as_posix()] = p.read_bytes()
    return out


def make_zip(members: list[tuple[str, bytes, int]]) -> bytes:
    """A zip of (name, data, unix mode) members, names written as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def replace_archive(site: Path, kind: str, name: str, data: bytes, *, vouch: bool) -> None:
    """Put `data` in place of an entry's zip; with `vouch`, also rewrite the digests that
    catalog.json and the discovery index publish for it (a consistent but evil catalog)."""
    catalog = json.loads((site / "catalog.json").read_text())
    row = next(r for r in catalog["entries"] if r["type"] == kind and r["name"] == name)
    (site / row["archive"]["url"]).write_bytes(data)
    if not vouch:
        return
    digest = hashlib.sha256(data).hexdigest()
    row["archive"]["sha256"] = digest
    (site / "catalog.json").write_text(json.dumps(catalog))
    discovery = json.loads((site / DISCOVERY).read_text())
    for item in discovery["skills"]:
        if item["name"] == name:
            item["digest"] = f"sha256:{digest}"
    (site / DISCOVERY).write_text(json.dumps(discovery))


def set_format(site: Path, kind: str, name: str, fmt: str) -> None:
    catalog = json.loads((site / "catalog.json").read_text())
    row = next(r for r in catalog["entries"] if r["type"] == kind and r["name"] == name)
    row["format"] = fmt
    (site / "catalog.json").write_text(json.dumps(catalog))


REGULAR = stat.S_IFREG | 0o644
SYMLINK = stat.S_IFLNK | 0o777
