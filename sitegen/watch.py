"""`serve --watch`: rebuild when the library changes, and tell open pages to reload."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from sitegen.library.discover import SKIPPED_NAMES

log = logging.getLogger("sitegen.watch")


class Rebuilder:
    """Watches a local library folder and calls `build` after each burst of changes.

    `version` goes up after every successful build; the live-reload script in served pages
    polls it and reloads when it changes.
    """

    def __init__(self, library_dir: Path, build: Callable[[], None], ignore: list[Path]):
        self.library_dir = library_dir.resolve()
        self.build = build
        self.ignore = [p.resolve() for p in ignore]
        self.version = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> str:
        return str(self.version)

    def _relevant(self, change: watchfiles.Change, path: str) -> bool:
        resolved = Path(path).resolve()
        if any(resolved == p or p in resolved.parents for p in self.ignore):
            return False
        rel = resolved.relative_to(self.library_dir).parts if resolved.is_relative_to(
            self.library_dir
        ) else ()
        # Dot-folders hold entries too (skills/.curated/, .claude/agents/); only tooling
        # folders (VCS, caches) are noise.
        return not any(part in SKIPPED_NAMES or "sitegen-txn" in part for part in rel)

    def rebuild(self) -> bool:
        try:
            self.build()
        except Exception as exc:  # keep serving the last good site
            log.error("rebuild failed: %s", exc)
            return False
        self.version += 1
        return True

    def _run(self) -> None:
        for _changes in watchfiles.watch(
            self.library_dir,
            watch_filter=self._relevant,
            stop_event=self._stop,
            debounce=300,
            raise_interrupt=False,
        ):
            log.info("library changed; rebuilding")
            self.rebuild()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="library-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
