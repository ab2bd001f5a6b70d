"""Typed settings and their defaults, in one place (as MkDocs keeps its config schema)."""

from __future__ import annotations

import re

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
INDEX_DIR = "index"

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3}


def parse_size(text: str) -> int:
    """Parse '10MB', '512k', '1.5MiB' or a plain byte count; binary units for 'i' forms."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (try 10MB, 512KB or a byte count)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    base = 1024 if "i" in unit else 1
    letter = unit[:1] if unit[:1] in "kmg" else ""
    scale = _UNITS[letter] if base == 1 else 1024 ** ("kmg".index(letter) + 1)
    return int(number * scale)
