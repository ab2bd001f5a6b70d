"""Preparation end to end: check the build extra, then run the named steps in order into a
private temporary folder that :func:`sitegen.model_cache.building` renames into the cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path
from typing import Any

from sitegen.model_cache import (
    MODEL_FILE,
    TOKENIZER_FILE,
    EmbedderError,
    building,
    prepared_dir,
    resolve_cache_dir,
)
from sitegen.model_prepare.onnx_steps import embed_taxonomy, fuse, quantize, verify, write_manifest
from sitegen.model_prepare.torch_steps import (
    calibrate,
    export,
    fine_tune_step,
    load,
    one_torch_thread,
    smooth,
)
from sitegen.model_prepare.work import Progress, Silent, Work
from sitegen.model_weights import ModelSource, inspect_source


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
    require_build_extra(source)
    target = prepared_dir(cache_root, source.fingerprint)
    shown = progress or Silent()
    shown.preparing(target)
    start = time.perf_counter()
    with building(target) as tmp:
        _build(Work(source, tmp, shown))
    shown.prepared(target, time.perf_counter() - start)
    return target


def _build(work: Work) -> None:
    """Write model.onnx (int8), tokenizer.json and manifest.json into work.out_dir."""
    weights_dir = work.source.model_dir
    if work.source.fingerprint.tuning:
        weights_dir = fine_tune_step(work)
    fp32_path, fused_path = work.out_dir / "fp32.onnx", work.out_dir / "fused.onnx"
    with one_torch_thread():
        with work.step("load"):
            load(work, weights_dir)
        with work.step("calibrate"):
            calibrate(work)
        with work.step("smooth"):
            smooth(work)
        with work.step("export"):
            export(work, fp32_path)
    with work.step("fuse"):
        fuse(work, fp32_path, fused_path)
    with work.step("quantize"):
        quantize(fused_path, work.out_dir / MODEL_FILE)
    fp32_path.unlink()
    fused_path.unlink()
    shutil.copyfile(work.source.model_dir / TOKENIZER_FILE, work.out_dir / TOKENIZER_FILE)
    with work.step("verify"):
        verify(work)
    with work.step("taxonomy"):
        embed_taxonomy(work)
    with work.step("manifest"):
        write_manifest(work)


def require_build_extra(source: ModelSource) -> None:
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


def _set_offline() -> None:
    # Never reach for a model hub: everything must come from local folders.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
