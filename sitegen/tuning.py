"""A small, reproducible fine-tune of all-MiniLM-L6-v2 for query -> role/skill matching.

Runs once, when the model is prepared (never on the query path): contrastive training with
in-batch negatives plus each triplet's hard negative (MultipleNegativesRankingLoss) on the
Persona `train_100` triplets shipped in `sitegen/data/`. Seeds, data order, thread count and
deterministic kernels are fixed, so the same inputs give the same weights; the recipe's key
goes into the model fingerprint. Measured gains are in BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

TRAINING_DATA = "persona_train_100.jsonl"


@dataclass(frozen=True)
class Recipe:
    epochs: int = 6
    batch_size: int = 16
    learning_rate: float = 2e-5
    scale: float = 20.0
    seed: int = 0
    threads: int = 1  # one thread: reductions in a fixed order, so runs are bit-identical

    def key(self, data_sha256: str) -> str:
        """A short, stable name for this recipe and data, for fingerprints and cache keys."""
        blob = json.dumps({**asdict(self), "data": data_sha256}, sort_keys=True).encode()
        return "persona100-" + hashlib.sha256(blob).hexdigest()[:12]


DEFAULT_RECIPE = Recipe()


def training_data() -> bytes:
    return resources.files("sitegen.data").joinpath(TRAINING_DATA).read_bytes()


def recipe_key(recipe: Recipe = DEFAULT_RECIPE) -> str:
    return recipe.key(hashlib.sha256(training_data()).hexdigest())


def tuning_enabled() -> bool:
    """Fine-tuning is on by default; SITEGEN_FINETUNE=0 keeps the plain published weights."""
    return os.environ.get("SITEGEN_FINETUNE", "1").strip().lower() not in {"0", "false", "no"}


def fine_tune(model_dir: Path, out_dir: Path, recipe: Recipe = DEFAULT_RECIPE) -> Path:
    """Train a copy of the sentence-transformers model in `model_dir` into `out_dir`."""
    import torch
    from sentence_transformers import SentenceTransformer

    triplets: list[dict[str, Any]] = [
        json.loads(line) for line in training_data().decode("utf-8").splitlines() if line
    ]
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(recipe.seed)
    torch.use_deterministic_algorithms(True)
    try:
        model = SentenceTransformer(str(model_dir), device="cpu")
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)

        def encode(texts: list[str]) -> Any:
            features = model.preprocess(texts) if hasattr(model, "preprocess") else (
                model.tokenize(texts)
            )
            out = model(features)["sentence_embedding"]
            return torch.nn.functional.normalize(out, dim=-1)

        model.train()
        for epoch in range(recipe.epochs):
            order = list(range(len(triplets)))
            random.Random(recipe.seed + epoch).shuffle(order)
            for start in range(0, len(order), recipe.batch_size):
                batch = [triplets[i] for i in order[start : start + recipe.batch_size]]
                anchors = encode([t["anchor"] for t in batch])
                candidates = encode(
                    [t["positive"] for t in batch] + [t["negative"] for t in batch]
                )
                scores = anchors @ candidates.T * recipe.scale
                labels = torch.arange(len(batch))
                loss = torch.nn.functional.cross_entropy(scores, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        model.save(str(out_dir))
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(previous_threads)
    return out_dir
