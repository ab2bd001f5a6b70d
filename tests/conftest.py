"""Shared fixtures: real libraries on real filesystems (local, memory://, zip://)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from tests.ci_skips import pytest_configure, pytest_runtest_makereport  # noqa: F401  (hooks)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_LIBRARY = ROOT / "example_library"
BAD_LIBRARY = Path(__file__).resolve().parent / "bad_library"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the prepared model out of the user's cache unless a run shares one on purpose."""
    if "SITEGEN_CACHE_DIR" in os.environ:
        yield
        return
    os.environ["SITEGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("sitegen-cache"))
    yield
    os.environ.pop("SITEGEN_CACHE_DIR", None)


@pytest.fixture()
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example library that a test may change."""
    target = tmp_path / "library"
    shutil.copytree(EXAMPLE_LIBRARY, target, ignore=shutil.ignore_patterns("index"))
    return target


@pytest.fixture()
def bad_library(tmp_path: Path) -> Path:
    """The bad-input corpus plus defects git cannot carry: an escaping symlink, a huge file."""
    target = tmp_path / "bad"
    shutil.copytree(BAD_LIBRARY, target)
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("not part of the library\n")
    escape = target / "skills" / "symlink-outside"
    escape.mkdir()
    (escape / "SKILL.md").write_text(
        "---\nname: symlink-outside\ndescription: Links out. Use when testing.\ntags: [t]\n---\n"
    )
    (escape / "stolen.txt").symlink_to(secret)
    huge = target / "skills" / "huge-file"
    huge.mkdir()
    (huge / "SKILL.md").write_text(
        "---\nname: huge-file\ndescription: Has a huge file. Use when testing.\ntags: [t]\n---\n"
    )
    with open(huge / "data.bin", "wb") as fh:
        fh.truncate(11 * 1024 * 1024)
    odd_files = {  # entry -> a file no repository carries
        "broken-link": lambda folder: (folder / "gone.txt").symlink_to(folder / "nowhere"),
        "link-dir": lambda folder: (folder / "assets").symlink_to(
            target / "skills" / "huge-file", target_is_directory=True
        ),
        "fifo": lambda folder: os.mkfifo(folder / "pipe"),
        "bytes-name": lambda folder: (folder / os.fsdecode(b"caf\xe9.txt")).write_text("x"),
    }
    for name, make in odd_files.items():
        folder = target / "skills" / name
        folder.mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Has an odd file. Use when testing.\n---\n"
        )
        make(folder)
    odd_folder = target / "skills" / os.fsdecode(b"bad-\xff")
    odd_folder.mkdir()
    (odd_folder / "SKILL.md").write_text("---\nname: bad\ndescription: Odd folder name.\n---\n")
    return target


def make_colliding_library(target: Path) -> Path:
    """The example library plus `merge-request-reviewer`, a near copy of
    `pull-request-reviewer`: a pair the collision report must flag."""
    shutil.copytree(EXAMPLE_LIBRARY, target, ignore=shutil.ignore_patterns("index"))
    twin = target / "skills" / "merge-request-reviewer"
    twin.mkdir()
    source = (target / "skills" / "pull-request-reviewer" / "SKILL.md").read_text()
    text = source.replace("name: pull-request-reviewer", "name: merge-request-reviewer")
    (twin / "SKILL.md").write_text(text.replace("pull request", "merge request"))
    return target


def flatten_index(library: Path) -> None:
    """Turn a library's index into the flat layout of earlier sitegen versions (same files:
    index/roles.parquet and index/skills.parquet, no pointer, no generation folders)."""
    import json

    index = library / "index"
    generation = index / json.loads((index / "current.json").read_text())["generation"]
    for kind in ("roles", "skills"):
        (generation / f"{kind}.parquet").rename(index / f"{kind}.parquet")
    (index / "current.json").unlink()
    for folder in index.glob("g-*"):
        shutil.rmtree(folder)


def copy_to_memory(source: Path) -> str:
    """Upload a local library into a fresh memory:// root and return its URL."""
    fs = fsspec.filesystem("memory")
    root = f"/lib-{uuid.uuid4().hex}"
    for path in source.rglob("*"):
        if path.is_file() and "index" not in path.relative_to(source).parts[:1]:
            rel = path.relative_to(source).as_posix()
            fs.pipe_file(f"{root}/{rel}", path.read_bytes())
    return f"memory://{root}"


@pytest.fixture()
def memory_library() -> Iterator[str]:
    url = copy_to_memory(EXAMPLE_LIBRARY)
    yield url
    fs = fsspec.filesystem("memory")
    fs.rm(url.removeprefix("memory://"), recursive=True)


@pytest.fixture()
def zip_library(tmp_path: Path) -> str:
    """The example library inside a zip archive, under a top folder, as zip:// sees it."""
    staging = tmp_path / "zipsrc" / "lib"
    shutil.copytree(EXAMPLE_LIBRARY, staging, ignore=shutil.ignore_patterns("index"))
    archive = shutil.make_archive(str(tmp_path / "library"), "zip", tmp_path / "zipsrc")
    return f"zip://lib::{archive}"


@pytest.fixture(scope="session")
def embedder():
    """The real int8 embedder, prepared once per test session."""
    from sitegen.embedder import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def indexed_example(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A copy of the example library with its index built; tests must not change it."""
    from sitegen.indexer import index_library
    from sitegen.library import Library

    target = tmp_path_factory.mktemp("indexed") / "library"
    shutil.copytree(EXAMPLE_LIBRARY, target, ignore=shutil.ignore_patterns("index"))
    index_library(Library(target), embedder)
    return target


class CountingEmbedder:
    """The real embedder, instrumented: records every text it is asked to embed."""

    def __init__(self, inner, *, fingerprint=None, fail_after: int | None = None) -> None:
        self.inner = inner
        self.fingerprint = fingerprint or inner.fingerprint
        self.max_seq_length = inner.max_seq_length
        self.texts: list[str] = []
        self.fail_after = fail_after

    def token_count(self, text: str) -> int:
        return int(self.inner.token_count(text))

    def embed(self, texts):
        from sitegen.embedder import EmbedderError

        if self.fail_after is not None and len(self.texts) + len(texts) > self.fail_after:
            raise EmbedderError("embedding failed (injected)")
        self.texts.extend(texts)
        return self.inner.embed(texts)


# -- built sites (see tests/site/helpers.py) -------------------------------------------------------


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, embedder):
    """The example library built once per session; tests must not change it."""
    from tests.site.helpers import example_site

    return example_site(tmp_path_factory, embedder)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory, embedder):
    """The hostile corpus built once per session; tests must not change it."""
    from tests.site.helpers import hostile_site

    return hostile_site(tmp_path_factory, embedder)


@pytest.fixture()
def own_site(tmp_path: Path, site, embedder):
    """A private copy of the example library (index included) with its own built site."""
    from tests.site.helpers import BuiltSite, build

    library = tmp_path / "library"
    shutil.copytree(site.library, library)
    out = tmp_path / "site"
    return BuiltSite(library, out, build(library, out, embedder))


@pytest.fixture(scope="session")
def content(tmp_path_factory: pytest.TempPathFactory, embedder):
    """A library of references, scripts, text, links between entries and an agent file."""
    from tests.site.helpers import content_site

    return content_site(tmp_path_factory, embedder)
