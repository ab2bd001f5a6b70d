"""Match quality (`python -m benchmarks quality`): the honest yardstick of issue 15.

Rows: the plain published weights and sitegen's default recipe, each as the int8 export users
get, ranked by sitegen's default ranking (and, for the baseline, the cosine-only ranking that
shipped before). Columns: Persona 5-fold cross-validated recall@1 / MRR@10 (train on four
folds of train_100 + eval_40, score the fifth; skipped when ../shared/data is absent), the
held-out library written before tuning (overall and by query class), and the example
library's queries. Library figures are medians over the five fold models.

`python -m benchmarks quality --levers` also runs every lever of BENCHMARKS.md's table
(about five minutes of training per row on one core).
"""

from __future__ import annotations

import sys
from dataclasses import replace

from benchmarks.quality_cv import (
    EXAMPLE,
    HELDOUT,
    cross_validate,
    int8,
    library_report,
    summary,
)
from sitegen.evaluate import EvalReport
from sitegen.search import COSINE_RANKING, DEFAULT_RANKING, Ranking
from sitegen.tuning import DEFAULT_RECIPE, Recipe

# The levers measured for issue 15 (the defaults of Recipe are the winner).
BEFORE = DEFAULT_RECIPE  # issue 6's recipe: no training lever won across folds (BENCHMARKS.md)
TEN = replace(BEFORE, epochs=10, freeze_embeddings=True)
LEVERS: dict[str, Recipe] = {
    "fine-tune of issue 6 (6 epochs, lr 2e-5, the default)": BEFORE,
    "weight averaging 0.5 tuned / 0.5 plain": replace(BEFORE, average=0.5),
    "weight averaging 0.7 tuned / 0.3 plain": replace(BEFORE, average=0.7),
    "freeze the token-embedding table": replace(BEFORE, freeze_embeddings=True),
    "10 epochs": replace(BEFORE, epochs=10),
    "freeze + 10 epochs": TEN,
    "freeze + 10 epochs + 200 taxonomy triplets": replace(TEN, taxonomy=200),
    "freeze + 10 epochs + typo augmentation 0.5": replace(TEN, typo_rate=0.5),
    "freeze + 10 epochs, person names stripped": replace(TEN, strip_person_names=True),
}
CLASSES = ("paraphrase", "exact-name", "near-miss", "typo-name", "typo-word")


def _classes(report: dict[str, tuple[float, float]]) -> str:
    cells = []
    for c in CLASSES:
        if c in report:
            r1, r3 = report[c]
            cells.append(f"{r1:.2f}" if not c.startswith("typo-word") else f"{r3:.2f} (R@3)")
        else:
            cells.append("—")
    return " | ".join(cells)


def _row(label: str, recipe: Recipe | None, ranking: Ranking) -> None:
    results = cross_validate(recipe, ranking)
    if results is None:  # no shared data: libraries only, with the model this recipe ships
        embedder = int8(None) if recipe is None else _default_embedder()
        heldout = library_report(embedder, HELDOUT, ranking)
        example = library_report(embedder, EXAMPLE, ranking)
        by_class = {c: (v.recall_at_1, v.recall_at_3) for c, v in heldout.by_class.items()}
        print(f"| {label} | n/a | {_lib(heldout)} | {_classes(by_class)} | {_lib(example)} |")
        return
    s = summary(results)
    cv = f"{s['cv_r1']:.3f} / {s['cv_mrr']:.3f}"
    heldout = f"{s['heldout_r1']:.3f} / {s['heldout_mrr']:.3f}"
    example = f"{s['example_r1']:.3f} / {s['example_mrr']:.3f}"
    by_class = _classes(s["heldout_by_class"])  # type: ignore[arg-type]
    print(f"| {label} | {cv} | {heldout} | {by_class} | {example} |")


def _lib(report: EvalReport) -> str:
    return f"{report.overall.recall_at_1:.3f} / {report.overall.mrr_at_10:.3f}"


def _default_embedder():  # type: ignore[no-untyped-def]
    from sitegen.embedder import load_embedder

    return load_embedder()


def run(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    print("## Match quality (issue 15)\n")
    print(
        "| model, ranking | CV R@1 / MRR@10 (median of 5 folds) | held-out R@1 / MRR@10 | "
        + " | ".join(CLASSES)
        + " | example R@1 / MRR@10 |"
    )
    print("| --- | --- | --- | " + " | ".join("---" for _ in CLASSES) + " | --- |")
    _row("plain int8, cosine ranking", None, COSINE_RANKING)
    _row("plain int8, sitegen ranking", None, DEFAULT_RANKING)
    _row("sitegen default recipe (issue 6), cosine ranking (before)", BEFORE, COSINE_RANKING)
    _row("**sitegen default recipe, sitegen ranking (now)**", DEFAULT_RECIPE, DEFAULT_RANKING)
    if "--levers" in argv:
        for label, recipe in LEVERS.items():
            _row(label, recipe, DEFAULT_RANKING)
    print("\n| warm query at 5,000 entries (embedding excluded) | median ms |")
    print("| --- | ---: |")
    for label, ms in warm_match_ms().items():
        print(f"| {label} | {ms:.2f} |")
    print()


def warm_match_ms(count: int = 5000, queries: int = 40) -> dict[str, float]:
    """Median in-process cost of one query at `count` generated entries, embedding excluded
    (except the second embedding a typo correction triggers): the index's top-5 alone, and
    `match()` with the cosine-only and the default ranking."""
    import statistics
    import time

    from benchmarks.harness import synthetic_library
    from sitegen.indexer import index_library, open_store
    from sitegen.library import Library
    from sitegen.search import match

    root = synthetic_library(count)
    embedder = int8(None)
    index_library(Library(root), embedder)
    texts = [q.query for q in _queries(EXAMPLE)][:queries]
    vectors = embedder.embed(texts)
    out = {}
    with open_store(Library(root), writable=False) as store:
        cases = {
            "index top-5": lambda i: store.search(vectors[i], limit=5),
            "match, cosine ranking": lambda i: match(
                store, embedder, texts[i], vector=vectors[i], ranking=COSINE_RANKING
            ),
            "match, sitegen ranking": lambda i: match(
                store, embedder, texts[i], vector=vectors[i], ranking=DEFAULT_RANKING
            ),
        }
        for label, call in cases.items():
            call(0)
            times = []
            for i in range(len(texts)):
                start = time.perf_counter()
                call(i)
                times.append(time.perf_counter() - start)
            out[label] = statistics.median(times) * 1000
    return out


def _queries(library):  # type: ignore[no-untyped-def]
    from sitegen.evaluate import load_queries

    return load_queries(library / "queries.yaml")
