"""The index pointer and its generations, on real filesystems (local disk and memory://).

tests/test_corrupt_index.py breaks whole indexes and checks the command's answer; these check
the rules of the pointer itself one field at a time, and the writer's housekeeping (switch,
sweep, signature), because a fault there loses or mixes builds silently.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pytest

from sitegen import generations as gen
from sitegen.generations import GenerationError, Pointer
from sitegen.storage import is_local

BUILD = "0123abcd"
DIGEST = "a" * 64

# A pointer as sitegen writes it, spelled out: the on-disk format is a promise to every
# reader already deployed, so a change of the constants alone must not pass.
WRITTEN = {
    "format": 1,
    "generation": f"g-{BUILD}",
    "build": BUILD,
    "schema": "3",
    "fingerprint": "fp",
    "written": "2026-11-27T00:00:00Z",
    "files": {"roles": f"g-{BUILD}/roles.parquet", "skills": f"g-{BUILD}/skills.parquet"},
    "sha256": {"roles": DIGEST, "skills": "b" * 64},
    "previous": "g-old",
}


def parse(raw: Any) -> Pointer:
    return Pointer.from_bytes(json.dumps(raw).encode(), "idx/current.json")


def edited(**changes: Any) -> dict[str, Any]:
    raw = json.loads(json.dumps(WRITTEN))
    for key, value in changes.items():
        if value is ...:
            del raw[key]
        else:
            raw[key] = value
    return raw


def test_a_pointer_as_written_reads_back_field_for_field() -> None:
    pointer = parse(WRITTEN)
    assert pointer.as_dict() == WRITTEN
    assert json.loads(pointer.to_bytes()) == WRITTEN
    assert Pointer.from_bytes(pointer.to_bytes(), "x") == pointer


def test_the_exported_pointer_forgets_only_the_previous_generation() -> None:
    pointer = parse(WRITTEN)
    assert pointer.exported().as_dict() == {**WRITTEN, "previous": None}


@pytest.mark.parametrize("key", ["build", "schema", "files", "sha256"])
def test_a_missing_field_is_named(key: str) -> None:
    with pytest.raises(GenerationError, match=rf"idx/current.json: index pointer lacks .*{key}"):
        parse(edited(**{key: ...}))


@pytest.mark.parametrize("key", ["build", "schema"])
def test_an_empty_or_non_text_identity_field_is_refused(key: str) -> None:
    for bad in ("", 7, None, ["x"]):
        with pytest.raises(GenerationError, match=f"lacks a valid '{key}'"):
            parse(edited(**{key: bad}))


@pytest.mark.parametrize("key", ["fingerprint", "written"])
def test_fingerprint_and_time_may_be_empty_but_must_be_text(key: str) -> None:
    assert getattr(parse(edited(**{key: ""})), key) == ""
    with pytest.raises(GenerationError, match=f"lacks a valid '{key}'"):
        parse(edited(**{key: 5}))


@pytest.mark.parametrize("table", ["files", "sha256"])
@pytest.mark.parametrize("kind", gen.KINDS)
def test_each_kind_needs_its_file_and_digest(table: str, kind: str) -> None:
    raw = edited()
    del raw[table][kind]
    with pytest.raises(GenerationError, match=f"lacks '{kind}'"):
        parse(raw)
    raw[table] = "not a mapping"
    with pytest.raises(GenerationError, match="index pointer lacks"):
        parse(raw)


def test_previous_is_kept_only_when_it_is_text() -> None:
    assert parse(edited(previous="g-x")).previous == "g-x"
    assert parse(edited(previous=3)).previous is None
    assert parse(edited(previous=...)).previous is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps(edited(format=2)).encode(), "format 2 is not 1"),
        (json.dumps(edited(format=...)).encode(), "format None is not 1"),
        (json.dumps(edited(build="../up")).encode(), "bad build id '../up'"),
        (json.dumps(edited(build="x" * 81)).encode(), "bad build id"),
    ],
)
def test_unreadable_pointers_say_why(raw: bytes, message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        Pointer.from_bytes(raw, "where")


@pytest.mark.parametrize(
    "path", ["/abs/roles.parquet", "../roles.parquet", "g-x/../../roles.parquet", "g-x\\r.parquet"]
)
def test_a_file_outside_the_index_is_refused(path: str) -> None:
    raw = edited()
    raw["files"]["roles"] = path
    with pytest.raises(GenerationError, match="path outside"):
        parse(raw)


@pytest.mark.parametrize("digest", ["A" * 64, "a" * 63, "a" * 65, "g" * 64])
def test_a_malformed_digest_is_refused(digest: str) -> None:
    raw = edited()
    raw["sha256"]["skills"] = digest
    with pytest.raises(GenerationError, match="bad sha256 for skills"):
        parse(raw)


# -- the writer's side, on both kinds of filesystem ------------------------------------------


@pytest.fixture(params=["local", "memory"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, str]:
    if request.param == "local":
        return fsspec.filesystem("file"), str(tmp_path / "index")
    return fsspec.filesystem("memory"), f"/gen-{uuid.uuid4().hex}/index"


def pointer_for(build: str, previous: str | None = None) -> Pointer:
    return gen.make_pointer(
        build=build,
        schema="3",
        fingerprint="fp",
        written="now",
        digests={kind: DIGEST for kind in gen.KINDS},
        previous=previous,
    )


def put(fs: Any, path: str, data: bytes) -> None:
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    fs.pipe_file(path, data)


def test_switch_makes_a_pointer_current_and_leaves_no_temp(where: tuple[Any, str]) -> None:
    fs, index = where
    fs.makedirs(index, exist_ok=True)
    assert gen.read_pointer(fs, index, "w") is None
    gen.switch(fs, index, pointer_for("one"))
    gen.switch(fs, index, pointer_for("two", previous="g-one"))
    current = gen.read_pointer(fs, index, "w")
    assert current is not None
    assert (current.build, current.previous) == ("two", "g-one")
    assert [p.rsplit("/", 1)[-1] for p in fs.ls(index, detail=False)] == [gen.POINTER]


def test_switch_repairs_a_folder_where_the_pointer_belongs(where: tuple[Any, str]) -> None:
    fs, index = where
    put(fs, f"{index}/{gen.POINTER}/junk", b"x")
    if is_local(fs):  # memory:// has no real folders: a read there finds no pointer
        with pytest.raises(GenerationError, match="a folder where the index pointer should be"):
            gen.read_pointer(fs, index, "w")
        assert gen.signature(fs, index)[0] == "broken"
    gen.switch(fs, index, pointer_for("one"))
    current = gen.read_pointer(fs, index, "w")
    assert current is not None and current.build == "one"


def test_sweep_removes_dead_generations_and_leftovers_only(where: tuple[Any, str]) -> None:
    fs, index = where
    names = [
        "g-keep",
        "g-dead",
        ".roles.parquet.tmp-1",
        ".skills.parquet.bak-2",
        "roles.parquet.sitegen-keep-3",
        ".current.json.tmp-4",
        "roles.parquet",
        "skills.parquet",
        "notes.txt",
        "g-keep.txt",
    ]
    for name in names:
        if name.startswith("g-") and "." not in name:
            put(fs, f"{index}/{name}/roles.parquet", b"p")
        else:
            put(fs, f"{index}/{name}", b"x")
    # Without a pointer the flat files are the legacy index itself: kept.
    removed = gen.sweep(fs, index, keep={"g-keep"})
    assert removed == sorted(
        [
            "g-dead",
            ".roles.parquet.tmp-1",
            ".skills.parquet.bak-2",
            "roles.parquet.sitegen-keep-3",
            ".current.json.tmp-4",
        ]
    )
    left = sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(index, detail=False))
    assert left == sorted(["g-keep", "roles.parquet", "skills.parquet", "notes.txt", "g-keep.txt"])
    # Once a pointer exists the flat files are leftovers of an earlier version.
    gen.switch(fs, index, pointer_for("keep"))
    assert gen.sweep(fs, index, keep={"g-keep"}) == ["roles.parquet", "skills.parquet"]
    assert gen.sweep(fs, f"{index}/absent", keep=()) == []


def test_signature_moves_with_every_switch_and_names_a_broken_pointer(
    where: tuple[Any, str],
) -> None:
    fs, index = where
    fs.makedirs(index, exist_ok=True)
    empty = gen.signature(fs, index)
    assert empty == ("legacy", None, None)
    fs.pipe_file(f"{index}/roles.parquet", b"legacy")
    legacy = gen.signature(fs, index)
    assert legacy[0] == "legacy" and legacy != empty
    gen.switch(fs, index, pointer_for("one"))
    first = gen.signature(fs, index)
    gen.switch(fs, index, pointer_for("two"))
    second = gen.signature(fs, index)
    assert first[0] == second[0] == "pointer" and first != second
    fs.pipe_file(f"{index}/{gen.POINTER}", b"")
    assert gen.signature(fs, index) not in (first, second)


def test_generation_files_are_checked_by_digest(where: tuple[Any, str]) -> None:
    fs, index = where
    blobs = {kind: f"{kind} bytes".encode() for kind in gen.KINDS}
    kv = {kind: {"sitegen.build": "b1", "sitegen.schema": "3"} for kind in gen.KINDS}
    pointer = gen.exported_pointer(blobs, kv)
    for kind in gen.KINDS:
        put(fs, f"{index}/{pointer.files[kind]}", blobs[kind])
    files = gen.generation_files(fs, index, pointer)
    assert files == {
        gen.POINTER: pointer.to_bytes(),
        **{pointer.files[kind]: blobs[kind] for kind in gen.KINDS},
    }
    assert gen.sha256_of(fs, f"{index}/{pointer.files['roles']}") == pointer.sha256["roles"]
    fs.pipe_file(f"{index}/{pointer.files['skills']}", b"changed")
    with pytest.raises(GenerationError, match="sha256 differs"):
        gen.generation_files(fs, index, pointer)
    fs.rm(f"{index}/{pointer.files['skills']}")
    with pytest.raises(GenerationError, match="cannot read the index file"):
        gen.generation_files(fs, index, pointer)
