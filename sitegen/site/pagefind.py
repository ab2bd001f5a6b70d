"""The Pagefind client: index documents in memory through `pagefind --service`.

Pagefind's Node and Python APIs speak this protocol to the same binary: base64 JSON messages
separated by commas on stdin/stdout. We send one NewIndex, one AddFile per document, then
GetFiles, and keep the bundle in memory: no temporary files, no Pagefind UI bundles.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from sitegen.site.inputs import SiteError

# Pagefind's own UI bundles are not used: the theme ships its own small search script.
PAGEFIND_SKIP = (
    "pagefind-ui",
    "pagefind-component-ui",
    "pagefind-modular-ui",
    "pagefind-highlight",
    "playground/",
)


def find_pagefind() -> str | None:
    """The Pagefind binary: $PAGEFIND_BINARY_PATH, the `pagefind[bin]` wheel, or PATH."""
    explicit = os.environ.get("PAGEFIND_BINARY_PATH")
    if explicit:
        return explicit
    try:
        from pagefind_bin import get_executable

        return str(get_executable())
    except (ImportError, FileNotFoundError):
        pass
    return shutil.which("pagefind_extended") or shutil.which("pagefind")


def pagefind_version() -> str:
    try:
        from importlib.metadata import version

        return version("pagefind")
    except Exception:  # the binary may come from PATH without the Python package
        return "unknown"


def _encode(message: Mapping[str, Any]) -> bytes:
    return base64.b64encode(json.dumps(message).encode("utf-8")) + b","


def run_pagefind(docs: Mapping[str, str]) -> dict[str, bytes]:
    """Index `docs` (site path -> HTML) with Pagefind, in memory; return the bundle's files.

    Talks to `pagefind --service` (the protocol behind Pagefind's Node and Python APIs):
    one new index, one AddFile per document with its URL, then GetFiles. No temporary files.
    """
    binary = find_pagefind()
    if binary is None:
        raise SiteError("pagefind binary not found; install it with: pip install 'pagefind[bin]'")
    requests: list[dict[str, Any]] = [
        {
            "message_id": 1,
            "payload": {
                "type": "NewIndex",
                "config": {"keep_index_url": True, "force_language": "en"},
            },
        }
    ]
    try:
        proc = subprocess.Popen(
            [binary, "--service"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise SiteError(f"pagefind could not start: {exc}") from exc
    assert proc.stdin is not None and proc.stdout is not None
    reader = _ServiceReader(proc.stdout)
    try:
        proc.stdin.write(_encode(requests[0]))
        proc.stdin.flush()
        index_id = reader.expect(1, "NewIndex")["index_id"]
        writer_error: list[BaseException] = []
        paths = sorted(docs)

        def write_all() -> None:
            try:
                assert proc.stdin is not None
                for number, path in enumerate(paths, start=2):
                    payload = {
                        "type": "AddFile",
                        "index_id": index_id,
                        "url": "/" + path,
                        "file_path": None,
                        "file_contents": docs[path],
                    }
                    proc.stdin.write(_encode({"message_id": number, "payload": payload}))
                last = len(paths) + 2
                get = {"type": "GetFiles", "index_id": index_id}
                proc.stdin.write(_encode({"message_id": last, "payload": get}))
                proc.stdin.flush()
            except BaseException as exc:  # reported by the reading side
                writer_error.append(exc)

        writer = threading.Thread(target=write_all, daemon=True)
        writer.start()
        for number in range(2, len(paths) + 2):
            reader.expect(number, "IndexedFile")
        files = reader.expect(len(paths) + 2, "GetFiles")["files"]
        writer.join()
        if writer_error:
            raise SiteError(f"pagefind: {writer_error[0]}")
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.kill()
        proc.wait()
    out: dict[str, bytes] = {}
    for item in files:
        rel = str(item["path"]).lstrip("/")
        if rel.startswith(PAGEFIND_SKIP) or ".." in rel.split("/"):
            continue
        out[f"pagefind/{rel}"] = base64.b64decode(item["content"])
    if "pagefind/pagefind.js" not in out:
        raise SiteError("pagefind returned no search bundle")
    return out


class _ServiceReader:
    """Reads the comma-separated base64 JSON responses of `pagefind --service`."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = b""

    def next(self) -> dict[str, Any]:
        while b"," not in self.buffer:
            chunk = self.stream.read1(1 << 20)
            if not chunk:
                raise SiteError("pagefind stopped unexpectedly")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b",")
        return dict(json.loads(base64.b64decode(raw)))

    def expect(self, message_id: int, kind: str) -> dict[str, Any]:
        while True:
            message = self.next()
            payload = message.get("payload") or {}
            if payload.get("type") == "Error":
                raise SiteError(f"pagefind: {payload.get('message', 'error')}")
            if message.get("message_id") == message_id:
                if payload.get("type") != kind:
                    raise SiteError(f"pagefind: unexpected {payload.get('type')} reply")
                return dict(payload)
