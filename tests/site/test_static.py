"""Files published as they are: the index's Parquet files."""

from __future__ import annotations

from tests.site.helpers import BuiltSite


def test_index_parquet_is_exported_byte_for_byte(site: BuiltSite) -> None:
    for kind in ("roles", "skills"):
        published = (site.out / "index" / f"{kind}.parquet").read_bytes()
        assert published == (site.library / "index" / f"{kind}.parquet").read_bytes()
