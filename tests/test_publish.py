"""The publish transaction: all or nothing, recovered after a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sitegen.publish import COMMITTED, JOURNAL, Transaction, recover


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_ino)
        for p in root.rglob("*")
        if p.is_file()
    }


def make_site(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "a" / "page.html").write_text("old page")
    (root / "gone.html").write_text("stale")
    (root / "keep.html").write_text("untouched")


def test_commit_replaces_creates_and_removes(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    keep = (out / "keep.html").stat()
    txn = Transaction(out)
    txn.stage("a/page.html", b"new page", 0)
    txn.stage("b/new.html", b"brand new", 1)
    txn.commit({"gone.html"})
    assert (out / "a" / "page.html").read_text() == "new page"
    assert (out / "b" / "new.html").read_text() == "brand new"
    assert not (out / "gone.html").exists()
    after = (out / "keep.html").stat()
    assert (after.st_ino, after.st_mtime_ns) == (keep.st_ino, keep.st_mtime_ns)
    assert not list(tmp_path.glob(".site.sitegen-*"))


def test_first_commit_moves_the_whole_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    txn = Transaction(out)
    txn.stage("index.html", b"home", 0)
    txn.stage("x/y/z.html", b"deep", 1)
    txn.commit(set())
    assert snapshot(out).keys() == {"index.html", "x/y/z.html"}


def test_failed_commit_rolls_back(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    before = snapshot(out)
    txn = Transaction(out)
    txn.stage("a/page.html", b"new page", 0)
    txn.stage("keep.html/inside.html", b"a file where a folder must go", 1)
    with pytest.raises(Exception, match="cannot publish"):
        txn.commit({"gone.html"})
    assert snapshot(out) == before
    assert not (out / "b").exists()


def test_interrupted_commit_is_undone_by_the_next_build(tmp_path: Path) -> None:
    """Replay what a commit killed half-way leaves on disk, then recover."""
    out = tmp_path / "site"
    make_site(out)
    before = snapshot(out)
    folder = tmp_path / ".site.sitegen-txn-crashed"
    (folder / "new").mkdir(parents=True)
    (folder / "old").mkdir()
    ops = [
        {"action": "remove", "path": "gone.html", "name": "rm-0000000"},
        {"action": "replace", "path": "a/page.html", "name": "00000000"},
        {"action": "create", "path": "c/new.html", "name": "00000001"},
        {"action": "replace", "path": "keep.html", "name": "00000002"},
    ]
    (folder / JOURNAL).write_text(json.dumps({"ops": ops}))
    # done before the "crash": the removal, the replacement and the creation
    os.replace(out / "gone.html", folder / "old" / "rm-0000000")
    os.link(out / "a" / "page.html", folder / "old" / "00000000")
    (out / "a" / "page.html").unlink()
    (out / "a" / "page.html").write_text("new page")
    (out / "c").mkdir()
    (out / "c" / "new.html").write_text("created")
    (folder / "new" / "00000002").write_text("never applied")
    assert recover(out) == 1
    assert snapshot(out) == before
    assert not folder.exists()


def test_committed_transaction_folder_is_just_removed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    before = snapshot(out)
    folder = tmp_path / ".site.sitegen-txn-done"
    (folder / "old").mkdir(parents=True)
    (folder / JOURNAL).write_text(json.dumps({"ops": []}))
    (folder / COMMITTED).write_text("ok")
    assert recover(out) == 0
    assert snapshot(out) == before and not folder.exists()
