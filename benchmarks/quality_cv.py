"""Cross-validated match quality: the yardstick every tuning lever is judged by (issue 15).

* Persona k-fold: `train_100` + `eval_40` (140 triplets) shuffled once (seed 0) into 5 folds;
  for each fold the recipe trains on the other four and is scored on the held one (corpus: the
  held fold's positives and negatives; each anchor's target is its positive).
* The held-out library (`benchmarks/libraries/heldout`, written before any tuning, never
  trained on) and the example library's queries, scored through `sitegen.search.match` with
  each fold's model, so the library figures are medians over the same five models.

Every model is the int8 export users get (`load_embedder` on the tuned folder). Tuned folders
and prepared models are cached under `benchmarks/.cache/cv/` by recipe and training rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.embedder import Embedder, load_embedder
from sitegen.evaluate import EvalReport, evaluate, load_queries
from sitegen.model_weights import package_model_dir
from sitegen.search import DEFAULT_RANKING, Ranking
from sitegen.tuning import Recipe, Triplet, average_weights, fine_tune

ROOT = Path(__file__).resolve().parent.parent
# ../shared/data/persona beside the checkout (or beside a parent folder, for git worktrees)
PERSONA = next(
    (p / "shared" / "data" / "persona" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data" / "persona",
)
EXAMPLE = ROOT / "example_library"
HELDOUT = Path(__file__).resolve().parent / "libraries" / "heldout"
CACHE = Path(__file__).resolve().parent / ".cache" / "cv"
FOLDS = 5
SPLIT_SEED = 0


def persona_all() -> list[Triplet] | None:
    """train_100 then eval_40, or None when the shared data is not there."""
    rows: list[Triplet] = []
    for name in ("train_100", "eval_40"):
        path = PERSONA / f"{name}.jsonl"
        if not path.is_file():
            return None
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def split(rows: Sequence[Triplet], folds: int = FOLDS) -> list[list[int]]:
    order = list(range(len(rows)))
    random.Random(SPLIT_SEED).shuffle(order)
    return [sorted(order[k::folds]) for k in range(folds)]


def ranking_scores(embedder: Embedder, rows: Sequence[Triplet]) -> tuple[float, float]:
    """Persona protocol on `rows`: recall@1 and MRR@10 of each anchor's positive."""
    corpus = sorted({r["positive"] for r in rows} | {r["negative"] for r in rows})
    where = {text: i for i, text in enumerate(corpus)}
    scores = embedder.embed([r["anchor"] for r in rows]) @ embedder.embed(corpus).T
    ranks = np.array(
        [int((scores[i] > scores[i, where[r["positive"]]]).sum()) + 1 for i, r in enumerate(rows)]
    )
    return float((ranks == 1).mean()), float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean())


def library_report(
    embedder: Embedder, library: Path, ranking: Ranking = DEFAULT_RANKING
) -> EvalReport:
    """Index a private copy of `library` and score its queries.yaml through match()."""
    from sitegen.indexer import index_library, open_store
    from sitegen.library import Library

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "library"
        shutil.copytree(library, copy, ignore=shutil.ignore_patterns("index"))
        index_library(Library(copy), embedder)
        with open_store(Library(copy), writable=False) as store:
            return evaluate(store, embedder, load_queries(library / "queries.yaml"), ranking)


def _rows_key(recipe: Recipe, rows: Sequence[Triplet]) -> str:
    """Cache key of a fold model: the recipe and the rows it trains on (the recipe's `data`
    files are not read when rows are given, so that field is pinned to one value)."""
    digest = hashlib.sha256(json.dumps(list(rows), sort_keys=True).encode()).hexdigest()
    return dataclasses.replace(recipe, data=("persona_train_100.jsonl",)).key(digest)


def tuned_model(recipe: Recipe, rows: Sequence[Triplet]) -> Path:
    """Fine-tune on `rows` (cached); weight averaging is applied to the cached full tune."""
    if recipe.average < 1.0:
        full = tuned_model(dataclasses.replace(recipe, average=1.0), rows)
        target = CACHE / "tuned" / _rows_key(recipe, rows)
        if not (target / "config.json").is_file():
            from sentence_transformers import SentenceTransformer

            plain = SentenceTransformer(str(package_model_dir()), device="cpu").state_dict()
            model = SentenceTransformer(str(full), device="cpu")
            average_weights(model, plain, recipe.average)
            _save(model, target)
        return target
    target = CACHE / "tuned" / _rows_key(recipe, rows)
    if not (target / "config.json").is_file():
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        fine_tune(package_model_dir(), tmp, recipe, rows)
        _legacy_pooling(tmp)
        tmp.rename(target)
    return target


def _legacy_pooling(folder: Path) -> None:
    """sentence-transformers 6 writes `pooling_mode: mean`; the embedder's check of a named
    model folder reads the older `pooling_mode_mean_tokens`, so both are written."""
    path = folder / "1_Pooling" / "config.json"
    config = json.loads(path.read_text())
    if config.get("pooling_mode") == "mean":
        config["pooling_mode_mean_tokens"] = True
        path.write_text(json.dumps(config, indent=2))


def _save(model: object, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))  # type: ignore[attr-defined]
    _legacy_pooling(tmp)
    tmp.rename(target)


def int8(model_dir: Path | None) -> Embedder:
    """The int8 export of a model folder (None: the plain published weights)."""
    return load_embedder(model_dir or package_model_dir(), cache_dir=CACHE / "prepared")


@dataclass
class FoldResult:
    persona: tuple[float, float]
    heldout: EvalReport
    example: EvalReport


def cross_validate(
    recipe: Recipe | None, ranking: Ranking = DEFAULT_RANKING
) -> list[FoldResult] | None:
    """Per-fold results of a recipe (None: the plain model, untrained)."""
    rows = persona_all()
    if rows is None:
        return None
    results = []
    plain_libraries: tuple[EvalReport, EvalReport] | None = None
    for held in split(rows):
        held_set = set(held)
        train = [r for i, r in enumerate(rows) if i not in held_set]
        test = [rows[i] for i in held]
        if recipe is None:
            embedder = int8(None)
            if plain_libraries is None:
                plain_libraries = (
                    library_report(embedder, HELDOUT, ranking),
                    library_report(embedder, EXAMPLE, ranking),
                )
            libs = plain_libraries
        else:
            embedder = int8(tuned_model(recipe, train))
            libs = (
                library_report(embedder, HELDOUT, ranking),
                library_report(embedder, EXAMPLE, ranking),
            )
        results.append(FoldResult(ranking_scores(embedder, test), *libs))
    return results


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def summary(results: Sequence[FoldResult]) -> dict[str, object]:
    """Medians over folds: Persona CV, held-out library (overall and by class), example."""
    classes = sorted({c for r in results for c in r.heldout.by_class})
    example_classes = sorted({c for r in results for c in r.example.by_class})
    return {
        "cv_r1": median([r.persona[0] for r in results]),
        "cv_mrr": median([r.persona[1] for r in results]),
        "cv_r1_folds": [round(r.persona[0], 3) for r in results],
        "heldout_r1": median([r.heldout.overall.recall_at_1 for r in results]),
        "heldout_mrr": median([r.heldout.overall.mrr_at_10 for r in results]),
        "heldout_by_class": {
            c: (
                median([r.heldout.by_class[c].recall_at_1 for r in results]),
                median([r.heldout.by_class[c].recall_at_3 for r in results]),
            )
            for c in classes
        },
        "example_r1": median([r.example.overall.recall_at_1 for r in results]),
        "example_mrr": median([r.example.overall.mrr_at_10 for r in results]),
        "example_by_class": {
            c: (
                median([r.example.by_class[c].recall_at_1 for r in results]),
                median([r.example.by_class[c].recall_at_3 for r in results]),
            )
            for c in example_classes
        },
    }
