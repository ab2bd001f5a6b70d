"""The meta store against real DuckDB and real Parquet files, on local and memory:// storage."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import duckdb
import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from sitegen.metastore import (
    COLUMN_NAMES,
    DIM,
    META_FINGERPRINT,
    MetaStore,
    MetaStoreError,
    NoIndexError,
    Record,
    sweep_index,
)


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def record(kind: str, name: str, seed: int, **extra: object) -> Record:
    fields: dict[str, object] = {
        "kind": kind,
        "name": name,
        "description": f"{name} does things",
        "tags": ("a", "b"),
        "etag": hashlib.sha256(f"{name}{seed}".encode()).hexdigest(),
        "files": ("SKILL.md", "scripts/run.py"),
        "embedded_text": name,
        "folder": name,
        "version": "1.0",
        "metadata": {"version": "1.0", "author": "me"},
        "embedding": unit(seed),
    }
    fields.update(extra)
    return Record(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=["local", "memory"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "local":
        return fsspec.filesystem("file"), str(tmp_path / "index")
    return fsspec.filesystem("memory"), f"/store-{uuid.uuid4().hex}/index"


def generation_of(fs: fsspec.AbstractFileSystem, index: str) -> str:
    """The current generation folder, as `index/current.json` names it."""
    pointer = json.loads(fs.cat_file(f"{index}/current.json"))
    return f"{index}/{pointer['generation']}"


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_roundtrip_through_parquet(store_location) -> None:
    fs, index = store_location
    with MetaStore.open(fs, index, writable=True) as store:
        assert not store.exists
        store.upsert([record("skills", "alpha", 1), record("roles", "beta", 2)])
        store.set_fingerprint("model-x")
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(index, detail=False))
    assert names[0] == "current.json" and names[1].startswith("g-") and len(names) == 2
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(generation_of(fs, index), detail=False)) == [
        "roles.parquet",
        "skills.parquet",
    ]
    with MetaStore.open(fs, index) as store:
        assert store.fingerprint == "model-x"
        alpha = store.get("skills", "alpha", with_vector=True)
        assert alpha is not None and alpha.tags == ("a", "b")
        assert alpha.files == ("SKILL.md", "scripts/run.py")
        assert alpha.metadata == {"version": "1.0", "author": "me"}
        assert alpha.embedding is not None and np.allclose(alpha.embedding, unit(1))
        assert store.has("roles", "beta") and not store.has("roles", "alpha")
        hits = store.search(unit(1), limit=2)
        assert hits[0].record.name == "alpha" and hits[0].distance == pytest.approx(0, abs=1e-5)


def test_parquet_schema_is_what_others_can_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = fsspec.filesystem("file")
    index = tmp_path / "index"
    with MetaStore.open(fs, str(index), writable=True) as store:
        store.upsert([record("skills", "alpha", 1)])
        store.set_fingerprint("fp")
    table = pq.read_table(Path(generation_of(fs, str(index))) / "skills.parquet")
    assert tuple(table.column_names) == COLUMN_NAMES
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.schema.field("embedding").type.value_type == pa.float32()
    assert {len(v) for v in table.column("embedding").to_pylist()} == {DIM}
    metadata = table.schema.metadata
    assert metadata[META_FINGERPRINT.encode()] == b"fp"
    # Anyone with DuckDB can search the current generation, as the README shows.
    monkeypatch.chdir(tmp_path)
    con = duckdb.connect()
    con.execute(
        "SET VARIABLE skills = (SELECT 'index/' || files.skills FROM 'index/current.json')"
    )
    rows = con.execute(
        "SELECT name FROM read_parquet(getvariable('skills')) "
        f"ORDER BY array_cosine_distance(embedding::FLOAT[{DIM}], ?::FLOAT[{DIM}]) LIMIT 1",
        [unit(1).tolist()],
    ).fetchall()
    assert rows == [("alpha",)]


def test_upsert_keeps_identity_and_creation_time(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    with MetaStore.open(fs, str(tmp_path), writable=True) as store:
        store.upsert([record("skills", "alpha", 1)])
    with MetaStore.open(fs, str(tmp_path)) as store:
        first = store.get("skills", "alpha")
    with MetaStore.open(fs, str(tmp_path), writable=True) as store:
        store.upsert([record("skills", "alpha", 5, description="changed")])
    with MetaStore.open(fs, str(tmp_path)) as store:
        second = store.get("skills", "alpha")
    assert first is not None and second is not None
    assert second.uuid == first.uuid and second.date_created == first.date_created
    assert second.description == "changed"
    assert second.date_updated is not None and first.date_updated is not None
    assert second.date_updated >= first.date_updated


def test_remove_and_list_by_tag(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    with MetaStore.open(fs, str(tmp_path), writable=True) as store:
        store.upsert(
            [record("skills", "alpha", 1), record("skills", "gamma", 3, tags=("z",))]
        )
        store.remove("skills", ["alpha"])
        assert [r.name for r in store.list("skills")] == ["gamma"]
        assert [r.name for r in store.list(tag="z")] == ["gamma"]
        assert store.list(tag="a") == []


def test_failed_session_writes_nothing(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    with MetaStore.open(fs, str(tmp_path), writable=True) as store:
        store.upsert([record("skills", "alpha", 1)])
    before = tree(tmp_path)
    with pytest.raises(RuntimeError), MetaStore.open(fs, str(tmp_path), writable=True) as store:
        store.upsert([record("skills", "beta", 2)])
        raise RuntimeError("boom")
    assert tree(tmp_path) == before


def test_read_only_session_never_writes(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    with MetaStore.open(fs, str(tmp_path), writable=True) as store:
        store.upsert([record("skills", "alpha", 1)])
    before = {str(p): p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    with MetaStore.open(fs, str(tmp_path)) as store, pytest.raises(MetaStoreError):
        store.upsert([record("skills", "beta", 2)])
    assert {str(p): p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


class FailingWriteFS(MemoryFileSystem):
    """A real memory filesystem whose n-th file write fails: the export, injected."""

    fail_on_write = 0

    def _tick(self) -> None:
        type(self).fail_on_write -= 1
        if type(self).fail_on_write == 0:
            raise OSError("disk full (injected)")

    def _open(self, path, mode="rb", *args, **kwargs):  # type: ignore[no-untyped-def]
        if "w" in mode:
            self._tick()
        return super()._open(path, mode, *args, **kwargs)

    def pipe_file(self, path, value, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._tick()
        return super().pipe_file(path, value, *args, **kwargs)


@pytest.mark.parametrize("failing_write", [1, 2, 3])
def test_interrupted_export_keeps_the_current_generation(failing_write: int) -> None:
    """Failing the first Parquet file, the second, or the pointer switch: readers keep the
    old generation, and the next writer sweeps what the failed one left."""
    fs = FailingWriteFS(skip_instance_cache=True)
    index = f"/atomic-{uuid.uuid4().hex}/index"
    FailingWriteFS.fail_on_write = 0
    with MetaStore.open(fs, index, writable=True) as store:
        store.upsert([record("skills", "alpha", 1), record("roles", "beta", 2)])
    pointer = fs.cat_file(f"{index}/current.json")
    FailingWriteFS.fail_on_write = failing_write
    with pytest.raises(MetaStoreError, match="previous index is unchanged"), MetaStore.open(
        fs, index, writable=True
    ) as store:
        store.upsert([record("skills", "new", 9)])
    FailingWriteFS.fail_on_write = 0
    assert fs.cat_file(f"{index}/current.json") == pointer
    with MetaStore.open(fs, index) as store:
        assert [r.name for r in store.list()] == ["beta", "alpha"]
    sweep_index(fs, index)
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(index, detail=False)) == [
        "current.json",
        json.loads(pointer)["generation"],
    ]


def test_missing_index_is_empty_for_writers_and_an_error_for_readers(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    with MetaStore.open(fs, str(tmp_path / "index")) as store:
        assert store.list() == []
        with pytest.raises(NoIndexError, match="run `sitegen index`"):
            store.require_index()


def make_legacy(fs: fsspec.AbstractFileSystem, index: Path) -> None:
    """Turn a generation index into the flat layout of earlier versions (same files)."""
    generation = Path(generation_of(fs, str(index)))
    for kind in ("roles", "skills"):
        (generation / f"{kind}.parquet").rename(index / f"{kind}.parquet")
    generation.rmdir()
    (index / "current.json").unlink()


def test_corrupt_and_foreign_parquet_are_clear_errors(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    (tmp_path / "skills.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "roles.parquet").write_bytes(b"")
    with pytest.raises(MetaStoreError, match="skills.parquet|roles.parquet"):
        MetaStore.open(fs, str(tmp_path))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    pq.write_table(pa.table({"x": [1, 2]}), foreign / "roles.parquet")
    pq.write_table(pa.table({"x": [1, 2]}), foreign / "skills.parquet")
    with pytest.raises(MetaStoreError, match="foreign Parquet"):
        MetaStore.open(fs, str(foreign))


def test_files_from_two_builds_are_detected(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        with MetaStore.open(fs, str(folder), writable=True) as store:
            store.upsert([record("skills", "alpha", 1)])
    for folder in (a, b):
        make_legacy(fs, folder)
    (a / "roles.parquet").write_bytes((b / "roles.parquet").read_bytes())
    with pytest.raises(MetaStoreError, match="different builds"):
        MetaStore.open(fs, str(a))


def test_legacy_flat_index_is_read_and_migrated_by_the_next_writer(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    index = tmp_path / "index"
    with MetaStore.open(fs, str(index), writable=True) as store:
        store.upsert([record("skills", "alpha", 1), record("roles", "beta", 2)])
    with MetaStore.open(fs, str(index)) as store:
        folder = generation_of(fs, str(index))
        assert store.index_files() == [f"{folder}/roles.parquet", f"{folder}/skills.parquet"]
    make_legacy(fs, index)
    with MetaStore.open(fs, str(index)) as store:
        assert store.layout == "legacy" and [r.name for r in store.list()] == ["beta", "alpha"]
        assert store.index_files() == [f"{index}/roles.parquet", f"{index}/skills.parquet"]
        assert store.locations() == [
            ("roles", "beta", "beta", "", record("roles", "beta", 2).etag),
            ("skills", "alpha", "alpha", "", record("skills", "alpha", 1).etag),
        ]
    with MetaStore.open(fs, str(tmp_path / "none")) as store:
        assert store.index_files() == [] and store.locations() == []
    with MetaStore.open(fs, str(index), writable=True) as store:
        store.mark_dirty()
    names = sorted(p.name for p in index.iterdir())
    assert names[0] == "current.json" and names[1].startswith("g-") and len(names) == 2
    with MetaStore.open(fs, str(index)) as store:
        assert store.layout == "generation"
        assert [r.name for r in store.list()] == ["beta", "alpha"]


def test_previous_generation_is_kept_until_the_next_write(tmp_path: Path) -> None:
    """A reader that read the pointer a moment ago still finds its files; older ones go."""
    fs = fsspec.filesystem("file")
    index = tmp_path / "index"
    seen = []
    for seed in range(3):
        with MetaStore.open(fs, str(index), writable=True) as store:
            store.upsert([record("skills", f"s{seed}", seed)])
        seen.append(Path(generation_of(fs, str(index))).name)
    assert sorted(p.name for p in index.iterdir()) == sorted(["current.json", *seen[1:]])
    pointer = json.loads((index / "current.json").read_text())
    assert pointer["previous"] == seen[1] and pointer["generation"] == seen[2]
    # A writer's first step sweeps what a dead run left, never the two live generations.
    (index / "g-dead").mkdir()
    (index / "g-dead" / "roles.parquet").write_bytes(b"half")
    assert sweep_index(fs, str(index)) == ["g-dead"]
    assert sorted(p.name for p in index.iterdir()) == sorted(["current.json", *seen[1:]])


@pytest.mark.parametrize("listings", [False, True])
def test_a_legacy_index_over_http_is_read_through_arrow(tmp_path: Path, listings: bool) -> None:
    """DuckDB's fsspec bridge cannot read from HTTP (a published site of an earlier version):
    the file is fetched whole and handed over as Arrow; a broken one is named, one line.
    Whether the host answers a folder with 404 (static hosts) or a listing page (python's
    http.server), the folder is not mistaken for a file."""
    from tests.site.helpers import StaticHandler, serve

    class NoListings(StaticHandler):  # like a static host: a folder without index.html is 404
        def list_directory(self, path: str) -> None:  # type: ignore[override]
            self.send_error(404)

    fs = fsspec.filesystem("file")
    index = tmp_path / "index"
    with MetaStore.open(fs, str(index), writable=True) as store:
        store.upsert([record("skills", "alpha", 1), record("roles", "beta", 2)])
    make_legacy(fs, index)
    http = fsspec.filesystem("http")
    with serve(tmp_path, handler=StaticHandler if listings else NoListings) as url:
        with MetaStore.open(http, f"{url}index") as store:
            assert store.layout == "legacy" and [r.name for r in store.list()] == ["beta", "alpha"]
            alpha = store.get("skills", "alpha", with_vector=True)
            assert alpha is not None and np.allclose(alpha.embedding, unit(1))
        (index / "roles.parquet").write_bytes(b"PAR1 not parquet PAR1")
        with pytest.raises(MetaStoreError, match=r"roles\.parquet: not a readable Parquet file"):
            MetaStore.open(http, f"{url}index")


def test_a_file_must_say_what_its_pointer_says_and_the_message_names_both() -> None:
    from sitegen.generations import make_pointer
    from sitegen.metastore.engine import IndexInfo
    from sitegen.metastore.validate import check_against_pointer

    pointer = make_pointer(
        build="b1", schema="3", fingerprint="model-a", written="", digests={}, previous=None
    )
    check_against_pointer("f", IndexInfo("3", "model-a", "b1", "x"), pointer)  # agrees
    cases = [
        (IndexInfo("3", "model-a", "b2", ""), "f: from build b2, not b1 as current.json says"),
        (IndexInfo("3", "model-a", "", ""), "f: from build unknown, not b1"),
        (IndexInfo("3", "model-b", "b1", ""), "f: written with model model-b, not model-a as"),
        (IndexInfo("3", "", "b1", ""), "f: written with model unknown, not model-a as"),
        (IndexInfo("2", "model-a", "b1", ""), "f: schema 2, not 3 as current.json says"),
    ]
    for info, message in cases:
        with pytest.raises(MetaStoreError) as raised:
            check_against_pointer("f", info, pointer)
        assert str(raised.value).startswith(message), str(raised.value)
    unknown = make_pointer(
        build="b1", schema="3", fingerprint="", written="", digests={}, previous=None
    )
    with pytest.raises(MetaStoreError, match="written with model model-b, not unknown as"):
        check_against_pointer("f", IndexInfo("3", "model-b", "b1", ""), unknown)
