"""Outputs: every file of the site as a path, a key, and how to make its bytes.

A key is a hash of everything the file is made of; a file whose key matches the previous
build's (and that exists) is not rendered again. Making the bytes is deferred until the
renderer asks, so planning costs only the keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sitegen.site.theme import Theme
from sitegen.urls import twin


def key_of(*parts: Any) -> str:
    """A key for plain data (str, int, float, None, tuples and lists of them)."""
    text = repr(parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def json_bytes(data: Any) -> bytes:
    # Compact: only indent=None uses the C encoder, several times faster on big catalogs.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text + "\n").encode("utf-8")


def const(blob: bytes) -> Callable[[], bytes]:
    return lambda: blob


@dataclass(frozen=True, slots=True)
class Output:
    path: str
    key: str
    produce: Callable[[], bytes]
    page: bool = False  # an HTML page (counted separately in the summary)
    group: int = -1  # outputs of one entry share a group, so one worker renders them all


@dataclass(frozen=True)
class OutputSet:
    """A set of outputs and what a summary counts of it."""

    outputs: tuple[Output, ...]

    @property
    def paths(self) -> set[str]:
        return {o.path for o in self.outputs}

    @property
    def pages(self) -> int:
        return sum(o.page for o in self.outputs)


class View(Protocol):
    """A page's view model: one data, rendered as HTML (context) and as JSON (to_json)."""

    def to_json(self, page: str) -> Any: ...


class HasContext(View, Protocol):
    def context(self) -> dict[str, Any]: ...


V = TypeVar("V", bound=View)


class Outputs:
    """The outputs of a build, in planning order; page families add to it."""

    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self.items: list[Output] = []
        self.group = -1

    def add(self, path: str, key: str, produce: Callable[[], bytes], *, page: bool = False) -> None:
        self.items.append(Output(path, key, produce, page, self.group))

    def page(
        self,
        template: str,
        path: str,
        key_parts: Any,
        view: Callable[[], HasContext],
    ) -> None:
        """An HTML page and its JSON twin, both rendered from one view model."""
        self.page_with(template, path, key_parts, view, lambda v: v.context())

    def page_with(
        self,
        template: str,
        path: str,
        key_parts: Any,
        view: Callable[[], V],
        context: Callable[[V], dict[str, Any]],
        *,
        with_twin: bool = True,
    ) -> None:
        """A page whose HTML needs more than the view's fields (rendered Markdown, say).

        `with_twin=False` for pages whose data their parent's twin already holds.
        """
        fp = self.theme.fingerprint
        self.add(
            path,
            key_of(fp, template, path, key_parts),
            lambda: self.theme.render(template, path, context(view())),
            page=True,
        )
        if not with_twin:
            return
        twin_path = twin(path)
        self.add(
            twin_path,
            key_of(fp, "twin", twin_path, key_parts),
            lambda: json_bytes(view().to_json(path)),
        )


def without_conflicts(outputs: list[Output]) -> list[Output]:
    """Drop outputs that would clash on disk (first one wins).

    Sanitized file names can in theory collide (a library may hold both `a.html` and
    `a.html.txt`), or a file may sit where another output needs a folder.
    """
    seen: set[str] = set()
    unique = []
    for output in outputs:
        if output.path not in seen:
            seen.add(output.path)
            unique.append(output)
    folders = {p.rsplit("/", 1)[0] for p in seen if "/" in p}
    folders |= {f.rsplit("/", i)[0] for f in list(folders) for i in range(1, f.count("/") + 1)}
    return [o for o in unique if o.path not in folders]
