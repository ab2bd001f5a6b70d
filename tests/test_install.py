"""`sitegen install`, `installed`, `update`: real built sites, real zips, real folders, and a real
uvicorn serving the site on 127.0.0.1. Every refusal is checked to have written nothing."""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.catalog import (
    CatalogUnreachable,
    EntryNotFound,
    LibraryCatalog,
    SiteCatalog,
    open_catalog,
)
from sitegen.cli import cli
from sitegen.errors import UsageError
from sitegen.install import InstallRefused, Registry, install, statuses, update
from sitegen.library import Library
from sitegen.server import create_app
from sitegen.targets import AGENT_TOOLS, as_json, install_folder
from tests.agent_helpers import (
    REGULAR,
    SYMLINK,
    build_example_site,
    copy_site,
    make_zip,
    replace_archive,
    set_format,
    tree,
)
from tests.conftest import EXAMPLE_LIBRARY
from tests.test_server import RunningServer

SKILL = "csv-data-cleaner"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """(library, site): the example library and its built site; tests must not change them."""
    base = tmp_path_factory.mktemp("install")
    library = base / "library"
    shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
    return library, build_example_site(library, base / "site", embedder)


@pytest.fixture()
def site(built: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the built site that a test may doctor."""
    return copy_site(built[1], tmp_path / "site")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder, a state folder and a project folder of the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SITEGEN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("SITEGEN_CATALOG", raising=False)
    monkeypatch.chdir(project)
    return home


def library_files(library: Path, kind: str, name: str) -> dict[str, bytes]:
    return tree(library / kind / name)


def nothing_written(home: Path, project: Path, state: Path) -> None:
    """Not a file, not even an empty folder."""
    assert list(home.rglob("*")) == []
    assert list(project.rglob("*")) == []
    assert not state.exists()


# -- good installs --------------------------------------------------------------------------------


def test_install_from_a_site_folder(built: tuple[Path, Path], isolated: Path) -> None:
    library, site = built
    catalog = open_catalog(str(site))
    assert isinstance(catalog, SiteCatalog)
    result = install(catalog, SKILL)
    target = isolated / ".claude" / "skills" / SKILL
    assert result.action == "installed" and result.path == str(target)
    assert tree(target) == library_files(library, "skills", SKILL)
    discovery = json.loads((site / ".well-known/agent-skills/index.json").read_text())
    published = next(s["digest"] for s in discovery["skills"] if s["name"] == SKILL)
    assert published == f"sha256:{result.digest}"
    record = Registry().get(target)
    assert record is not None and record.catalog == str(site) and record.digest == result.digest
    again = install(catalog, SKILL)  # idempotent
    assert again.action == "unchanged"


def test_install_from_a_library_folder_has_the_published_digest(
    built: tuple[Path, Path], isolated: Path
) -> None:
    library, site = built
    catalog = open_catalog(str(library))
    assert isinstance(catalog, LibraryCatalog)
    result = install(catalog, SKILL, agent="codex")
    target = isolated / ".agents" / "skills" / SKILL
    assert tree(target) == library_files(library, "skills", SKILL)
    assert result.digest == open_catalog(str(site)).digest("skills", SKILL)


def test_install_from_the_served_site(built: tuple[Path, Path], embedder, isolated: Path) -> None:  # type: ignore[no-untyped-def]
    library, site = built
    with RunningServer(create_app(Library(library), embedder, site_dir=site)) as server:
        result = install(open_catalog(server.url + "/"), f"skills/{SKILL}", scope="project")
        assert Path(result.path) == Path.cwd().resolve() / ".claude" / "skills" / SKILL
        assert tree(Path(result.path)) == library_files(library, "skills", SKILL)
        [status] = statuses()
        assert status.record.catalog == server.url and status.summary() == "up to date"


def test_persona_roles_go_to_the_roles_folder_and_agents_are_refused_elsewhere(
    built: tuple[Path, Path], isolated: Path
) -> None:
    library, site = built
    catalog = open_catalog(str(site))
    with pytest.raises(UsageError, match="Claude Code has no folder for Persona role folders"):
        install(catalog, "code-reviewer")
    result = install(catalog, "code-reviewer", agent="agents")
    assert tree(Path(result.path)) == library_files(library, "roles", "code-reviewer")
    assert Path(result.path) == isolated / ".agents" / "roles" / "code-reviewer"


def test_an_archive_under_a_top_folder_is_accepted(site: Path, isolated: Path) -> None:
    data = make_zip(
        [
            (f"{SKILL}/", b"", 0o040755 | 0),
            (f"{SKILL}/SKILL.md", b"---\nname: x\n---\nnew\n", REGULAR),
            (f"{SKILL}/scripts/run.py", b"print(1)\n", REGULAR),
        ]
    )
    replace_archive(site, "skills", SKILL, data, vouch=True)
    result = install(open_catalog(str(site)), SKILL)
    assert tree(Path(result.path)) == {
        "SKILL.md": b"---\nname: x\n---\nnew\n",
        "scripts/run.py": b"print(1)\n",
    }


def test_an_agent_file_role_installs_as_one_markdown_file(site: Path, isolated: Path) -> None:
    body = b"---\nname: code-reviewer\ndescription: Reviews.\ntools: Read, Grep\n---\nYou review.\n"
    replace_archive(
        site, "roles", "code-reviewer", make_zip([("code-reviewer.md", body, REGULAR)]), vouch=True
    )
    set_format(site, "roles", "code-reviewer", "agent")
    catalog = open_catalog(str(site))
    result = install(catalog, "code-reviewer")
    assert result.path == str(isolated / ".claude" / "agents" / "code-reviewer.md")
    assert Path(result.path).read_bytes() == body
    assert tree(isolated / ".claude") == {"agents/code-reviewer.md": body}
    with pytest.raises(UsageError, match="Codex has no folder for agent files"):
        install(catalog, "code-reviewer", agent="codex")
    gemini = install(catalog, "code-reviewer", agent="gemini", scope="project")
    assert gemini.path == str(Path.cwd().resolve() / ".gemini" / "agents" / "code-reviewer.md")


# -- refusals: nothing written ---------------------------------------------------------------------


def test_a_tampered_zip_is_refused(site: Path, isolated: Path, tmp_path: Path) -> None:
    zip_path = site / "skills" / SKILL / f"{SKILL}.zip"
    data = bytearray(zip_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    replace_archive(site, "skills", SKILL, bytes(data), vouch=False)
    with pytest.raises(InstallRefused, match="digest mismatch.*nothing written"):
        install(open_catalog(str(site)), SKILL)
    nothing_written(isolated, tmp_path / "project", tmp_path / "state")


@pytest.mark.parametrize(
    "evil",
    ["../evil.txt", "scripts/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt", "C:/evil.txt"],
)
def test_a_zip_slip_archive_is_refused(
    site: Path, isolated: Path, tmp_path: Path, evil: str
) -> None:
    data = make_zip([("SKILL.md", b"---\nname: x\n---\n", REGULAR), (evil, b"owned", REGULAR)])
    replace_archive(site, "skills", SKILL, data, vouch=True)
    with pytest.raises(InstallRefused, match="zip slip"):
        install(open_catalog(str(site)), SKILL)
    nothing_written(isolated, tmp_path / "project", tmp_path / "state")
    assert not list(tmp_path.rglob("evil.txt"))


def test_a_symlink_member_is_refused(site: Path, isolated: Path, tmp_path: Path) -> None:
    data = make_zip(
        [("SKILL.md", b"---\nname: x\n---\n", REGULAR), ("notes", b"/etc/passwd", SYMLINK)]
    )
    replace_archive(site, "skills", SKILL, data, vouch=True)
    with pytest.raises(InstallRefused, match="'notes' is a symlink"):
        install(open_catalog(str(site)), SKILL)
    nothing_written(isolated, tmp_path / "project", tmp_path / "state")


def test_an_existing_copy_with_local_edits_is_never_overwritten(site: Path, isolated: Path) -> None:
    catalog = open_catalog(str(site))
    result = install(catalog, SKILL)
    edited = Path(result.path) / "SKILL.md"
    edited.write_text("my own notes\n")
    registry_before = Registry().file.read_bytes()
    for force in (False, True):
        with pytest.raises(InstallRefused, match="has local edits.*nothing written"):
            install(catalog, SKILL, force=force)
    assert edited.read_text() == "my own notes\n"
    assert Registry().file.read_bytes() == registry_before
    [status] = statuses()
    assert status.state == "modified" and status.summary() == "local edits"
    [outcome] = update()
    assert outcome.action == "skipped" and edited.read_text() == "my own notes\n"


def test_a_folder_sitegen_did_not_install_is_refused(site: Path, isolated: Path) -> None:
    target = isolated / ".claude" / "skills" / SKILL
    target.mkdir(parents=True)
    (target / "SKILL.md").write_text("hand made\n")
    with pytest.raises(InstallRefused, match="was not installed by sitegen"):
        install(open_catalog(str(site)), SKILL, force=True)
    assert tree(target) == {"SKILL.md": b"hand made\n"}


def test_force_and_update_replace_an_unmodified_older_copy(site: Path, isolated: Path) -> None:
    old = install(open_catalog(str(site)), SKILL)
    newer = make_zip([("SKILL.md", b"---\nname: csv-data-cleaner\n---\nv2\n", REGULAR)])
    replace_archive(site, "skills", SKILL, newer, vouch=True)
    catalog = open_catalog(str(site))
    with pytest.raises(InstallRefused, match="older copy.*sitegen update"):
        install(catalog, SKILL)
    [status] = statuses()
    assert status.outdated and status.summary() == "update available"
    [outcome] = update()
    assert outcome.action == "updated"
    assert tree(Path(old.path)) == {"SKILL.md": b"---\nname: csv-data-cleaner\n---\nv2\n"}
    assert not statuses()[0].outdated
    # --force does the same for one entry
    replace_archive(site, "skills", SKILL, make_zip([("SKILL.md", b"v3", REGULAR)]), vouch=True)
    forced = install(open_catalog(str(site)), SKILL, force=True)
    assert forced.action == "updated" and Path(forced.path, "SKILL.md").read_bytes() == b"v3"


def test_installed_says_when_the_catalog_is_gone(site: Path, isolated: Path) -> None:
    install(open_catalog(str(site)), SKILL)
    shutil.rmtree(site)
    [status] = statuses()
    assert status.state == "unmodified" and status.latest is None
    assert (
        status.summary().startswith("catalog unreachable (")
        and "no such catalog" in status.summary()
    )
    code, out, _ = run("installed")
    assert code == 0 and "catalog unreachable (" in out
    code, out, _ = run("installed", "--offline")  # nothing asked of the catalog
    assert code == 0 and "unreachable" not in out, out
    code, out, err = run("update")
    assert code == 1 and f"skills/{SKILL}: failed (" in out and "0 updated, 1 not updated" in err
    [outcome] = update()
    assert outcome.action == "failed" and "no such catalog" in outcome.message


# -- catalogs that cannot be used ----------------------------------------------------------------


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_an_unanswering_catalog_times_out_as_one_line(silent_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(CatalogUnreachable, match="cannot reach the catalog \\(timed out\\)"):
        open_catalog(f"http://127.0.0.1:{silent_port}/", timeout=1.0)
    assert time.monotonic() - started < 10


def test_catalog_errors_name_the_catalog(tmp_path: Path) -> None:
    with pytest.raises(CatalogUnreachable, match="no such catalog"):
        open_catalog(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogUnreachable, match="not a catalog"):
        open_catalog(str(tmp_path / "empty"))


def test_unknown_and_ambiguous_names(site: Path) -> None:
    catalog = open_catalog(str(site))
    with pytest.raises(EntryNotFound, match="no role or skill named 'nope'"):
        catalog.find("nope")
    with pytest.raises(EntryNotFound, match="no skill named 'code-reviewer'"):
        catalog.find("skills/code-reviewer")


# -- the command line ------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_install_installed_update(site: Path, isolated: Path) -> None:
    code, out, _ = run("install", SKILL, "--from", str(site), "--json")
    assert code == 0
    done = json.loads(out)
    assert out == json.dumps(done, indent=2) + "\n"  # every --json prints the same way
    assert done["path"] == str(isolated / ".claude" / "skills" / SKILL)
    assert (done["action"], done["kind"], done["name"]) == ("installed", "skills", SKILL)
    code, out, _ = run("install", SKILL, "--from", str(site))
    assert code == 0
    assert out == (
        f"already up to date: skills/{SKILL} -> {done['path']} (sha256:{done['digest'][:12]})\n"
    )
    for offline in ((), ("--offline",)):
        code, out, err = run("installed", "--json", *offline)
        assert code == 0 and out == json.dumps(json.loads(out), indent=2) + "\n"
        assert json.loads(out)[0]["status"] == "up to date"
        code, out, err = run("installed", *offline)
        assert code == 0
        assert out.startswith(f"skills/{SKILL}  {done['path']}  sha256:{done['digest'][:12]}  ")
        assert out.endswith(": up to date\n")
        assert err == "1 installed, 0 with an update available\n"
    code, out, err = run("update")
    assert code == 0 and out.startswith(f"skills/{SKILL}: unchanged (")
    assert err == "0 updated, 0 not updated\n"
    code, out, _ = run("update", "--json")
    assert code == 0 and json.loads(out)[0]["action"] == "unchanged"
    assert out == json.dumps(json.loads(out), indent=2) + "\n"
    code, out, err = run("update", "nothing-like-this")
    assert code == 2 and err.strip() == "error: nothing installed named nothing-like-this"


def test_cli_install_into_a_project(site: Path, isolated: Path) -> None:
    project = Path.cwd()  # the isolated project folder, not the home folder
    for agent, folder in (("claude", ".claude/skills"), ("agents", ".agents/skills")):
        code, out, err = run(
            "install", SKILL, "--from", str(site), "--scope", "project", "--agent", agent
        )
        assert code == 0, err
        assert (project / folder / SKILL / "SKILL.md").is_file()
        assert out.startswith(f"installed skills/{SKILL} -> {project / folder / SKILL} ")


def test_cli_refusals_are_one_line_with_exit_codes(
    site: Path, silent_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace_archive(site, "skills", SKILL, b"PK not really a zip", vouch=False)
    code, out, err = run("install", SKILL, "--from", str(site))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "digest mismatch" in err
    code, _, err = run("install", SKILL)  # no catalog named anywhere
    assert code == 2 and "no catalog named" in err
    code, _, err = run("install", SKILL, "--from", str(tmp_path / "nowhere"))
    assert code == 2 and err.strip().endswith("no such catalog (folder not found)")
    monkeypatch.setenv("SITEGEN_CATALOG", str(tmp_path / "from-env"))
    code, _, err = run("install", SKILL)
    assert code == 2 and "from-env: no such catalog" in err
    monkeypatch.delenv("SITEGEN_CATALOG")
    Path("sitegen.toml").write_text(f'catalog = "{tmp_path / "from-toml"}"\n')
    code, _, err = run("install", SKILL)
    assert code == 2 and "from-toml: no such catalog" in err
    assert "Traceback" not in err


def test_cli_dir_option(site: Path, tmp_path: Path) -> None:
    code, out, err = run("install", SKILL, "--from", str(site), "--dir", str(tmp_path / "mine"))
    assert code == 0, err
    assert (tmp_path / "mine" / SKILL / "SKILL.md").is_file()
    [status] = statuses()
    assert status.record.agent is None and status.record.scope is None


# -- the install folder table ---------------------------------------------------------------------


def test_the_folder_table_is_data_for_the_site(tmp_path: Path) -> None:
    rows = {row["key"]: row for row in as_json()}
    assert set(rows) == set(AGENT_TOOLS) == {"claude", "codex", "gemini", "agents"}
    assert rows["claude"]["folders"]["skill"] == {
        "user": "~/.claude/skills",
        "project": ".claude/skills",
    }
    assert rows["codex"]["folders"]["agent"] is None
    assert install_folder("gemini", "user", "skill", home=tmp_path) == tmp_path / ".gemini/skills"
    assert install_folder("agents", "project", "skill", project=tmp_path) == (
        tmp_path / ".agents" / "skills"
    )
