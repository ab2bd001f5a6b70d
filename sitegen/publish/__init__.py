"""Publishing a rendered site into ``--out`` as one generation: nothing changes until all is
rendered, then the switch happens in one step where the storage allows it.

- :mod:`.local` (a folder): a complete new tree is staged beside ``--out``: unchanged files
  hard-linked from the live tree (same inode and mtime), changed files written, files sitegen
  did not write carried over. One ``renameat2(RENAME_EXCHANGE)`` then swaps the two trees;
  where that call is missing, an ``--out`` symlink is swapped instead, or two journaled
  renames are made (a short moment without ``--out``, healed by the next build).
- :mod:`.remote` (any other fsspec URL, e.g. ``s3://``): there is no rename on an object
  store, so new and changed objects go first, the site's index pointer and the manifest last,
  deletions after. Pages switch file by file there; the index (and the API reading it)
  switches as one generation, through its pointer.

Either way a build removes only files its own manifest says it wrote; anything else found in
``--out`` is kept and reported. :func:`open_target` picks the publisher for an ``--out``.
"""

from __future__ import annotations

from sitegen.publish.common import (
    Carried,
    PublishError,
    PublishUsageError,
    Target,
    is_remote,
)
from sitegen.publish.local import LocalTarget
from sitegen.publish.remote import RemoteTarget


def open_target(out: str) -> Target:
    """The publisher for an ``--out`` location: a local folder or an fsspec URL."""
    return RemoteTarget(out) if is_remote(out) else LocalTarget(out)


__all__ = [
    "Carried",
    "LocalTarget",
    "PublishError",
    "PublishUsageError",
    "RemoteTarget",
    "Target",
    "is_remote",
    "open_target",
]
