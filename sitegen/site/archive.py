"""An entry's zip: reproducible bytes, so its digest changes only when a file does.

Everything sits in one folder named after the entry (`<name>/SKILL.md`, ...), so unzipping
into a skills folder makes the entry's folder, as `git clone` would, and never spills files
into the current folder.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from sitegen.urls import safe_path, safe_segment

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _portable(path: str) -> bool:
    """Whether a path can go into a zip as-is on every platform (no traversal tricks)."""
    bad = set('\\:*?"<>|')
    for part in path.split("/"):
        if part in {"", ".", ".."} or any(ch in bad or ord(ch) < 32 for ch in part):
            return False
    return True


def build_archive(files: Mapping[str, bytes], *, folder: str) -> bytes:
    """A reproducible zip of an entry: sorted paths, fixed dates and modes, all in `folder`."""
    top = safe_segment(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            name = path if _portable(path) else safe_path(path)
            info = zipfile.ZipInfo(f"{top}/{name}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits below are honoured
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()
