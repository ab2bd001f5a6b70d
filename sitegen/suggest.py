""" "Did you mean ...": the closest known word for a misspelt value, key or entry name.

Values and keys (`--type skill`, a frontmatter `tag:`) are short words from a small fixed
set: :func:`closest` uses difflib's similarity ratio, as click does for option names. Entry
names are compared the way the site's search page compares them (`templates/static/search.js`,
`nearNames`): optimal-string-alignment edits (a swap of two letters is one edit), allowed by
length (none under 4 letters, 1 under 7, else 2), against the whole name or, for a query word
no name uses, against each word of a name (a whole-name match wins over a word match). The
edit distance is rapidfuzz's OSA.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[a-z0-9]+")
NEAR_WORDS = 4  # longer queries are sentences: they hit names by chance


def closest(value: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The one choice most like `value` (None when none is alike), for a value or a key."""
    found = difflib.get_close_matches(value.lower(), list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`"; did you mean 'x'?"` or nothing: a suffix for an error message."""
    found = closest(value, choices)
    return f"; did you mean {found!r}?" if found and found != value else ""


def allowed_edits(word: str) -> int:
    """Typos tolerated in a word or a whole name: none when short, two when long (the rule
    of `sitegen.search` and of the site's search page)."""
    return 0 if len(word) < 4 else 1 if len(word) < 7 else 2


def near_names(query: str, names: Sequence[tuple[str, str]], kind: str = "all") -> list[str]:
    """Names (`kind/name` pairs in, names out) within a few edits of a short query, closest
    first, ties by name; at most three. An exact name is not a suggestion.

    Distances are computed in bulk (rapidfuzz's `cdist`), so 5,000 names cost milliseconds.
    """
    words = _WORD.findall(query.lower())
    if not words or len(words) > NEAR_WORDS:
        return []
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cdist

    slug = "-".join(words)
    pool = [name for entry_kind, name in names if kind in ("all", entry_kind) and name != slug]
    if not pool:
        return []
    limit = allowed_edits(slug)
    whole = cdist([slug], pool, scorer=OSA.distance, score_cutoff=limit)[0]
    found = [(0, int(d), name) for d, name in zip(whole, pool, strict=True) if 0 < d <= limit]
    if not found:  # a word no name uses, within a few edits of a word of a name
        known = {part for _, name in names for part in name.split("-")}
        suspects = [w for w in words if len(w) >= 4 and w not in known and w.isalpha()]
        parts = sorted(known)
        best: dict[str, int] = {}
        if suspects and parts:
            table = cdist(suspects, parts, scorer=OSA.distance, score_cutoff=2)
            for word, row in zip(suspects, table, strict=True):
                for part, d in zip(parts, row, strict=True):
                    if 0 < d <= allowed_edits(word) and d < best.get(part, 99):
                        best[part] = int(d)
        for name in pool:
            edits = min((best[p] for p in name.split("-") if p in best), default=0)
            if edits:
                found.append((1, edits, name))
    if not found:
        return []
    top = min(found)[:2]
    return sorted(name for partial, edits, name in found if (partial, edits) == top)[:3]
