"""Match quality: Persona `eval_40` / `train_100` and the example library's queries.

Protocol for the Persona files (as issue 6 states it): the corpus is every distinct positive
and negative text of a file; each anchor is a query whose target is its positive. Compared:
the plain published weights (int8, as sitegen exports them) and sitegen's default model
(the same export after the reproducible fine-tune on train_100; eval_40 is never trained on).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from sitegen.embedder import Embedder, load_embedder
from sitegen.model_cache import package_model_dir

ROOT = Path(__file__).resolve().parent.parent
PERSONA = ROOT.parent / "shared" / "data" / "persona"
EXAMPLE = ROOT / "example_library"


def persona_scores(embedder: Embedder, name: str) -> tuple[float, float] | None:
    path = PERSONA / f"{name}.jsonl"
    if not path.is_file():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    corpus = sorted({r["positive"] for r in rows} | {r["negative"] for r in rows})
    where = {text: i for i, text in enumerate(corpus)}
    scores = embedder.embed([r["anchor"] for r in rows]) @ embedder.embed(corpus).T
    ranks = np.array(
        [int((scores[i] > scores[i, where[r["positive"]]]).sum()) + 1 for i, r in enumerate(rows)]
    )
    return float((ranks == 1).mean()), float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean())


def example_scores(embedder: Embedder) -> tuple[float, float, float]:
    from sitegen.evaluate import evaluate, load_queries
    from sitegen.indexer import index_library, open_store
    from sitegen.library import Library

    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        shutil.copytree(EXAMPLE, library, ignore=shutil.ignore_patterns("index"))
        index_library(Library(library), embedder)
        with open_store(Library(library), writable=False) as store:
            report = evaluate(store, embedder, load_queries(EXAMPLE / "queries.yaml"))
    s = report.overall
    return s.recall_at_1, s.recall_at_5, s.mrr_at_10


def run() -> None:
    print("## Match quality\n")
    models = {
        "published weights, int8": load_embedder(package_model_dir()),
        "sitegen default (fine-tuned), int8": load_embedder(),
    }
    print("| model | eval_40 R@1 / MRR@10 | train_100 R@1 / MRR@10 | example R@1 / R@5 / MRR@10 |")
    print("| --- | --- | --- | --- |")
    for label, embedder in models.items():
        cells = []
        for name in ("eval_40", "train_100"):
            got = persona_scores(embedder, name)
            cells.append("n/a" if got is None else f"{got[0]:.3f} / {got[1]:.3f}")
        r1, r5, mrr = example_scores(embedder)
        cells.append(f"{r1:.3f} / {r5:.3f} / {mrr:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    if os.environ.get("SITEGEN_FINETUNE") == "0":
        print("(SITEGEN_FINETUNE=0 is set: the default model is the plain export)\n")
