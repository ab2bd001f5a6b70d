"""A catalog carries its model: a base install (no torch) matches against a served site.

The full install (this test process) builds the example site and publishes its prepared model
into it; a static HTTP server serves the site on 127.0.0.1. A virtual environment with only
sitegen's base dependencies then runs `sitegen match --library http://...` from an empty cache:
it must fetch and verify the model and print the same JSON as the full install. A tampered
model file is refused with nothing cached.

The base environment is created once per dependency set (keyed by pyproject.toml) under
pytest's cache folder, with sitegen installed editable, so the code under test is this tree.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen.embedder import Embedder
from sitegen.model_catalog import MODEL_DIR, model_key
from tests.agent_helpers import build_example_site
from tests.conftest import EXAMPLE_LIBRARY

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "review my terraform plan",
    "who can help me answer a GDPR data subject access request?",
    "find duplicate bug reports and label their severity",
]


@pytest.fixture(scope="session")
def lean_python(request: pytest.FixtureRequest) -> Path:
    """Python of a venv holding sitegen with its base dependencies only."""
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    venv = Path(request.config.cache.mkdir(f"lean-venv-{key}"))
    python = venv / "bin" / "python"
    if not (venv / ".complete").is_file():
        shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-e", str(ROOT)],
            check=True,
            capture_output=True,
            timeout=900,
        )
        (venv / ".complete").write_text("ok")
    return python


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    library = tmp_path_factory.mktemp("lean") / "library"
    shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
    out = build_example_site(library, library.parent / "site", embedder)
    key = model_key(embedder.fingerprint.as_string())
    assert (out / MODEL_DIR / key / "manifest.json").is_file(), "the build publishes its model"
    return out


@pytest.fixture()
def serve_folder() -> Iterator[object]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass


def _match(python: Path, url: str, query: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SITEGEN_MODEL", "PYTHONPATH"}}
    env["SITEGEN_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [str(python), "-m", "sitegen", "match", query, "--library", url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_base_install_has_no_torch(lean_python: Path) -> None:
    probe = "import importlib.util as u; print([m for m in ('torch', 'transformers', "
    probe += "'sentence_transformers', 'onnx') if u.find_spec(m)])"
    result = subprocess.run([str(lean_python), "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_base_install_matches_like_the_full_install(
    lean_python: Path, site: Path, serve_folder, tmp_path: Path, embedder: Embedder
) -> None:
    url = serve_folder(site)
    full_cache = Path(os.environ["SITEGEN_CACHE_DIR"])
    lean_cache = tmp_path / "empty-cache"
    for query in QUERIES:
        full = _match(Path(sys.executable), url, query, full_cache)
        lean = _match(lean_python, url, query, lean_cache)
        assert full.returncode == 0, full.stderr
        assert lean.returncode == 0, lean.stderr
        assert json.loads(lean.stdout) == json.loads(full.stdout)
        assert json.loads(lean.stdout), query  # something matched
    # The model was fetched once, verified, and cached under its own name.
    (fetched,) = (lean_cache / "models").iterdir()
    assert fetched.name == embedder.model_dir.name
    manifest = json.loads((fetched / "manifest.json").read_text())
    assert manifest["fetched_from"].startswith(url.rstrip("/"))
    for name in ("model.onnx", "tokenizer.json", "taxonomy.npy", "taxonomy.json"):
        assert (fetched / name).read_bytes() == (embedder.model_dir / name).read_bytes()


def test_a_tampered_model_file_is_refused_and_nothing_cached(
    lean_python: Path, site: Path, serve_folder, tmp_path: Path, embedder: Embedder
) -> None:
    tampered = shutil.copytree(site, tmp_path / "tampered")
    model = tampered / MODEL_DIR / model_key(embedder.fingerprint.as_string()) / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    model.write_bytes(bytes(data))
    cache = tmp_path / "empty-cache"
    result = _match(lean_python, serve_folder(tampered), QUERIES[0], cache)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "model.onnx" in lines[0] and "sha256" in lines[0], result.stderr
    assert "nothing was cached" in lines[0]
    assert not any((cache / "models").iterdir()) if (cache / "models").exists() else True


def test_a_model_for_another_index_is_refused(
    lean_python: Path, site: Path, serve_folder, tmp_path: Path, embedder: Embedder
) -> None:
    other = shutil.copytree(site, tmp_path / "other")
    manifest_path = (
        other / MODEL_DIR / model_key(embedder.fingerprint.as_string()) / "manifest.json"
    )
    manifest = json.loads(manifest_path.read_text())
    manifest["fingerprint"] = manifest["fingerprint"].replace("seq256", "seq128")
    manifest_path.write_text(json.dumps(manifest))
    cache = tmp_path / "empty-cache"
    result = _match(lean_python, serve_folder(other), QUERIES[0], cache)
    assert result.returncode != 0
    assert "was built with" in result.stderr and "nothing was cached" in result.stderr
    assert not (cache / "models").exists() or not any((cache / "models").iterdir())


def test_without_a_published_model_the_base_install_names_the_extra(
    lean_python: Path, site: Path, serve_folder, tmp_path: Path
) -> None:
    bare = shutil.copytree(site, tmp_path / "bare", ignore=shutil.ignore_patterns(MODEL_DIR))
    result = _match(lean_python, serve_folder(bare), QUERIES[0], tmp_path / "empty-cache")
    assert result.returncode != 0
    assert "sitegen[build]" in result.stderr
    assert "Traceback" not in result.stderr


def test_preparing_without_the_build_extra_says_which_extra(
    lean_python: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SITEGEN_MODEL", "PYTHONPATH"}}
    env["SITEGEN_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [str(lean_python), "-m", "sitegen", "prepare"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "pip install 'sitegen[build]'" in result.stderr
