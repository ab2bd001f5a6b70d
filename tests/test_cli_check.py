"""`sitegen check` end to end: exit codes, text and JSON output, a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sitegen.cli import cli
from tests.conftest import EXAMPLE_LIBRARY


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_example_library_passes_strict() -> None:
    code, out, err = run("check", str(EXAMPLE_LIBRARY), "--strict")
    assert code == 0, out + err
    assert out == ""
    assert "0 error(s), 0 warning(s)" in err


def test_bad_library_exits_1_with_one_line_per_problem(bad_library: Path) -> None:
    code, out, _ = run("check", str(bad_library))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) >= 30
    for line in lines:
        path, number, level, message = line.split(":", 3)
        assert path.startswith(str(bad_library))
        assert int(number) >= 1
        assert level.strip() in {"error", "warning", "note"} and message.strip()
    assert "Traceback" not in out


def test_json_format(bad_library: Path) -> None:
    code, out, _ = run("check", str(bad_library), "--format", "json")
    assert code == 1
    problems = json.loads(out)
    assert out == json.dumps(problems, indent=2) + "\n"  # every --json prints the same way
    assert {tuple(sorted(p)) for p in problems} == {
        ("code", "level", "line", "message", "path")
    }
    assert any(p["code"] == "symlink-outside" for p in problems)


def test_warnings_only_exit_0_unless_strict_and_notes_never_fail(tmp_path: Path) -> None:
    skill = tmp_path / "lib" / "skills" / "lonely"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: lonely\ndescription: No tags, an <b>angle</b>. Use when.\n---\n"
    )
    code, out, err = run("check", str(tmp_path / "lib"), "--strict")
    assert code == 0 and ": note: description contains < or >" in out  # advice only
    assert "1 skills valid; 0 error(s), 0 warning(s), 1 note(s)" in err
    (skill / "SKILL.md").write_text(
        "---\nname: lonely\ndescription: No tags. Use when.\ntags: [a]\n---\n"
    )
    assert run("check", str(tmp_path / "lib"))[0] == 0
    code, out, _ = run("check", str(tmp_path / "lib"), "--strict")
    assert code == 1 and ": error: unknown key 'tags'" in out and "metadata.tags" in out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path / "missing"))
    assert code == 2 and "no such library" in err
    assert run("check", str(EXAMPLE_LIBRARY), "--format", "xml")[0] == 2
    code, _, err = run("check", str(EXAMPLE_LIBRARY), "--max-file-size", "lots")
    assert code == 2 and "not a size" in err


def test_python_dash_m_and_library_from_environment() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "check", "--format", "json"],
        capture_output=True,
        text=True,
        env={"SITEGEN_LIBRARY": str(EXAMPLE_LIBRARY), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_empty_library_exits_2_saying_where_it_looked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "docs").mkdir(parents=True)
    (empty / "docs" / "README.md").write_text("# Not an entry\n")
    (empty / "node_modules" / "x").mkdir(parents=True)
    for command in ("check", "index", "build"):
        code, out, err = run(command, str(empty))
        assert code == 2, (command, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert f"{empty}: no roles or skills found" in err
        assert "SKILL.md" in err and "**/agents/**/*.md" in err and "node_modules/" in err
        assert "Traceback" not in out + err


def test_bad_config_is_one_line_naming_file_line_and_key(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(EXAMPLE_LIBRARY, lib, ignore=shutil.ignore_patterns("index"))
    cases = {
        'title = "ok"\nmax_file_size = "lots"\n': ":2: max_file_size: not a size",
        'title = "ok"\n[skills]\ninclude = 3\n': ":3: skills.include: expected a list",
        'titel = "typo"\n': ":1: titel: unknown setting",
        'title = "unclosed\n': ":1: not valid TOML",
    }
    for text, expected in cases.items():
        (lib / "sitegen.toml").write_text(text)
        for command in ("check", "index", "build"):
            code, out, err = run(command, str(lib))
            assert code == 2, (text, command, err)
            assert err.strip() == f"error: {lib}/sitegen.toml{expected}" or (
                err.strip().startswith(f"error: {lib}/sitegen.toml{expected}")
                and len(err.strip().splitlines()) == 1
            ), err


def test_config_settings_apply_and_flags_override(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(EXAMPLE_LIBRARY, lib, ignore=shutil.ignore_patterns("index"))
    (lib / "sitegen.toml").write_text('max_file_size = "200B"\n')
    code, out, _ = run("check", str(lib))
    assert code == 1 and "over the 200-byte limit" in out
    assert run("check", str(lib), "--max-file-size", "10MB")[0] == 0
    (lib / "sitegen.toml").write_text('[skills]\nexclude = ["skills/s*"]\n')
    code, _, err = run("check", str(lib), "--format", "json")
    kept = 18 - sum(1 for p in (lib / "skills").iterdir() if p.name.startswith("s"))
    assert code == 0 and f"16 roles, {kept} skills valid" in err
