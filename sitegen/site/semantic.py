"""The in-browser semantic search bundle: files under ``semantic/``, fetched only on demand.

The search page fetches nothing of it until a person asks for meaning-based results (or the
keyword results are thin). Then ``semantic/manifest.json`` (revalidated each time) names the
other files, whose names carry a hash of their bytes, so a browser caches them for good and a
new build can never mix old and new files:

- ``entries.<hash>.json``: ``[kind, name, description]`` per entry, in vector row order;
- ``vectors.<hash>.bin``: the entries' unit vectors as int8 rows, then a float32 scale per
  row (the index's own vectors for the ``browser`` design; the static model's for ``static``);
- ``vocab.<hash>.txt``: the WordPiece vocabulary, one token a line (both designs);
- ``browser``: ``model.<hash>.onnx`` and onnxruntime-web (vendored, see ``vendor/``);
- ``static``: ``tokens.<hash>.bin``: int8 token vectors, then a float32 scale per token.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from sitegen.site.inputs import SemanticInput
from sitegen.site.outputs import Outputs, const, key_of

FOLDER = "semantic"
MANIFEST = f"{FOLDER}/manifest.json"
DESIGNS = ("browser", "static")
FORMAT = 1


def quantize_rows(matrix: np.ndarray) -> bytes:
    """int8 rows (symmetric, per-row scale) followed by the float32 scales, little-endian."""
    matrix = np.asarray(matrix, dtype=np.float32)
    top = np.abs(matrix).max(axis=1) if len(matrix) else np.zeros(0, dtype=np.float32)
    scales = np.where(top > 0, top / 127.0, 1.0).astype("<f4")
    codes = np.clip(np.rint(matrix / scales[:, None]), -127, 127).astype(np.int8)
    return bytes(codes.tobytes() + scales.tobytes())


def _named(stem: str, suffix: str, data: bytes) -> str:
    return f"{FOLDER}/{stem}.{hashlib.sha256(data).hexdigest()[:12]}{suffix}"


def plan(data: SemanticInput | None, out: Outputs) -> None:
    """Add the bundle's files and its manifest to the site's outputs."""
    if data is None:
        return
    if data.design not in DESIGNS:
        raise ValueError(f"semantic design must be one of {', '.join(DESIGNS)}")
    files: dict[str, bytes] = {}
    rows = [list(r) for r in data.rows]
    files["entries"] = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    files["vectors"] = quantize_rows(data.vectors)
    files["vocab"] = ("\n".join(data.vocab) + "\n").encode("utf-8")
    suffixes = {"entries": ".json", "vectors": ".bin", "vocab": ".txt", "model": ".onnx",
                "tokens": ".bin"}  # fmt: skip
    if data.design == "browser":
        files["model"] = data.model
    elif data.tokens is not None:
        files["tokens"] = quantize_rows(data.tokens)
    paths = {name: _named(name, suffixes[name], blob) for name, blob in files.items()}
    runtime = {}
    for name, source in sorted(data.runtime.items()):
        blob = source.read_bytes()
        # .mjs published as .js: every static host serves .js as JavaScript (module imports
        # need that), not every one knows .mjs.
        served = name[: -len(".mjs")] + ".js" if name.endswith(".mjs") else name
        path = f"{FOLDER}/ort/{hashlib.sha256(blob).hexdigest()[:12]}/{served}"
        runtime[name] = path
        files[f"ort:{name}"] = blob
        paths[f"ort:{name}"] = path
    for name, blob in files.items():
        digest = hashlib.sha256(blob).hexdigest()
        out.add(paths[name], key_of("semantic", digest), const(blob))
    manifest = {
        "format": FORMAT,
        "design": data.design,
        "fingerprint": data.fingerprint,
        "count": len(rows),
        "dims": int(data.vectors.shape[1]) if data.vectors.ndim == 2 else 0,
        "tokenizer": dict(data.tokenizer),
        "files": {
            name: {"path": path[len(FOLDER) + 1 :], "bytes": len(files[name])}
            for name, path in sorted(paths.items())
            if not name.startswith("ort:")
        },
        "runtime": {name: path[len(FOLDER) + 1 :] for name, path in runtime.items()},
    }
    blob = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    out.add(MANIFEST, key_of("semantic", hashlib.sha256(blob).hexdigest()), const(blob))
