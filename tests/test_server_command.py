"""`sitegen serve` end to end: the real command in a subprocess on 127.0.0.1, serving a site
that `sitegen build` made, through a rebuild (hot swap), a taken port and 10,000 queries."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE_LIBRARY
from tests.server_helpers import sitegen_serve
from tests.test_server_site import build_with_the_command

QUERY = "translate the user interface strings into other languages"
NEW_SKILL = """---
name: ui-string-translator
description: Translates the user interface strings of an app into other languages and keeps
  the translation files in step. Use when you need to translate the user interface strings.
metadata:
  tags: i18n, translation
---
# UI string translator
"""


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, Path]:
    library, site = tmp_path / "library", tmp_path / "site"
    shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
    build_with_the_command(library, site)
    return library, site


def test_serve_answers_pages_and_api_from_a_built_site(built: tuple[Path, Path]) -> None:
    library, site = built
    with sitegen_serve(str(library), "--site", str(site)) as served:
        home = served.get("/")
        assert home.status_code == 200 and home.content == (site / "index.html").read_bytes()
        assert served.get("/skills/").content == (site / "skills" / "index.html").read_bytes()
        health = served.get("/healthz").json()
        assert health["status"] == "ok" and health["build"]
        found = served.get("/api/match", q="review my terraform plan").json()
        assert found["results"][0]["name"] == "terraform-plan-reviewer"
        assert found["build"] == health["build"]
        page = served.get("/" + found["results"][0]["url"])
        assert page.status_code == 200 and "terraform-plan-reviewer" in page.text


def test_a_rebuild_swaps_answers_and_their_build_id(built: tuple[Path, Path]) -> None:
    """The same query, asked before and after a rebuild, answers from the new build: the
    response cache is keyed by build, so a cached answer of the old build is never served."""
    library, site = built
    with sitegen_serve(str(library), "--site", str(site)) as served:
        old_build = served.get("/healthz").json()["build"]
        before = served.get("/api/match", q=QUERY).json()
        assert served.get("/api/match", q=QUERY).json() == before  # now cached
        assert before["build"] == old_build
        assert "ui-string-translator" not in {r["name"] for r in before["results"]}

        (library / "skills" / "ui-string-translator").mkdir()
        (library / "skills" / "ui-string-translator" / "SKILL.md").write_text(NEW_SKILL)
        build_with_the_command(library, site)
        deadline = time.monotonic() + 30
        while served.get("/healthz").json()["build"] == old_build:
            assert time.monotonic() < deadline, "the server never loaded the new build"
            time.sleep(0.1)
        new_build = served.get("/healthz").json()["build"]

        after = served.get("/api/match", q=QUERY).json()
        assert after["build"] == new_build != old_build
        assert after["results"][0]["name"] == "ui-string-translator"
        assert after["results"] != before["results"]
        entry = served.get("/api/entries/skills/ui-string-translator")
        assert entry.status_code == 200
        assert served.get("/skills/ui-string-translator/").status_code == 200


def test_a_taken_port_is_one_line_and_exit_2(built: tuple[Path, Path]) -> None:
    library, site = built
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sitegen",
                "serve",
                str(library),
                "--site",
                str(site),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use; stop what listens there or "
        "choose another with --port"
    ]


def _write_wordy_library(root: Path, count: int) -> None:
    """Entries with long descriptions and many tags: an answer of 25 results is ~50 KB."""
    words = ["reviews", "plans", "configs", "pipelines", "schemas", "records", "logs", "reports"]
    for i in range(count):
        folder = root / "skills" / f"wordy-skill-{i}"
        folder.mkdir(parents=True)
        text = " ".join(words[(i + j) % len(words)] for j in range(120))
        description = f"Skill {i} {text}"[:1000]
        tags = ", ".join(f"{words[(i + j) % len(words)]}-topic-{j}" for j in range(50))
        (folder / "SKILL.md").write_text(
            f"---\nname: wordy-skill-{i}\ndescription: {description}\n"
            f"metadata:\n  tags: {tags}\n---\n# Skill {i}\n"
        )


def test_ten_thousand_distinct_queries_keep_rss_under_400_mb(tmp_path: Path) -> None:
    """Anonymous clients choose what the response cache holds: 10,000 distinct queries (2,500
    texts, each with 4 limits), each answered with ~25 wordy entries (~50 KB), would hold
    ~500 MB unbounded and ~200 MB under the old 4,096-entry bound; a cache bounded in bytes
    keeps the server's peak RSS under 400 MB."""
    library = tmp_path / "wordy"
    _write_wordy_library(library, 100)
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "index", str(library)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with sitegen_serve(str(library), "--site", str(tmp_path / "no-site")) as served:
        size = len(served.get("/api/match", q="x", limit=22, max_distance=2).content)
        assert size > 40_000  # each answer is big enough for the bound to matter

        def ask(chunk: range) -> int:
            failures = 0
            with httpx.Client(base_url=served.url, timeout=60) as http:
                for i in chunk:
                    params = {"q": f"query {i // 4}", "limit": 22 + i % 4, "max_distance": 2}
                    # HEAD: the server computes and caches the whole answer, sends no body.
                    failures += http.head("/api/match", params=params).status_code != 200
            return failures

        chunks = [range(start, 10_000, 8) for start in range(8)]
        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(ask, chunks)) == 0
        peak = _peak_rss_mb(served.proc.pid)
    print(f"peak RSS {peak:.0f} MB")
    assert peak < 400, f"peak RSS {peak:.0f} MB"


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")
