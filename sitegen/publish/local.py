"""Site generations on a local disk: stage a whole tree beside --out, swap it in at once.

The staged tree is complete before anything is switched: unchanged files are hard links to
the live ones (same inode and mtime, one ``link`` per file), changed files are written, and
every file sitegen did not write (a ``CNAME``, ``custom/extra.html``, a symlink: the link
itself) is carried over the same way. Then:

- ``renameat2(RENAME_EXCHANGE)`` swaps the staged tree and ``--out`` in one step (Linux);
  the old tree, now at the staging path, is removed;
- if ``--out`` is a symlink, a new symlink is renamed over it (also one step);
- elsewhere (no exchange on this system or filesystem) two renames under a journal: for a
  moment there is no ``--out``, and a build killed right then is finished by the next one.

:func:`recover` runs at the start of every build, under the --out lock: it finishes a
journaled switch and removes staging trees, old trees and temp links of dead runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import re
import shutil
import stat
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.publish.common import (
    MANIFEST,
    Carried,
    FolderStage,
    PublishError,
    PublishUsageError,
    parents,
)
from sitegen.publish.legacy import recover_legacy
from sitegen.site.manifest import list_files

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
# Errors that say "this system or filesystem cannot exchange", not "this exchange failed".
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}


def _renameat2(src: Path, dst: Path, flags: int) -> None:
    """Linux renameat2(2) through the C library; OSError(ENOSYS) where there is none."""
    libc = _libc()
    function = getattr(libc, "renameat2", None) if libc is not None else None
    if function is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available here", str(src))
    function.argtypes = [
        ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint
    ]
    function.restype = ctypes.c_int
    if function(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(src), None, str(dst))


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to talk to
        return None


def _syncfs(folder: Path) -> None:
    """Flush the staged tree's filesystem before the switch, so a power cut cannot leave a
    switched-in tree of empty files. Best effort where syncfs(2) is missing."""
    libc = _libc()
    function = getattr(libc, "syncfs", None) if libc is not None else None
    if function is None:
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        function(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _names(out: Path) -> dict[str, str]:
    """The glob patterns of what a build of `out` may leave beside it."""
    base = glob.escape(out.name)
    return {
        "stage": f".{base}.sitegen-gen-*",
        "old": f".{base}.sitegen-old-*",
        "journal": f".{base}.sitegen-txn-*.json",
        "legacy": f".{base}.sitegen-txn-*",
        "link": f".{base}.sitegen-link-*",
        "tree": f"{base}.sitegen-site-*",
    }


def _tree_pattern(out: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(out.name)}\.sitegen-site-[0-9a-f]+$")


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def recover(out: Path) -> list[str]:
    """Heal what dead builds of `out` left: finish a journaled switch, remove staging trees,
    old trees, temp links and the old pid lock. Returns what was removed or finished."""
    parent = out.parent
    if not parent.is_dir():
        return []
    names = _names(out)
    done: list[str] = []
    for journal in sorted(parent.glob(names["journal"])):
        token = journal.name.rsplit("-", 1)[-1].removesuffix(".json")
        stage = parent / f".{out.name}.sitegen-gen-{token}"
        old = parent / f".{out.name}.sitegen-old-{token}"
        if not out.exists() and not out.is_symlink():
            # The journal is written once the staged tree is complete: finish the switch.
            for source in (stage, old):
                if source.is_dir():
                    os.rename(source, out)
                    done.append(f"finished the switch to {source.name}")
                    break
        journal.unlink(missing_ok=True)
        done.append(journal.name)
    for folder in sorted(parent.glob(names["legacy"])):
        if folder.is_dir() and not folder.name.endswith(".json"):
            recover_legacy(folder, out)
            done.append(folder.name)
    for pattern in ("stage", "old", "link"):
        for leftover in sorted(parent.glob(names[pattern])):
            _rmtree(leftover)
            done.append(leftover.name)
    if out.is_symlink():
        current = Path(os.path.realpath(out))
        mine = _tree_pattern(out)
        for tree in sorted(current.parent.glob(names["tree"])):
            if tree != current and mine.match(tree.name) and tree.is_dir():
                _rmtree(tree)
                done.append(tree.name)
    old_lock = parent / f".{out.name}.sitegen-lock"  # the pid lock of earlier versions
    if old_lock.is_file():
        old_lock.unlink(missing_ok=True)
        done.append(old_lock.name)
    return done


class LocalTarget:
    """A folder on this machine (or a symlink to one) as --out."""

    note: str | None = None

    def __init__(self, out: str) -> None:
        text = str(out)
        self.out = Path(text[len("file://") :] if text.startswith("file://") else text)
        self.display = str(self.out)
        self.lock_key = str(self.out)
        self.owned: set[str] = set()  # a dead run's staging tree is never live: nothing owned
        # Remove the previous tree in a background process after the switch (the CLI does;
        # see sitegen.publish.cleanup) rather than before returning.
        self.background_cleanup = False

    @property
    def symlinked(self) -> bool:
        return self.out.is_symlink()

    @property
    def live(self) -> Path:
        """The live tree: --out, or the folder its symlink points to."""
        return Path(os.path.realpath(self.out)) if self.symlinked else self.out

    def check(self, forbidden: Iterable[str]) -> None:
        """Refuse to publish over a folder that is not a previous sitegen build."""
        resolved = self.out.resolve()
        if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
            raise PublishUsageError(f"{self.out}: refusing to use this folder as --out")
        for path in forbidden:
            guarded = Path(path).resolve()
            if resolved == guarded or guarded in resolved.parents or resolved in guarded.parents:
                raise PublishUsageError(f"{self.out}: --out must not overlap {path}")
        live = self.live
        if (live.exists() or self.symlinked) and not live.is_dir():
            raise PublishUsageError(f"{self.out}: exists and is not a folder")
        if live.is_dir() and any(live.iterdir()) and not (live / MANIFEST).is_file():
            raise PublishUsageError(
                f"{self.out}: folder exists and was not built by sitegen (no {MANIFEST}); "
                "choose another --out or empty it"
            )

    def recover(self) -> list[str]:
        return recover(self.out)

    def manifest_bytes(self) -> bytes:
        try:
            return (self.live / MANIFEST).read_bytes()
        except OSError:
            return b""

    def existing(self) -> set[str]:
        return list_files(self.live)

    def begin(self) -> LocalStage:
        return LocalStage(self, background_cleanup=self.background_cleanup)


class LocalStage(FolderStage):
    """A complete new tree beside the live one; :meth:`commit` swaps it in."""

    def __init__(self, target: LocalTarget, *, background_cleanup: bool = False) -> None:
        self.target = target
        self.background_cleanup = background_cleanup
        self.token = uuid.uuid4().hex[:12]
        out = target.out
        self.symlinked = target.symlinked
        self.live = target.live
        if self.symlinked:  # beside the link's target, under a name of our own
            self.folder = self.live.parent / f"{out.name}.sitegen-site-{self.token}"
        else:
            self.folder = out.parent / f".{out.name}.sitegen-gen-{self.token}"
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.folder.mkdir()
        self.cleanup: Path | None = self.folder  # what abort() removes
        self.written: set[str] = set()

    def abort(self) -> None:
        if self.cleanup is not None and self.cleanup.exists():
            shutil.rmtree(self.cleanup, ignore_errors=True)

    def commit(self, outputs: set[str], previous: set[str]) -> Carried:
        """Carry over what is not rewritten, then switch; all or nothing."""
        try:
            carried = self._carry_over(outputs, previous)
            _syncfs(self.folder)
            self._switch()
            if self.background_cleanup and self.cleanup is not None:
                from sitegen.publish.cleanup import remove_in_background

                remove_in_background(str(self.target.out))
                self.cleanup = None
        except OSError as exc:
            raise PublishError(f"{self.target.out}: cannot publish: {exc}") from exc
        finally:
            self.abort()  # after a switch this is the old tree
        return carried

    # -- carrying over -----------------------------------------------------------------

    def _carry_over(self, outputs: set[str], previous: set[str]) -> Carried:
        carried = Carried()
        live = self.live
        if not live.is_dir():
            return carried
        made: set[str] = {""}
        staged_files = set(self.written)
        staged_dirs = {d for p in staged_files for d in parents(p)}
        prefix = len(str(live)) + 1
        for folder, dirs, files in os.walk(live):
            rel_folder = folder[prefix:].replace(os.sep, "/") if folder != str(live) else ""
            self._copy_mode(Path(folder), rel_folder, made)
            links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
            if not dirs and not files and rel_folder and rel_folder not in staged_files:
                self._mkdir(rel_folder, made)  # a user's empty folder
            for name in (*files, *links):
                rel = f"{rel_folder}/{name}" if rel_folder else name
                if rel == MANIFEST or rel in staged_files:
                    continue
                if rel in previous and rel not in outputs:
                    carried.removed += 1  # ours, and no longer part of the site
                    continue
                if rel not in outputs and rel not in previous:
                    if rel in staged_dirs or any(p in staged_files for p in parents(rel)):
                        carried.replaced.append(rel)
                        continue
                    carried.kept.append(rel)
                for above in parents(rel):
                    self._mkdir(above, made)
                self._link(os.path.join(folder, name), self.folder / rel)
                carried.linked += 1
        return carried

    def _mkdir(self, rel: str, made: set[str]) -> None:
        if rel not in made:
            (self.folder / rel).mkdir(parents=True, exist_ok=True)
            made.add(rel)

    def _copy_mode(self, source: Path, rel: str, made: set[str]) -> None:
        """Folders keep the live tree's permissions (a web server may rely on them)."""
        target = self.folder / rel if rel else self.folder
        with contextlib.suppress(OSError):
            if target.is_dir():
                os.chmod(target, stat.S_IMODE(source.stat().st_mode))

    @staticmethod
    def _link(source: str, target: Path) -> None:
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                raise
            shutil.copy2(source, target, follow_symlinks=False)  # no hard links here

    # -- switching ---------------------------------------------------------------------

    def _switch(self) -> None:
        out = self.target.out
        if self.symlinked:
            self._swap_link()
            return
        if not out.exists():
            try:
                _renameat2(self.folder, out, RENAME_NOREPLACE)
            except OSError as exc:
                if exc.errno not in _NO_EXCHANGE:
                    raise
                os.rename(self.folder, out)
            self.cleanup = None
            return
        try:
            _renameat2(self.folder, out, RENAME_EXCHANGE)
        except OSError as exc:
            if exc.errno not in _NO_EXCHANGE:
                raise
            self._journaled_swap()
        # After the exchange the staging path holds the old tree; abort() removes it.

    def _journaled_swap(self) -> None:
        """Two renames where no exchange exists; the journal lets recover() finish them."""
        out = self.target.out
        journal = out.parent / f".{out.name}.sitegen-txn-{self.token}.json"
        old = out.parent / f".{out.name}.sitegen-old-{self.token}"
        fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(f'{{"stage": "{self.folder.name}", "old": "{old.name}"}}\n')
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(out.parent)
        os.rename(out, old)
        os.rename(self.folder, out)
        _fsync_dir(out.parent)
        journal.unlink()
        self.cleanup = old

    def _swap_link(self) -> None:
        out = self.target.out
        old_target = self.live
        link = os.readlink(out)
        new_target = str(self.folder) if os.path.isabs(link) else os.path.relpath(
            self.folder, out.parent
        )
        temp = out.parent / f".{out.name}.sitegen-link-{self.token}"
        os.symlink(new_target, temp)
        try:
            os.replace(temp, out)
        except OSError:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(out.parent)
        # The old tree goes if a previous swap made it; a folder the user linked stays.
        self.cleanup = old_target if _tree_pattern(out).match(old_target.name) else None
