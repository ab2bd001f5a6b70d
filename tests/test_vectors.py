"""The matrix scan answers what DuckDB's `array_cosine_distance` answers, and follows writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sitegen.entry import DIM
from sitegen.indexer import open_store
from sitegen.library import Library

QUERIES = (
    "review my terraform plan",
    "our postgres report is slow",
    "write a blameless incident report",
    "cloud bill went up",
)


def _sql_nearest(con, kinds, vector: np.ndarray, limit: int) -> list[tuple[str, str, float]]:
    """The scan as SQL, the way the engine ran it before (the reference)."""
    union = " UNION ALL ".join(
        f"SELECT '{k}' AS kind, name, "
        f"array_cosine_distance(embedding, $vec::FLOAT[{DIM}]) AS distance FROM {k}"
        for k in kinds
    )
    sql = f"SELECT kind, name, distance FROM ({union}) ORDER BY distance, kind, name LIMIT $limit"
    rows = con.execute(sql, {"vec": vector.astype(np.float32).tolist(), "limit": limit})
    return [(k, n, float(d)) for k, n, d in rows.fetchall()]


@pytest.mark.parametrize("limit", [1, 5, 100])
def test_the_scan_equals_duckdb(indexed_example: Path, embedder, limit: int) -> None:
    with open_store(Library(indexed_example), writable=False) as store:
        engine = store.engine
        for query in QUERIES:
            vector = embedder.embed([query])[0]
            for kinds in (("roles",), ("skills",), ("roles", "skills")):
                expected = _sql_nearest(engine.con, kinds, vector, limit)
                sql = engine._nearest_sql(kinds, vector, limit, max_distance=2.0)
                matrix = [
                    (k, engine.vectors.row(k, rowid), d)
                    for k, rowid, d in engine.vectors.nearest(kinds, vector, limit)
                ]
                for found in (sql, matrix):
                    assert [(k, row["name"]) for k, row, _ in found] == [
                        (k, n) for k, n, _ in expected
                    ], (query, kinds)
                    for (_, _, d), (_, _, e) in zip(found, expected, strict=True):
                        assert d == pytest.approx(e, abs=1e-5)
                assert sql == [(k, row, pytest.approx(d, abs=1e-5)) for k, row, d in matrix]


def test_the_scan_follows_writes(example_copy: Path, embedder) -> None:
    from sitegen.indexer import index_library

    index_library(Library(example_copy), embedder)
    vector = embedder.embed(["review my terraform plan"])[0]
    with open_store(Library(example_copy), writable=True) as store:
        for _ in range(3):  # the first two queries are SQL scans; the third loads the matrix
            first = store.engine.nearest(("skills",), vector, 1, 2.0)[0][1]["name"]
            assert first == "terraform-plan-reviewer"
        assert store.engine.vectors._kinds  # the matrix path answered
        store.remove("skills", ["terraform-plan-reviewer"])
        after = [row["name"] for _, row, _ in store.engine.nearest(("skills",), vector, 5, 2.0)]
        assert "terraform-plan-reviewer" not in after
