"""`sitegen new`: a spec-valid entry from a template, so an author starts from something right.

Three forms: a skill (`skills/<name>/SKILL.md`, the Agent Skills spec: tags in
`metadata.tags` as one comma-separated string), a Persona role (`roles/<name>/ROLE.md`, a
top-level `tags` list) and an agent file (`agents/<name>.md`, Claude Code's subagent format:
the body is the system prompt). Values are checked with the same rules `check` applies
before anything is written; the description is written as a folded block (`>-`), which
needs no quoting whatever it holds. Nothing is overwritten.
"""

from __future__ import annotations

import posixpath
import textwrap
from dataclasses import dataclass

from sitegen.errors import UsageError
from sitegen.library import Library
from sitegen.library.rules import MAX_DESCRIPTION, MAX_NAME, SLUG_RE, spec_name_error

FORMS = ("skill", "role", "agent")
KIND_OF_FORM = {"skill": "skills", "role": "roles", "agent": "roles"}


@dataclass(frozen=True)
class NewEntry:
    form: str
    name: str
    path: str  # library-relative path of the definition file written
    shown: str  # where it is, as the user names the library


def definition_path(form: str, name: str) -> str:
    """Where a new entry of `form` goes, relative to the library root."""
    return {
        "skill": f"skills/{name}/SKILL.md",
        "role": f"roles/{name}/ROLE.md",
        "agent": f"agents/{name}.md",
    }[form]


def check_values(form: str, name: str, description: str | None, tags: tuple[str, ...]) -> None:
    """The rules `check --strict` applies, as errors naming the parameter at fault."""
    if form not in FORMS:
        raise UsageError(f"TYPE: must be one of {', '.join(FORMS)}, not {form!r}")
    if len(name) > MAX_NAME:
        raise UsageError(f"NAME: {len(name)} characters; the limit is {MAX_NAME}")
    problem = spec_name_error(name) if form == "skill" else None
    if problem or not SLUG_RE.match(name):
        raise UsageError(
            f"NAME: {name!r} {problem or 'must be lowercase letters, digits and hyphens'} "
            "(for example pdf-form-filler)"
        )
    if description is not None:
        if not description.strip():
            raise UsageError("--description: must not be empty")
        if len(description) > MAX_DESCRIPTION:
            raise UsageError(
                f"--description: {len(description):,} characters; the limit is {MAX_DESCRIPTION:,}"
            )
    for tag in tags:
        if not tag or any(c in tag for c in ',"\n\\'):
            raise UsageError(f"--tags: {tag!r} is not a tag (use words separated by commas)")


def render(form: str, name: str, description: str | None, tags: tuple[str, ...]) -> str:
    """The definition file's text."""
    title = name.replace("-", " ").capitalize()
    about = description or (
        f"Describe what {name} does and when to use it: the task, its inputs and outputs, "
        "and the words a user would say when they need it. Use when ..."
    )
    lines = ["---", f"name: {name}", "description: >-"]
    lines += ["  " + line for line in textwrap.wrap(" ".join(about.split()), 88)]
    if form == "skill" and tags:
        lines += ["metadata:", f'  tags: "{", ".join(tags)}"']
    elif tags:
        lines += ["tags:"] + [f"  - {tag}" for tag in tags]
    lines.append("---")
    return "\n".join(lines) + "\n\n" + _BODIES[form].format(title=title, name=name)


_BODIES = {
    "skill": """# {title}

One or two sentences on what this skill does and what it produces.

## When to use

- A situation in which an agent should load this skill.
- Another one, in the words a user would say.

## Workflow

1. The first step, with the exact command or check to run.
2. The next step.
3. What to hand back, and in what shape.

## Files

Put helper scripts in `scripts/`, longer reference material in `references/` and templates
in `assets/`, and link them from here (for example `scripts/run.py`).
""",
    "role": """# {title}

You are a ... Say who this role is, what it is responsible for and how it works.

## Responsibilities

- What it owns.
- What it hands back.

## Style

How it communicates, and what it never does.
""",
    "agent": """You are a ... Say who this agent is, what it is responsible for, and how it works.

When invoked:
1. The first thing to do.
2. The next.
3. What to report back, and in what shape.
""",
}


def new_entry(
    library: Library,
    form: str,
    name: str,
    *,
    description: str | None = None,
    tags: tuple[str, ...] = (),
) -> NewEntry:
    """Write a new entry into `library` (created if missing); refuses to overwrite a file or
    to reuse a name the library already has for that kind."""
    check_values(form, name, description, tags)
    rel = definition_path(form, name)
    target = library.path(rel)
    shown = library.display(rel)
    fs = library.fs
    if fs.exists(target) or fs.exists(posixpath.dirname(target)) and form != "agent":
        raise UsageError(f"{library.display(posixpath.dirname(rel))}: already exists")
    if library.exists():
        kind = KIND_OF_FORM[form]
        same = [e for e in library.read().entries if e.kind == kind and e.name == name]
        if same:
            raise UsageError(
                f"{name}: the library already has a {form if kind == 'skills' else 'role'} "
                f"of that name at {library.display(same[0].definition_path)}"
            )
    fs.makedirs(posixpath.dirname(target), exist_ok=True)
    fs.pipe_file(target, render(form, name, description, tags).encode("utf-8"))
    return NewEntry(form, name, rel, shown)
