"""Publishing into ``--out`` as one transaction: nothing changes until everything is rendered.

Rendered files that differ from the published ones are *staged*: written, under flat numbered
names, into a transaction folder beside ``--out`` (``.<out>.sitegen-txn-<id>/``). Rendering
can fail at any point before :meth:`Transaction.commit` and the published site is untouched.

The commit then applies the staged changes with renames only:

- a first build (no ``--out`` yet) arranges the staged files into a tree inside the
  transaction folder and renames that tree to ``--out``;
- a rebuild moves each stale file into the transaction's backup, hard-links each file about
  to be replaced into the backup, and renames each staged file into place. Unchanged files are
  never touched, so they keep their inode and mtime. If any step fails, the steps done so far
  are undone from the backup, in reverse order.

A journal written before the first rename lets the next build undo a commit that was cut
short by a crash (power loss, ``kill -9``): :func:`recover` runs at the start of every build.
The transaction folder is flat, so cleaning it up costs a handful of directory operations
whatever the size of the site.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.errors import SitegenError

JOURNAL = "journal.json"
COMMITTED = "committed"


class PublishError(SitegenError):
    """The site could not be published; the previous site is as it was."""


def _txn_dirs(out: Path) -> list[Path]:
    parent = out.parent
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.glob(f".{out.name}.sitegen-txn-*") if p.is_dir())


def recover(out: Path) -> int:
    """Undo commits that were interrupted, then remove leftover transaction folders."""
    undone = 0
    for folder in _txn_dirs(out):
        journal = folder / JOURNAL
        if journal.is_file() and not (folder / COMMITTED).exists():
            try:
                ops = json.loads(journal.read_text(encoding="utf-8"))["ops"]
            except (OSError, ValueError, KeyError):
                ops = []
            for op in reversed(ops):
                _undo(out, folder, op)
            undone += 1
        shutil.rmtree(folder, ignore_errors=True)
    return undone


def _undo(out: Path, folder: Path, op: dict[str, str]) -> None:
    """Undo one journaled step if it was done (the file system tells whether it was)."""
    live = out / op["path"]
    staged = folder / "new" / op["name"]
    backup = folder / "old" / op["name"]
    try:
        if op["action"] == "remove":
            if backup.exists():
                live.parent.mkdir(parents=True, exist_ok=True)
                os.replace(backup, live)
        elif not staged.exists():  # the staged file was moved into place: put back the old one
            if op["action"] == "replace" and backup.exists():
                os.replace(backup, live)
            elif op["action"] == "create" and live.exists():
                live.unlink()
                _prune(live.parent, out)
    except OSError:
        pass


@dataclass
class Transaction:
    """Staged files of one build, and the commit that publishes them.

    Rendering code asks :meth:`path_for` where to write a file (worker processes may do the
    writing) and then :meth:`register` s it.
    """

    out: Path
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    staged: dict[str, str] = field(default_factory=dict)  # site path -> staged file name

    def __post_init__(self) -> None:
        self.folder = self.out.parent / f".{self.out.name}.sitegen-txn-{self.token}"
        self._new = self.folder / "new"
        self._old = self.folder / "old"
        self._tree = self.folder / "tree"
        # A first build stages straight into the final tree; a rebuild stages flat files.
        self.fresh = not self.out.exists()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._new.mkdir(parents=True)
        self._old.mkdir()

    def path_for(self, index: int, site_path: str) -> Path:
        if self.fresh:
            return self._tree / site_path
        return self._new / f"{index:08d}"

    def register(self, site_path: str, index: int) -> None:
        self.staged[site_path] = f"{index:08d}"

    def stage(self, site_path: str, data: bytes, index: int) -> None:
        """Write and register one file from this process."""
        target = self.path_for(index, site_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.register(site_path, index)

    def abort(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self, stale: set[str]) -> None:
        """Apply staged files and remove `stale` ones; all or nothing."""
        try:
            if self.fresh:
                if self.out.exists():
                    raise PublishError(f"{self.out}: appeared while the site was being built")
                self._tree.mkdir(exist_ok=True)
                try:
                    os.rename(self._tree, self.out)
                except OSError as exc:
                    raise PublishError(f"{self.out}: cannot publish: {exc}") from exc
            else:
                if not self.out.is_dir():
                    raise PublishError(f"{self.out}: is no longer a folder")
                self._commit_update(stale)
        finally:
            self.abort()

    def _commit_update(self, stale: set[str]) -> None:
        ops: list[dict[str, str]] = []
        for number, path in enumerate(sorted(stale)):
            ops.append({"action": "remove", "path": path, "name": f"rm-{number:07d}"})
        for path in sorted(self.staged):
            action = "replace" if (self.out / path).exists() else "create"
            ops.append({"action": action, "path": path, "name": self.staged[path]})
        (self.folder / JOURNAL).write_text(json.dumps({"ops": ops}), encoding="utf-8")
        done: list[dict[str, str]] = []
        try:
            for op in ops:
                live = self.out / op["path"]
                backup = self._old / op["name"]
                if op["action"] == "remove":
                    os.replace(live, backup)
                    done.append(op)
                    _prune(live.parent, self.out)
                    continue
                if op["action"] == "replace":
                    try:
                        os.link(live, backup)
                    except OSError:
                        shutil.copy2(live, backup)
                else:
                    live.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._new / op["name"], live)
                done.append(op)
        except OSError as exc:
            for op in reversed(done):
                _undo(self.out, self.folder, op)
            raise PublishError(f"{self.out}: cannot publish: {exc}") from exc
        (self.folder / COMMITTED).write_text("ok")


def _prune(folder: Path, root: Path) -> None:
    """Remove folders left empty by a removal, up to (not including) the root."""
    current = folder
    while current != root and root in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
