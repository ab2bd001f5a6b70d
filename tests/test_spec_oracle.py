"""The Agent Skills spec, exactly: its reference validator (`skills-ref`) is the oracle.

`tests/spec_probes/` holds one skill per rule of the spec plus the edges real libraries hit
(description length as written vs stripped, Unicode and NFKC names, YAML numbers in
metadata, allowed-tools as a list, duplicate keys, a lower-case skill.md, unknown fields,
flow-style YAML the reference parser refuses, ...). For every probe: the reference rejects
it  <=>  `check --strict` reports an error for it, and that error names the same rule.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from skills_ref.validator import validate

from sitegen.cli import cli
from sitegen.library import Library, Problem
from tests.conftest import EXAMPLE_LIBRARY

PROBES = Path(__file__).resolve().parent / "spec_probes"


def probes() -> list[Path]:
    return sorted(p for p in PROBES.iterdir() if p.is_dir())

# The reference validator's messages, and the sitegen problem codes that name the same rule.
RULES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (needle, frozenset(codes.split()))
    for needle, codes in (
        ("Missing required file", "missing-definition"),
        ("must start with YAML frontmatter", "no-frontmatter bom empty"),
        ("not properly closed", "no-frontmatter"),
        ("Invalid YAML", "yaml yaml-strict duplicate-key frontmatter-dashes"),
        ("must be a YAML mapping", "frontmatter-type name-missing description-missing"),
        ("Unexpected fields", "unknown-key"),
        ("Missing required field in frontmatter: name", "name-missing"),
        ("Field 'name' must be a non-empty string", "name-missing name-type"),
        ("character limit", "name-too-long description-too-long compatibility-too-long"),
        ("must be lowercase", "name-invalid"),
        ("start or end with a hyphen", "name-invalid"),
        ("consecutive hyphens", "name-invalid"),
        ("invalid characters", "name-invalid"),
        ("Directory name", "name-mismatch"),
        ("Missing required field in frontmatter: description", "description-missing"),
        ("Field 'description' must be a non-empty string", "description-missing description-type"),
        ("Field 'compatibility' must be a string", "field-type"),
    )
)


def codes_for(message: str) -> frozenset[str]:
    for needle, codes in RULES:
        if needle in message:
            return codes
    raise AssertionError(f"a reference rule this test does not know yet: {message!r}")


def strict_problems_by_probe(root: Path) -> dict[str, list[Problem]]:
    """What `check --strict` fails on (errors and warnings; notes are advice), per probe."""
    report = Library(root).read()
    by_probe: dict[str, list[Problem]] = {p.name: [] for p in probes()}
    for problem in report.strict_problems():
        rel = problem.path.removeprefix(f"{root}/")
        by_probe[rel.split("/", 1)[0]].append(problem)
    return by_probe


def test_probe_corpus_is_big_enough_and_mixed() -> None:
    verdicts = [bool(validate(p)) for p in probes()]
    assert len(verdicts) >= 40
    assert sum(verdicts) >= 20 and len(verdicts) - sum(verdicts) >= 20


def test_sitegen_strict_agrees_with_the_reference_on_every_probe() -> None:
    ours = strict_problems_by_probe(PROBES)
    disagreements = []
    for probe in probes():
        reference = validate(probe)
        mine = ours[probe.name]
        if not reference:
            if mine:
                disagreements.append(
                    f"{probe.name}: reference accepts, sitegen says {[p.format() for p in mine]}"
                )
            continue
        found = {p.code for p in mine}
        for message in reference:
            if not codes_for(message) & found:
                disagreements.append(
                    f"{probe.name}: reference says {message.splitlines()[0]!r}; sitegen "
                    f"reports {sorted(found) or 'nothing'}"
                )
    assert not disagreements, "\n".join(disagreements)


def test_check_strict_exit_codes_follow_the_reference(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in (
        "minimal",
        "metadata-non-string",
        "description-1024",
        "duplicate-key",
        "top-level-tags",
        "description-raw-1025",
    ):
        lib = tmp_path / name
        shutil.copytree(PROBES / name, lib / name)
        result = runner.invoke(cli, ["check", str(lib), "--strict"])
        expected = 1 if validate(PROBES / name) else 0
        assert result.exit_code == expected, (name, result.output)
        if expected:
            assert "Agent Skills spec" in result.stdout, result.stdout


def test_every_example_skill_passes_the_reference_cli() -> None:
    skills = sorted(p for p in (EXAMPLE_LIBRARY / "skills").iterdir() if p.is_dir())
    assert len(skills) >= 15
    for skill in skills:
        proc = subprocess.run(
            [sys.executable, "-m", "skills_ref.cli", "validate", str(skill)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
    code = CliRunner().invoke(cli, ["check", str(EXAMPLE_LIBRARY), "--strict"]).exit_code
    assert code == 0


@pytest.mark.parametrize("probe", ["dashes-in-plain-value", "metadata-nested", "license-list"])
def test_what_the_reference_accepts_but_reads_oddly_is_a_note(probe: str) -> None:
    report = Library(PROBES).read()
    notes = [p for p in report.notes if f"/{probe}/" in p.path]
    assert notes and not validate(PROBES / probe)
