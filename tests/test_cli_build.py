"""`sitegen build`, `index` and `serve --watch` on real layouts: loud, consistent failures.

An entry left out makes `build` exit 1 with `path:line: error:` lines while the valid entries
are still published; `--strict` publishes nothing; undecodable file names are errors, never
tracebacks; `serve --watch` prints the same lines on each rebuild.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from tests.test_layouts import CONFIG, FILES, write_library


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


BROKEN = "---\nname: broken-one\ndescription: [unclosed\n---\n"


@pytest.fixture()
def market(tmp_path: Path) -> Path:
    root = write_library(tmp_path / "market", FILES)
    (root / "sitegen.toml").write_text('out = "public"\n' + CONFIG)
    return root


def test_build_publishes_every_layout_with_config(market: Path, embedder) -> None:
    code, out, err = run("build", str(market))
    assert code == 0, out + err
    site = market / "public"  # `out` from sitegen.toml, relative to the library
    for page in (
        "skills/pdf-filler/index.html",
        "skills/terraform-drift-check/index.html",
        "skills/protein-folding-helper/index.html",
        "roles/api-designer/index.html",
        "roles/backend-architect/index.html",
        "roles/release-manager/index.html",
    ):
        assert (site / page).is_file(), page
    assert not (site / "skills/template-skill").exists()
    assert (
        "<title>" in (site / "index.html").read_text()
        and "Marketplace" in (site / "index.html").read_text()
    )
    assert "13 roles" not in err and "6 roles, 6 skills valid; 0 error(s)" in err
    # A second build must not read its own output as library content.
    code, _, err = run("build", str(market))
    assert code == 0 and ": error:" not in err and "6 roles, 6 skills valid; 0 error(s)" in err
    # Flags override the file.
    code, _, _ = run(
        "build", str(market), "--out", str(market.parent / "elsewhere"), "--title", "Flag title"
    )
    assert code == 0 and "Flag title" in (market.parent / "elsewhere/index.html").read_text()
    # An --out inside the library is left out of the content too, not only the file's `out`.
    for _ in range(2):
        code, _, err = run("build", str(market), "--out", str(market / "preview"))
        assert code == 0 and ": error:" not in err, err
        assert "6 roles, 6 skills valid; 0 error(s)" in err
    shutil.rmtree(market / "preview")  # no longer the output: it would be content now
    # A templates folder named in sitegen.toml is the library's, whatever the working folder.
    (market / "theme").mkdir()
    (market / "sitegen.toml").write_text('out = "public"\ntemplates = "theme"\n' + CONFIG)
    code, _, err = run("build", str(market))
    assert code == 0, err


def test_build_exits_1_when_it_leaves_an_entry_out(market: Path, embedder) -> None:
    broken = market / "skills" / "broken-one"
    broken.mkdir(parents=True)
    (broken / "SKILL.md").write_text(BROKEN)
    code, out, err = run("build", str(market))
    assert code == 1
    assert f"{broken}/SKILL.md:4: error: frontmatter is not valid YAML" in err
    assert "(1 left out with errors)" in out
    assert "1 left out with errors; 1 error(s)" in err
    assert (market / "public/skills/pdf-filler/index.html").is_file()  # the rest is published
    assert not (market / "public/skills/broken-one").exists()
    # check and index count the same way.
    code, _, check_err = run("check", str(market))
    assert code == 1 and "6 roles, 6 skills valid, 1 left out with errors; 1 error(s)" in check_err
    code, _, index_err = run("index", str(market))
    assert code == 1 and "6 roles, 6 skills valid, 1 left out with errors; 1 error(s)" in index_err
    # --strict publishes nothing new.
    before = (market / "public/index.html").stat().st_mtime_ns
    code, _, err = run("build", str(market), "--strict", "--out", str(market / "strict-site"))
    assert code == 1 and "strict mode" in err and not (market / "strict-site").exists()
    assert (market / "public/index.html").stat().st_mtime_ns == before


def test_undecodable_names_are_errors_not_tracebacks(tmp_path: Path, embedder) -> None:
    root = write_library(tmp_path / "lib", {k: v for k, v in FILES.items() if "template" not in k})
    bad_file = os.path.join(os.fsencode(root / "skills" / "report-writer"), b"notes-\xff.txt")
    with open(bad_file, "wb") as fh:
        fh.write(b"latin-1 name\n")
    bad_folder = os.path.join(os.fsencode(root / "skills"), b"caf\xe9")
    os.mkdir(bad_folder)
    with open(os.path.join(bad_folder, b"SKILL.md"), "wb") as fh:
        fh.write(b"---\nname: cafe\ndescription: A folder named in Latin-1.\n---\n")
    code, out, err = run("check", str(root))
    assert code == 1
    assert (
        f"{root}/skills/report-writer/notes-\\xff.txt:1: error: file name is not valid UTF-8" in out
    )
    assert f"{root}/skills/caf\\xe9:1: error: folder name is not valid UTF-8" in out
    for command in ("index", "build"):
        code, out, err = run(
            command, str(root), *(["--out", str(tmp_path / "site")] if command == "build" else [])
        )
        assert code == 1, (command, out, err)
        assert "Traceback" not in out + err and "notes-\\xff.txt" in err
    assert (tmp_path / "site/skills/parquet-inspector/index.html").is_file()


def test_serve_watch_prints_the_problem_lines_on_rebuild(market: Path, embedder) -> None:
    broken = market / "skills" / "broken-one"
    broken.mkdir(parents=True)
    (broken / "SKILL.md").write_text(BROKEN)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "serve", str(market), "--watch", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = _read_until(proc, "sitegen: serving", 120)
        assert f"{broken}/SKILL.md:4: error: frontmatter is not valid YAML" in "".join(lines)
        # Fix it, break another: the rebuild prints the new problem in the same format.
        (broken / "SKILL.md").write_text("---\nname: broken-one\ndescription: Fixed now.\n---\n")
        other = market / "skills" / "report-writer" / "SKILL.md"
        other.write_text("---\nname: report-writer\n---\n")
        lines = _read_until(proc, "sitegen: rebuilt", 120)
        text = "".join(lines)
        assert f"{other}:1: error: description is missing" in text
        assert "broken-one" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} within {timeout} s; got:\n{''.join(lines)}")
