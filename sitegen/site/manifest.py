"""The manifest: what the previous build wrote and from what, kept inside the site.

`.sitegen-manifest.json` maps every output to its key, keeps every entry's facts (by etag)
and the search bundle's record, and carries the caller's opaque cache. A build compares its
plan with it to render only what changed; a missing or unreadable manifest means "render
everything", never an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sitegen import __version__
from sitegen.site.outputs import Output

MANIFEST = ".sitegen-manifest.json"


def load_manifest(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def manifest_bytes(
    *,
    fingerprint: str,
    facts: Mapping[str, Any],
    search: Mapping[str, Any],
    cache: Mapping[str, Any],
    outputs: Iterable[Output],
    inputs: str = "",
) -> bytes:
    data = {
        "format": 1,
        "generator": f"sitegen {__version__}",
        "fingerprint": fingerprint,
        "entries": dict(facts),
        "search": dict(search),
        "cache": dict(cache),
        "outputs": {o.path: o.key for o in sorted(outputs, key=lambda o: o.path)},
        "inputs": inputs,
    }
    return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def list_files(root: Path) -> set[str]:
    """Every file under `root`, as POSIX paths relative to it."""
    found: set[str] = set()
    if not root.is_dir():
        return found
    prefix = len(str(root)) + 1
    for folder, _dirs, files in os.walk(root):
        for name in files:
            found.add(os.path.join(folder, name)[prefix:].replace(os.sep, "/"))
    return found


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
