"""Real-model tests for sitegen.embedder: int8 ONNX vs the fp32 sentence-transformers model.

The model is prepared once per session into SITEGEN_CACHE_DIR (a session temp dir unless the
caller shares one on purpose). No mocks: every test runs the real weights.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from sitegen.embedder import DIM, Embedder, EmbedderError, Fingerprint, load_embedder
from sitegen.model_cache import QUANTIZATION, TAXONOMY_DATA, data_file
from sitegen.model_prepare import prepare_model
from sitegen.model_weights import PACKAGE_WEIGHTS_SHA256, package_model_dir
from sitegen.tuning import recipe_key
from tests.model_helpers import DESCRIPTIONS, reference_embed, subprocess_env

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_LIBRARY = ROOT / "example_library"


def _library_descriptions() -> list[str]:
    """Descriptions from the example library's SKILL.md / ROLE.md frontmatter, if present."""
    found: list[str] = []
    if not EXAMPLE_LIBRARY.is_dir():
        return found
    for path in sorted(EXAMPLE_LIBRARY.glob("*/*/*.md")):
        if path.name not in ("SKILL.md", "ROLE.md"):
            continue
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---"):
            continue
        try:
            front = yaml.safe_load(text.split("---", 2)[1])
        except (yaml.YAMLError, IndexError):
            continue
        if isinstance(front, dict) and isinstance(front.get("description"), str):
            found.append(front["description"].strip())
    return found


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Session cache dir via SITEGEN_CACHE_DIR (kept if the run already shares one)."""
    existing = os.environ.get("SITEGEN_CACHE_DIR")
    if existing:
        yield Path(existing)
        return
    path = tmp_path_factory.mktemp("embedder-cache")
    os.environ["SITEGEN_CACHE_DIR"] = str(path)
    try:
        yield path
    finally:
        os.environ.pop("SITEGEN_CACHE_DIR", None)


@pytest.fixture(scope="session")
def prepared(cache_dir: Path) -> Path:
    """The prepared int8 model folder, built once per session."""
    return prepare_model()


@pytest.fixture(scope="session")
def embedder(prepared: Path) -> Embedder:
    return load_embedder()


@pytest.fixture(scope="session")
def model_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the package's model folder (a 'custom' sentence-transformers folder)."""
    target = tmp_path_factory.mktemp("custom") / "all-MiniLM-L6-v2"
    shutil.copytree(package_model_dir(), target)
    return target


def test_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    vectors = embedder.embed(["Reviews pull requests.", "", "Writes SQL reports."])
    assert vectors.shape == (3, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_empty_input(embedder: Embedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, DIM)
    assert vectors.dtype == np.float32


def test_single_string_is_rejected(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("not a list")


def test_order_preserved_across_batches_of_mixed_lengths(prepared: Path) -> None:
    small_batches = load_embedder(batch_size=3)
    texts = [
        DESCRIPTIONS[i] * (1 + (i % 4)) if i % 3 else DESCRIPTIONS[i].split(".")[0]
        for i in range(17)
    ]
    batched = small_batches.embed(texts)
    one_by_one = np.vstack([small_batches.embed([t]) for t in texts])
    similarity = batched @ one_by_one.T
    # Row i must match text i: activation quantization scales are per batch, so batched and
    # single results differ a little, but never enough to swap rows.
    assert (similarity.argmax(axis=1) == np.arange(len(texts))).all()
    assert similarity.diagonal().min() > 0.99


def test_deterministic(embedder: Embedder, prepared: Path) -> None:
    first = embedder.embed(DESCRIPTIONS)
    second = embedder.embed(DESCRIPTIONS)
    np.testing.assert_array_equal(first, second)
    reloaded = load_embedder().embed(DESCRIPTIONS)
    np.testing.assert_allclose(first, reloaded, atol=1e-6)


def test_fidelity_against_fp32_reference(embedder: Embedder) -> None:
    texts = DESCRIPTIONS + _library_descriptions()
    assert len(texts) >= 40
    quantized = embedder.embed(texts)
    reference = reference_embed(texts, embedder.reference_dir)  # the fine-tuned fp32 weights
    assert reference.shape == quantized.shape
    cosine = np.sum(quantized * reference, axis=1)
    assert cosine.mean() >= 0.99, f"mean cosine {cosine.mean():.4f}"
    assert cosine.min() >= 0.97, f"worst cosine {cosine.min():.4f} for {texts[cosine.argmin()]!r}"


def test_semantic_sanity(embedder: Embedder) -> None:
    query, match, unrelated = embedder.embed(
        [
            "who can check my terraform changes for security problems?",
            "Audits Terraform modules for drift, overly broad IAM policies and missing tags.",
            "Writes marketing copy for landing pages and newsletters.",
        ]
    )
    assert float(query @ match) > float(query @ unrelated) + 0.1


def test_token_count_is_untruncated(embedder: Embedder) -> None:
    assert embedder.max_seq_length == 256
    assert embedder.token_count("hello world") == 4  # [CLS] hello world [SEP]
    long_text = " ".join(DESCRIPTIONS)
    assert embedder.token_count(long_text) > embedder.max_seq_length
    # Truncation still applies to embedding: a long text embeds fine.
    assert embedder.embed([long_text]).shape == (1, DIM)


def test_fingerprint(embedder: Embedder) -> None:
    fp = embedder.fingerprint
    taxonomy = "kw-" + hashlib.sha256(data_file(TAXONOMY_DATA)).hexdigest()[:12]
    assert fp == Fingerprint(
        PACKAGE_WEIGHTS_SHA256, QUANTIZATION, 256, "mean+l2", recipe_key(), taxonomy
    )
    assert fp.as_string() == (
        f"sha256:{PACKAGE_WEIGHTS_SHA256[:16]}|{QUANTIZATION}|seq256|mean+l2"
        f"|tuned:{recipe_key()}|{taxonomy}"
    )
    assert embedder.model_dir.name.endswith(f"-{recipe_key()}-{taxonomy}")
    manifest = json.loads((embedder.model_dir / "manifest.json").read_text())
    assert manifest["fingerprint"] == fp.as_string()
    assert manifest["calibration_cosine_mean"] >= 0.99
    for name, entry in manifest["files"].items():  # every query-time file, hashed
        assert (
            entry["sha256"] == hashlib.sha256((embedder.model_dir / name).read_bytes()).hexdigest()
        )


def test_query_path_never_imports_torch(prepared: Path, cache_dir: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys, time
        start = time.perf_counter()
        from sitegen.embedder import load_embedder
        embedder = load_embedder()
        vector = embedder.embed(["find a skill that reviews terraform plans"])
        elapsed = time.perf_counter() - start
        heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers")
                       if m in sys.modules)
        print(json.dumps({"heavy": heavy, "shape": list(vector.shape), "seconds": elapsed}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=subprocess_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["shape"] == [1, DIM]
    # Typically ~0.25 s; generous bound so a busy CI machine does not flake.
    assert report["seconds"] < 5.0


def test_custom_model_folder(model_copy: Path, embedder: Embedder, prepared: Path) -> None:
    custom = load_embedder(model_copy)
    # A folder the user names is used as given: same weights hash, no fine-tune.
    assert custom.fingerprint == dataclasses.replace(embedder.fingerprint, tuning="")
    assert custom.model_dir != prepared
    reference = reference_embed(DESCRIPTIONS[:4], model_copy)
    assert np.sum(custom.embed(DESCRIPTIONS[:4]) * reference, axis=1).min() > 0.99


def test_custom_model_folder_from_env(
    model_copy: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEGEN_MODEL", str(model_copy))
    assert load_embedder().fingerprint == dataclasses.replace(embedder.fingerprint, tuning="")


def test_corrupt_cached_model_is_reported(tmp_path: Path, prepared: Path) -> None:
    cache = tmp_path / "corrupt-cache"
    broken = cache / "models" / prepared.name
    shutil.copytree(prepared, broken)
    model = broken / "model.onnx"
    size = model.stat().st_size
    with model.open("r+b") as fh:  # same size, garbage bytes: only ORT can tell
        fh.write(b"\x00garbage" * 4096)
    assert model.stat().st_size == size
    with pytest.raises(EmbedderError, match="delete that folder") as info:
        load_embedder(cache_dir=cache)
    assert str(broken) in str(info.value)
    assert "\n" not in str(info.value)


def test_truncated_cached_model_is_reported(tmp_path: Path, prepared: Path) -> None:
    cache = tmp_path / "truncated-cache"
    broken = cache / "models" / prepared.name
    shutil.copytree(prepared, broken)
    with (broken / "model.onnx").open("r+b") as fh:
        fh.truncate(1000)
    with pytest.raises(EmbedderError, match="delete that folder"):
        load_embedder(cache_dir=cache)


def test_lazy_embedder_loads_the_graph_at_the_first_text(tmp_path: Path, prepared: Path) -> None:
    """build and index load the graph only when something must be embedded: a lazy embedder
    over a garbage graph opens (the manifest is checked, sizes match), embeds nothing for
    free, and names the broken folder at the first real text; over a good graph its vectors
    are the eager embedder's."""
    cache = tmp_path / "lazy-cache"
    broken = cache / "models" / prepared.name
    shutil.copytree(prepared, broken)
    with (broken / "model.onnx").open("r+b") as fh:
        fh.write(b"\x00garbage" * 4096)
    lazy = load_embedder(cache_dir=cache, lazy=True)
    assert lazy.embed([]).shape == (0, DIM)
    assert lazy.token_count("three little words") > 3
    with pytest.raises(EmbedderError, match="delete that folder"):
        lazy.embed(["Reviews pull requests."])
    good = load_embedder(lazy=True)
    np.testing.assert_allclose(
        good.embed(DESCRIPTIONS), load_embedder().embed(DESCRIPTIONS), atol=1e-6
    )
