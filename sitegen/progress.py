"""Showing long work: a bar on a terminal, one line per finished step (with its time) in logs.

Used by the CLI for model preparation, the one step a first run waits a minute for; CI logs
get plain lines that say where the time went.
"""

from __future__ import annotations

import sys
from pathlib import Path
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
