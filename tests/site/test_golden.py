"""The golden site: every output file of the example library, byte for byte.

The example library is built from a fixed input (a committed index, fixed file times; see
`golden_fixture`) with and without a base URL, and every file's SHA-256 is compared with the
committed snapshot `golden/snapshot.json`. A refactoring that is meant to leave the site as it
was must keep this test green. When the output is *meant* to change, update the snapshot
deliberately, in a commit of its own:

    SITEGEN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/site/test_golden.py

Allowed to vary: the manifest's cache keys, theme fingerprint and inputs key (how a build
recognises its previous self, not what readers see), and the Pagefind files whose bytes and
names Pagefind itself does not keep stable (its filter and meta chunks and the entry file that
names them; only how many there are is compared). The fragments, which carry every page's
indexed text, filters and URL, are compared byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from sitegen.build import publish_site
from sitegen.site import MANIFEST, Site, SiteOptions
from tests.site.golden_fixture import GOLDEN, copy_library, site_input

SNAPSHOT = GOLDEN / "snapshot.json"
UPDATE = os.environ.get("SITEGEN_UPDATE_GOLDEN") == "1"
BUILDS: dict[str, dict[str, Any]] = {
    "plain": {},
    "based": {"base_url": "https://team.example/catalog/", "api_url": "api/match"},
}

# Pagefind output that differs from run to run on the same input.
VARIES = re.compile(
    r"^pagefind/(filter/\w+\.pf_filter|pagefind\.\w+\.pf_meta|pagefind-entry\.json)$"
)


def stable_name(path: str) -> str:
    """A path, or for a file that may vary, its family (`pagefind/filter/*.pf_filter`)."""
    if not VARIES.match(path):
        return path
    return re.sub(r"(/en_|\.en_)\w+\.", lambda m: m.group(1) + "*.", path)


def manifest_view(blob: bytes) -> bytes:
    """The manifest without what may vary: cache keys, the theme fingerprint, the inputs key
    (it covers sitegen's source, so any change of code moves it)."""
    data = json.loads(blob)
    data.pop("fingerprint", None)
    data.pop("inputs", None)
    data["outputs"] = sorted(stable_name(p) for p in data.get("outputs") or {})
    search = data.get("search") or {}
    data["search"] = sorted(stable_name(p) for p in search.get("files") or {})
    return json.dumps(data, sort_keys=True).encode()


def digests(root: Path) -> dict[str, str]:
    """Every file's SHA-256; files that may vary count as `N file(s)` of their family."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if VARIES.match(rel):
            family = stable_name(rel)
            count = int(out.get(family, "0 file(s)").split()[0]) + 1
            out[family] = f"{count} file(s)"
            continue
        blob = path.read_bytes()
        if rel == MANIFEST:
            blob = manifest_view(blob)
        out[rel] = hashlib.sha256(blob).hexdigest()
    return out


def build_golden(tmp_path: Path) -> dict[str, dict[str, str]]:
    library = copy_library(tmp_path / "library")
    sites: dict[str, dict[str, str]] = {}
    for name, options in BUILDS.items():
        out = tmp_path / name
        publish_site(Site(SiteOptions(**options)), site_input(library), out, jobs=1)
        sites[name] = digests(out)
    return sites


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    lines = [f"  missing  {p}" for p in sorted(expected.keys() - actual.keys())]
    lines += [f"  new      {p}" for p in sorted(actual.keys() - expected.keys())]
    lines += [
        f"  changed  {p}"
        for p in sorted(expected.keys() & actual.keys())
        if expected[p] != actual[p]
    ]
    return lines


def test_the_site_is_byte_for_byte_the_golden_one(tmp_path: Path) -> None:
    sites = build_golden(tmp_path)
    if UPDATE:
        SNAPSHOT.write_text(json.dumps(sites, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip(f"snapshot rewritten: {SNAPSHOT}")
    assert SNAPSHOT.is_file(), "no snapshot yet: run with SITEGEN_UPDATE_GOLDEN=1"
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    report = []
    for name in BUILDS:
        lines = differences(expected[name], sites[name])
        if lines:
            report.append(f"{name} ({tmp_path / name}):")
            report.extend(
                lines[:40] + ([f"  ... {len(lines) - 40} more"] if len(lines) > 40 else [])
            )
    assert not report, (
        "the site differs from the golden snapshot; if the change is meant, update it in its "
        "own commit with SITEGEN_UPDATE_GOLDEN=1\n" + "\n".join(report)
    )


def test_the_golden_build_is_reproducible(tmp_path: Path) -> None:
    """Two builds of the same input give the same bytes (else the snapshot would be noise)."""
    assert build_golden(tmp_path / "one") == build_golden(tmp_path / "two")
