"""Transaction folders of earlier sitegen versions (`.<out>.sitegen-txn-<id>/`): a commit of
theirs cut short by a crash is undone from its journal, then the folder goes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

JOURNAL = "journal.json"
COMMITTED = "committed"


def recover_legacy(folder: Path, out: Path) -> bool:
    """Undo an interrupted commit of an earlier version; True if there was one to undo."""
    undone = False
    journal = folder / JOURNAL
    if journal.is_file() and not (folder / COMMITTED).exists():
        try:
            ops = json.loads(journal.read_text(encoding="utf-8"))["ops"]
        except (OSError, ValueError, KeyError):
            ops = []
        for op in reversed(ops):
            _undo(out, folder, op)
        undone = True
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
    except OSError:
        pass
