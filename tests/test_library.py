"""The File Store on real filesystems: the example library, the bad corpus, memory:// and zip://.

Layouts other than roles/ and skills/ are in test_layouts.py; the Agent Skills spec oracle in
test_spec_oracle.py; git dates in test_dates.py.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest

from sitegen.library import KINDS, Library, LibraryError, compute_etag
from tests.conftest import EXAMPLE_LIBRARY

# One defect per entry: the folder, and the problem code we must report for it.
EXPECTED_DEFECTS = {
    "skills/no-frontmatter": ("error", "no-frontmatter"),
    "skills/unclosed-frontmatter": ("error", "no-frontmatter"),
    "skills/broken-yaml": ("error", "yaml"),
    "skills/tabs-yaml": ("error", "yaml"),
    "skills/missing-description": ("error", "description-missing"),
    "skills/empty-description": ("error", "description-missing"),
    "skills/long-description": ("error", "description-too-long"),
    "skills/list-description": ("error", "description-type"),
    "skills/" + "a" * 70: ("error", "name-too-long"),
    "skills/Bad_Name": ("error", "name-invalid"),
    "skills/leading-hyphen": ("error", "name-invalid"),
    "skills/double-hyphen": ("error", "name-invalid"),
    # A YAML number is text, as the spec's reference parser reads it: a name "123" that
    # does not match its folder.
    "skills/numeric-name": ("warning", "name-mismatch"),
    "skills/list-name": ("error", "name-type"),
    "skills/wrong-case": ("error", "missing-definition"),
    "skills/dup-key": ("warning", "duplicate-key"),
    "agents/no-description.md": ("error", "description-missing"),
    "agents/bad-model.md": ("warning", "model-invalid"),
    "agents/display-name.md": ("warning", "name-invalid"),
    "agents/bad-permission.md": ("warning", "field-value"),
    "skills/dup-one": ("error", "duplicate-name"),
    "skills/dup-two": ("error", "duplicate-name"),
    "skills/latin1": ("error", "not-utf8"),
    "skills/utf16": ("error", "not-utf8"),
    "skills/binary-definition": ("error", "not-utf8"),
    "skills/empty-file": ("error", "empty"),
    "skills/symlink-outside": ("error", "symlink-outside"),
    "skills/huge-file": ("error", "file-too-large"),
    "skills/broken-link": ("error", "broken-symlink"),
    "skills/link-dir": ("warning", "symlink-dir"),
    "skills/fifo": ("warning", "special-file"),
    "skills/bytes-name": ("error", "not-utf8-name"),
    "skills/bad-\\xff": ("error", "not-utf8-name"),  # the folder's name, shown escaped
    "roles/missing-definition": ("warning", "missing-definition"),
    "roles/frontmatter-list": ("error", "frontmatter-type"),
    "skills/name-mismatch": ("warning", "name-mismatch"),
    "skills/unknown-key": ("warning", "unknown-key"),
    "skills/angle-brackets": ("note", "description-angle"),
    "skills/too-long-file": ("note", "too-long"),
    "skills/bom": ("warning", "bom"),
    "roles/license-list": ("warning", "field-type"),
}
# Entries that look odd but are valid, and must come through intact.
VALID_ODDITIES = {
    ("skills", "skills/crlf"),
    ("skills", "skills/deeply-nested"),
    ("skills", "skills/binary-asset"),
    ("skills", "skills/no-tags"),  # tags are optional: derived tags fill in
    ("skills", "skills/lowercase-definition"),  # skill.md: the spec accepts it
    ("roles", "roles/metadata-tags"),
    ("roles", "agents"),  # display-name.md, kept as api-designer
}


def test_example_library_is_clean_and_large_enough() -> None:
    report = Library(EXAMPLE_LIBRARY).read()
    assert report.problems == (), [p.format() for p in report.problems]
    assert len(report.of_kind("roles")) >= 10
    assert len(report.of_kind("skills")) >= 15
    with_scripts = [
        e
        for e in report.of_kind("skills")
        if any(f.path.startswith("scripts/") for f in e.files)
        and any(f.path.startswith("references/") for f in e.files)
    ]
    assert len(with_scripts) >= 4


def test_entry_record_matches_files_on_disk() -> None:
    report = Library(EXAMPLE_LIBRARY).read()
    entry = next(e for e in report.entries if e.kind == "skills" and len(e.files) > 1)
    assert entry.folder == f"skills/{entry.name}" and entry.format == "skill"
    assert entry.definition_path == f"skills/{entry.name}/SKILL.md"
    folder = EXAMPLE_LIBRARY / entry.folder
    on_disk = sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )
    assert [f.path for f in entry.files] == on_disk
    for info in entry.files:
        data = (folder / info.path).read_bytes()
        assert info.size == len(data)
        assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.etag == compute_etag(entry.files)
    assert entry.description and entry.tags
    assert entry.body.strip() and not entry.body.startswith("---")
    source_lines = (folder / "SKILL.md").read_text().splitlines()
    assert source_lines[entry.key_lines["description"] - 1].startswith("description:")
    assert source_lines[entry.body_line - 1] == entry.body.splitlines()[0]


def test_bad_corpus_reports_every_defect_with_its_path(bad_library: Path) -> None:
    report = Library(bad_library).read()
    found = {(p.path, p.level, p.code) for p in report.problems}
    for folder, (level, code) in EXPECTED_DEFECTS.items():
        hits = [f for f in found if f[0].startswith(f"{bad_library}/{folder}") and f[1:] == (
            level,
            code,
        )]
        assert hits, f"{folder}: expected {level} {code}; got {sorted(found)}"
    kept_paths = {e.definition_path for e in report.entries}
    error_paths = {f for f, (lvl, _) in EXPECTED_DEFECTS.items() if lvl == "error"}
    for path in error_paths:
        assert not any(k.startswith(path) for k in kept_paths), f"{path} has an error but was kept"
    valid = {(e.kind, e.folder) for e in report.entries}
    assert valid >= VALID_ODDITIES
    file_level = {"broken-symlink", "symlink-outside", "symlink-dir", "special-file"}
    file_level |= {"file-too-large", "not-utf8-name"}
    for problem in report.problems:
        assert problem.line >= 1
        if problem.code in file_level:  # about a file as a whole: its first line
            assert problem.line == 1, problem
        assert "\n" not in problem.format()
    # Every entry recognised is either kept or counted as left out, never lost silently.
    assert report.left_out == report.found - len(report.entries) > 0
    assert "agents/README.md" not in {p.path.removeprefix(f"{bad_library}/") for p in
                                      report.problems}


def test_valid_oddities_parse_correctly(bad_library: Path) -> None:
    entries = {(e.kind, e.name): e for e in Library(bad_library).read().entries}
    crlf = entries[("skills", "crlf")]
    assert "\r" not in crlf.body and crlf.body.startswith("# Title")
    deep = entries[("skills", "deeply-nested")]
    assert "a/b/c/d/e/f/g/h/i/j/deep.txt" in [f.path for f in deep.files]
    assert entries[("roles", "metadata-tags")].tags == ("ops", "oncall")
    assert entries[("skills", "bom")].description.startswith("Does a thing")
    assert entries[("skills", "other-name")].folder == "skills/name-mismatch"
    # A YAML number is text: metadata keeps "2", the version as written.
    assert entries[("roles", "metadata-tags")].version == "2"
    assert entries[("skills", "dup-key")].description.startswith("Second")
    agent = entries[("roles", "api-designer")]
    assert (agent.format, agent.folder, agent.definition_path) == (
        "agent",
        "agents",
        "agents/display-name.md",
    )
    assert [f.path for f in agent.files] == ["display-name.md"]
    lower = entries[("skills", "lowercase-definition")]
    assert lower.definition_path == "skills/lowercase-definition/skill.md"


def test_etag_changes_with_content_and_only_then(example_copy: Path) -> None:
    """Each file of an entry in turn (definition, references/, scripts/, assets/, a hidden
    file), then a rename and a removal: every change moves that entry's etag to a value never
    seen before, and no other entry's."""

    def etags() -> dict[str, str]:
        return {e.name: e.etag for e in Library(example_copy).read().entries}

    before = etags()
    assert before == etags()
    skill = example_copy / "skills" / "api-changelog-writer"
    # Hidden files inside an entry are part of it: listed and hashed; VCS folders are not.
    (skill / ".env.example").write_text("TOKEN=\n")
    (skill / ".git").mkdir()
    (skill / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    entry = {e.name: e for e in Library(example_copy).read().entries}[skill.name]
    assert ".env.example" in [f.path for f in entry.files]
    assert not any(f.path.startswith(".git/") for f in entry.files)
    files = sorted(p.relative_to(skill).as_posix() for p in skill.rglob("*") if p.is_file())
    files = [f for f in files if not f.startswith(".git/")]
    assert {f.split("/")[0] for f in files} >= {
        "SKILL.md", "references", "scripts", "assets", ".env.example"
    }
    seen = {before[skill.name]}
    current = etags()
    assert current[skill.name] not in seen  # the hidden file counted
    seen.add(current[skill.name])

    def changed_only_this_entry(what: str) -> None:
        nonlocal current
        after = etags()
        assert {n for n in after if after[n] != current[n]} == {skill.name}, what
        assert after[skill.name] not in seen, what
        seen.add(after[skill.name])
        current = after

    for rel in files:
        path = skill / rel
        path.write_bytes(path.read_bytes() + b"\n")
        changed_only_this_entry(rel)
    # The same bytes under another name, then a file gone: the paths are hashed too.
    (skill / "references" / "breaking-change-rules.md").rename(skill / "references" / "rules.md")
    changed_only_this_entry("rename")
    (skill / "assets" / "changelog-entry.md").unlink()
    changed_only_this_entry("removal")
    # A VCS folder's content is not the entry's.
    (skill / ".git" / "HEAD").write_text("ref: refs/heads/other\n")
    assert etags() == current


@pytest.mark.parametrize("fixture", ["memory_library", "zip_library"])
def test_other_filesystems_read_the_same_entries(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(fixture)
    local = Library(EXAMPLE_LIBRARY).read()
    remote = Library(url).read()
    assert remote.problems == ()
    assert [(e.kind, e.name, e.etag, e.description) for e in remote.entries] == [
        (e.kind, e.name, e.etag, e.description) for e in local.entries
    ]
    assert remote.entries[0].kind in KINDS
    if fixture == "memory_library":  # its listing carries creation times: entries are dated
        now = time.time()
        assert all(
            e.created is not None and now - 600 < e.created <= e.updated <= now
            for e in remote.entries
        )


def test_index_and_output_folders_are_never_read_as_content(example_copy: Path) -> None:
    for folder in ("index", "site", "public", "node_modules/pkg", ".git/x", ".site.sitegen-txn-1"):
        (example_copy / folder).mkdir(parents=True)
        (example_copy / folder / "SKILL.md").write_text("garbage")
    (example_copy / "index" / "roles.parquet").write_bytes(b"PAR1junk")
    (example_copy / ".site.sitegen-txn-abc.json").write_text("{}")  # a publish journal
    report = Library(example_copy, ignore=[example_copy / "public"]).read()
    assert report.problems == ()
    assert "index/" in report.scan.skipped and "public/" in report.scan.skipped
    assert not any("sitegen-txn-abc.json" in s for s in report.scan.skipped)  # a file, not a folder


def test_a_folder_with_both_definitions_is_one_error_naming_both(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "twin"
    folder.mkdir(parents=True)
    for name in ("SKILL.md", "ROLE.md"):
        (folder / name).write_text("---\nname: twin\ndescription: Two of a kind.\n---\n")
    report = Library(tmp_path).read()
    assert report.entries == ()
    [problem] = [p for p in report.problems if p.level == "error"]
    assert re.search(
        r"skills/twin/ holds both (SKILL\.md and ROLE\.md|ROLE\.md and SKILL\.md); "
        r"one folder is one entry$",
        problem.message,
    ), problem.message


def test_missing_library_is_a_library_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no such library"):
        Library(tmp_path / "nope").read()
    for url in ("nosuchprotocol://bucket/lib", "zip://lib::" + str(tmp_path / "none.zip")):
        with pytest.raises(LibraryError, match="cannot open library"):
            Library(url)


def test_size_limit_is_configurable(example_copy: Path) -> None:
    report = Library(example_copy, max_file_size=200).read()
    assert any(p.code == "file-too-large" for p in report.errors)
    assert len(report.entries) < len(Library(example_copy).read().entries)


@pytest.mark.parametrize("fixture", ["memory_library", "zip_library"])
def test_the_size_limit_holds_on_every_filesystem(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    """Remote files are sized when listed and again when read; either way the same files are
    refused and the same entries left out as on a local disk."""

    def too_large(library: Library) -> tuple[list[str], list[str]]:
        report = library.read()
        root = library.display_root.rstrip("/") + "/"
        refused = sorted(
            p.path.removeprefix(root) for p in report.errors if p.code == "file-too-large"
        )
        return refused, [e.name for e in report.entries]

    url = request.getfixturevalue(fixture)
    local = too_large(Library(EXAMPLE_LIBRARY, max_file_size=4000))
    assert local[0] and local[1]  # some files refused, some entries kept
    assert too_large(Library(url, max_file_size=4000)) == local


def test_the_summary_counts_levels_apart_and_strict_moves_warned_entries(tmp_path: Path) -> None:
    """One line shared by check, index and build: notes never fail, warnings fail strict."""
    texts = {
        "clean": "description: Cleans things. Use when needed.",
        "warned": "description: Warns. Use when needed.\nodd: 1",
        "noted": "description: Has <angle> brackets. Use when needed.",
        "broken": "license: MIT",
    }
    for name, fields in texts.items():
        folder = tmp_path / "skills" / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(f"---\nname: {name}\n{fields}\n---\n# {name}\n")
    report = Library(tmp_path).read()
    assert [p.level for p in report.errors] == ["error"]
    assert [p.code for p in report.warnings] == ["unknown-key"]
    assert [p.code for p in report.notes] == ["description-angle"]
    assert {p.code for p in report.strict_problems()} == {"description-missing", "unknown-key"}
    assert report.summary() == (
        "0 roles, 3 skills valid, 1 left out with errors; 1 error(s), 1 warning(s), 1 note(s)"
    )
    assert report.summary(strict=True) == (
        "0 roles, 2 skills valid, 2 with errors; 2 error(s), 0 warning(s), 1 note(s)"
    )
    assert sorted(e.name for e in report.strict_entries()) == ["clean", "noted"]


def test_an_empty_library_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "docs" / "x").mkdir(parents=True)
    (tmp_path / "docs" / "README.md").write_text("# nothing here\n")
    (tmp_path / "docs" / "x" / "SKILL.md").write_text("---\nname: x\ndescription: X.\n---\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "sitegen.toml").write_text('[skills]\nexclude = ["docs"]\n')
    report = Library(tmp_path).read()
    assert report.scan is not None and report.found == 0
    with pytest.raises(LibraryError) as raised:
        report.require_entries()
    assert str(raised.value) == (
        f"{tmp_path}: no roles or skills found; looked for SKILL.md and ROLE.md at any depth "
        "and agent files matching **/agents/**/*.md; walked 2 folder(s) and 3 file(s); "
        "skipped node_modules/; 1 left out by sitegen.toml globs"
    )


def test_a_remote_listing_names_each_skipped_folder_once(tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"/skips-{tmp_path.name}"
    files = {
        "skills/a/SKILL.md": "---\nname: a\ndescription: A.\n---\n",
        "index/current.json": "{}",
        "node_modules/pkg/deep/x.js": "x",
        "skills/a/.git/HEAD": "ref",
    }
    for rel, text in files.items():
        fs.pipe_file(f"{root}/{rel}", text.encode())
    try:
        report = Library(f"memory://{root}").read()
    finally:
        fs.rm(root, recursive=True)
    assert [e.name for e in report.entries] == ["a"]
    assert report.scan is not None
    assert sorted(report.scan.skipped) == ["index/", "node_modules/", "skills/a/.git/"]
