"""Exit codes of the commands CI relies on (README): 0 success, 1 problems, 2 usage.

Through the real command line (click's runner over `sitegen.cli`), so each code is the one a
CI job sees, whatever module decides it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sitegen.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _broken_entry(library: Path) -> None:
    broken = library / "skills" / "broken-entry"
    broken.mkdir()
    (broken / "SKILL.md").write_text("---\nname: broken-entry\n---\n")


def test_index_exits_0_when_clean_and_1_when_an_entry_is_left_out(example_copy: Path) -> None:
    code, out, err = run("index", str(example_copy))
    assert code == 0, err
    assert "left out" not in err
    _broken_entry(example_copy)
    code, out, err = run("index", str(example_copy))
    assert code == 1, err
    assert "broken-entry/SKILL.md:1: error: description is missing" in err
    assert "1 left out with errors" in err
    # The valid entries are still indexed (nothing changed for them), and a rerun says so again.
    assert out.startswith("added 0, updated 0, removed 0, unchanged ")
    assert (example_copy / "index" / "skills.parquet").is_file()
    assert run("index", str(example_copy))[0] == 1


def test_index_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = run("index", str(tmp_path / "no-such-library"))
    assert code == 2 and "no-such-library" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("index", str(empty))
    assert code == 2 and len(err.strip().splitlines()) >= 1


def test_build_exits_0_1_and_2(example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, _, err = run("build", str(example_copy), "--out", str(out))
    assert code == 0, err
    _broken_entry(example_copy)
    code, _, err = run("build", str(example_copy), "--out", str(out))
    assert code == 1
    last = err.strip().splitlines()[-1]  # names what it left out, and why
    assert last.startswith("error: 1 entry left out of the site for errors: "), last
    assert "skills/broken-entry/SKILL.md" in last and "description is missing" in last
    assert (out / "index.html").is_file() and not (out / "skills" / "broken-entry").exists()
    code, _, err = run("build", str(tmp_path / "missing"), "--out", str(out))
    assert code == 2
