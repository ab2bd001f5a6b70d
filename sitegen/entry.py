"""The one entry schema: every field an indexed role or skill carries, declared once.

:class:`Record` is the entry as the index holds it. Each of its fields says, in its metadata,
how it is stored (its DuckDB/Parquet column type), what it means (``doc``), and whether it is
part of the public JSON that the API, ``catalog.json``, the JSON twins and MCP return.
Everything else is derived from that one declaration:

- :data:`COLUMNS` (the Parquet/DuckDB schema) and the row conversions of the meta store
  (:func:`to_row`, :func:`from_row`);
- :func:`public_json`, the JSON view of an entry shared by every front end;
- :func:`public_json_schema`, the JSON Schema of that view (OpenAPI, MCP output schemas).

Adding a field means adding it to :class:`Record` (and, if it comes from the library, to the
one mapping in :func:`sitegen.indexer.to_record`). This module imports nothing of sitegen, so
every room may import it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Kind = Literal["roles", "skills"]
Format = Literal["skill", "role", "agent"]

KINDS: tuple[Kind, ...] = ("roles", "skills")
FORMATS: tuple[Format, ...] = ("skill", "role", "agent")
SINGULAR: Mapping[str, str] = types.MappingProxyType({"roles": "role", "skills": "skill"})
DIM = 384  # all-MiniLM-L6-v2's sentence vectors
SCHEMA_VERSION = "3"


@dataclass(frozen=True)
class Column:
    """How a field of :class:`Record` is stored and shown."""

    sql: str  # DuckDB type, without constraints
    doc: str
    public: bool = True  # part of the JSON every front end returns
    required: bool = True  # NOT NULL in the store
    key: bool = False  # the primary key within a kind's table


def _field(
    sql: str,
    doc: str,
    *,
    default: Any = None,
    public: bool = True,
    required: bool = False,
    key: bool = False,
) -> Any:
    """A stored field; ``required`` columns are NOT NULL in the store."""
    meta = {"column": Column(sql, doc, public, required or key, key)}
    if key:
        return field(metadata=meta)
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=meta)
    return field(default=default, metadata=meta)


def _tuple_field(doc: str, *, public: bool = True) -> Any:
    return _field("VARCHAR[]", doc, default=(), public=public, required=True)


@dataclass(frozen=True, kw_only=True)
class Record:
    """One indexed entry. ``kind`` is the table it lives in (JSON ``type``), not a column."""

    kind: Kind
    name: str = _field(
        "VARCHAR",
        "The entry's name: lowercase letters, digits and hyphens; unique per type.",
        key=True,
    )
    format: Format = _field(
        "VARCHAR",
        "How the entry is written: skill (SKILL.md), role (a Persona ROLE.md) or agent "
        "(a single agent definition file).",
        default="skill",
        required=True,
    )
    description: str = _field(
        "VARCHAR", "What the entry does and when to use it.", default="", required=True
    )
    tags: tuple[str, ...] = _tuple_field("Tags the author wrote.")
    derived_tags: tuple[str, ...] = _tuple_field(
        "Tags derived from the keyword taxonomy, for an entry whose author wrote none."
    )
    folder: str = _field(
        "VARCHAR", "The entry's folder, relative to the library root.", default="", required=True
    )
    definition_path: str = _field(
        "VARCHAR",
        "The definition file, relative to the library root.",
        default="",
        required=True,
    )
    files: tuple[str, ...] = _tuple_field("The entry's files, relative to its folder.")
    etag: str = _field(
        "VARCHAR",
        "Hash of the entry's file paths and contents; changes whenever any file does.",
        default="",
        required=True,
    )
    uuid: str = _field(
        "VARCHAR", "Stable identifier, kept across edits.", default="", required=True
    )
    date_created: datetime | None = _field(
        "TIMESTAMP",
        "When the entry first appeared (UTC; from git where the library is a checkout).",
        required=True,
    )
    date_updated: datetime | None = _field(
        "TIMESTAMP", "When the entry's content last changed (UTC).", required=True
    )
    version: str | None = _field("VARCHAR", "metadata.version, when the author set one.")
    author: str | None = _field("VARCHAR", "metadata.author, when the author set one.")
    license: str | None = _field("VARCHAR", "The license the entry declares.")
    compatibility: str | None = _field(
        "VARCHAR", "Environment requirements the entry declares (Agent Skills compatibility)."
    )
    allowed_tools: str | None = _field(
        "VARCHAR", "The tools the entry declares, as written (allowed-tools or tools)."
    )
    tools: tuple[str, ...] = _tuple_field("The declared tools, one per item.")
    model: str | None = _field(
        "VARCHAR", "An agent's model (sonnet, opus, haiku, inherit or a model id)."
    )
    metadata: Mapping[str, Any] = _field(
        "VARCHAR",
        "The frontmatter's metadata map, as written (stored as JSON text).",
        default={},
    )
    modified: datetime | None = _field(
        "TIMESTAMP", "Newest file time in the library when indexed.", public=False
    )
    embedded_text: str = _field(
        "VARCHAR",
        "The text whose vector represents the entry.",
        default="",
        public=False,
        required=True,
    )
    embedding: Any = field(
        default=None,
        compare=False,
        repr=False,
        metadata={"column": Column(f"FLOAT[{DIM}]", "The embedded text's vector.", False, True)},
    )

    @property
    def singular(self) -> str:
        return SINGULAR[self.kind]

    @property
    def all_tags(self) -> tuple[str, ...]:
        """Authored tags, or the derived ones when the author wrote none."""
        return self.tags or self.derived_tags


def _columns() -> tuple[tuple[str, Column], ...]:
    return tuple(
        (f.name, f.metadata["column"])
        for f in dataclasses.fields(Record)
        if "column" in f.metadata
    )


COLUMN_SPECS: tuple[tuple[str, Column], ...] = _columns()
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMN_SPECS)
# (name, DuckDB type with constraints) for CREATE TABLE.
COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (
        name,
        column.sql
        + (" PRIMARY KEY" if column.key else " NOT NULL" if column.required else ""),
    )
    for name, column in COLUMN_SPECS
)
# Everything but the vector: what listings and pages need.
LIGHT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMN_NAMES if c != "embedding")
PUBLIC_FIELDS: tuple[str, ...] = tuple(name for name, c in COLUMN_SPECS if c.public)
# Values a column takes when a row is read from an older index that lacks it, as SQL.
COLUMN_DEFAULTS: Mapping[str, str] = types.MappingProxyType(
    {
        "format": "CASE WHEN '{kind}' = 'skills' THEN 'skill' ELSE 'role' END",
        "definition_path": "'{kind}/' || folder || '/' || "
        "(CASE WHEN '{kind}' = 'skills' THEN 'SKILL.md' ELSE 'ROLE.md' END)",
        "tools": "CAST([] AS VARCHAR[])",
        "derived_tags": "CAST([] AS VARCHAR[])",
        "model": "CAST(NULL AS VARCHAR)",
    }
)


# -- rows of the store ----------------------------------------------------------------------


def to_row(record: Record, **overrides: Any) -> dict[str, Any]:
    """The record as one row of its kind's table (values DuckDB/Arrow take as they are)."""
    row: dict[str, Any] = {}
    for name, column in COLUMN_SPECS:
        value = overrides[name] if name in overrides else getattr(record, name)
        if column.sql == "VARCHAR[]":
            value = list(value or ())
        elif name == "metadata":
            value = json.dumps(dict(value or {}), default=str, sort_keys=True)
        elif name == "embedding" and value is not None:
            value = value.tolist() if hasattr(value, "tolist") else [float(x) for x in value]
        row[name] = value
    return row


def from_row(kind: str, row: Mapping[str, Any]) -> Record:
    """A record from a row (any subset of :data:`COLUMN_NAMES`; the vector is optional)."""
    values: dict[str, Any] = {}
    for name, column in COLUMN_SPECS:
        if name not in row:
            continue
        value = row[name]
        if column.sql == "VARCHAR[]":
            value = tuple(value or ())
        elif name == "metadata":
            value = json.loads(value) if value else {}
        elif name == "embedding" and value is not None:
            import numpy as np  # only readers that ask for vectors pay for numpy here

            value = np.asarray(value, dtype=np.float32)
        values[name] = value
    return Record(kind=kind, **values)  # type: ignore[arg-type]


# -- the public JSON view -----------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return json.loads(json.dumps(dict(value), default=str))
    return value


def public_json(record: Record, **extra: Any) -> dict[str, Any]:
    """The entry as every front end shows it to machines: ``type`` then the public fields.

    ``extra`` adds front-end fields (a page URL, an archive) after the schema's own.
    """
    data: dict[str, Any] = {"type": record.kind}
    for name in PUBLIC_FIELDS:
        data[name] = _json_value(getattr(record, name))
    data.update(extra)
    return data


def _schema_of(annotation: Any) -> dict[str, Any]:
    """JSON Schema (2020-12, as OpenAPI 3.1 uses) of one field's type annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        inner = _schema_of(options[0]) if len(options) == 1 else {}
        kind = inner.get("type")
        if isinstance(kind, str) and len(args) > len(options):
            return {**inner, "type": [kind, "null"]}
        return inner
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin is tuple or annotation is tuple:
        return {"type": "array", "items": _schema_of(args[0]) if args else {}}
    if origin is not None and issubclass(origin, Mapping):
        return {"type": "object"}
    if annotation is str:
        return {"type": "string"}
    if annotation is datetime:
        return {"type": "string", "format": "date-time"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if annotation is bool:
        return {"type": "boolean"}
    return {}


def public_json_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`public_json`'s result, from the same declaration."""
    hints = typing.get_type_hints(Record)
    properties: dict[str, Any] = {
        "type": {**_schema_of(hints["kind"]), "description": "roles or skills."}
    }
    for name, column in COLUMN_SPECS:
        if column.public:
            properties[name] = {**_schema_of(hints[name]), "description": column.doc}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": True,
    }
