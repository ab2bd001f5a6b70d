"""Site generations on a local disk: a whole tree staged beside --out and swapped in at once.

Unchanged files are hard links (same inode and mtime), files sitegen did not write are
carried over (a symlink as a symlink), stale files go, and whatever a dead run left beside
--out is healed by :func:`recover`. The kill-at-any-step proofs are in test_crash.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sitegen.publish import LocalTarget, PublishError
from sitegen.publish.common import MANIFEST, PublishUsageError
from sitegen.publish.local import RENAME_EXCHANGE, RENAME_NOREPLACE, _renameat2, _rmtree, recover


def make_site(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "a" / "page.html").write_text("old page")
    (root / "gone.html").write_text("stale")
    (root / "keep.html").write_text("untouched")
    outputs = {"a/page.html": "k1", "gone.html": "k2", "keep.html": "k3"}
    (root / MANIFEST).write_text(json.dumps({"outputs": outputs}))


def add_user_files(root: Path) -> None:
    (root / "CNAME").write_text("catalog.example.com\n")
    (root / "custom").mkdir()
    (root / "custom" / "extra.html").write_text("mine")
    (root / "link.html").symlink_to("custom/extra.html")
    (root / "empty-folder").mkdir()


def publish(out: Path, files: dict[str, str], previous: set[str]) -> object:
    stage = LocalTarget(str(out)).begin()
    for number, (path, text) in enumerate(files.items()):
        stage.stage(path, text.encode(), number)
    outputs = set(files) | {"keep.html"}
    return stage.commit(outputs, previous)


def test_generation_replaces_creates_removes_and_keeps_user_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    add_user_files(out)
    kept = os.stat(out / "keep.html")
    cname = os.stat(out / "CNAME")
    carried = publish(
        out,
        {"a/page.html": "new page", "b/c/new.html": "created", MANIFEST: "{}"},
        {"a/page.html", "gone.html", "keep.html", MANIFEST},
    )
    assert (out / "a" / "page.html").read_text() == "new page"
    assert (out / "b" / "c" / "new.html").read_text() == "created"
    assert not (out / "gone.html").exists()
    for path, before in (("keep.html", kept), ("CNAME", cname)):
        after = os.stat(out / path)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), path
    assert os.readlink(out / "link.html") == "custom/extra.html"
    assert (out / "custom" / "extra.html").read_text() == "mine"
    assert (out / "empty-folder").is_dir()
    assert sorted(carried.kept) == ["CNAME", "custom/extra.html", "link.html"]
    assert carried.removed == 1
    assert carried.linked == 4  # keep.html and the user's three files, not copied
    assert "kept 3 file(s) sitegen did not write" in (carried.report() or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_first_generation_is_renamed_into_place(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "site"
    publish(out, {"index.html": "home"}, set())
    assert (out / "index.html").read_text() == "home"
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]


def test_failed_commit_leaves_the_live_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    before = {p: (p.read_bytes(), p.stat().st_ino) for p in out.rglob("*") if p.is_file()}
    stage = LocalTarget(str(out)).begin()
    stage.stage("a/page.html", b"new page", 0)
    stage.stage("keep.html/clash", b"a folder where a carried file goes", 1)
    with pytest.raises(PublishError, match="cannot publish"):
        stage.commit({"a/page.html", "keep.html"}, {"a/page.html", "keep.html"})
    assert {p: (p.read_bytes(), p.stat().st_ino) for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_out_as_a_symlink_is_swapped_atomically(tmp_path: Path) -> None:
    users = tmp_path / "www" / "site-v1"
    make_site(users)
    out = tmp_path / "site"
    out.symlink_to(Path("www") / "site-v1")
    publish(out, {"a/page.html": "new page"}, {"a/page.html", "gone.html", "keep.html"})
    assert out.is_symlink() and not os.path.isabs(os.readlink(out))
    first = Path(os.path.realpath(out))
    assert first.name.startswith("site.sitegen-site-")
    assert (out / "a" / "page.html").read_text() == "new page"
    assert (users / "a" / "page.html").read_text() == "old page", "the user's folder stays"
    publish(out, {"a/page.html": "newer"}, {"a/page.html", "keep.html"})
    assert (out / "a" / "page.html").read_text() == "newer"
    assert not first.exists(), "the previous generation made by sitegen goes"


def test_recover_heals_what_dead_runs_left(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out)
    (tmp_path / ".site.sitegen-gen-aaaa").mkdir()  # a staging tree (or an old one)
    (tmp_path / ".site.sitegen-gen-aaaa" / "x.html").write_text("x")
    (tmp_path / ".site.sitegen-old-bbbb").mkdir()
    (tmp_path / ".site.sitegen-link-cccc").symlink_to("site")
    (tmp_path / ".site.sitegen-lock").write_text("12345")  # the pid lock of earlier versions
    legacy = tmp_path / ".site.sitegen-txn-dddd"  # an earlier version's interrupted commit
    (legacy / "old").mkdir(parents=True)
    (legacy / "new").mkdir()
    os.replace(out / "gone.html", legacy / "old" / "rm-0000000")
    ops = [{"action": "remove", "path": "gone.html", "name": "rm-0000000"}]
    (legacy / "journal.json").write_text(json.dumps({"ops": ops}))
    assert len(recover(out)) == 5
    assert (out / "gone.html").read_text() == "stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@pytest.mark.parametrize("renamed", [0, 1, 2])
def test_recover_finishes_a_journaled_switch(tmp_path: Path, renamed: int) -> None:
    """Where no exchange exists, two renames under a journal: killed before, between or after
    them, the next build finishes the switch to the complete staged tree."""
    out = tmp_path / "site"
    make_site(out)
    stage = tmp_path / ".site.sitegen-gen-abc123"
    stage.mkdir()
    (stage / "index.html").write_text("new generation")
    (tmp_path / ".site.sitegen-txn-abc123.json").write_text("{}")
    old = tmp_path / ".site.sitegen-old-abc123"
    if renamed >= 1:
        os.rename(out, old)
    if renamed >= 2:
        os.rename(stage, out)
    recover(out)
    if renamed == 0:  # the switch had not begun: the old tree stays, the stage goes
        assert (out / "keep.html").read_text() == "untouched"
    else:
        assert (out / "index.html").read_text() == "new generation"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_the_switch_primitive_exchanges_two_trees_and_never_replaces(tmp_path: Path) -> None:
    """The whole-site switch is one renameat2(2): EXCHANGE swaps two folders in one step,
    NOREPLACE moves a first tree in but refuses to land on one that exists."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from-a").write_text("a")
    (b / "from-b").write_text("b")
    _renameat2(a, b, RENAME_EXCHANGE)
    assert sorted(p.name for p in a.iterdir()) == ["from-b"]
    assert sorted(p.name for p in b.iterdir()) == ["from-a"]
    with pytest.raises(FileExistsError):
        _renameat2(a, b, RENAME_NOREPLACE)
    _renameat2(a, tmp_path / "c", RENAME_NOREPLACE)
    assert not a.exists() and (tmp_path / "c" / "from-b").is_file()


def test_removing_a_leftover_never_follows_a_link_and_tolerates_absence(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "file").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(kept, target_is_directory=True)
    _rmtree(link)
    assert not link.is_symlink() and (kept / "file").is_file()
    _rmtree(tmp_path / "absent")
    _rmtree(kept)
    assert not kept.exists()


def test_out_is_refused_where_publishing_would_destroy_something(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out is replaced whole, so it must be a folder sitegen built (or nothing yet), and
    neither the file system root, the home folder, nor anything overlapping the library."""
    library = tmp_path / "library"
    (library / "skills").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    refused = {
        "/": "refusing to use this folder",
        str(tmp_path / "home"): "refusing to use this folder",
        str(library): "must not overlap",
        str(library / "skills" / "site"): "must not overlap",
        str(tmp_path): "must not overlap",
    }
    for out, message in refused.items():
        with pytest.raises(PublishUsageError, match=message):
            LocalTarget(out).check([str(library)])
    a_file = tmp_path / "file"
    a_file.write_text("x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    for out, message in (
        (a_file, "exists and is not a folder"),
        (dangling, "exists and is not a folder"),
        (full, "was not built by sitegen"),
    ):
        with pytest.raises(PublishUsageError, match=message):
            LocalTarget(str(out)).check([str(library)])
    built = tmp_path / "built"
    make_site(built)
    empty = tmp_path / "empty"
    empty.mkdir()
    linked = tmp_path / "linked"
    linked.symlink_to(built, target_is_directory=True)
    for fine in (built, empty, linked, tmp_path / "new" / "site"):
        LocalTarget(str(fine)).check([str(library)])


def test_recover_removes_only_our_old_trees_beside_a_symlinked_out(tmp_path: Path) -> None:
    current = tmp_path / "site.sitegen-site-aaa111"
    make_site(current)
    old = tmp_path / "site.sitegen-site-bbb222"
    old.mkdir()
    (old / "index.html").write_text("old")
    users = [tmp_path / "site.sitegen-site-notes", tmp_path / "site.sitegen-site-ccc333.bak"]
    users[0].mkdir()
    users[1].write_text("a file that only looks like ours")
    out = tmp_path / "site"
    out.symlink_to(current.name, target_is_directory=True)
    assert recover(out) == [old.name]
    assert current.is_dir() and not old.exists() and all(p.exists() for p in users)
