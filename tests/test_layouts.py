"""Entries wherever real libraries keep them, on local disk and on memory://.

The fixture mixes the layouts seen in public collections: dot-folders under skills/, a plugin
marketplace (`plugins/*/skills/*`, `plugins/*/agents/*.md`), a top folder with another name,
a template folder, a SKILL.md nested inside another entry, `.claude/agents/`, Persona roles,
and `categories/*/*.md` agent files that only the library's sitegen.toml points at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.library import Library
from sitegen.library.selection import Globs
from tests.conftest import copy_to_memory


def skill(name: str, description: str, extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n# {name}\n\nBody.\n"


def agent(name: str, description: str, extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\nYou are {name}.\n"


FILES = {
    "README.md": "# A marketplace of plugins\n",
    "plugins/devops/skills/terraform-drift-check/SKILL.md": skill(
        "terraform-drift-check",
        "Compares Terraform state with live cloud resources. Use before a plan.",
        "metadata:\n  tags: terraform, drift\n",
    ),
    "plugins/devops/skills/terraform-drift-check/scripts/check.sh": "#!/bin/sh\necho drift\n",
    "plugins/devops/skills/terraform-drift-check/.env.example": "TF_TOKEN=\n",
    "plugins/devops/agents/api-designer.md": agent(
        "api-designer",
        '"Use this agent when designing new REST or GraphQL APIs and their versioning."',
        "tools: Read, Write, Edit, Bash\nmodel: sonnet\ncolor: blue\n",
    ),
    "plugins/devops/agents/README.md": "# Agents of this plugin\n\nNot an agent itself.\n",
    "plugins/data/skills/parquet-inspector/SKILL.md": skill(
        "parquet-inspector", "Shows the schema and row groups of Parquet files. Use on data."
    ),
    "plugins/data/agents/data-detective.md": agent(
        "data-detective",
        "Investigates wrong numbers in dashboards back to their source tables.",
        "tools:\n  - Read\n  - Bash(duckdb:*)\nmodel: claude-opus-4-6\n",
    ),
    "skills/.curated/pdf-filler/SKILL.md": skill(
        "pdf-filler", "Fills PDF forms from a JSON answer sheet. Use for paperwork."
    ),
    "skills/.system/skill-installer/SKILL.md": skill(
        "skill-installer", "Installs skills from a catalog into an agent's folder."
    ),
    "scientific-skills/protein-folding-helper/SKILL.md": skill(
        "protein-folding-helper", "Prepares inputs for protein structure prediction runs."
    ),
    "skills/report-writer/SKILL.md": skill(
        "report-writer", "Writes weekly status reports from issue tracker exports."
    ),
    "skills/report-writer/examples/nested/SKILL.md": skill(
        "nested", "An example skill shipped inside another skill, not an entry of its own."
    ),
    ".claude/agents/code-critic.md": agent(
        "code-critic", "Reviews a diff for correctness and naming before it is pushed."
    ),
    ".opencode/agents/doc-linter.md": (
        "---\ndescription: Lints Markdown docs for broken links and stale examples.\n"
        "mode: subagent\ntools:\n  write: false\n  read: true\n  grep: true\n---\nLint docs.\n"
    ),
    "roles/release-manager/ROLE.md": agent(
        "release-manager",
        "Coordinates release trains, freezes and rollbacks across teams.",
        "tags: [releases, coordination]\n",
    ),
    "template/SKILL.md": skill("template-skill", "Replace with what the skill does."),
    "categories/engineering/backend-architect.md": agent(
        "backend-architect", "Designs service boundaries, data ownership and scaling plans."
    ),
}
CONFIG = (
    'title = "Marketplace"\n'
    "[skills]\n"
    'exclude = ["template"]\n'
    "[roles]\n"
    'agents = ["**/agents/**/*.md", "categories/*/*.md"]\n'
)


def write_library(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture()
def marketplace(tmp_path: Path) -> Path:
    return write_library(tmp_path / "market", FILES)


@pytest.fixture(params=["local", "memory"])
def where(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_library(root: Path, where: str) -> Library:
    return Library(root if where == "local" else copy_to_memory(root))


def test_entries_are_found_wherever_they_are(marketplace: Path, where: str) -> None:
    report = open_library(marketplace, where).read()
    found = {(e.kind, e.name): e for e in report.entries}
    expected = {
        ("skills", "terraform-drift-check"): (
            "skill",
            "plugins/devops/skills/terraform-drift-check",
        ),
        ("skills", "parquet-inspector"): ("skill", "plugins/data/skills/parquet-inspector"),
        ("skills", "pdf-filler"): ("skill", "skills/.curated/pdf-filler"),
        ("skills", "skill-installer"): ("skill", "skills/.system/skill-installer"),
        ("skills", "protein-folding-helper"): ("skill", "scientific-skills/protein-folding-helper"),
        ("skills", "report-writer"): ("skill", "skills/report-writer"),
        ("skills", "template-skill"): ("skill", "template"),
        ("roles", "api-designer"): ("agent", "plugins/devops/agents"),
        ("roles", "data-detective"): ("agent", "plugins/data/agents"),
        ("roles", "code-critic"): ("agent", ".claude/agents"),
        ("roles", "doc-linter"): ("agent", ".opencode/agents"),
        ("roles", "release-manager"): ("role", "roles/release-manager"),
    }
    assert {k: (e.format, e.folder) for k, e in found.items()} == expected
    # A nested SKILL.md is a file of the entry around it; hidden files belong to the entry.
    writer = found[("skills", "report-writer")]
    assert [f.path for f in writer.files] == ["SKILL.md", "examples/nested/SKILL.md"]
    drift = found[("skills", "terraform-drift-check")]
    assert [f.path for f in drift.files] == [".env.example", "SKILL.md", "scripts/check.sh"]
    assert drift.tags == ("terraform", "drift")
    # An agent file is one file; the README beside it is not an agent and not a problem.
    designer = found[("roles", "api-designer")]
    assert [f.path for f in designer.files] == ["api-designer.md"]
    assert designer.definition_path == "plugins/devops/agents/api-designer.md"
    assert designer.definition_file == "api-designer.md"
    assert designer.tools == ("Read", "Write", "Edit", "Bash") and designer.model == "sonnet"
    assert designer.description.startswith("Use this agent when designing")
    assert designer.body.strip() == "You are api-designer."
    detective = found[("roles", "data-detective")]
    assert detective.tools == ("Read", "Bash(duckdb:*)") and detective.model == "claude-opus-4-6"
    assert found[("roles", "doc-linter")].tools == ("read", "grep")  # OpenCode's map
    assert found[("roles", "release-manager")].tags == ("releases", "coordination")
    assert not any("README" in p.path for p in report.problems)
    # Only the template is questionable (its name is not its folder's); OpenCode's
    # nameless agent file gets a note, not a warning.
    assert [(p.code, p.path.rsplit("/", 2)[-2]) for p in report.strict_problems()] == [
        ("name-mismatch", "template")
    ]
    assert [(p.code, p.path.rsplit("/", 1)[-1]) for p in report.notes] == [
        ("name-missing", "doc-linter.md")
    ]
    assert report.found == len(report.entries) == 12


def test_library_config_narrows_and_widens(marketplace: Path, where: str) -> None:
    (marketplace / "sitegen.toml").write_text(CONFIG)
    report = open_library(marketplace, where).read()
    names = {e.name for e in report.entries}
    assert "template-skill" not in names and "backend-architect" in names
    assert report.strict_problems() == ()
    assert report.scan is not None and report.scan.excluded == 1
    backend = next(e for e in report.entries if e.name == "backend-architect")
    assert (backend.kind, backend.format, backend.folder) == (
        "roles",
        "agent",
        "categories/engineering",
    )


def test_same_name_across_formats_is_an_error_naming_both(marketplace: Path) -> None:
    (marketplace / "roles" / "api-designer").mkdir(parents=True)
    (marketplace / "roles" / "api-designer" / "ROLE.md").write_text(
        agent("api-designer", "A Persona role that clashes with an agent file.")
    )
    report = Library(marketplace).read()
    dups = [p for p in report.errors if p.code == "duplicate-name"]
    assert {p.path.removeprefix(f"{marketplace}/") for p in dups} == {
        "roles/api-designer/ROLE.md",
        "plugins/devops/agents/api-designer.md",
    }
    assert all("api-designer" in p.message and str(marketplace) in p.message for p in dups)
    assert "api-designer" not in {e.name for e in report.entries}
    assert report.left_out == 2


def test_agent_rules_are_lenient_then_strict(tmp_path: Path) -> None:
    lib = write_library(
        tmp_path / "lib",
        {
            "agents/ok.md": agent("ok", "Does fine work.", "tools: Read\nmodel: haiku\n"),
            "agents/Shouty.md": agent("Shouty Agent", "Has a display name for a name."),
            "agents/odd.md": agent("odd", "Has odd settings.", "model: my model\nmemory: cloud\n"),
            "agents/no-name.md": "---\ndescription: OpenCode style, name from the file.\n---\nx\n",
        },
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(lib)])
    assert result.exit_code == 0, result.output
    assert "4 roles, 0 skills valid" in result.stderr
    strict = runner.invoke(cli, ["check", str(lib), "--strict"])
    assert strict.exit_code == 1
    lines = strict.stdout.splitlines()
    shouty = f"{lib}/agents/Shouty.md:2: error: name 'Shouty Agent' must be lowercase"
    assert any(line.startswith(shouty) for line in lines)
    assert any(line.startswith(f"{lib}/agents/odd.md:4: error: model 'my model'") for line in lines)
    assert any(line.startswith(f"{lib}/agents/odd.md:5: error: memory must be") for line in lines)
    assert any(line.startswith(f"{lib}/agents/no-name.md:1: error: no name") for line in lines)
    names = {e.name for e in Library(lib).read().entries}
    assert names == {"ok", "shouty-agent", "odd", "no-name"}


def test_a_root_that_is_one_skill_and_grouped_agent_files(tmp_path: Path) -> None:
    single = write_library(
        tmp_path / "solo-skill",
        {
            "SKILL.md": skill("solo-skill", "A repository that is one skill."),
            "scripts/run.sh": "#!/bin/sh\n",
            "agents/helper.md": agent("helper", "Belongs to the skill around it."),
        },
    )
    report = Library(single).read()
    assert [(e.name, e.folder) for e in report.entries] == [("solo-skill", "")]
    assert report.strict_problems() == ()
    assert [f.path for f in report.entries[0].files] == [
        "SKILL.md",
        "agents/helper.md",
        "scripts/run.sh",
    ]
    grouped = write_library(
        tmp_path / "grouped",
        {
            "sitegen.toml": '[roles]\nagents = ["roles/*/*.md"]\n',
            "roles/engineering/backend-architect.md": agent("backend-architect", "Designs."),
            "roles/empty-slip/notes.txt": "a role folder that forgot its ROLE.md\n",
        },
    )
    report = Library(grouped).read()
    assert [e.name for e in report.entries] == ["backend-architect"]
    assert [(p.code, p.path.removeprefix(f"{grouped}/")) for p in report.problems] == [
        ("missing-definition", "roles/empty-slip/ROLE.md")
    ]


@pytest.mark.parametrize(
    ("patterns", "folder", "definition", "matched"),
    [
        (["**"], "a/b", "a/b/SKILL.md", True),
        (["skills/a/SKILL.md"], "skills/a", "skills/a/SKILL.md", True),  # the file itself
        (["agents/old.md"], "agents", "agents/old.md", True),  # one agent file by path
        (["agents/old.md"], "agents", "agents/new.md", False),
        (["template"], "template/x/y", "template/x/y/SKILL.md", True),  # a folder above
        (["template"], "templates/x", "templates/x/SKILL.md", False),
        (["skills/*"], "skills/a", "skills/a/SKILL.md", True),
        (["skills/*"], "plugins/p/skills/a", "plugins/p/skills/a/SKILL.md", False),
        ([], "skills/a", "skills/a/SKILL.md", False),
    ],
)
def test_a_glob_matches_the_folder_the_definition_or_a_folder_above(
    patterns: list[str], folder: str, definition: str, matched: bool
) -> None:
    assert Globs(patterns).matches(folder, definition) is matched
