"""One entry from its files: parse the definition, apply its format's rules, build the Entry.

A folder with `SKILL.md` or `ROLE.md` is always an entry (or a problem); an agent candidate
is a role only if its frontmatter names one, else it is skipped silently (a README).
Two entries of one kind that declare one name are ambiguous: both are dropped.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sitegen.entry import SINGULAR
from sitegen.library import frontmatter
from sitegen.library.agents import check_agent, is_agent_candidate
from sitegen.library.discover import Candidate
from sitegen.library.fields import Fields
from sitegen.library.files import Collector, FileReader, RawFile
from sitegen.library.frontmatter import Document
from sitegen.library.model import KIND_OF_FORMAT, Entry, FileInfo, Level, Problem, compute_etag
from sitegen.library.rules import check_role, check_skill


@dataclass
class EntryReader:
    """Turns discovery's candidates into entries and the problems found on the way."""

    files: FileReader

    def display(self, rel: str) -> str:
        return self.files.display(rel)

    def read_entry(self, candidate: Candidate) -> tuple[Entry | None, list[Problem]]:
        out = Collector()
        files = self.files.accept_files(candidate, out)
        self.files.load_contents(files, out)
        definition_rel = candidate.definition
        shown = self.display(definition_rel)
        by_rel = {f.rel: f for f in files}
        own = posixpath.basename(definition_rel)
        if out.failed or own not in by_rel:
            return None, out.problems
        fields, doc = _parse(candidate, by_rel[own].content or b"", shown, out)
        if fields is None or doc is None or out.failed:
            return None, out.problems
        return self.build(candidate, fields, files, doc), out.problems

    def read_agent(self, candidate: Candidate) -> tuple[Entry | None, list[Problem], bool]:
        """An agent candidate is a role only if its frontmatter names one; else it is skipped."""
        out = Collector()
        files = self.files.accept_files(candidate, out)
        self.files.load_contents(files, out)
        if out.failed or not files:
            return None, out.problems, bool(out.failed)
        shown = self.display(candidate.definition)
        report = _reporter(shown, out)
        text = frontmatter.decode(files[0].content or b"", report)
        if text is None:
            return None, out.problems, True
        if not frontmatter.has_frontmatter(text):
            return None, [], False  # plain Markdown (a README): not an agent
        doc = frontmatter.parse(text, report)
        if doc is None:
            return None, out.problems, True
        if not is_agent_candidate(doc.data):
            return None, [], False
        fields = check_agent(doc, candidate.definition, report)
        if fields is None or out.failed:
            return None, out.problems, True
        return self.build(candidate, fields, files, doc), out.problems, True

    def build(
        self,
        candidate: Candidate,
        fields: Fields,
        files: list[RawFile],
        doc: Document,
    ) -> Entry:
        infos = tuple(
            FileInfo(f.rel, f.size, hashlib.sha256(f.content or b"").hexdigest()) for f in files
        )
        mtimes = [f.mtime for f in files if f.mtime is not None]
        return Entry(
            kind=KIND_OF_FORMAT[candidate.format],
            name=fields.name,
            folder=candidate.folder,
            description=fields.description,
            tags=fields.tags,
            license=fields.license,
            compatibility=fields.compatibility,
            allowed_tools=fields.allowed_tools,
            metadata=MappingProxyType(fields.metadata),
            body=doc.body,
            body_line=doc.body_line,
            files=infos,
            etag=compute_etag(infos),
            definition_path=candidate.definition,
            key_lines=MappingProxyType(dict(doc.key_lines)),
            modified=max(mtimes) if mtimes else None,
            frontmatter=MappingProxyType(dict(doc.data)),
            format=candidate.format,
            tools=fields.tools,
            model=fields.model,
            created=min(mtimes) if mtimes else None,  # git dates replace these in a checkout
            updated=max(mtimes) if mtimes else None,
        )


def date_key(entry: Entry) -> str:
    """What git dates an entry by: its folder, or its own file for an agent."""
    return entry.definition_path if entry.format == "agent" else entry.folder


def _reporter(shown: str, out: Collector) -> frontmatter.Report:
    def report(line: int, level: Level, code: str, message: str) -> None:
        out.add(shown, line, level, code, message)

    return report


def _parse(
    candidate: Candidate, data: bytes, shown: str, out: Collector
) -> tuple[Fields | None, Document | None]:
    report = _reporter(shown, out)
    text = frontmatter.decode(data, report)
    if text is None:
        return None, None
    doc = frontmatter.parse(text, report, strict=candidate.format == "skill")
    if doc is None:
        return None, None
    if candidate.format == "skill":
        return check_skill(doc, candidate.folder_name, report), doc
    return check_role(doc, candidate.folder_name, report), doc


def drop_duplicates(built: list[Entry], display: Any) -> tuple[list[Entry], list[Problem]]:
    """Two entries of one kind that declare one name are ambiguous: drop them all."""
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for item in built:
        groups[(item.kind, item.name)].append(item)
    kept: list[Entry] = []
    problems: list[Problem] = []
    for (kind, name), group in groups.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        paths = [b.definition_path for b in group]
        for item in group:
            others = ", ".join(display(p) for p in paths if p != item.definition_path)
            problems.append(
                Problem(
                    display(item.definition_path),
                    item.key_lines.get("name", 1),
                    "error",
                    "duplicate-name",
                    f"{SINGULAR[kind]} name {name!r} is also declared by {others}",
                )
            )
    return kept, problems
