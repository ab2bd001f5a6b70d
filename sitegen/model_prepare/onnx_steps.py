"""The steps after export, in onnxruntime: fuse, quantize to int8, verify against the fp32
reference, embed the taxonomy with the new model, and write the manifest (last: a folder with
a manifest is complete).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from sitegen.embedder import open_prepared
from sitegen.entry import DIM
from sitegen.model_cache import MANIFEST_FILE, EmbedderError, file_entries
from sitegen.model_prepare.work import CALIBRATION_TEXTS, Work, quiet_preparation

# A prepared model must agree with the fp32 torch model at least this well on the calibration
# sentences, or preparation fails instead of caching a broken model.
_MIN_PREPARED_MEAN_COSINE = 0.98


def fuse(work: Work, fp32_path: Path, fused_path: Path) -> None:
    """ORT's BERT fusions, without SkipLayerNormalization (slower than Add + LayerNorm)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = work.model.config
    with quiet_preparation():
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


def quantize(fused_path: Path, model_file: Path) -> None:
    """Dynamic int8: signed per-channel weights, MatMul + Attention (see BENCHMARKS.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_preparation():
        quantize_dynamic(
            str(fused_path),
            str(model_file),
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


def verify(work: Work) -> None:
    """The int8 model must agree with the fp32 torch reference before it is cached."""
    work.prepared = prepared = open_prepared(work.out_dir, work.source.fingerprint)
    cosines = np.sum(prepared.embed(list(CALIBRATION_TEXTS)) * work.reference, axis=1)
    if float(cosines.mean()) < _MIN_PREPARED_MEAN_COSINE:
        raise EmbedderError(
            f"prepared model for {work.source.model_dir} disagrees with the original "
            f"(mean cosine {cosines.mean():.4f}); export/quantization is broken for this model"
        )
    work.report["calibration_cosine_mean"] = round(float(cosines.mean()), 6)
    work.report["calibration_cosine_min"] = round(float(cosines.min()), 6)


def embed_taxonomy(work: Work) -> None:
    """Persona's keywords embedded with the model just made: derived tags compare with these."""
    from sitegen.taxonomy import read_keywords, write_taxonomy

    prepared = work.prepared or open_prepared(work.out_dir, work.source.fingerprint)
    keywords = read_keywords()
    vectors = prepared.embed([k.context for k in keywords])
    write_taxonomy(work.out_dir, keywords, vectors)
    work.report["taxonomy_keywords"] = len(keywords)


def write_manifest(work: Work) -> None:
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
