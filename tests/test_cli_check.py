"""`sitegen check` end to end: exit codes, text and JSON output, a real subprocess."""

from __future__ import annotations

import json
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
        assert level.strip() in {"error", "warning"} and message.strip()
    assert "Traceback" not in out


def test_json_format(bad_library: Path) -> None:
    code, out, _ = run("check", str(bad_library), "--format", "json")
    assert code == 1
    problems = json.loads(out)
    assert {tuple(sorted(p)) for p in problems} == {
        ("code", "level", "line", "message", "path")
    }
    assert any(p["code"] == "symlink-outside" for p in problems)


def test_warnings_only_exit_0_unless_strict(tmp_path: Path) -> None:
    skill = tmp_path / "lib" / "skills" / "lonely"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: lonely\ndescription: No tags. Use when.\n---\n")
    assert run("check", str(tmp_path / "lib"))[0] == 0
    code, out, _ = run("check", str(tmp_path / "lib"), "--strict")
    assert code == 1 and ": error: no tags" in out


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
