"""One-time model preparation: fine-tune, calibrate, smooth, export, fuse, quantize, verify.

The only room that imports torch, transformers and sentence-transformers (lazily, inside the
steps, so importing this package stays cheap and a missing extra gets a clear message). It turns
the published weights into the folder :mod:`sitegen.embedder` queries with, built in a private
temporary folder and renamed into the cache (:func:`sitegen.model_cache.building`). Every step
is named and timed, so ``sitegen prepare`` can show progress and CI logs show where time goes.
The same inputs give bit-identical files (the fine-tune and the export are deterministic).
Why each choice was made, with figures: BENCHMARKS.md, "Model preparation".

One module per job: :mod:`.pipeline` (the steps in order, into the cache), :mod:`.torch_steps`
(fine-tune, load, calibrate, smooth, export), :mod:`.onnx_steps` (fuse, quantize, verify,
taxonomy, manifest), :mod:`.work` (progress, the record the steps share).
"""

from sitegen.model_prepare.pipeline import prepare_model, prepare_source
from sitegen.model_prepare.work import Progress, Silent

__all__ = ["Progress", "Silent", "prepare_model", "prepare_source"]
