"""Showing long work: a bar on a terminal, plain lines (with their times) in logs.

Used by the CLI for model preparation (:class:`StepPrinter`) and for the long loops of a
build, embedding and rendering (:class:`Bar`). On a terminal a bar shows counts, a rate and
the time left (rich, imported only when a bar is drawn, so a cold `sitegen match` never
pays for it); CI logs and `--json` runs get one line when the work starts and one when it ends.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import click


class StepPrinter:
    """Prints preparation steps to stderr (stdout stays for the command's own output)."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._bar: Any = None

    def _line(self, text: str) -> None:
        self.stream.write(("\r\x1b[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def preparing(self, folder: Path) -> None:
        self._line(f"preparing the query model (once per machine, about a minute) in {folder}")

    def prepared(self, folder: Path, seconds: float) -> None:
        self._line(f"prepared in {seconds:.1f} s: {folder}")

    def begin(self, step: str, total: int | None) -> None:
        if not self.tty:
            return
        if total:
            self._bar = click.progressbar(length=total, label=f"  {step:<10}", file=self.stream)
            self._bar.__enter__()
        else:
            self.stream.write(f"  {step} ...")
            self.stream.flush()

    def advance(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.pos)

    def end(self, step: str, seconds: float) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
            self.stream.write("\x1b[1A")  # back onto the finished bar's line: replace it
        self._line(f"  {step:<10} {seconds:6.1f} s")


class Bar:
    """Progress of one long loop, as a callback `bar(done, total)` (the build's `Progress`).

    Work under `threshold` items shows nothing (most runs are incremental and quick). Above
    it: a rich bar with `done/total`, rate and time left on a terminal; in a log, a line at
    the start and one at the end with the time taken. `plain` forces the log form.
    """

    def __init__(
        self,
        label: str,
        unit: str = "items",
        *,
        stream: TextIO | None = None,
        threshold: int = 64,
        tty: bool | None = None,
        plain: bool = False,
    ) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.threshold = threshold
        self.tty = (self.stream.isatty() if tty is None else tty) and not plain
        self.total = 0
        self.done = 0
        self.started: float | None = None
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(failed=exc is not None)

    def __call__(self, done: int, total: int) -> None:
        if total < self.threshold:
            return
        if self.started is None:
            self._start(total)
        self.done, self.total = done, total
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total)

    def _start(self, total: int) -> None:
        self.started = time.perf_counter()
        if not self.tty:
            self._line(f"{self.label} {total} {self.unit} ...")
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.stream, force_terminal=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total)

    def close(self, *, failed: bool = False) -> None:
        if self.started is None:
            return
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        seconds = time.perf_counter() - self.started
        state = ", stopped" if failed else ""
        self._line(f"{self.label} {self.done}/{self.total} {self.unit} in {seconds:.1f} s{state}")
        self.started = None

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
