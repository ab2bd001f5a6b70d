"""Find entries wherever they are, in one walk of the library tree.

An entry is any folder holding `SKILL.md` (or `skill.md`, as the spec allows) or `ROLE.md`,
at any depth, dot-folders included; every file below it belongs to it, so a `SKILL.md`
nested inside an entry is one of its files, not a new entry. Markdown files outside entries
that match the agent globs (by default any `.md` below a folder named `agents/`) are
candidate agent roles. Only tooling folders are skipped: VCS metadata, caches, `index/`
and the site output folder.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sitegen.config import INDEX_DIR, Config
from sitegen.library.model import Format, Scan
from sitegen.library.selection import Globs, select

SKILL_FILES = ("SKILL.md", "skill.md")  # the spec's reference validator accepts both
ROLE_FILES = ("ROLE.md",)
DEFINITIONS: Mapping[str, Format] = {"SKILL.md": "skill", "skill.md": "skill", "ROLE.md": "role"}
# Folders that are tooling, never content: VCS metadata, caches, dependency trees.
SKIPPED_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
# The site publisher's staging and old trees, temp links, journals (never library content).
_TXN_RE = re.compile(r"\.sitegen-(txn|gen|old|site|link)-")


@dataclass
class Listed:
    """One file as the walk saw it; ``rel`` is relative to its entry folder."""

    rel: str
    full: str
    size: int
    mtime: float | None
    islink: bool
    regular: bool


@dataclass
class Candidate:
    """A folder (or agent file) that should become one entry."""

    format: Format
    folder: str  # library-relative, '' for the root itself
    definition: str  # library-relative path of the definition file
    files: list[Listed] = field(default_factory=list)
    root_name: str = ""  # the library root's own name, for an entry at the root

    @property
    def folder_name(self) -> str:
        """The name the spec compares a skill's name with: its folder's (or the root's)."""
        return posixpath.basename(self.folder) if self.folder else self.root_name


@dataclass
class Finding:
    """A layout problem found while walking (no entry to attach it to)."""

    rel: str
    level: str
    code: str
    message: str


@dataclass
class Discovery:
    candidates: list[Candidate]
    agents: list[Candidate]
    findings: list[Finding]
    scan: Scan


@dataclass
class Tree:
    """A flat listing of the library: library-relative file paths and folder paths."""

    files: dict[str, dict[str, Any]]
    folders: set[str]
    skipped: list[str]


def walk_local(root: str, skip: frozenset[str]) -> Tree:
    """One os.scandir pass (about 3x faster than fsspec's find with details)."""
    files: dict[str, dict[str, Any]] = {}
    folders: set[str] = set()
    skipped: list[str] = []
    stack = [("", root)]
    while stack:
        rel_dir, folder = stack.pop()
        try:
            items = list(os.scandir(folder))
        except OSError:
            continue
        for item in items:
            rel = f"{rel_dir}/{item.name}" if rel_dir else item.name
            try:
                if item.is_dir(follow_symlinks=False):
                    if _skipped(item.name, rel, skip):
                        skipped.append(rel + "/")
                        continue
                    folders.add(rel)
                    stack.append((rel, item.path))
                    continue
                stat = item.stat(follow_symlinks=False)
                link = item.is_symlink()
            except OSError:
                continue
            files[rel] = {
                "name": item.path,
                "size": stat.st_size,
                "mtime": stat.st_mtime,
                "islink": link,
                "regular": not link and item.is_file(follow_symlinks=False),
            }
    return Tree(files, folders, skipped)


def walk_fs(fs: Any, root: str, skip: frozenset[str]) -> Tree:
    """The same listing through fsspec, for any other filesystem (one `find` call)."""
    listing: dict[str, dict[str, Any]] = fs.find(root, withdirs=True, detail=True)
    prefix = root.rstrip("/") + "/"
    files: dict[str, dict[str, Any]] = {}
    folders: set[str] = set()
    skipped: set[str] = set()
    for full, info in listing.items():
        full = full.rstrip("/")
        if not full.startswith(prefix):
            continue
        rel = full[len(prefix) :]
        parts = rel.split("/")
        hidden = next(
            (i for i, p in enumerate(parts) if _skipped(p, "/".join(parts[: i + 1]), skip)), None
        )
        if hidden is not None:
            if hidden < len(parts) - 1 or info.get("type") == "directory":
                skipped.add("/".join(parts[: hidden + 1]) + "/")
            continue
        if info.get("type") == "directory":
            folders.add(rel)
            continue
        ftype = info.get("type")
        files[rel] = {
            "name": full,
            "size": int(info.get("size") or 0),
            "mtime": _mtime(info),
            "islink": bool(info.get("islink")),
            "regular": ftype in (None, "file"),
        }
    return Tree(files, folders, sorted(skipped))


def _skipped(name: str, rel: str, skip: frozenset[str]) -> bool:
    return name in SKIPPED_NAMES or rel in skip or bool(_TXN_RE.search(name))


def _mtime(info: Mapping[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        timestamp = getattr(value, "timestamp", None)
        if callable(timestamp):
            return float(timestamp())
    return None


def skip_set(config: Config, extra: Iterable[str] = ()) -> frozenset[str]:
    """Library-relative folders never read: `index/`, the output folder, extra ones."""
    skip = {INDEX_DIR}
    for rel in (config.out, *extra):
        rel = rel.strip("/")
        if rel and not rel.startswith("..") and not posixpath.isabs(rel):
            skip.add(posixpath.normpath(rel))
    return frozenset(skip)


def discover(tree: Tree, config: Config, root_name: str, display_root: str) -> Discovery:
    """Turn a listing into entry candidates, agent-file candidates and layout findings."""
    entries: dict[str, tuple[Format, str]] = {}
    both: dict[str, str] = {}
    near: dict[str, str] = {}
    for rel in tree.files:
        folder, _, base = rel.rpartition("/")
        fmt = DEFINITIONS.get(base)
        if fmt is not None:
            previous = entries.get(folder)
            if previous is None:
                entries[folder] = (fmt, rel)
            elif previous[0] != fmt:
                both[folder] = f"{posixpath.basename(previous[1])} and {base}"
            elif base == "SKILL.md":  # SKILL.md wins over skill.md, as in the reference
                entries[folder] = (fmt, rel)
        elif base.lower() in ("skill.md", "role.md"):
            near.setdefault(folder, base)
    for folder in both:
        entries.pop(folder, None)
    claimed = _outermost(entries)
    findings: list[Finding] = []
    for folder, found in sorted(both.items()):
        if not _below(folder, claimed):
            shown = f"{folder}/" if folder else "./"
            findings.append(
                Finding(
                    f"{folder}/SKILL.md" if folder else "SKILL.md",
                    "error",
                    "missing-definition",
                    f"{shown} holds both {found}; one folder is one entry",
                )
            )
    for folder, found in sorted(near.items()):
        if folder in claimed or _below(folder, claimed):
            continue
        shown = f"{folder}/" if folder else "./"
        expected = "SKILL.md" if found.lower() == "skill.md" else "ROLE.md"
        findings.append(
            Finding(
                f"{folder}/{found}" if folder else found,
                "error",
                "missing-definition",
                f"no {expected} in {shown} (found {found}; the file name is case-sensitive)",
            )
        )
    near_folders = set(near) | set(both)
    candidates = {
        folder: Candidate(fmt, folder, definition, root_name=root_name)
        for folder, (fmt, definition) in claimed.items()
    }
    loose: list[str] = []
    for rel, info in tree.files.items():
        owner = _owner(rel, candidates)
        if owner is None:
            loose.append(rel)
            continue
        rel_in = rel[len(owner.folder) + 1 :] if owner.folder else rel
        owner.files.append(_listed(rel_in, info))
    agent_globs = Globs(config.roles.agents)
    agents = [
        Candidate(
            "agent",
            posixpath.dirname(rel),
            rel,
            [_listed(posixpath.basename(rel), tree.files[rel])],
        )
        for rel in sorted(loose)
        if rel.endswith(".md") and agent_globs.match_path(rel)
    ]
    findings.extend(_canonical_gaps(tree, candidates, near_folders, agents))
    kept, excluded = select(list(candidates.values()), agents, config)
    scan = Scan(
        root=display_root,
        folders=len(tree.folders),
        files=len(tree.files),
        skipped=tuple(sorted(tree.skipped)),
        agent_globs=config.roles.agents,
        excluded=excluded,
    )
    return Discovery(
        candidates=[c for c in kept if c.format != "agent"],
        agents=[c for c in kept if c.format == "agent"],
        findings=findings,
        scan=scan,
    )


def _outermost(entries: Mapping[str, tuple[Format, str]]) -> dict[str, tuple[Format, str]]:
    """Entry folders not inside another entry folder (shallowest claim their subtree)."""
    claimed: dict[str, tuple[Format, str]] = {}
    for folder in sorted(entries, key=lambda f: (f.count("/") if f else -1, f)):
        if not _below(folder, claimed):
            claimed[folder] = entries[folder]
    return claimed


def _below(folder: str, claimed: Mapping[str, Any]) -> bool:
    """Whether `folder` lies strictly below a claimed folder."""
    if not folder:
        return False
    if "" in claimed:
        return True
    probe = posixpath.dirname(folder)
    while probe:
        if probe in claimed:
            return True
        probe = posixpath.dirname(probe)
    return False


def _owner(rel: str, candidates: Mapping[str, Candidate]) -> Candidate | None:
    probe = posixpath.dirname(rel)
    while probe:
        owner = candidates.get(probe)
        if owner is not None:
            return owner
        probe = posixpath.dirname(probe)
    return candidates.get("")


def _listed(rel: str, info: Mapping[str, Any]) -> Listed:
    return Listed(
        rel=rel,
        full=str(info["name"]),
        size=int(info.get("size") or 0),
        mtime=info.get("mtime"),
        islink=bool(info.get("islink")),
        regular=bool(info.get("regular", True)),
    )


def _canonical_gaps(
    tree: Tree, candidates: Mapping[str, Candidate], near: set[str], agents: list[Candidate]
) -> list[Finding]:
    """In the documented layout, `skills/<x>/` without a SKILL.md is almost surely a slip."""
    tops = [
        folder
        for folder in sorted(tree.folders)
        if posixpath.dirname(folder) in ("skills", "roles")
        and folder not in candidates
        and not posixpath.basename(folder).startswith(".")
        and not _below(folder, candidates)
    ]
    if not tops:
        return []
    holders = set()  # folders with an entry, a near miss or an agent file at or below them
    for path in [*candidates, *near, *(a.definition for a in agents)]:
        while path and path not in holders:
            holders.add(path)
            path = posixpath.dirname(path)
    nonempty = set()  # folders holding a file at some depth
    for rel in tree.files:
        folder = posixpath.dirname(rel)
        while folder and folder not in nonempty:
            nonempty.add(folder)
            folder = posixpath.dirname(folder)
    findings = []
    for folder in tops:
        if folder in holders or folder not in nonempty:
            continue
        definition = "SKILL.md" if posixpath.dirname(folder) == "skills" else "ROLE.md"
        findings.append(
            Finding(
                f"{folder}/{definition}",
                "warning",
                "missing-definition",
                f"no {definition} in {folder}/; the folder is not an entry",
            )
        )
    return findings
