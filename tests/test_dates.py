"""Entry dates mean "when the content changed": from git in a checkout, else file times.

A real `git init` repository with commits at chosen dates; a `git` shim on PATH that logs
each call to the real git, to show one `git log` serves the whole library; the real model
and meta store for the index's date rules and the schema upgrade.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.indexer import index_library, open_store
from sitegen.library import Library
from sitegen.metastore import COLUMN_NAMES, META_SCHEMA, SCHEMA_VERSION
from tests.conftest import CountingEmbedder

T1, T2, T3, T4, T5 = (1_700_000_000 + i * 86_400 for i in range(5))
REAL_GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(REAL_GIT is None, reason="git is not installed")


def git(repo: Path, *args: str, when: int | None = None) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def skill_text(name: str, extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: The {name} skill. Use when testing.\n---\n{extra}"


@pytest.fixture(params=["subfolder", "top"])
def repo(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A checkout whose library is a subfolder `lib/` or the top of the repository, with a
    history at known dates."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    lib = repo / "lib" if request.param == "subfolder" else repo
    write(lib / "skills/alpha/SKILL.md", skill_text("alpha"))
    write(repo / "outside.txt", "not the library\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "alpha", when=T1)
    write(lib / "skills/beta/SKILL.md", skill_text("beta"))
    write(lib / "skills/beta/notes.txt", "to be deleted\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "beta", when=T2)
    write(lib / "skills/alpha/SKILL.md", skill_text("alpha", "Changed.\n"))
    write(repo / "outside.txt", "changed outside the library\n")
    git(repo, "commit", "-qam", "alpha again", when=T3)
    (lib / "skills/beta/notes.txt").unlink()
    git(repo, "commit", "-qam", "beta loses a file", when=T4)
    write(lib / "agents/gamma.md", "---\nname: gamma\ndescription: An agent file.\n---\nHi.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "gamma", when=T5)
    return lib


def dates(lib: Path) -> dict[str, tuple[float | None, float | None]]:
    return {e.name: (e.created, e.updated) for e in Library(lib).read().entries}


def test_dates_come_from_one_git_log(repo: Path, tmp_path: Path, monkeypatch) -> None:
    shim = tmp_path / "bin"
    shim.mkdir()
    calls = tmp_path / "git-calls.txt"
    (shim / "git").write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {REAL_GIT} "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    assert dates(repo) == {
        "alpha": (T1, T3),  # created by its first commit, updated by its last
        "beta": (T2, T4),  # deleting a file is a change
        "gamma": (T5, T5),  # an agent file dates from its own commits
    }
    logged = calls.read_text().splitlines()
    assert sum(" log " in f" {line} " for line in logged) == 1, logged


def test_uncommitted_changes_count_from_their_file_times(repo: Path) -> None:
    alpha = repo / "skills/alpha/SKILL.md"
    alpha.write_text(skill_text("alpha", "Edited, not committed.\n"))
    os.utime(alpha, (T5 + 100, T5 + 100))
    new = repo / "skills/delta/SKILL.md"
    write(new, skill_text("delta"))
    os.utime(new, (T5 + 200, T5 + 200))
    found = dates(repo)
    assert found["alpha"] == (T1, T5 + 100)
    assert found["delta"] == (T5 + 200, T5 + 200)  # untracked: its file time
    assert found["beta"] == (T2, T4)


def test_without_git_dates_are_file_times(tmp_path: Path) -> None:
    lib = tmp_path / "plain"
    write(lib / "skills/alpha/SKILL.md", skill_text("alpha"))
    write(lib / "skills/alpha/ref.md", "# Ref\n")
    os.utime(lib / "skills/alpha/SKILL.md", (T1, T1))
    os.utime(lib / "skills/alpha/ref.md", (T2, T2))
    assert dates(lib) == {"alpha": (T1, T2)}


def stored(lib: Path) -> dict[str, tuple[datetime, datetime, str]]:
    with open_store(Library(lib), writable=False) as store:
        return {r.name: (r.date_created, r.date_updated, r.uuid) for r in store.list()}


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def test_index_dates_move_only_when_content_changes(example_copy: Path, embedder) -> None:
    skill = example_copy / "skills/csv-data-cleaner/SKILL.md"
    for path in example_copy.rglob("*"):
        if path.is_file():
            os.utime(path, (T1, T1))
    index_library(Library(example_copy), embedder)
    first = stored(example_copy)
    assert first["csv-data-cleaner"][:2] == (utc(T1), utc(T1))
    index_library(Library(example_copy), embedder, full=True)  # re-embeds, moves no date
    assert stored(example_copy) == first
    os.utime(skill, (T3, T3))  # touched, same bytes: same etag, same dates
    index_library(Library(example_copy), embedder, full=True)
    assert stored(example_copy) == first
    skill.write_text(skill.read_text() + "\nOne more tip.\n")
    os.utime(skill, (T4, T4))
    index_library(Library(example_copy), embedder)
    after = stored(example_copy)
    assert after["csv-data-cleaner"] == (utc(T1), utc(T4), first["csv-data-cleaner"][2])
    assert {k: v for k, v in after.items() if k != "csv-data-cleaner"} == {
        k: v for k, v in first.items() if k != "csv-data-cleaner"
    }


def downgrade_to_schema_1(lib: Path) -> None:
    """Rewrite index/*.parquet as the previous sitegen wrote them (schema 1 columns)."""
    from tests.conftest import flatten_index

    flatten_index(lib)
    v1 = [
        c
        for c in COLUMN_NAMES
        if c not in {"format", "definition_path", "tools", "model", "derived_tags"}
    ]
    con = duckdb.connect()
    for kind in ("roles", "skills"):
        path = lib / "index" / f"{kind}.parquet"
        kv = dict(
            (bytes(k).decode(), bytes(v).decode())
            for k, v in con.execute(
                "SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]
            ).fetchall()
        )
        kv[META_SCHEMA] = "1"
        old = lib / "index" / f"{kind}.old.parquet"
        path.rename(old)
        kv_sql = ", ".join(f"'{k}': '{v}'" for k, v in kv.items())
        con.execute(
            f"COPY (SELECT {', '.join(v1)} FROM '{old}') TO '{path}' "
            f"(FORMAT parquet, KV_METADATA {{{kv_sql}}})"
        )
        old.unlink()


def test_an_older_index_upgrades_on_the_next_index(example_copy: Path, embedder) -> None:
    index_library(Library(example_copy), embedder)
    before = stored(example_copy)
    with open_store(Library(example_copy), writable=True) as store:
        assert store.upgraded is False  # a current index is never rewritten for its schema
    downgrade_to_schema_1(example_copy)
    with open_store(Library(example_copy), writable=True) as store:
        assert store.upgraded is True
    runner = CliRunner()
    match = runner.invoke(cli, ["match", "review terraform", "--library", str(example_copy)])
    assert match.exit_code == 1 and "run `sitegen index` to upgrade it" in match.stderr
    counting = CountingEmbedder(embedder)
    result = index_library(Library(example_copy), counting)
    assert counting.texts == [] and result.wrote  # same content: nothing re-embedded
    assert stored(example_copy) == before  # uuids and dates kept
    with open_store(Library(example_copy), writable=False) as store:
        assert store.info is not None and store.info.schema == SCHEMA_VERSION
        record = store.get("skills", "sql-query-optimizer")
        assert record is not None
        assert (record.format, record.definition_path) == (
            "skill",
            "skills/sql-query-optimizer/SKILL.md",
        )
        assert "Read" in record.tools and record.folder == "skills/sql-query-optimizer"
    again = runner.invoke(cli, ["match", "review terraform", "--library", str(example_copy)])
    assert again.exit_code == 0, again.stderr
