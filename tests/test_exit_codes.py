"""Exit codes of the commands CI relies on (README): 0 success, 1 problems, 2 usage: a library,
model or option that cannot be used, with the real cause in one line (never a traceback line,
never the wrong hint).

Through the real command line (click's runner over `sitegen.cli`), so each code is the one a
CI job sees, whatever module decides it."""

from __future__ import annotations

import json
import shutil
import socket
import zipfile
from pathlib import Path

from click.testing import CliRunner

from sitegen.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


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
    pointer = json.loads((example_copy / "index" / "current.json").read_text())
    assert (example_copy / "index" / pointer["files"]["skills"]).is_file()
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


def test_match_on_a_library_that_cannot_be_used_exits_2(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a library")
    cases = {
        str(tmp_path / "missing"): "no such library",
        str(a_file): "is a file, not a library folder",
        "memory://no-such-library-here": "no such library",
        f"http://127.0.0.1:{closed_port()}/site": "cannot reach the index",
    }
    for library, says in cases.items():
        code, _, err = run("match", "anything", "--library", library)
        assert code == 2, (library, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (library, err)
        assert "Traceback" not in err and "run `sitegen index`" not in err


def test_match_without_an_index_exits_1_and_says_what_to_run(example_copy: Path) -> None:
    code, _, err = run("match", "anything", "--library", str(example_copy))
    assert code == 1 and "run `sitegen index`" in err


def test_a_model_that_cannot_be_used_exits_2(indexed_example: Path, tmp_path: Path) -> None:
    code, _, err = run(
        "match", "anything", "--library", str(indexed_example), "--model", str(tmp_path / "no")
    )
    assert code == 2 and "not found" in err, err


def test_index_into_a_zip_library_exits_2_with_the_cause(tmp_path: Path) -> None:
    folder = tmp_path / "src" / "lib" / "skills" / "a"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: a\ndescription: A skill. Use when testing.\n---\n")
    archive = tmp_path / "library.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "SKILL.md", "lib/skills/a/SKILL.md")
    shutil.rmtree(tmp_path / "src")
    code, _, err = run("index", f"zip://lib::{archive}")
    assert code == 2, err
    assert "read-only" in err and "Traceback" not in err
