"""Split a definition file into YAML frontmatter and Markdown body, and load the YAML.

Scalars load as strings, the way the Agent Skills reference parser (strictyaml) reads them:
`version: 1.10` stays "1.10", `name: yes` stays "yes". The few YAML constructs that parser
refuses (flow collections, anchors and aliases, explicit tags, duplicate keys) are found
here and handed to the rules, which decide per format whether they matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from sitegen.library.model import Level

try:  # the C parser is ~10x faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_LINES = 500
_CLOSE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_STRICT_SUSPECTS = re.compile(r"[\[\]{}&*!]")

Report = Callable[[int, Level, str, str], None]


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MAX_DEPTH = 64


class _StringLoader(_BaseLoader):
    """A safe loader whose plain scalars are all strings (no implicit int/bool/null/date)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """Untagged nodes: text, lists and mappings; nothing is guessed from the value."""
        if kind is yaml.ScalarNode:
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                self.duplicates.append((key_node.start_mark.line, str(key)))
            seen.add(key)
        return dict(super().construct_mapping(node, deep=deep))


class _Unusual(Exception):
    """A node the fast path does not handle (an explicit tag, a deep or recursive alias)."""


def _plain(node: Any, duplicates: list[tuple[int, str]], depth: int = 0) -> Any:
    """Nodes to Python for the usual frontmatter, ~5x faster than PyYAML's constructor."""
    if depth > _MAX_DEPTH:
        raise _Unusual
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _STR:
                raise _Unusual
            key = key_node.value
            if key in out:
                duplicates.append((key_node.start_mark.line, key))
            out[key] = _plain(value_node, duplicates, depth + 1)
        return out
    if tag == _SEQ:
        return [_plain(item, duplicates, depth + 1) for item in node.value]
    raise _Unusual


def _construct(loader: _StringLoader, node: Any) -> tuple[Any, list[tuple[int, str]]]:
    duplicates: list[tuple[int, str]] = []
    try:
        return _plain(node, duplicates), duplicates
    except _Unusual:
        data = loader.construct_document(node)
        return data, loader.duplicates


@dataclass
class Document:
    """A parsed definition file."""

    data: dict[str, Any]
    body: str
    body_line: int
    key_lines: dict[str, int]
    # (line, what) for each construct the Agent Skills reference parser rejects
    strict_yaml: list[tuple[int, str]] = field(default_factory=list)
    # (line, key) for each repeated key; the last value wins
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    # (line, rejected) when the frontmatter holds '---' inside a value: the reference parser
    # cuts it there, and either rejects what is left or reads a shorter value
    inner_dashes: tuple[int, bool] | None = None


def decode(data: bytes, report: Report) -> str | None:
    """Bytes to text with LF line ends, or None after reporting why it is not UTF-8 text."""
    if data.startswith(b"\xef\xbb\xbf"):
        report(
            1,
            "warning",
            "bom",
            "file starts with a UTF-8 byte-order mark; the Agent "
            "Skills spec needs the file to start with ---",
        )
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        report(1, "error", "not-utf8", "file is UTF-16; save it as UTF-8")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report(line, "error", "not-utf8", f"file is not valid UTF-8 (byte {exc.start})")
        return None
    if "\x00" in text:
        report(1, "error", "binary", "file is binary, not Markdown")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_frontmatter(text: str) -> bool:
    """Whether a Markdown text opens with a `---` line (it means to have frontmatter)."""
    first = text.split("\n", 1)[0]
    return first.rstrip() == "---"


def parse(text: str, report: Report, *, strict: bool = False) -> Document | None:
    """Parse decoded text; report defects and return None when there is no usable mapping.

    ``strict`` also looks for what the Agent Skills reference parser refuses (skills only).
    """
    line_count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if line_count > MAX_LINES:
        report(
            MAX_LINES + 1,
            "note",
            "too-long",
            f"{line_count} lines; the Agent Skills spec suggests under {MAX_LINES} "
            "(move detail into references/)",
        )
    if not text.strip():
        report(1, "error", "empty", "file is empty; expected YAML frontmatter")
        return None
    if not has_frontmatter(text):
        report(1, "error", "no-frontmatter", "no YAML frontmatter (first line must be ---)")
        return None
    rest = text.split("\n", 1)[1] if "\n" in text else ""
    end = _CLOSE.search(rest)
    if end is None:
        report(1, "error", "no-frontmatter", "frontmatter is not closed by a --- line")
        return None
    yaml_text = rest[: end.start()]
    body = rest[end.end() :].lstrip("\n")
    body_line = text.count("\n", 0, len(text) - len(body)) + 1
    loader = _StringLoader(yaml_text)
    duplicates: list[tuple[int, str]] = []
    try:
        node = loader.get_single_node()
        if node is not None:
            data, duplicates = _construct(loader, node)
        else:
            data = None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem = f"{problem} ({context} started on line {context_mark.line + 2})"
        hint = _colon_hint(yaml_text, mark.line) if mark is not None else ""
        report(line, "error", "yaml", f"frontmatter is not valid YAML: {problem}{hint}")
        return None
    finally:
        loader.dispose()
    if data is None or data == "":
        data = {}
    if not isinstance(data, dict):
        report(2, "error", "frontmatter-type", "frontmatter must be a mapping of keys")
        return None
    doc = Document(
        data={str(k): v for k, v in data.items()},
        body=body,
        body_line=body_line,
        key_lines=_key_lines(node),
        duplicates=[(line + 2, key) for line, key in duplicates],
    )
    if strict and _STRICT_SUSPECTS.search(yaml_text):
        doc.strict_yaml = _strict_constructs(yaml_text)
    if strict and "---" in yaml_text:
        cut = yaml_text[: yaml_text.index("---")]
        doc.inner_dashes = (cut.count("\n") + 2, _cut_is_rejected(cut, doc.data))
    return doc


def _cut_is_rejected(cut: str, full: dict[str, Any]) -> bool:
    """Whether the frontmatter up to the first '---' (what the reference parser reads) no
    longer parses, or loses the name or description the whole frontmatter has."""
    loader = _StringLoader(cut)
    try:
        node = loader.get_single_node()
        data = _construct(loader, node)[0] if node is not None else None
    except yaml.YAMLError:
        return True
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        return True
    return any(key in full and key not in data for key in ("name", "description"))


def _key_lines(node: Any) -> dict[str, int]:
    """File line of each top-level key, and of `parent.child` one level down."""
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        lines.setdefault(str(key_node.value), key_node.start_mark.line + 2)
        if isinstance(value_node, yaml.MappingNode):
            for child, _ in value_node.value:
                if isinstance(child, yaml.ScalarNode):
                    dotted = f"{key_node.value}.{child.value}"
                    lines.setdefault(dotted, child.start_mark.line + 2)
    return lines


_STRICT_TOKENS: dict[type, str] = {
    yaml.FlowSequenceStartToken: "a flow-style list [...]",
    yaml.FlowMappingStartToken: "a flow-style mapping {...}",
    yaml.AnchorToken: "an anchor (&)",
    yaml.AliasToken: "an alias (*)",
    yaml.TagToken: "an explicit tag (!)",
}


def _strict_constructs(yaml_text: str) -> list[tuple[int, str]]:
    """Lines where YAML uses what strictyaml (the reference parser) refuses."""
    found: list[tuple[int, str]] = []
    try:
        for token in yaml.scan(yaml_text, Loader=_BaseLoader):
            what = _STRICT_TOKENS.get(type(token))
            if what is not None:
                found.append((token.start_mark.line + 2, what))
    except yaml.YAMLError:  # pragma: no cover - the full parse above already succeeded
        pass
    return found


def _colon_hint(yaml_text: str, index: int) -> str:
    """For a value holding `: ` (YAML reads a second key): how to quote it, on its own line."""
    lines = yaml_text.splitlines()
    source = lines[index] if 0 <= index < len(lines) else ""
    key, sep, value = source.partition(":")
    value = value.strip()
    if not sep or ": " not in value or not key.strip() or key.startswith((" ", "\t", "-")):
        return ""
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if len(quoted) > 50:
        quoted = quoted[:45] + '..."'
    return f"; a value holding ': ' must be quoted: {key.strip()}: {quoted}"
