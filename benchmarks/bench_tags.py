"""Derived tags against hand judgement: how often is a derived tag one a person would pick?

For the example library (where the floors were tuned) and the held-out superpowers skills,
derive tags with sitegen's rules and with Persona's, and score them against
`benchmarks/data/derived_tags_judged.json`: precision (judged relevant / derived), precision
of the first tag, entries given any tag, relevant tags per entry. Tags nobody has judged yet
are listed, so a change of rules or model is judged before it is believed.
"""

from __future__ import annotations

import json
from pathlib import Path

from sitegen.embedder import load_embedder
from sitegen.indexer import embedding_text
from sitegen.library import Library
from sitegen.taxonomy import PERSONA_RULES, RULES, Rule, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
JUDGED = Path(__file__).resolve().parent / "data" / "derived_tags_judged.json"
# ../shared from the main checkout, ../../shared from a worktree under /work/wt/.
SHARED = next(
    (p / "shared" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()),
    ROOT.parent / "shared",
)
LIBRARIES = {
    "example_library": ROOT / "example_library",
    "superpowers": SHARED / "data" / "real" / "superpowers",
}


def score(derived: dict[str, tuple[str, ...]], judged: dict[str, dict[str, list[str]]]) -> dict:
    total = hits = first = tagged = 0
    unjudged = []
    for name, tags in derived.items():
        verdict = judged.get(name, {"yes": [], "no": []})
        tagged += bool(tags)
        first += bool(tags) and tags[0] in verdict["yes"]
        for tag in tags:
            total += 1
            hits += tag in verdict["yes"]
            if tag not in verdict["yes"] and tag not in verdict["no"]:
                unjudged.append(f"{name}: {tag}")
    return {
        "entries": len(derived),
        "tags": total,
        "precision": hits / total if total else 0.0,
        "precision@1": first / tagged if tagged else 0.0,
        "tagged": tagged,
        "relevant_per_entry": hits / len(derived) if derived else 0.0,
        "unjudged": unjudged,
    }


def derive(root: Path, rules: dict[str, Rule]) -> dict[str, tuple[str, ...]]:
    embedder = load_embedder()
    taxonomy = load_taxonomy(embedder.model_dir, rules)
    entries = Library(root).read().entries
    vectors = embedder.embed([embedding_text(e) for e in entries])
    return {e.name: tags for e, tags in zip(entries, taxonomy.derive_tags(vectors), strict=True)}


def run() -> None:
    print("## Derived tags (hand-judged)\n")
    judged = json.loads(JUDGED.read_text(encoding="utf-8"))["judged"]
    print(
        "| library | rules | tags/entry | precision | precision@1 | entries tagged |"
        " relevant/entry |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    missing = []
    for library, root in LIBRARIES.items():
        if not root.is_dir():
            continue
        for label, rules in (("Persona's", PERSONA_RULES), ("sitegen's", RULES)):
            s = score(derive(root, rules), judged.get(library, {}))
            print(
                f"| {library} | {label} | {s['tags'] / s['entries']:.1f} | {s['precision']:.2f}"
                f" | {s['precision@1']:.2f} | {s['tagged']}/{s['entries']}"
                f" | {s['relevant_per_entry']:.2f} |"
            )
            missing += [f"{library} ({label}) {u}" for u in s["unjudged"]]
    for line in missing:
        print(f"- not judged yet: {line}")
    print()
