"""The steps that run in torch: fine-tune, load, calibrate, smooth, export to ONNX (fp32).

Smoothing rescales the few outlier input channels of each FFN linear (exact in fp32) so that
int8 quantization later keeps its precision; why, with figures: BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sitegen.embedder import INPUT_NAMES, OUTPUT_NAME
from sitegen.model_cache import FP32_DIR, EmbedderError
from sitegen.model_prepare.work import CALIBRATION_TEXTS, Work, quiet_preparation

# Smoothing: how many outlier input channels to rescale in FFN-in / FFN-out linears, and alpha.
_SMOOTH_FFN_IN = 4
_SMOOTH_FFN_OUT = 2
_SMOOTH_ALPHA = 0.5

_OPSET = 17


def fine_tune_step(work: Work) -> Path:
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
            with quiet_preparation():
                return fine_tune(work.source.model_dir, work.out_dir / FP32_DIR, recipe)
        finally:
            hook.remove()


def load(work: Work, weights_dir: Path) -> None:
    import transformers

    with quiet_preparation():
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


def calibrate(work: Work) -> None:
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
        list(CALIBRATION_TEXTS),
        padding=True,
        truncation=True,
        max_length=work.source.fingerprint.max_seq_length,
        return_tensors="pt",
    )
    with quiet_preparation(), torch.no_grad():
        work.reference = work.wrapper(batch["input_ids"], batch["attention_mask"]).numpy()
    for handle in handles:
        handle.remove()


def smooth(work: Work) -> None:
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


def export(work: Work, fp32_path: Path) -> None:
    """TorchScript export with dynamic batch/sequence axes (the dynamo one needs onnxscript)."""
    import torch

    dummy_ids = torch.full((2, 16), 1000, dtype=torch.long)
    dummy_mask = torch.ones((2, 16), dtype=torch.long)
    dummy_mask[1, 10:] = 0
    axes = {0: "batch", 1: "sequence"}
    with quiet_preparation(), torch.no_grad():
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


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the small torch steps on one thread: same bits, and on a busy machine two threads
    wait on each other (calibrate 0.13-0.27 s on one thread vs 0.5-2.4 s on two, measured)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


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
