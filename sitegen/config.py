"""Typed settings and the `sitegen.toml` loader, every setting declared once (as MkDocs does).

A library may hold a `sitegen.toml` at its root with the settings people would otherwise
repeat as flags (title, base URL, output folder, ...) and globs that narrow where entries are
found. Command-line flags override it. Each setting is declared once in :data:`SETTINGS`
with its type, default and help; the loader, the README table and the CLI all read that one
list. A bad file is one :class:`ConfigError` line naming the file, the line and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sitegen.errors import UsageError

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
INDEX_DIR = "index"
CONFIG_FILE = "sitegen.toml"
DEFAULT_AGENT_GLOBS = ("**/agents/**/*.md",)

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3}


def parse_size(text: str) -> int:
    """Parse '10MB', '512k', '1.5MiB' or a plain byte count; binary units for 'i' forms."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (try 10MB, 512KB or a byte count)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    base = 1024 if "i" in unit else 1
    letter = unit[:1] if unit[:1] in "kmg" else ""
    scale = _UNITS[letter] if base == 1 else 1024 ** ("kmg".index(letter) + 1)
    return int(number * scale)


class ConfigError(UsageError):
    """`sitegen.toml` cannot be used; the message is `file:line: key: what is wrong`."""


# -- value types -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {_describe(value)}")
    return value.strip()


def _size(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a size such as 10MB or a byte count, got {_describe(value)}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("expected a positive byte count")
        return value
    if isinstance(value, str):
        return parse_size(value)
    raise ValueError(f"expected a size such as 10MB or a byte count, got {_describe(value)}")


def _globs(value: Any) -> tuple[str, ...]:
    from fsspec.utils import glob_translate

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"expected a list of glob patterns, got {_describe(value)}")
    patterns = tuple(v.strip().strip("/") or "**" for v in value)
    for pattern in patterns:
        try:
            re.compile(glob_translate(pattern))
        except (ValueError, re.error) as exc:
            raise ValueError(f"bad glob {pattern!r}: {exc}") from exc
    return patterns


SEMANTIC_CHOICES = ("off", "browser", "static")


def _semantic(value: Any) -> str:
    if not isinstance(value, str) or value not in SEMANTIC_CHOICES:
        raise ValueError(f"expected one of {', '.join(SEMANTIC_CHOICES)}, got {_describe(value)}")
    return value


def _base_url(value: Any) -> str:
    from sitegen.urls import normalize_base_url

    return normalize_base_url(_text(value))


def _api_url(value: Any) -> str:
    from sitegen.urls import normalize_api_url

    return normalize_api_url(_text(value))


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a table"}
    return names.get(type(value), repr(value))


@dataclass(frozen=True)
class Setting:
    """One setting: its dotted key in `sitegen.toml`, how to read it, its default, its help.

    A setting with a `flag` is also a command-line option; the CLI builds that option from
    this declaration (help, metavar, and `parse` as the value's check), so the flag and the
    file can never disagree on what a value means.
    """

    key: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    flag: str | None = None  # the command-line flag that overrides it
    metavar: str = "TEXT"
    shown_default: str | None = None  # the default as people read it, when not `default`

    @property
    def option_help(self) -> str:
        """The flag's help: what it does, where else it can be set, its default."""
        default = self.shown_default or (None if self.default is None else str(self.default))
        tail = f"; default: {default}" if default else ""
        return f"{self.help} [sitegen.toml: {self.key}{tail}]"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "title", _text, None, "Site title.", "--title", shown_default="Agent roles & skills"
    ),
    Setting(
        "base_url",
        _base_url,
        None,
        "Absolute URL the site is published at (sitemap, absolute discovery links).",
        "--base-url",
        metavar="URL",
    ),
    Setting(
        "api_url",
        _api_url,
        None,
        "Semantic match endpoint the search page also queries (URL or site-relative path, "
        "e.g. api/match).",
        "--api-url",
        metavar="URL",
    ),
    Setting(
        "semantic",
        _semantic,
        "off",
        "In-browser semantic search on the static site: off, browser (the index's model in "
        "onnxruntime-web, ~20 MB once) or static (a distilled static model, a few MB, less "
        "exact); fetched only when a visitor asks for it.",
        "--semantic",
        metavar="MODE",
    ),
    Setting(
        "templates",
        _text,
        None,
        "Folder of templates (and static/ files) overriding the default theme by file name; "
        "in the file, relative to the library root.",
        "--templates",
        metavar="DIR",
    ),
    Setting(
        "out",
        _text,
        "site",
        "Output folder of `build` (and the site `serve` serves); in the file, relative to "
        "the library root.",
        "--out",
        metavar="DIR",
    ),
    Setting(
        "max_file_size",
        _size,
        DEFAULT_MAX_FILE_SIZE,
        "Largest file an entry may hold (10MB, 512KB or a byte count).",
        "--max-file-size",
        metavar="SIZE",
        shown_default="10MB",
    ),
    Setting(
        "skills.include",
        _globs,
        ("**",),
        "Globs of skill folders (or SKILL.md paths) to read; default everywhere.",
    ),
    Setting("skills.exclude", _globs, (), "Globs of skill folders to leave out."),
    Setting(
        "roles.include",
        _globs,
        ("**",),
        "Globs of role folders and agent files to read; default everywhere.",
    ),
    Setting("roles.exclude", _globs, (), "Globs of role folders and agent files to leave out."),
    Setting(
        "roles.agents",
        _globs,
        DEFAULT_AGENT_GLOBS,
        "Globs of single-file agent roles (Markdown with name/description frontmatter); "
        "replaces the default, any .md below a folder named agents/.",
    ),
)
SETTINGS_BY_KEY: Mapping[str, Setting] = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Selection:
    """Where entries of one kind are looked for (globs over library-relative paths)."""

    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """The effective library settings; ``source`` names the file they came from, if any."""

    title: str | None = None
    base_url: str | None = None
    api_url: str | None = None
    semantic: str = "off"
    templates: str | None = None
    out: str = "site"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    skills: Selection = field(default_factory=Selection)
    roles: Selection = field(default_factory=lambda: Selection(agents=DEFAULT_AGENT_GLOBS))
    source: str | None = None
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    explicit: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()  # keys set on the command line

    def where(self, key: str) -> str:
        """Where a value came from, for error messages: its flag, or `file:line`."""
        if key in self.flags:
            return SETTINGS_BY_KEY[key].flag or key
        return f"{self.source}:{self.lines.get(key, 1)}" if self.source else key

    def given(self, key: str) -> bool:
        """Whether the file set this key (rather than the default applying)."""
        return key in self.explicit

    def with_flags(self, values: Mapping[str, Any]) -> Config:
        """These settings with command-line values laid over them (None: not given).

        Values arrive already checked by their setting's `parse` (the CLI's option type).
        """
        given = {key: value for key, value in values.items() if value is not None}
        return replace(self, **given, flags=self.flags | frozenset(given))

    def path(self, key: str, root: str | None) -> str | None:
        """A folder setting as a path: a flag as given (relative to the working folder), a
        file value relative to the library `root` (None: the library is not on this
        machine, so the value is used as written), else the default."""
        value = getattr(self, key)
        if value is None:
            return None
        text = str(value)
        from_file = key in self.explicit and key not in self.flags
        if from_file and root is not None and not os.path.isabs(text) and "://" not in text:
            return os.path.join(root, text)
        return text


def parse_config(text: str, source: str) -> Config:
    """Parse the text of a `sitegen.toml`; raises ConfigError naming file, line and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else 1
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"{source}:{line}: not valid TOML: {reason}") from exc
    lines = _key_lines(text)
    values: dict[str, Any] = {}
    for key, value in _flatten(data):
        setting = SETTINGS_BY_KEY.get(key)
        line = lines.get(key, 1)
        if setting is None:
            known = ", ".join(s.key for s in SETTINGS)
            raise ConfigError(f"{source}:{line}: {key}: unknown setting (known: {known})")
        try:
            values[key] = setting.parse(value)
        except ValueError as exc:
            raise ConfigError(f"{source}:{line}: {key}: {exc}") from exc

    def get(key: str) -> Any:
        return values.get(key, SETTINGS_BY_KEY[key].default)

    return Config(
        title=get("title"),
        base_url=get("base_url"),
        api_url=get("api_url"),
        semantic=get("semantic"),
        templates=get("templates"),
        out=get("out"),
        max_file_size=get("max_file_size"),
        skills=Selection(get("skills.include"), get("skills.exclude")),
        roles=Selection(get("roles.include"), get("roles.exclude"), get("roles.agents")),
        source=source,
        lines=lines,
        explicit=frozenset(values),
    )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys for tables of known sections (`[skills] include = ...` -> skills.include)."""
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix and dotted in {"skills", "roles"}:
            out.extend(_flatten(value, f"{dotted}."))
        else:
            out.append((dotted, value))
    return out


_TABLE_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(?:#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_.\-\"']+)\s*=")


def _key_lines(text: str) -> dict[str, int]:
    """Line of each dotted key (tomllib does not report positions of valid keys)."""
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_RE.match(line)
        if header:
            table = header.group(1).replace('"', "").replace("'", "").strip()
            lines.setdefault(table, number)
            continue
        key = _KEY_RE.match(line)
        if key:
            name = key.group(1).replace('"', "").replace("'", "")
            lines.setdefault(f"{table}.{name}" if table else name, number)
    return lines
