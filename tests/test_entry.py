"""The one entry schema: the index's columns, the API's JSON and its JSON Schema agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sitegen.entry import (
    COLUMN_NAMES,
    COLUMNS,
    PUBLIC_FIELDS,
    Record,
    from_row,
    public_json,
    public_json_schema,
    to_row,
)
from sitegen.indexer import index_library, open_store
from sitegen.library import Library
from sitegen.server import entry_schema, record_json
from tests.conftest import EXAMPLE_LIBRARY

_DUCK_TO_ARROW = {
    "VARCHAR": "string",
    "VARCHAR[]": "list<element: string>",
    "TIMESTAMP": "timestamp[us]",
    "FLOAT[384]": "list<element: float>",  # DuckDB writes arrays as Parquet lists
}


def _current_files(library: Path) -> list[Path]:
    files = sorted(library.glob("index/**/*.parquet"))
    assert files, "the index wrote no Parquet files"
    return files


def test_parquet_files_have_exactly_the_schema_columns(indexed_example: Path) -> None:
    for path in _current_files(indexed_example):
        schema = pq.read_schema(path)
        assert tuple(schema.names) == COLUMN_NAMES
        for name, sql in COLUMNS:
            base = sql.replace(" PRIMARY KEY", "").replace(" NOT NULL", "")
            assert str(schema.field(name).type) == _DUCK_TO_ARROW[base], name


def test_rows_round_trip_every_field() -> None:
    from datetime import datetime

    import numpy as np

    record = Record(
        kind="roles",
        name="api-designer",
        format="agent",
        description="Designs APIs.",
        tags=(),
        derived_tags=("api-design",),
        folder="plugins/p/agents",
        definition_path="plugins/p/agents/api-designer.md",
        files=("api-designer.md",),
        etag="e" * 64,
        uuid="u",
        date_created=datetime(2026, 1, 2, 3, 4, 5),
        date_updated=datetime(2026, 2, 3, 4, 5, 6),
        version="1",
        author="me",
        license="MIT",
        compatibility="any",
        allowed_tools="Read, Grep",
        tools=("Read", "Grep"),
        model="sonnet",
        metadata={"k": "v"},
        embedded_text="api designer - Designs APIs.",
        embedding=np.arange(384, dtype=np.float32),
    )
    back = from_row("roles", to_row(record))
    assert back == record
    assert np.array_equal(back.embedding, record.embedding)


def test_api_json_and_its_schema_are_one_declaration(indexed_example: Path) -> None:
    """Every documented property is in every real response, and nothing undocumented is."""
    schema = entry_schema()
    with open_store(Library(indexed_example), writable=False) as store:
        records = store.list()
    assert records
    for record in records:
        body = record_json(record)
        assert set(body) == set(schema["properties"]), record.name
        for key, spec in schema["properties"].items():
            allowed = spec.get("type")
            kinds = allowed if isinstance(allowed, list) else [allowed]
            value = body[key]
            python = {
                "string": str,
                "array": list,
                "object": dict,
                "null": type(None),
            }
            assert any(isinstance(value, python[k]) for k in kinds), (record.name, key, value)
    assert "embedding" not in schema["properties"]
    assert "embedded_text" not in schema["properties"]
    assert set(PUBLIC_FIELDS) <= set(public_json_schema()["properties"])


def test_public_json_shows_derived_tags_apart(tmp_path: Path, embedder) -> None:
    """An entry without authored tags gets derived ones, kept in a field of their own."""
    library = tmp_path / "library"
    shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
    role = library / "roles" / "data-privacy-officer" / "ROLE.md"
    text = role.read_text()
    assert "\ntags: " in text
    role.write_text("\n".join(line for line in text.split("\n") if not line.startswith("tags:")))
    index_library(Library(library), embedder)
    with open_store(Library(library), writable=False) as store:
        untagged = store.get("roles", "data-privacy-officer")
        tagged = store.get("skills", "secret-scanner")
    assert untagged is not None and tagged is not None
    assert untagged.tags == ()
    assert untagged.derived_tags, "an untagged entry gets taxonomy tags"
    assert any("privacy" in t or "gdpr" in t for t in untagged.derived_tags)
    assert tagged.tags and tagged.derived_tags == ()
    body = public_json(untagged)
    assert body["tags"] == [] and body["derived_tags"] == list(untagged.derived_tags)
    assert untagged.all_tags == untagged.derived_tags


@pytest.mark.parametrize("name", ["embedding", "embedded_text", "modified"])
def test_internal_fields_stay_out_of_the_json(name: str) -> None:
    assert name in COLUMN_NAMES and name not in PUBLIC_FIELDS
