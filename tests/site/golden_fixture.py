"""The golden build's fixed input: the example library plus a committed index, no model.

`golden/records.json` holds what the build would take from the index (dates, nearest
neighbours, collisions) and `golden/*.parquet` the index files it publishes as they are. So
the golden site depends neither on the model nor on the CPU (float rounding of distances).

Regenerate the fixture (needs the model; rarely needed, e.g. when the example library gains
entries): ``.venv/bin/python -m tests.site.golden_fixture``. Then update the snapshot:
``SITEGEN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/site/test_golden.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.build import nearest_neighbours, read_entry_files
from sitegen.collisions import Collision, find_collisions
from sitegen.library import Library
from sitegen.site import Similar, SiteInput

GOLDEN = Path(__file__).resolve().parent / "golden"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_LIBRARY = ROOT / "example_library"
INDEX_FILES = ("roles.parquet", "skills.parquet")
# The fixed clock: every library file's mtime, so dates taken from file times are fixed too.
FIXED_MTIME = 1_750_000_000  # 2025-06-15T15:06:40Z
DAY = 86_400
# Wider than the build's collision distance, so the golden maintainers page has pairs to show.
FIXTURE_COLLISION_DISTANCE = 0.45


def copy_library(target: Path) -> Path:
    """The example library (index left out) with every file at the fixed time."""
    shutil.copytree(EXAMPLE_LIBRARY, target, ignore=shutil.ignore_patterns("index"))
    for folder, _dirs, files in os.walk(target):
        for name in files:
            os.utime(Path(folder) / name, (FIXED_MTIME, FIXED_MTIME))
    return target


def site_input(library_root: Path) -> SiteInput:
    """What `sitegen build` hands the site, with the index part read from the fixture."""
    library = Library(library_root)
    report = library.read()
    records = json.loads((GOLDEN / "records.json").read_text(encoding="utf-8"))
    descriptions = {(e.kind, e.name): e.description for e in report.entries}
    similar: dict[tuple[str, str], list[Similar]] = {}
    for key, items in records["similar"].items():
        kind, name = key.split("/", 1)
        similar[(kind, name)] = [
            Similar(k, n, descriptions.get((k, n), ""), float(d)) for k, n, d in items
        ]
    collisions = [
        Collision(ka, na, kb, nb, float(d), tuple(shared))
        for ka, na, kb, nb, d, shared in records["collisions"]
    ]
    updated = {
        (key.split("/", 1)[0], key.split("/", 1)[1]): datetime.fromisoformat(value)
        for key, value in records["updated"].items()
    }
    derived = {
        (key.split("/", 1)[0], key.split("/", 1)[1]): tuple(tags)
        for key, tags in records.get("derived_tags", {}).items()
    }
    return SiteInput(
        entries=report.entries,
        read_files=read_entry_files(library),
        similar=similar,
        collisions=collisions,
        updated=updated,
        derived_tags=derived,
        index_files=golden_index_files(),
    )


def golden_index_files() -> dict[str, bytes]:
    """The committed index as a build hands it to the site: one generation and its pointer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sitegen.generations import POINTER, exported_pointer

    blobs = {name.removesuffix(".parquet"): (GOLDEN / name).read_bytes() for name in INDEX_FILES}
    kv = {
        kind: {
            k.decode(): v.decode()
            for k, v in (pq.read_metadata(pa.BufferReader(blob)).metadata or {}).items()
        }
        for kind, blob in blobs.items()
    }
    pointer = exported_pointer(blobs, kv)
    files = {POINTER: pointer.to_bytes()}
    files.update({pointer.files[kind]: blob for kind, blob in blobs.items()})
    return files


def _fixed_date(name: str) -> str:
    """An entry's last change for the fixture: spread over four months, the same every run."""
    age = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 120
    return datetime.fromtimestamp(FIXED_MTIME - age * DAY, UTC).replace(tzinfo=None).isoformat()


def _dumps(data: dict[str, Any]) -> str:
    """JSON with one line per entry, so a regenerated fixture diffs readably."""
    lines = ["{"]
    for i, (section, value) in enumerate(data.items()):
        end = "," if i < len(data) - 1 else ""
        if isinstance(value, dict):
            rows = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
            lines.append(f"{json.dumps(section)}: {{\n" + ",\n".join(rows) + f"\n}}{end}")
        else:
            rows = [f"  {json.dumps(v)}" for v in value]
            lines.append(f"{json.dumps(section)}: [\n" + ",\n".join(rows) + f"\n]{end}")
    return "\n".join(lines) + "\n}\n"


def main() -> None:
    """Index the example library with the real model and write the fixture."""
    from sitegen.embedder import load_embedder
    from sitegen.indexer import index_library, open_store

    with tempfile.TemporaryDirectory() as temp:
        root = copy_library(Path(temp) / "library")
        library = Library(root)
        index_library(library, load_embedder())
        with open_store(library, writable=False) as store:
            records = store.list(with_vectors=True)
        similar = nearest_neighbours(records)
        usable = sorted(records, key=lambda r: (r.kind, r.name))
        vectors = np.vstack([np.asarray(r.embedding, dtype=np.float32) for r in usable])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        collisions = find_collisions(
            [(r.kind, r.name, r.description) for r in usable],
            vectors,
            max_distance=FIXTURE_COLLISION_DISTANCE,
        )
        data = {
            "updated": {
                f"{r.kind}/{r.name}": _fixed_date(r.name)
                for r in sorted(records, key=lambda r: (r.kind, r.name))
            },
            "similar": {
                f"{kind}/{name}": [[s.kind, s.name, round(s.distance, 6)] for s in items]
                for (kind, name), items in sorted(similar.items())
            },
            "derived_tags": {
                f"{r.kind}/{r.name}": list(r.derived_tags)
                for r in sorted(records, key=lambda r: (r.kind, r.name))
                if r.derived_tags
            },
            "collisions": [
                [c.kind_a, c.name_a, c.kind_b, c.name_b, round(c.distance, 6), list(c.shared)]
                for c in collisions
            ],
        }
        GOLDEN.mkdir(exist_ok=True)
        generation = json.loads((root / "index" / "current.json").read_text())["generation"]
        for name in INDEX_FILES:
            shutil.copyfile(root / "index" / generation / name, GOLDEN / name)
    (GOLDEN / "records.json").write_text(_dumps(data), encoding="utf-8")
    print(f"wrote {GOLDEN}/records.json and {', '.join(INDEX_FILES)}")


if __name__ == "__main__":
    main()
