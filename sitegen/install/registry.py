"""The install registry: which entries sitegen put where, from which catalog, at which digest.

`installs.json` in the state folder records each install with every file's sha256, so
`installed` can tell an unmodified copy from one with local edits, and `update` replaces only
unmodified copies. The file is always written whole and swapped in atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.errors import UsageError

STATE_ENV = "SITEGEN_STATE_DIR"
REGISTRY_FILE = "installs.json"


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
