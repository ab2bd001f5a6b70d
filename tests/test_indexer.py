"""`sitegen index`: incremental by etag, one transaction, fingerprint-aware; real model."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import fsspec
import numpy as np
import pytest
from click.testing import CliRunner
from fsspec.implementations.memory import MemoryFileSystem

from sitegen.cli import cli
from sitegen.embedder import EmbedderError
from sitegen.indexer import (
    IndexAbort,
    current_vectors,
    embed_entries,
    index_library,
    open_store,
)
from sitegen.library import Library
from sitegen.metastore import MetaStoreError
from tests.conftest import CountingEmbedder, copy_to_memory


def index_digest(library: Path) -> dict[str, str]:
    index = library / "index"
    return {
        str(p.relative_to(index)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(index.rglob("*"))
        if p.is_file()
    }


def test_first_index_embeds_everything_then_nothing(example_copy: Path, embedder) -> None:
    counting = CountingEmbedder(embedder)
    first = index_library(Library(example_copy), counting)
    total = len(Library(example_copy).read().entries)
    assert (first.added, first.updated, first.removed, first.unchanged) == (total, 0, 0, 0)
    assert len(counting.texts) == total
    generation = json.loads((example_copy / "index" / "current.json").read_text())["generation"]
    assert sorted(index_digest(example_copy)) == [
        "current.json",
        f"{generation}/roles.parquet",
        f"{generation}/skills.parquet",
    ]
    before = index_digest(example_copy)
    counting.texts.clear()
    second = index_library(Library(example_copy), counting)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, total)
    assert counting.texts == [] and not second.wrote and second.embedded == 0
    assert index_digest(example_copy) == before


def test_changed_added_and_deleted_entries(example_copy: Path, embedder) -> None:
    counting = CountingEmbedder(embedder)
    index_library(Library(example_copy), counting)
    skill = example_copy / "skills" / "csv-data-cleaner" / "SKILL.md"
    skill.write_text(skill.read_text() + "\nOne more tip for the body.\n")
    new = example_copy / "skills" / "yaml-formatter"
    new.mkdir()
    (new / "SKILL.md").write_text(
        "---\nname: yaml-formatter\ndescription: Formats YAML files consistently. "
        "Use when YAML diffs are noisy.\ntags: [yaml]\n---\n# YAML formatter\n"
    )
    import shutil

    shutil.rmtree(example_copy / "roles" / "ux-researcher")
    counting.texts.clear()
    result = index_library(Library(example_copy), counting)
    assert (result.added, result.updated, result.removed) == (1, 1, 1)
    assert len(counting.texts) == 2
    assert any(t.startswith("yaml formatter - ") for t in counting.texts)
    with open_store(Library(example_copy), writable=False) as store:
        assert store.has("skills", "yaml-formatter")
        assert not store.has("roles", "ux-researcher")
        cleaner = store.get("skills", "csv-data-cleaner")
        entries = Library(example_copy).read().entries
        etag = next(e.etag for e in entries if e.name == "csv-data-cleaner")
        assert cleaner is not None and cleaner.etag == etag


def test_model_change_reembeds_everything(example_copy: Path, embedder) -> None:
    index_library(Library(example_copy), embedder)
    other = dataclasses.replace(embedder.fingerprint, quantization="another-export")
    counting = CountingEmbedder(embedder, fingerprint=other)
    result = index_library(Library(example_copy), counting)
    total = len(Library(example_copy).read().entries)
    assert (result.updated, result.unchanged) == (total, 0)
    assert len(counting.texts) == total
    with open_store(Library(example_copy), writable=False) as store:
        assert store.fingerprint == other.as_string()


def test_full_flag_reembeds_everything(example_copy: Path, embedder) -> None:
    index_library(Library(example_copy), embedder)
    counting = CountingEmbedder(embedder)
    result = index_library(Library(example_copy), counting, full=True)
    assert result.unchanged == 0 and len(counting.texts) == result.updated


def test_strict_problem_aborts_before_writing(example_copy: Path, embedder) -> None:
    index_library(Library(example_copy), embedder)
    before = index_digest(example_copy)
    (example_copy / "skills" / "odd-key").mkdir()
    (example_copy / "skills" / "odd-key" / "SKILL.md").write_text(
        "---\nname: odd-key\ndescription: Has an odd key. Use when testing.\nodd: 1\n---\n"
    )
    with pytest.raises(IndexAbort, match="odd-key"):
        index_library(Library(example_copy), embedder, strict=True)
    assert index_digest(example_copy) == before


def test_embedding_failure_leaves_index_untouched(example_copy: Path, embedder) -> None:
    index_library(Library(example_copy), embedder)
    before = index_digest(example_copy)
    with pytest.raises(EmbedderError):
        index_library(Library(example_copy), CountingEmbedder(embedder, fail_after=0), full=True)
    assert index_digest(example_copy) == before


class FailingWriteFS(MemoryFileSystem):
    """A real memory filesystem that refuses to write the index pointer when armed."""

    armed = False

    def pipe_file(self, path, value, *args, **kwargs):  # type: ignore[no-untyped-def]
        if type(self).armed and str(path).endswith("current.json"):
            raise OSError("no space left on device (injected)")
        return super().pipe_file(path, value, *args, **kwargs)


def test_write_failure_leaves_index_untouched(embedder) -> None:
    from tests.conftest import EXAMPLE_LIBRARY

    url = copy_to_memory(EXAMPLE_LIBRARY)
    fs = FailingWriteFS(skip_instance_cache=True)
    root = url.removeprefix("memory://")
    library = Library(url)
    library.fs = fs  # the same memory store, through the fault-injecting filesystem
    index_library(library, embedder)
    before = fs.cat_file(f"{root}/index/current.json")
    skill = f"{root}/skills/csv-data-cleaner/SKILL.md"
    fs.pipe_file(skill, fs.cat_file(skill) + b"\nOne more tip.\n")
    FailingWriteFS.armed = True
    try:
        with pytest.raises(MetaStoreError, match="previous index is unchanged"):
            index_library(library, embedder)
    finally:
        FailingWriteFS.armed = False
    assert fs.cat_file(f"{root}/index/current.json") == before


def test_index_works_on_memory_filesystem(embedder) -> None:
    from tests.conftest import EXAMPLE_LIBRARY

    url = copy_to_memory(EXAMPLE_LIBRARY)
    result = index_library(Library(url), embedder)
    assert result.added > 20
    fs = fsspec.filesystem("memory")
    assert fs.exists(url.removeprefix("memory://") + "/index/current.json")


def test_cli_index_prints_counts(example_copy: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["index", str(example_copy)])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("added ") and "removed 0, unchanged 0" in first.stdout
    second = runner.invoke(cli, ["index", str(example_copy)])
    assert second.stdout.strip().startswith("added 0, updated 0, removed 0, unchanged ")


def test_cli_index_strict_failure_is_one_line(example_copy: Path) -> None:
    for name in ("odd-one", "odd-two"):
        (example_copy / "skills" / name).mkdir()
        (example_copy / "skills" / name / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Odd one. Use when testing.\nodd: 1\n---\n"
        )
    result = CliRunner().invoke(cli, ["index", str(example_copy), "--strict"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 2 problem(s) in strict mode, first: ")
    assert "odd-one/SKILL.md" in last and "odd-two" not in last  # the first, by path
    assert not (example_copy / "index").exists()


def test_index_migrates_a_legacy_index_and_sweeps_dead_generations(
    example_copy: Path, embedder
) -> None:
    """Nothing to embed, yet a flat index of an earlier version is rewritten as a
    generation, and what a dead run left in index/ is swept under the lock."""
    index_library(Library(example_copy), embedder)
    index = example_copy / "index"
    generation = index / json.loads((index / "current.json").read_text())["generation"]
    for kind in ("roles", "skills"):
        (generation / f"{kind}.parquet").rename(index / f"{kind}.parquet")
    generation.rmdir()
    (index / "current.json").unlink()
    (index / "g-dead").mkdir()
    counting = CountingEmbedder(embedder)
    result = index_library(Library(example_copy), counting)
    assert counting.texts == [] and result.wrote and result.embedded == 0
    names = sorted(p.name for p in index.iterdir())
    assert names[0] == "current.json" and len(names) == 2 and names[1].startswith("g-")
    (index / "g-dead").mkdir()
    assert not index_library(Library(example_copy), embedder).wrote
    assert not (index / "g-dead").exists()  # swept even when nothing is written




def test_a_removal_alone_is_seen(example_copy: Path, embedder) -> None:
    """Nothing edited or added, one entry deleted: the no-change shortcut must not hide it."""
    import shutil

    index_library(Library(example_copy), embedder)
    shutil.rmtree(example_copy / "roles" / "ux-researcher")
    counting = CountingEmbedder(embedder)
    result = index_library(Library(example_copy), counting)
    assert (result.added, result.updated, result.removed) == (0, 0, 1)
    assert counting.texts == []  # nothing re-embedded
    with open_store(Library(example_copy), writable=False) as store:
        assert not store.has("roles", "ux-researcher")


def test_current_vectors_reuse_fresh_rows_and_embed_only_what_changed(
    example_copy: Path, embedder
) -> None:
    """What `check --collisions` and a build's similar entries compare: the stored vector of
    every entry whose etag the index still has, a fresh one for the rest, nothing written."""
    index_library(Library(example_copy), embedder)
    before = index_digest(example_copy)
    definition = example_copy / "skills" / "csv-data-cleaner" / "SKILL.md"
    definition.write_text(definition.read_text().replace("Cleans", "Scrubs"))
    entries = Library(example_copy).read().entries
    counting = CountingEmbedder(embedder)
    vectors = current_vectors(Library(example_copy), entries, counting)
    assert index_digest(example_copy) == before
    changed = [i for i, e in enumerate(entries) if e.name == "csv-data-cleaner"]
    assert len(counting.texts) == 1 and "Scrubs" in counting.texts[0]
    with open_store(Library(example_copy), writable=False) as store:
        for i, entry in enumerate(entries):
            stored = store.get(entry.kind, entry.name, with_vector=True)
            assert stored is not None and stored.embedding is not None
            same = np.allclose(vectors[i], stored.embedding, atol=1e-6)
            assert same is (i not in changed), entry.name
    assert np.allclose(vectors[changed[0]], embed_entries(embedder, [entries[changed[0]]])[0])
    # Another model's index is no source of vectors: everything is embedded afresh.
    another = dataclasses.replace(embedder.fingerprint, quantization="another-export")
    other = CountingEmbedder(embedder, fingerprint=another)
    current_vectors(Library(example_copy), entries, other)
    assert len(other.texts) == len(entries)
