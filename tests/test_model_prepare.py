"""Model preparation: concurrent processes, `sitegen prepare` and its step lines, the printer."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np

from sitegen.embedder import Embedder, load_embedder
from sitegen.model_weights import package_model_dir
from sitegen.progress import StepPrinter
from tests.model_helpers import DESCRIPTIONS, reference_embed, subprocess_env

STEPS = (
    "load",
    "calibrate",
    "smooth",
    "export",
    "fuse",
    "quantize",
    "verify",
    "taxonomy",
    "manifest",
)


def test_concurrent_prepare_into_fresh_cache(tmp_path: Path, embedder: Embedder) -> None:
    """Two processes (the library call and `sitegen prepare`) race into one fresh cache."""
    fresh = tmp_path / "fresh-cache"
    script = "from sitegen.model_prepare import prepare_model; print(prepare_model())"
    env = subprocess_env(fresh)
    env["SITEGEN_FINETUNE"] = "0"  # the race is what is tested; skip the minute of tuning
    commands = [[sys.executable, "-c", script], [sys.executable, "-m", "sitegen", "prepare"]]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in commands
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    paths = {out.strip().splitlines()[-1] for out, _err in outputs}
    assert len(paths) == 1
    models = fresh / "models"
    prepared_name = Path(paths.pop()).name
    assert [p.name for p in models.iterdir()] == [prepared_name]  # no .tmp-* left
    # The command shows each step with its time on stderr (a log, not a terminal: no bar).
    lines = outputs[1][1].splitlines()
    assert lines[0].startswith("preparing the query model")
    assert [line.split()[0] for line in lines[1:-1]] == list(STEPS)
    assert all(line.endswith(" s") for line in lines[1:-1])
    assert lines[-1].startswith("prepared in ") and lines[-1].endswith(prepared_name)
    loaded = load_embedder(model_path=package_model_dir(), cache_dir=fresh)  # plain weights
    assert loaded.model_dir.name == prepared_name
    vectors = loaded.embed(DESCRIPTIONS[:5])
    reference = reference_embed(DESCRIPTIONS[:5], package_model_dir())
    assert np.sum(vectors * reference, axis=1).min() > 0.99


def test_prepare_when_already_prepared_prints_the_folder_only(embedder: Embedder) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sitegen", "prepare"],
        env=subprocess_env(embedder.model_dir.parent.parent),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(embedder.model_dir)
    assert result.stderr == ""


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, as click checks before drawing a bar."""

    def isatty(self) -> bool:
        return True


def test_step_printer_on_a_terminal_draws_a_bar_then_the_time() -> None:
    stream = _Terminal()
    printer = StepPrinter(stream)
    printer.begin("fine-tune", 4)
    for done in range(1, 5):
        printer.advance(done)
    printer.end("fine-tune", 12.34)
    printer.begin("export", None)
    printer.end("export", 1.5)
    text = stream.getvalue()
    assert "100%" in text  # the bar reached its end
    assert "fine-tune    12.3 s\n" in text
    assert "export        1.5 s\n" in text


def test_step_printer_in_a_log_writes_one_line_per_step() -> None:
    stream = io.StringIO()
    printer = StepPrinter(stream, tty=False)
    printer.preparing(Path("/cache/models/x"))
    printer.begin("fine-tune", 4)
    printer.advance(2)
    printer.end("fine-tune", 40.0)
    printer.prepared(Path("/cache/models/x"), 41.0)
    assert stream.getvalue().splitlines() == [
        "preparing the query model (once per machine, about a minute) in /cache/models/x",
        "  fine-tune    40.0 s",
        "prepared in 41.0 s: /cache/models/x",
    ]
