"""Removing the previous site tree after a build, off the build's clock.

After the exchange the old tree (every file a hard link) sits beside --out, and removing
tens of thousands of links costs seconds on a slow disk, after the new site is already
live. `sitegen build` hands that to a background process (``python -m
sitegen.publish.cleanup OUT``), as `git gc --auto` does: it takes the --out lock like any
build (so it never races one: a build that comes first simply removes the tree itself in its
own recovery) and runs :func:`sitegen.publish.local.recover`. If it is killed, the next
build's recovery finishes the job.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sitegen.locks import exclusive
from sitegen.publish.local import recover


def remove_in_background(out: str) -> None:
    """Start the cleanup of `out`'s leftovers in a detached process (no inherited locks)."""
    with open(os.devnull, "rb") as nothing_in, open(os.devnull, "wb") as nothing_out:
        subprocess.Popen(
            [sys.executable, "-m", "sitegen.publish.cleanup", out],
            stdin=nothing_in,
            stdout=nothing_out,
            stderr=nothing_out,
            start_new_session=True,
            close_fds=True,
        )


def main(out: str) -> None:
    with exclusive(out, what=out):
        recover(Path(out))


if __name__ == "__main__":
    os.nice(10)
    main(sys.argv[1])
