"""Every way an index can be broken is reported (exit 1, naming the file and the fault, a
503 from /healthz) and repaired by the next `sitegen index`, with or without --full.

The variants cover the pointer (truncated, empty, garbage, a folder, a missing generation,
another format), the Parquet files (truncated, empty, garbage, a folder, missing, a changed
byte), content that reads fine but is wrong (a foreign file, a `name` of integers,
duplicates, NaN / zero / NULL vectors, another model in one file only, a file from another
build), `index/` as a file, and a flat index of an earlier version whose two files are from
different builds (the wedge of the issue: `--full` used to fail on it the same way).
Content variants keep the pointer's digests right, so the content checks are what must
catch them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from sitegen.cli import cli
from sitegen.indexer import index_library
from sitegen.library import Library
from sitegen.metastore import MetaStore
from sitegen.server import create_app

Corruption = Callable[[Path], None]


def pointer(index: Path) -> dict:
    return json.loads((index / "current.json").read_text())


def file_of(index: Path, kind: str) -> Path:
    return index / pointer(index)["files"][kind]


def rewrite(
    index: Path, kind: str, change: Callable[[pa.Table], pa.Table], *, keep_metadata: bool = True
) -> None:
    """Rewrite one Parquet file (its metadata kept) and fix the pointer's digest."""
    path = file_of(index, kind)
    table = pq.read_table(path)
    changed = change(table)
    if keep_metadata:
        changed = changed.replace_schema_metadata(
            {**(table.schema.metadata or {}), **(changed.schema.metadata or {})}
        )
    pq.write_table(changed, path)
    data = pointer(index)
    data["sha256"][kind] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index / "current.json").write_text(json.dumps(data))


def set_vector(
    value: Callable[[int], list[float] | None], count: int = 1
) -> Callable[[pa.Table], pa.Table]:
    """Replace the vector of the first `count` rows (value gets the vector's length)."""

    def change(table: pa.Table) -> pa.Table:
        rows = table.column("embedding").to_pylist()
        for i in range(count):
            rows[i] = value(len(rows[i]))
        position = table.schema.get_field_index("embedding")
        column = pa.array(rows, type=table.schema.field("embedding").type)
        return table.set_column(position, "embedding", column)

    return change


def one_short_vector(table: pa.Table) -> pa.Table:
    """A variable-length list column (what other writers make) with one vector a value short."""
    rows = table.column("embedding").to_pylist()
    rows[0] = rows[0][:-1]
    position = table.schema.get_field_index("embedding")
    return table.set_column(position, "embedding", pa.array(rows, type=pa.list_(pa.float32())))


def with_metadata(key: bytes, value: bytes) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        return table.replace_schema_metadata({**(table.schema.metadata or {}), key: value})

    return change


def names_as_integers(table: pa.Table) -> pa.Table:
    position = table.schema.get_field_index("name")
    return table.set_column(position, "name", pa.array(range(table.num_rows), pa.int64()))


def duplicated(table: pa.Table) -> pa.Table:
    return pa.concat_tables([table, table])


def foreign(table: pa.Table) -> pa.Table:
    return pa.table({"x": [1, 2, 3]})


def truncate(kind: str) -> Corruption:
    def corrupt(index: Path) -> None:
        path = file_of(index, kind)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return corrupt


def empty(kind: str) -> Corruption:
    return lambda index: file_of(index, kind).write_bytes(b"")


def garbage(kind: str) -> Corruption:
    return lambda index: file_of(index, kind).write_bytes(np.random.bytes(5000))


def folder_instead(kind: str) -> Corruption:
    def corrupt(index: Path) -> None:
        file_of(index, kind).unlink()
        file_of(index, kind).mkdir()

    return corrupt


def flip_a_byte(index: Path) -> None:
    path = file_of(index, "skills")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def from_another_build(other: Path) -> Corruption:
    def corrupt(index: Path) -> None:
        source = file_of(other, "roles")
        shutil.copyfile(source, file_of(index, "roles"))
        data = pointer(index)
        data["sha256"]["roles"] = hashlib.sha256(source.read_bytes()).hexdigest()
        (index / "current.json").write_text(json.dumps(data))

    return corrupt


def legacy_from_two_builds(other: Path) -> Corruption:
    def corrupt(index: Path) -> None:
        for kind in ("roles", "skills"):
            source = file_of(other if kind == "roles" else index, kind)
            shutil.copyfile(source, index / f"{kind}.parquet")
        for item in list(index.iterdir()):
            if item.name not in ("roles.parquet", "skills.parquet"):
                shutil.rmtree(item) if item.is_dir() else item.unlink()

    return corrupt


def pointer_edit(**changes: object) -> Corruption:
    def corrupt(index: Path) -> None:
        data = pointer(index)
        data.update(changes)
        (index / "current.json").write_text(json.dumps(data))

    return corrupt


def pointer_bytes(data: bytes) -> Corruption:
    return lambda index: (index / "current.json").write_bytes(data)


def pointer_folder(index: Path) -> None:
    (index / "current.json").unlink()
    (index / "current.json").mkdir()
    (index / "current.json" / "x").write_text("x")


def missing_generation(index: Path) -> None:
    shutil.rmtree(index / pointer(index)["generation"])


def index_is_a_file(index: Path) -> None:
    shutil.rmtree(index)
    index.write_text("not a folder")


def variants(other: Path) -> dict[str, tuple[Corruption, str]]:
    """name -> (corruption, what the error must say)."""
    return {
        "pointer truncated": (lambda i: (i / "current.json").write_bytes(
            (i / "current.json").read_bytes()[:40]), "unreadable index pointer"),
        "pointer zero bytes": (pointer_bytes(b""), "empty file"),
        "pointer garbage": (pointer_bytes(b"\x00\xff garbage \x13"), "unreadable index pointer"),
        "pointer is a folder": (pointer_folder, "a folder where the index pointer"),
        "pointer names a missing generation": (missing_generation, "missing"),
        "pointer of another format": (pointer_edit(format=99), "pointer format 99"),
        "pointer of another schema": (pointer_edit(schema="99"), "not 99"),
        "parquet truncated": (truncate("skills"), "sha256 differs"),
        "parquet zero bytes": (empty("roles"), "sha256 differs"),
        "parquet garbage": (garbage("roles"), "sha256 differs"),
        "parquet is a folder": (folder_instead("skills"), "a folder where an index file"),
        "parquet missing": (lambda i: file_of(i, "roles").unlink(), "missing"),
        "one byte changed": (flip_a_byte, "sha256 differs"),
        "foreign parquet": (
            lambda i: rewrite(i, "skills", foreign, keep_metadata=False), "foreign Parquet"),
        "columns missing": (lambda i: rewrite(i, "skills", foreign), "column 'name' is missing"),
        "name of integers": (
            lambda i: rewrite(i, "skills", names_as_integers), "column 'name' is BIGINT"),
        "duplicate rows": (lambda i: rewrite(i, "skills", duplicated), "duplicate name"),
        "NaN vector": (
            lambda i: rewrite(i, "skills", set_vector(lambda n: [float("nan")] * n)), "NaN"),
        "zero vector": (
            lambda i: rewrite(i, "roles", set_vector(lambda n: [0.0] * n)), "all-zero"),
        "vector a value short": (
            lambda i: rewrite(i, "skills", one_short_vector), "corrupt index file"),
        "NULL vector": (
            lambda i: rewrite(i, "skills", set_vector(lambda n: None)), "NULL embedding"),
        "NULL inside a vector": (
            lambda i: rewrite(i, "skills", set_vector(lambda n: [None] * n)), "NULL values"),
        "foreign fingerprint in one file": (
            lambda i: rewrite(i, "skills", with_metadata(b"sitegen.fingerprint", b"other-model")),
            "foreign fingerprint"),
        "file from another build": (from_another_build(other), "different builds"),
        "index is a file": (index_is_a_file, "a file where the index folder"),
        "legacy files from two builds": (legacy_from_two_builds(other), "different builds"),
    }


def write_library(lib: Path, extra: str = "") -> None:
    for name, text in (("csv-cleaner", "Cleans CSV files."), ("sql-tuner", "Tunes SQL.")):
        folder = lib / "skills" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {text} Use when needed.{extra}\n---\n# {name}\n"
        )
    role = lib / "roles" / "reviewer"
    role.mkdir(parents=True, exist_ok=True)
    (role / "ROLE.md").write_text(
        f"---\nname: reviewer\ndescription: Reviews code.{extra}\n---\n# Reviewer\n"
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:
    """A small indexed library, and another one (other builds, for mixing)."""
    root = tmp_path_factory.mktemp("corrupt")
    lib, other = root / "lib", root / "other"
    write_library(lib)
    write_library(other, extra=" Different.")
    for folder in (lib, other):
        index_library(Library(folder), embedder)
    return lib, other


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stderr


VARIANTS = list(variants(Path("/nowhere")))


@pytest.mark.parametrize("name", VARIANTS)
def test_corrupt_index_is_reported_and_repaired_by_index(
    indexed: tuple[Path, Path], tmp_path: Path, embedder, name: str
) -> None:
    """Readers report the fault (match exits 1 naming the file, /healthz says 503); a plain
    `sitegen index` rebuilds from the library and leaves only the new generation."""
    lib = corrupted(indexed, tmp_path, name)
    says = variants(Path("/nowhere"))[name][1]
    code, err = run("match", "clean my csv", "--library", str(lib))
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: ") and says in line and "index" in line, line
    assert "Traceback" not in err
    with TestClient(create_app(Library(lib), embedder)) as client:
        health = client.get("/healthz")
        listing = client.get("/api/entries")
        entry = client.get("/api/entries/skills/csv-cleaner")
    assert health.status_code == 503 and says in health.json()["error"]
    for answer in (listing, entry):  # every read of the index says it is unusable
        assert answer.status_code == 503 and says in answer.json()["error"]["message"], answer.text

    code, err = run("index", str(lib))
    assert code == 0, err
    assert "rebuilding the index from the library" in err and says in err
    assert_repaired(lib)


@pytest.mark.parametrize("name", VARIANTS)
def test_corrupt_index_is_repaired_by_index_full(
    indexed: tuple[Path, Path], tmp_path: Path, name: str
) -> None:
    lib = corrupted(indexed, tmp_path, name)
    code, err = run("index", str(lib), "--full")
    assert code == 0, err
    assert_repaired(lib)


def corrupted(indexed: tuple[Path, Path], tmp_path: Path, name: str) -> Path:
    source, other = indexed
    lib = tmp_path / "lib"
    shutil.copytree(source, lib)
    variants(other / "index")[name][0](lib / "index")
    return lib


def assert_repaired(lib: Path) -> None:
    index = lib / "index"
    names = sorted(p.name for p in index.iterdir())
    assert names == ["current.json", pointer(index)["generation"]], names
    with MetaStore.open(fsspec.filesystem("file"), str(index)) as store:
        assert sorted(r.name for r in store.list()) == ["csv-cleaner", "reviewer", "sql-tuner"]


@pytest.mark.parametrize(
    ("broken", "tail"),
    [
        (1, "has NaN or infinite values in its embedding"),
        (2, "has NaN or infinite values in its embedding (and 1 more)"),
    ],
)
def test_a_vector_fault_names_the_first_entry_and_counts_the_others(
    indexed: tuple[Path, Path], tmp_path: Path, broken: int, tail: str
) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(indexed[0], lib)

    rewrite(lib / "index", "skills", set_vector(lambda n: [float("nan")] * n, broken))
    code, err = run("match", "clean my csv", "--library", str(lib))
    assert code == 1 and err.strip().splitlines()[-1].endswith(f"'csv-cleaner' {tail}"), err
