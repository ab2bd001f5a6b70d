"""The model cache: locating and hashing weights, naming and installing prepared folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from sitegen.embedder import EmbedderError, load_embedder
from sitegen.model_cache import MANIFEST_FILE, building
from sitegen.model_weights import (
    PACKAGE_WEIGHTS_SHA256,
    package_model_dir,
    verify_package_weights,
)


def test_folder_without_weights(tmp_path: Path) -> None:
    folder = tmp_path / "no-weights"
    shutil.copytree(package_model_dir(), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    with pytest.raises(EmbedderError, match="no model weights") as info:
        load_embedder(folder)
    assert str(folder) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist"
    with pytest.raises(EmbedderError, match="not found") as info:
        load_embedder(missing)
    assert str(missing) in str(info.value)


def test_package_weights_verified() -> None:
    assert verify_package_weights(package_model_dir()) == PACKAGE_WEIGHTS_SHA256


def test_tampered_weights_fail_hash_check(tmp_path: Path) -> None:
    folder = tmp_path / "tampered"
    shutil.copytree(package_model_dir(), folder)
    weights = folder / "model.safetensors"
    with weights.open("r+b") as fh:
        fh.seek(weights.stat().st_size // 2)
        chunk = fh.read(16)
        fh.seek(-len(chunk), os.SEEK_CUR)
        fh.write(bytes(b ^ 0xFF for b in chunk))
    with pytest.raises(EmbedderError, match="sha256 mismatch") as info:
        verify_package_weights(folder)
    assert str(weights) in str(info.value)


def test_hash_memo_skips_rehash_until_file_changes(tmp_path: Path) -> None:
    cache = tmp_path / "memo-cache"
    folder = tmp_path / "weights-copy"
    shutil.copytree(package_model_dir(), folder)
    assert verify_package_weights(folder, cache_dir=cache) == PACKAGE_WEIGHTS_SHA256
    memo_path = cache / "weights-sha256.json"
    memo = json.loads(memo_path.read_text())
    key = str((folder / "model.safetensors").resolve())
    assert memo[key]["sha256"] == PACKAGE_WEIGHTS_SHA256
    # Same (size, mtime_ns): the memo is trusted, so a planted wrong digest proves no re-hash.
    memo[key]["sha256"] = "0" * 64
    memo_path.write_text(json.dumps(memo))
    with pytest.raises(EmbedderError, match="sha256 mismatch"):
        verify_package_weights(folder, cache_dir=cache)
    # Touching the file changes mtime_ns: the stale memo entry is ignored and the file re-hashed.
    os.utime(folder / "model.safetensors", ns=(1, 1))
    assert verify_package_weights(folder, cache_dir=cache) == PACKAGE_WEIGHTS_SHA256


def test_building_installs_only_a_finished_folder(tmp_path: Path) -> None:
    target = tmp_path / "models" / "prepared"
    with building(target) as tmp:
        (tmp / MANIFEST_FILE).write_text("{}")
        assert not target.exists()
    assert (target / MANIFEST_FILE).is_file()
    assert [p.name for p in target.parent.iterdir()] == ["prepared"]


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "models" / "prepared"
    with pytest.raises(RuntimeError), building(target) as tmp:
        (tmp / "model.onnx").write_bytes(b"half")
        raise RuntimeError("killed half way")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
