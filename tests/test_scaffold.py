"""`sitegen new`: every template passes `check --strict`, and a skill the spec's validator."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from skills_ref.validator import validate

from sitegen.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_new_entries_pass_strict_check_and_the_reference_validator(tmp_path: Path) -> None:
    lib = tmp_path / "lib"  # does not exist yet: `new` starts a library
    long = "Fills PDF forms: reads the fields, maps values from a CSV file. " * 10
    made = [
        run(
            "new",
            "skill",
            "pdf-form-filler",
            "--library",
            str(lib),
            "--description",
            long,
            "--tags",
            "pdf, forms",
        ),
        run("new", "skill", "bare", "--library", str(lib)),
        run("new", "role", "release-captain", "--library", str(lib), "--tags", "release,ops"),
        run("new", "agent", "log-reader", "--library", str(lib), "--description", 'a "quoted" #x'),
    ]
    assert [code for code, _, _ in made] == [0, 0, 0, 0], made
    assert [out.strip() for _, out, _ in made] == [
        f"{lib}/skills/pdf-form-filler/SKILL.md",
        f"{lib}/skills/bare/SKILL.md",
        f"{lib}/roles/release-captain/ROLE.md",
        f"{lib}/agents/log-reader.md",
    ]
    code, out, err = run("check", str(lib), "--strict")
    assert code == 0 and out == "", out + err
    assert "2 roles, 2 skills valid; 0 error(s), 0 warning(s)" in err
    for skill in ("pdf-form-filler", "bare"):
        assert validate(lib / "skills" / skill) == [], skill
    text = (lib / "skills" / "pdf-form-filler" / "SKILL.md").read_text()
    assert 'metadata:\n  tags: "pdf, forms"\n' in text
    assert "tags:\n  - release\n  - ops\n" in (lib / "roles/release-captain/ROLE.md").read_text()
    code, out, _ = run("match", "log-reader", "--library", str(lib))  # no index yet
    assert code != 0


def test_new_refuses_what_check_would_refuse(tmp_path: Path) -> None:
    lib = str(tmp_path / "lib")
    assert run("new", "skill", "tidy", "--library", lib)[0] == 0
    cases = [
        (("skill", "tidy"), "error: " + f"{lib}/skills/tidy: already exists"),
        (("role", "Tidy"), "NAME: 'Tidy' must be lowercase letters, digits and hyphens"),
        (("skill", "a--b"), "NAME: 'a--b' must not contain two hyphens in a row"),
        (("skill", "x" * 65), "NAME: 65 characters; the limit is 64"),
        (("skill", "ok", "--description", "x" * 1025), "--description: 1,025 characters"),
        (("skill", "ok", "--tags", 'a,"b'), "--tags: '\"b' is not a tag"),
    ]
    for args, expected in cases:
        code, _, err = run("new", *args, "--library", lib)
        assert code == 2, args
        assert expected in err and len(err.strip().splitlines()) == 1, (args, err)
    code, _, err = run("new", "skils", "x", "--library", lib)
    assert code == 2 and "did you mean 'skill'?" in err
    assert sorted(p.name for p in (tmp_path / "lib" / "skills").iterdir()) == ["tidy"]
