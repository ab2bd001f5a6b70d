"""Files published as they are: the index's Parquet files."""

from __future__ import annotations

import json

from tests.site.helpers import BuiltSite


def test_index_parquet_is_exported_byte_for_byte(site: BuiltSite) -> None:
    pointer = json.loads((site.library / "index" / "current.json").read_text())
    published = json.loads((site.out / "index" / "current.json").read_text())
    assert published == {**pointer, "previous": None}, "the site carries the same generation"
    for kind in ("roles", "skills"):
        rel = pointer["files"][kind]
        published_file = (site.out / "index" / rel).read_bytes()
        assert published_file == (site.library / "index" / rel).read_bytes()
