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


def _encode(message_id: int, payload: Mapping[str, Any]) -> bytes:
    message = {"message_id": message_id, "payload": payload}
    return base64.b64encode(json.dumps(message).encode("utf-8")) + b","


def run_pagefind(docs: Mapping[str, str]) -> dict[str, bytes]:
    """Index `docs` (site path -> HTML) with Pagefind, in memory; return the bundle's files."""
    binary = find_pagefind()
    if binary is None:
        raise SiteError("pagefind binary not found; install it with: pip install 'pagefind[bin]'")
    try:
        proc = subprocess.Popen(
            [binary, "--service"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise SiteError(f"pagefind could not start: {exc}") from exc
    try:
        return _bundle(_Service(proc).index(docs))
    finally:
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        proc.kill()
        proc.wait()


def _bundle(files: list[dict[str, Any]]) -> dict[str, bytes]:
    """The bundle's files under pagefind/, without Pagefind's UI bundles."""
    out: dict[str, bytes] = {}
    for item in files:
        rel = str(item["path"]).lstrip("/")
        if rel.startswith(PAGEFIND_SKIP) or ".." in rel.split("/"):
            continue
        out[f"pagefind/{rel}"] = base64.b64decode(item["content"])
    if "pagefind/pagefind.js" not in out:
        raise SiteError("pagefind returned no search bundle")
    return out


class _Service:
    """One conversation with `pagefind --service`: a new index, its documents, its files.

    Documents are written from a thread while replies are read here, so neither side's pipe
    buffer can fill up and stall the other.
    """

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.buffer = b""
        self.writer_error: BaseException | None = None

    def index(self, docs: Mapping[str, str]) -> list[dict[str, Any]]:
        config = {"keep_index_url": True, "force_language": "en"}
        self.stdin.write(_encode(1, {"type": "NewIndex", "config": config}))
        self.stdin.flush()
        index_id = self.expect(1, "NewIndex")["index_id"]
        paths = sorted(docs)
        writer = threading.Thread(target=self._send, args=(index_id, paths, docs), daemon=True)
        writer.start()
        for number in range(2, len(paths) + 2):
            self.expect(number, "IndexedFile")
        files: list[dict[str, Any]] = self.expect(len(paths) + 2, "GetFiles")["files"]
        writer.join()
        if self.writer_error is not None:
            raise SiteError(f"pagefind: {self.writer_error}")
        return files

    def _send(self, index_id: Any, paths: list[str], docs: Mapping[str, str]) -> None:
        """Every document (message 2, 3, ...), then GetFiles."""
        try:
            for number, path in enumerate(paths, start=2):
                payload = {
                    "type": "AddFile",
                    "index_id": index_id,
                    "url": "/" + path,
                    "file_path": None,
                    "file_contents": docs[path],
                }
                self.stdin.write(_encode(number, payload))
            get = {"type": "GetFiles", "index_id": index_id}
            self.stdin.write(_encode(len(paths) + 2, get))
            self.stdin.flush()
        except BaseException as exc:  # reported by the reading side
            self.writer_error = exc

    def _next(self) -> dict[str, Any]:
        """The next reply: base64 JSON, replies separated by commas."""
        while b"," not in self.buffer:
            chunk = self.stdout.read1(1 << 20)  # type: ignore[attr-defined]
            if not chunk:
                raise SiteError("pagefind stopped unexpectedly")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b",")
        return dict(json.loads(base64.b64decode(raw)))

    def expect(self, message_id: int, kind: str) -> dict[str, Any]:
        while True:
            message = self._next()
            payload = message.get("payload") or {}
            if payload.get("type") == "Error":
                raise SiteError(f"pagefind: {payload.get('message', 'error')}")
            if message.get("message_id") == message_id:
                if payload.get("type") != kind:
                    raise SiteError(f"pagefind: unexpected {payload.get('type')} reply")
                return dict(payload)
