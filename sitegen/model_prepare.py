"""One-time model preparation: fine-tune, calibrate, smooth, export, fuse, quantize, verify.

The only room that imports torch, transformers and sentence-transformers (lazily, inside the
steps, so importing this module stays cheap and a missing extra gets a clear message). It turns
the published weights into the folder :mod:`sitegen.embedder` queries with, built in a private
temporary folder and renamed into the cache (:func:`sitegen.model_cache.building`). Every step
is named and timed, so ``sitegen prepare`` can show progress and CI logs show where time goes.
The same inputs give bit-identical files (the fine-tune and the export are deterministic).
Why each choice was made, with figures: BENCHMARKS.md, "Model preparation".
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sitegen.embedder import INPUT_NAMES, OUTPUT_NAME, Embedder, open_prepared
from sitegen.model_cache import (
    DIM,
    FP32_DIR,
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    EmbedderError,
    ModelSource,
    building,
    file_entries,
    inspect_source,
    prepared_dir,
    resolve_cache_dir,
)

# Smoothing: how many outlier input channels to rescale in FFN-in / FFN-out linears, and alpha.
_SMOOTH_FFN_IN = 4
_SMOOTH_FFN_OUT = 2
_SMOOTH_ALPHA = 0.5
# A prepared model must agree with the fp32 torch model at least this well on the calibration
# sentences, or preparation fails instead of caching a broken model.
_MIN_PREPARED_MEAN_COSINE = 0.98
_OPSET = 17

# Calibration sentences: used to find activation outlier channels and to check the export.
_CALIBRATION_TEXTS = (
    "Reviews pull requests for correctness, readability and security issues.",
    "Writes release notes from merged changes and conventional commit messages.",
    "Plans sprint backlogs, estimates effort and flags dependencies between stories.",
    "A helpful assistant that answers questions about PostgreSQL indexes and query plans.",
    "Translate the onboarding guide into French and German, keeping placeholders intact.",
    "Summarises research papers into a short brief: methods, results, limitations.",
    "Hardens Linux servers: patch packages, close ports, rotate SSH keys.",
    "find a skill for writing pytest fixtures",
    "Data engineer role: builds pipelines that load CSV and Parquet files into the warehouse "
    "every night, monitors failures and backfills missing partitions.",
    "def add(a, b):\n    return a + b  # TODO: handle None",
    "Customer support agent who drafts polite, accurate replies and links the right help "
    "article; escalates billing disputes over $500 to a human.",
    "k8s rollout stuck? check kubectl describe, events, resource limits & readiness probes",
)


class Progress(Protocol):
    """Where preparation reports its steps (a terminal bar, CI log lines, or nothing)."""

    def preparing(self, folder: Path) -> None: ...

    def prepared(self, folder: Path, seconds: float) -> None: ...

    def begin(self, step: str, total: int | None) -> None: ...

    def advance(self, done: int) -> None: ...

    def end(self, step: str, seconds: float) -> None: ...


class Silent:
    """A Progress that shows nothing (library callers, tests)."""

    def preparing(self, folder: Path) -> None:
        pass

    def prepared(self, folder: Path, seconds: float) -> None:
        pass

    def begin(self, step: str, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def end(self, step: str, seconds: float) -> None:
        pass


@dataclass
class _Work:
    """What the steps hand each other: the source, the output folder and the torch objects."""

    source: ModelSource
    out_dir: Path
    progress: Progress
    timings: dict[str, float] = field(default_factory=dict)
    model: Any = None
    tokenizer: Any = None
    wrapper: Any = None
    reference: Any = None
    peaks: dict[str, Any] = field(default_factory=dict)
    ffn: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    prepared: Embedder | None = None

    @contextlib.contextmanager
    def step(self, name: str, total: int | None = None) -> Iterator[None]:
        self.progress.begin(name, total)
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.timings[name] = round(seconds, 2)
        self.progress.end(name, seconds)


# --- public entry points ---------------------------------------------------------------------


def prepare_model(
    model_path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Prepare the model into the cache (once) and return the prepared folder.

    Safe to run from several processes at once: each builds in its own temporary folder and
    renames it into place; a loser of the race discards its copy and uses the winner's.
    """
    cache_root = resolve_cache_dir(cache_dir)
    source = inspect_source(model_path, cache_root)
    folder = prepared_dir(cache_root, source.fingerprint)
    if folder.exists():
        return folder
    return prepare_source(source, cache_root, progress)


def prepare_source(source: ModelSource, cache_root: Path, progress: Progress | None = None) -> Path:
    """Build the prepared folder for an inspected source and install it in the cache."""
    _require_build_extra(source)
    target = prepared_dir(cache_root, source.fingerprint)
    shown = progress or Silent()
    shown.preparing(target)
    start = time.perf_counter()
    with building(target) as tmp:
        _build(_Work(source, tmp, shown))
    shown.prepared(target, time.perf_counter() - start)
    return target


def _build(work: _Work) -> None:
    """Write model.onnx (int8), tokenizer.json and manifest.json into work.out_dir."""
    weights_dir = work.source.model_dir
    if work.source.fingerprint.tuning:
        weights_dir = _fine_tune(work)
    fp32_path, fused_path = work.out_dir / "fp32.onnx", work.out_dir / "fused.onnx"
    with _one_torch_thread():
        with work.step("load"):
            _load(work, weights_dir)
        with work.step("calibrate"):
            _calibrate(work)
        with work.step("smooth"):
            _smooth(work)
        with work.step("export"):
            _export(work, fp32_path)
    with work.step("fuse"):
        _fuse(work, fp32_path, fused_path)
    with work.step("quantize"):
        _quantize(fused_path, work.out_dir / MODEL_FILE)
    fp32_path.unlink()
    fused_path.unlink()
    shutil.copyfile(work.source.model_dir / TOKENIZER_FILE, work.out_dir / TOKENIZER_FILE)
    with work.step("verify"):
        _verify(work)
    with work.step("taxonomy"):
        _embed_taxonomy(work)
    with work.step("manifest"):
        _write_manifest(work)


# --- steps -----------------------------------------------------------------------------------


def _require_build_extra(source: ModelSource) -> None:
    """Fail with one line naming what to install when the preparation packages are missing.

    Looked up, not imported: sentence-transformers alone takes seconds to import and only the
    fine-tune needs it.
    """
    _set_offline()
    for module in ("torch", "transformers", "onnx", "sentence_transformers"):
        if importlib.util.find_spec(module) is None:
            raise EmbedderError(
                f"preparing the model from {source.model_dir} needs the build extra "
                f"({module} is not installed): pip install 'sitegen[build]'"
            )
    import transformers

    hf_logging: Any = transformers.logging  # untyped module
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _fine_tune(work: _Work) -> Path:
    """sitegen's reproducible fine-tune, kept in the folder as the fp32 reference."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    from sitegen.tuning import DEFAULT_RECIPE, fine_tune, training_data

    recipe = DEFAULT_RECIPE
    triplets = sum(1 for line in training_data().splitlines() if line)
    total = recipe.epochs * -(-triplets // recipe.batch_size)
    done = 0

    def count(_optimizer: Any, _args: Any, _kwargs: Any) -> None:
        nonlocal done
        done += 1
        work.progress.advance(done)

    with work.step("fine-tune", total):
        hook = register_optimizer_step_post_hook(count)
        try:
            with _quiet_preparation():
                return fine_tune(work.source.model_dir, work.out_dir / FP32_DIR, recipe)
        finally:
            hook.remove()


def _load(work: _Work, weights_dir: Path) -> None:
    import transformers

    with _quiet_preparation():
        try:
            work.model = transformers.AutoModel.from_pretrained(
                str(weights_dir), attn_implementation="eager", local_files_only=True
            ).eval()
            work.tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(weights_dir), local_files_only=True
            )
        except Exception as exc:
            raise EmbedderError(f"cannot load model from {work.source.model_dir}: {exc}") from None
    work.wrapper = _make_pooling_wrapper(work.model)


def _calibrate(work: _Work) -> None:
    """fp32 reference vectors + per-channel input peaks of every FFN linear."""
    import torch

    def hook(name: str) -> Callable[..., None]:
        def record(_mod: Any, inputs: tuple[Any, ...], _out: Any) -> None:
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            work.peaks[name] = torch.maximum(work.peaks[name], x) if name in work.peaks else x

        return record

    work.ffn = {
        name: module
        for name, module in work.model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and (name.endswith("intermediate.dense") or name.endswith("output.dense"))
        and "attention" not in name
    }
    handles = [module.register_forward_hook(hook(name)) for name, module in work.ffn.items()]
    batch = work.tokenizer(
        list(_CALIBRATION_TEXTS),
        padding=True,
        truncation=True,
        max_length=work.source.fingerprint.max_seq_length,
        return_tensors="pt",
    )
    with _quiet_preparation(), torch.no_grad():
        work.reference = work.wrapper(batch["input_ids"], batch["attention_mask"]).numpy()
    for handle in handles:
        handle.remove()


def _smooth(work: _Work) -> None:
    """Outlier smoothing, exact in fp32: x[:, j] / s_j and W[:, j] * s_j."""
    import torch

    smoothed = 0
    with torch.no_grad():
        for name, module in work.ffn.items():
            k = _SMOOTH_FFN_IN if name.endswith("intermediate.dense") else _SMOOTH_FFN_OUT
            if k <= 0 or name not in work.peaks:
                continue
            parent_name, attr = name.rsplit(".", 1)
            parent = work.model.get_submodule(parent_name)
            setattr(parent, attr, _make_smoothed_linear(module, work.peaks[name], k))
            smoothed += 1
    work.report["smoothed_linears"] = smoothed


def _export(work: _Work, fp32_path: Path) -> None:
    """TorchScript export with dynamic batch/sequence axes (the dynamo one needs onnxscript)."""
    import torch

    dummy_ids = torch.full((2, 16), 1000, dtype=torch.long)
    dummy_mask = torch.ones((2, 16), dtype=torch.long)
    dummy_mask[1, 10:] = 0
    axes = {0: "batch", 1: "sequence"}
    with _quiet_preparation(), torch.no_grad():
        try:
            torch.onnx.export(
                work.wrapper,
                (dummy_ids, dummy_mask),
                str(fp32_path),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, OUTPUT_NAME: {0: "batch"}},
                opset_version=_OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        except Exception as exc:
            raise EmbedderError(f"ONNX export of {work.source.model_dir} failed: {exc}") from None


def _fuse(work: _Work, fp32_path: Path, fused_path: Path) -> None:
    """ORT's BERT fusions, without SkipLayerNormalization (slower than Add + LayerNorm)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = work.model.config
    with _quiet_preparation():
        fusion = FusionOptions("bert")
        fusion.enable_skip_layer_norm = False
        fusion.enable_bias_skip_layer_norm = False
        optimized = optimize_model(
            str(fp32_path),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=0,
            optimization_options=fusion,
        )
        stats = optimized.get_fused_operator_statistics().items()
        work.report["fused_ops"] = {k: v for k, v in stats if v}
        optimized.save_model_to_file(str(fused_path))


def _quantize(fused_path: Path, model_file: Path) -> None:
    """Dynamic int8: signed per-channel weights, MatMul + Attention (see BENCHMARKS.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_preparation():
        quantize_dynamic(
            str(fused_path),
            str(model_file),
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


def _verify(work: _Work) -> None:
    """The int8 model must agree with the fp32 torch reference before it is cached."""
    work.prepared = prepared = open_prepared(work.out_dir, work.source.fingerprint)
    cosines = np.sum(prepared.embed(list(_CALIBRATION_TEXTS)) * work.reference, axis=1)
    if float(cosines.mean()) < _MIN_PREPARED_MEAN_COSINE:
        raise EmbedderError(
            f"prepared model for {work.source.model_dir} disagrees with the original "
            f"(mean cosine {cosines.mean():.4f}); export/quantization is broken for this model"
        )
    work.report["calibration_cosine_mean"] = round(float(cosines.mean()), 6)
    work.report["calibration_cosine_min"] = round(float(cosines.min()), 6)


def _embed_taxonomy(work: _Work) -> None:
    """Persona's keywords embedded with the model just made: derived tags compare with these."""
    from sitegen.taxonomy import read_keywords, write_taxonomy

    prepared = work.prepared or open_prepared(work.out_dir, work.source.fingerprint)
    keywords = read_keywords()
    vectors = prepared.embed([k.context for k in keywords])
    write_taxonomy(work.out_dir, keywords, vectors)
    work.report["taxonomy_keywords"] = len(keywords)


def _write_manifest(work: _Work) -> None:
    """Written last: a folder with a manifest is complete."""
    import onnx
    import onnxruntime
    import torch
    import transformers

    fp = work.source.fingerprint
    manifest = {
        "fingerprint": fp.as_string(),
        "weights_sha256": fp.weights_sha256,
        "quantization": fp.quantization,
        "max_seq_length": fp.max_seq_length,
        "pooling": fp.pooling,
        "tuning": fp.tuning,
        "dim": DIM,
        "source": str(work.source.model_dir.resolve()),
        "source_is_package": work.source.is_package,
        "files": file_entries(work.out_dir),
        "taxonomy": fp.taxonomy,
        "taxonomy_keywords": work.report["taxonomy_keywords"],
        "calibration_cosine_mean": work.report["calibration_cosine_mean"],
        "calibration_cosine_min": work.report["calibration_cosine_min"],
        "smoothed_linears": work.report["smoothed_linears"],
        "fused_ops": work.report["fused_ops"],
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": str(onnxruntime.__version__),
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    text = json.dumps(manifest, indent=2) + "\n"
    (work.out_dir / MANIFEST_FILE).write_text(text, encoding="utf-8")


# --- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run the small torch steps on one thread: same bits, and on a busy machine two threads
    wait on each other (calibrate 0.13-0.27 s on one thread vs 0.5-2.4 s on two, measured)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _quiet_preparation() -> Iterator[None]:
    """Silence exporter/quantizer chatter (deprecation and tracer warnings, INFO/WARNING logs)."""
    import logging
    import warnings

    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(old_level)


def _set_offline() -> None:
    # Never reach for a model hub: everything must come from local folders.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _make_pooling_wrapper(model: Any) -> Any:
    """BertModel + mean pooling over the attention mask + L2 normalisation, as one module."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)

    return MeanPooledEncoder(model).eval()


def _make_smoothed_linear(linear: Any, peaks: Any, k: int) -> Any:
    """Linear whose top-k input outlier channels are scaled down (activations) and up (weights).

    Dynamic quantization uses one scale per activation tensor, so a single channel at 30x
    the others costs every other channel most of its 8 bits; shrinking it by sqrt(peak/median)
    splits the difficulty between activations and (per-channel quantized) weights.
    """
    import torch

    class SmoothedLinear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            median = peaks.median().clamp(min=1e-6)
            scale = torch.ones_like(peaks)
            top = torch.topk(peaks, min(k, peaks.numel())).indices
            scale[top] = torch.clamp(peaks[top] / median, min=1.0) ** _SMOOTH_ALPHA
            with torch.no_grad():
                linear.weight.mul_(scale[None, :])
            self.linear = linear
            self.register_buffer("inv_scale", (1.0 / scale).to(linear.weight.dtype))

        def forward(self, x: Any) -> Any:
            return self.linear(x * self.inv_scale)

    return SmoothedLinear()
