"""`sitegen build` as one transaction: failures leave the site and index as they were."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_LIBRARY
from tests.site.helpers import BuiltSite, read_json, run, tree_state


def test_template_error_leaves_previous_site_intact(tmp_path: Path, own_site: BuiltSite) -> None:
    before = tree_state(own_site.out)
    index_before = tree_state(own_site.library / "index")
    theme = tmp_path / "broken-theme"
    theme.mkdir()
    (theme / "entry.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ entry.no_such_field.oops }}{% endblock %}'
    )
    skill = own_site.library / "skills" / "csv-data-cleaner" / "SKILL.md"
    skill.write_text(skill.read_text() + "\nA change that the index will pick up.\n")
    code, out, err = run(
        "build", str(own_site.library), "--out", str(own_site.out), "--templates", str(theme)
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: ") and "entry.html" in lines[-1]
    assert "Traceback" not in err
    assert tree_state(own_site.out) == before
    # The index step had rewritten the index for the changed entry; the failed build put it back.
    assert tree_state(own_site.library / "index") == index_before
    assert not list(own_site.out.parent.glob(".site.sitegen-*"))


def test_strict_problem_fails_without_touching_the_site(own_site: BuiltSite) -> None:
    before = tree_state(own_site.out)
    lonely = own_site.library / "skills" / "lonely"
    lonely.mkdir()
    (lonely / "SKILL.md").write_text(
        "---\nname: lonely\ndescription: Odd key. Use when.\nodd: 1\n---\n"
    )
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out), "--strict")
    assert code == 1
    assert "strict mode" in err.strip().splitlines()[-1]
    assert tree_state(own_site.out) == before
    # Without --strict the entry with only a warning is published.
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 0, err
    assert (own_site.out / "skills" / "lonely" / "index.html").is_file()


def test_entries_with_errors_are_left_out_and_listed(own_site: BuiltSite) -> None:
    broken = own_site.library / "skills" / "broken-entry"
    broken.mkdir()
    (broken / "SKILL.md").write_text("---\nname: broken-entry\n---\n")
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 1  # published without it, but CI must go red
    assert "broken-entry/SKILL.md:1: error: description is missing" in err
    assert "left out with errors" in out
    assert not (own_site.out / "skills" / "broken-entry").exists()


def test_usage_errors_exit_2(tmp_path: Path, site: BuiltSite) -> None:
    library = str(site.library)
    assert run("build", library, "--out", str(tmp_path / "s"), "--base-url", "ftp://x")[0] == 2
    assert run("build", library, "--out", str(tmp_path / "s"), "--api-url", "/abs/path")[0] == 2
    assert run("build", library, "--templates", str(tmp_path / "missing"))[0] == 2
    assert run("build", str(tmp_path / "no-library"), "--out", str(tmp_path / "s"))[0] == 2
    foreign = tmp_path / "not-a-site"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    code, _, err = run("build", library, "--out", str(foreign))
    assert code == 2 and "not built by sitegen" in err
    assert (foreign / "precious.txt").read_text() == "keep me"
    code, _, err = run("build", library, "--out", library)
    assert code == 2


def test_builds_from_an_fsspec_library(tmp_path: Path, embedder: Any) -> None:
    from tests.conftest import copy_to_memory

    url = copy_to_memory(EXAMPLE_LIBRARY)
    out = tmp_path / "site"
    code, stdout, err = run("build", url, "--out", str(out))
    assert code == 0, err
    assert (out / "skills" / "terraform-plan-reviewer" / "terraform-plan-reviewer.zip").is_file()
    assert (out / "index" / "current.json").is_file()
    twin = read_json(out / "skills" / "terraform-plan-reviewer" / "index.json")
    assert twin["similar"] and {f["path"] for f in twin["files"]} >= {"SKILL.md"}


def test_a_second_concurrent_build_waits_for_the_lock(
    own_site: BuiltSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One OS file lock per --out: a second build waits, then gives up with one line; the
    kernel drops the lock with its process, so there is never a stale lock to take over."""
    from sitegen.locks import lock_path

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, lock_path(str(own_site.out))],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        before = tree_state(own_site.out)
        monkeypatch.setenv("SITEGEN_LOCK_TIMEOUT", "1")
        code, _, err = run("build", str(own_site.library), "--out", str(own_site.out))
        assert code == 1 and "another sitegen run" in err, err
        assert tree_state(own_site.out) == before
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.delenv("SITEGEN_LOCK_TIMEOUT")
    code, _, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 0, err


HOLD_LOCK = """
import sys, time, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""
