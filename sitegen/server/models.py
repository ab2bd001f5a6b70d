"""The API's response types, declared once: FastAPI publishes them in the OpenAPI document and
the handlers serialize through them, so the document cannot drift from what clients receive.

An entry's JSON and its schema are `sitegen.entry`'s (:func:`record_json`, :func:`entry_schema`),
never restated here; the fields a match shares with an entry borrow the entry schema's words.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import CoreSchema

from sitegen.entry import COLUMN_SPECS, Kind, public_json, public_json_schema
from sitegen.metastore import Record
from sitegen.urls import SiteUrls

_URLS = SiteUrls()
_DOCS = {name: column.doc for name, column in COLUMN_SPECS}
URL_DOC = "The entry's page, relative to the site root."


def entry_url(kind: str, name: str) -> str:
    return _URLS.entry_dir(kind, name) + "/"


def record_json(record: Record) -> dict[str, Any]:
    """The API's view of an entry: the schema's public fields and the entry page's URL."""
    return public_json(record, url=entry_url(record.kind, record.name))


def entry_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`record_json`, derived from the one entry schema."""
    schema = public_json_schema()
    schema["properties"]["url"] = {"type": "string", "description": URL_DOC}
    schema["required"].append("url")
    return schema


class Entry(RootModel[dict[str, Any]]):
    """An indexed role or skill: `sitegen.entry`'s public fields and its page's URL."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**entry_schema(), "description": cls.__doc__}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    """One ranked entry: `search.Match.as_dict()` (as `sitegen match --json` prints it) and
    the entry page's URL. A field added there and not here fails loudly (extra fields are
    refused), so the document cannot fall behind."""

    type: Kind = Field(description="roles or skills.")
    name: str = Field(description=_DOCS["name"])
    description: str = Field(description=_DOCS["description"])
    tags: list[str] = Field(description=_DOCS["tags"])
    derived_tags: list[str] = Field(description=_DOCS["derived_tags"])
    distance: float = Field(description="Cosine distance to the query (0 = same meaning).")
    exact: bool = Field(description="The query names this entry; such entries rank first.")
    url: str = Field(description=URL_DOC)


class MatchResponse(_Strict):
    """Entries ranked by closeness to the query."""

    query: str = Field(description="The query as embedded (whitespace collapsed).")
    truncated: bool = Field(description="The query was longer than the model reads.")
    build: str = Field(description="The index build that answered.")
    did_you_mean: str | None = Field(
        description="The query with misspelt words corrected, when some were (the results "
        "already include what the corrected query finds); null otherwise."
    )
    results: list[Match]


class EntryList(_Strict):
    """Indexed entries, by name."""

    build: str = Field(description="The index build that answered.")
    entries: list[Entry]


class Health(_Strict):
    """Whether the server has a usable index, and which."""

    status: Literal["ok", "unhealthy", "unavailable"] = Field(
        description="ok; unhealthy: the index on disk cannot be used, the last good build "
        "still answers (503); unavailable: no usable index at all (503)."
    )
    fingerprint: str | None = Field(default=None, description="The embedding model's fingerprint.")
    build: str | None = Field(default=None, description="The index build being served.")
    written: str | None = Field(default=None, description="When that build was written (UTC).")
    counts: dict[str, int] | None = Field(default=None, description="Entries per type.")
    error: str | None = Field(default=None, description="Why the index cannot be used.")


class ErrorDetail(_Strict):
    message: str = Field(description="One line naming the fault.")
    param: str | None = Field(default=None, description="The parameter at fault, if one is.")


class Error(_Strict):
    """A failed request; `param` names the parameter to fix."""

    error: ErrorDetail


def error_body(message: str, param: str | None = None) -> bytes:
    """The error shape every API failure uses: `{"error": {"message", "param"}}`."""
    detail = ErrorDetail(message=message, param=param)
    return Error(error=detail).model_dump_json(exclude_none=True).encode()
