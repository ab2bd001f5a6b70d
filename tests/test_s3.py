"""Library, index and site in S3 buckets, against a real S3 API: moto's server on 127.0.0.1.

`check`, `index`, `match` and `build` (library and --out in buckets) run as a user runs them;
s3fs finds the server through the standard AWS environment variables. The site on a bucket
switches file by file, but its index through the one-object pointer; files sitegen did not
write are kept, stale ones removed, and no journal is left behind.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("s3fs", reason="the s3 tests need the dev extra (s3fs)")
from moto.server import ThreadedMotoServer  # noqa: E402

from sitegen.cli import cli  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """moto's S3 server on 127.0.0.1 and an s3fs client pointed at it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                            "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    fs.mkdir("lib")
    fs.mkdir("site")
    try:
        yield fs
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        s3fs.S3FileSystem.clear_instance_cache()


def upload_library(fs: object, root: str) -> None:
    entries = {
        "skills/csv-cleaner/SKILL.md": "Cleans CSV files. Use when a CSV is messy.",
        "skills/sql-tuner/SKILL.md": "Tunes slow SQL queries. Use when a query is slow.",
        "roles/reviewer/ROLE.md": "Reviews code changes for correctness and style.",
    }
    for rel, text in entries.items():
        name = rel.split("/")[1]
        text = f"---\nname: {name}\ndescription: {text}\n---\n# x\n"
        fs.pipe_file(f"{root}/{rel}", text.encode())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_index_match_and_build_on_buckets(
    s3: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = s3
    monkeypatch.chdir(tmp_path)  # a wrong --out would show up here as a local s3:/ folder
    upload_library(fs, "lib/team")

    code, _, err = run("check", "s3://lib/team")
    assert code == 0, err
    code, out, err = run("index", "s3://lib/team")
    assert code == 0, err
    pointer = json.loads(fs.cat_file("lib/team/index/current.json"))
    assert fs.exists(f"lib/team/index/{pointer['files']['skills']}")
    code, out, err = run("match", "my csv file is messy", "--library", "s3://lib/team", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["name"] == "csv-cleaner"

    code, out, err = run("build", "s3://lib/team", "--out", "s3://site/catalog")
    assert code == 0, err
    assert "pages switch file by file" in err
    assert not any(tmp_path.iterdir()), "nothing may be written locally"
    assert fs.exists("site/catalog/index.html") and fs.exists("site/catalog/.sitegen-manifest.json")
    site_pointer = json.loads(fs.cat_file("site/catalog/index/current.json"))
    assert site_pointer["build"] == json.loads(fs.cat_file("lib/team/index/current.json"))["build"]

    # A user's file on the bucket survives a rebuild; a removed entry's pages go.
    fs.pipe_file("site/catalog/CNAME", b"catalog.example.com\n")
    fs.rm("lib/team/skills/sql-tuner", recursive=True)
    code, out, err = run("build", "s3://lib/team", "--out", "s3://site/catalog")
    assert code == 0, err
    assert "kept 1 file(s) sitegen did not write (CNAME)" in err
    assert fs.cat_file("site/catalog/CNAME") == b"catalog.example.com\n"
    assert not fs.exists("site/catalog/skills/sql-tuner/index.html")
    assert not fs.exists("site/catalog/.sitegen-journal.json")
    generations = [p for p in fs.ls("site/catalog/index") if p.rsplit("/", 1)[-1].startswith("g-")]
    assert len(generations) == 1

    # The published site's own index answers `match` (what `serve --site` and MCP read).
    code, out, err = run("match", "slow query", "--library", "s3://site/catalog", "--json")
    assert code == 0, err
    assert "sql-tuner" not in {m["name"] for m in json.loads(out)}


def test_a_dead_upload_is_finished_by_the_next_build(s3: object, tmp_path: Path) -> None:
    """A journal left by a build killed mid-upload names paths that are sitegen's: the next
    build removes those it no longer needs instead of keeping them as a user's files."""
    fs = s3
    upload_library(fs, "lib/journal")
    code, _, err = run("build", "s3://lib/journal", "--out", "s3://site/journal")
    assert code == 0, err
    fs.pipe_file("site/journal/skills/ghost/index.html", b"uploaded by a dead run")
    fs.pipe_file(
        "site/journal/.sitegen-journal.json",
        json.dumps({"paths": ["skills/ghost/index.html"]}).encode(),
    )
    code, _, err = run("build", "s3://lib/journal", "--out", "s3://site/journal")
    assert code == 0, err
    assert not fs.exists("site/journal/skills/ghost/index.html")
    assert not fs.exists("site/journal/.sitegen-journal.json")


def test_read_only_out_is_refused(tmp_path: Path) -> None:
    lib = tmp_path / "lib" / "skills" / "a"
    lib.mkdir(parents=True)
    (lib / "SKILL.md").write_text("---\nname: a\ndescription: A skill. Use when testing.\n---\n")
    code, _, err = run("build", str(tmp_path / "lib"), "--out", "https://example.com/site")
    assert code == 2 and "read-only" in err, err
