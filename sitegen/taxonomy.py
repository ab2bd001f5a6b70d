"""Derived tags: Persona's keyword taxonomy, embedded with the prepared model, for untagged entries.

The taxonomy (``sitegen/data/kw_all.jsonl.gz``, 2,241 keywords in seven facets, Apache-2.0,
see ``sitegen/data/NOTICE.md``) is embedded once, when the model is prepared, and stored in
the prepared folder (``taxonomy.npy`` + ``taxonomy.json``), so the vectors always come from
the model that embedded the entries. Tagging is then one matrix product: for every facet keep
the best keywords whose cosine similarity to the entry reaches the facet's floor, as Persona
does (``persona/tagger.py``: scores rounded to 3 decimals, ranked per facet, a name kept once at
its best score, tags ordered by score).

Usage::

    taxonomy = load_taxonomy(embedder.model_dir)
    tags = taxonomy.derive_tags(vectors)   # one tuple of tags per row of `vectors`
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.model_cache import (
    DIM,
    TAXONOMY_DATA,
    TAXONOMY_KEYWORDS_FILE,
    TAXONOMY_VECTORS_FILE,
    EmbedderError,
    data_file,
)


@dataclass(frozen=True)
class Rule:
    """Keep at most ``top`` keywords of a facet, each with cosine similarity >= ``floor``."""

    top: int
    floor: float


# Persona's thresholds (its README and tagger.py), calibrated on Persona's model.
PERSONA_RULES: dict[str, Rule] = {
    "Seniority": Rule(1, 0.4),
    "Soft Skill": Rule(2, 0.4),
    "Hard Skill": Rule(2, 0.35),
    "Methodology": Rule(2, 0.4),
    "Role": Rule(1, 0.4),
    "Domain": Rule(2, 0.4),
    "Technology": Rule(3, 0.7),
}
# sitegen's, measured on hand-judged tags (BENCHMARKS.md, "Derived tags"): with sitegen's
# fine-tuned model the right technology scores 0.45-0.68, under Persona's 0.7 floor, while soft
# skills and methodologies at 0.4 were mostly noise. Precision 0.45 -> 0.57 on the example
# library (tuned there), 0.17 -> 0.25 on held-out skills.
RULES: dict[str, Rule] = {
    "Seniority": Rule(1, 0.45),
    "Soft Skill": Rule(2, 0.45),
    "Hard Skill": Rule(2, 0.40),
    "Methodology": Rule(2, 0.45),
    "Role": Rule(1, 0.4),
    "Domain": Rule(2, 0.4),
    "Technology": Rule(2, 0.5),
}
_SEPARATORS = re.compile(r"[\s_]+")
_CHUNK = 1024  # entries scored per matrix product: bounds memory at ~9 MB


def tag_of(name: str) -> str:
    """A keyword as a tag in the library's own convention: lowercase, words joined by '-'.

    "Site Reliability Engineering" -> "site-reliability-engineering", "CI/CD" -> "ci/cd", so a
    derived tag shares its tag page with the same authored tag.
    """
    return _SEPARATORS.sub("-", name.strip().lower())


@dataclass(frozen=True)
class Keyword:
    name: str
    facet: str
    context: str


def read_keywords(data: bytes | None = None) -> list[Keyword]:
    """The shipped taxonomy (or ``data``, gzipped JSON lines), in file order."""
    raw = gzip.decompress(data_file(TAXONOMY_DATA) if data is None else data)
    keywords = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("facet") not in PERSONA_RULES or not row.get("name") or not row.get("context"):
            raise ValueError(f"{TAXONOMY_DATA}:{number}: not a keyword of a known facet")
        keywords.append(Keyword(str(row["name"]), str(row["facet"]), str(row["context"])))
    return keywords


def write_taxonomy(folder: Path, keywords: list[Keyword], vectors: np.ndarray) -> None:
    """Store the embedded taxonomy in a prepared folder (deterministic bytes: .npy + JSON)."""
    np.save(folder / TAXONOMY_VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float32))
    rows = [[k.name, k.facet] for k in keywords]
    text = json.dumps({"keywords": rows}, ensure_ascii=False, separators=(",", ":"))
    (folder / TAXONOMY_KEYWORDS_FILE).write_text(text + "\n", encoding="utf-8")


class Taxonomy:
    """The embedded keywords of one prepared model, and the per-facet rules to apply."""

    def __init__(
        self,
        tags: tuple[str, ...],
        facets: tuple[str, ...],
        vectors: np.ndarray,
        rules: dict[str, Rule] | None = None,
    ) -> None:
        self.tags = tags  # tag_of(name), one per keyword row
        self.facets = facets
        self.vectors = vectors  # (keywords, DIM) float32 unit rows
        self.rules = RULES if rules is None else rules
        by_facet = np.array(facets)
        self._rows = {facet: np.flatnonzero(by_facet == facet) for facet in self.rules}

    def derive_tags(self, vectors: np.ndarray) -> list[tuple[str, ...]]:
        """Tags for each row of ``vectors`` (entry embeddings), best first, each tag once."""
        entries = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)
        result: list[tuple[str, ...]] = []
        for start in range(0, len(entries), _CHUNK):
            scores = np.round(entries[start : start + _CHUNK] @ self.vectors.T, 3)
            for row in scores:
                best = self._pick(row)
                result.append(tuple(tag for tag, _ in sorted(best.items(), key=_by_score)))
        return result

    def _pick(self, scores: np.ndarray) -> dict[str, float]:
        best: dict[str, float] = {}
        for facet, rule in self.rules.items():
            rows = self._rows[facet]
            # Stable sort on negated scores: ties keep taxonomy order, so results are repeatable.
            ranked = rows[np.argsort(-scores[rows], kind="stable")[: rule.top]]
            for i in ranked:
                score = float(scores[i])
                if score >= rule.floor and score > best.get(self.tags[i], -2.0):
                    best[self.tags[i]] = score
        return best


def _by_score(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def load_taxonomy(model_dir: Path, rules: dict[str, Rule] | None = None) -> Taxonomy:
    """The taxonomy embedded when ``model_dir`` (a prepared model folder) was prepared."""
    try:
        vectors = np.load(model_dir / TAXONOMY_VECTORS_FILE, allow_pickle=False)
        text = (model_dir / TAXONOMY_KEYWORDS_FILE).read_text(encoding="utf-8")
        rows = json.loads(text)["keywords"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmbedderError(
            f"no usable taxonomy in {model_dir} ({exc}); run `sitegen prepare` again"
        ) from None
    if vectors.shape != (len(rows), DIM):
        raise EmbedderError(f"taxonomy in {model_dir} has {vectors.shape}, not {len(rows)} rows")
    return Taxonomy(
        tags=tuple(tag_of(name) for name, _facet in rows),
        facets=tuple(facet for _name, facet in rows),
        vectors=vectors,
        rules=rules,
    )
