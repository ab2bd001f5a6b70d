"""Kill `sitegen build` and `sitegen index` at every commit step, with no hooks in the code.

As SQLite's crash tests do, the process is killed from outside at a chosen system call:
``strace -e inject=<syscall>:signal=KILL:when=N`` delivers SIGKILL when the main thread makes
its N-th such call. The N values are chosen from a trace of a clean run of the same command
on the same input: every call of the traced set is classified into a commit step by the path
it touches (new index generation, staging the site tree, the exchange, removing the old
tree, switching the index pointer, sweeping), and each step is killed at its first, middle
and last call, and at the first call of each kind within it (about 20 points for a build:
every step, without the cost of every call). Calls outside any commit step (Python's own
temp files) are not used.

After each kill:

- a fresh reader of the library's index, and of the site's own index, sees exactly the old or
  the new generation; the site's pages are exactly the old or the new ones, and they agree
  with the site's index (pages and API switch together);
- a reader that had the old generation open still reads it (an open store, an open page);
- the user's files in --out (CNAME, custom/extra.html, a symlink) are there, unchanged;
- the next run succeeds with no manual cleanup, reaches the new state and leaves nothing
  behind: no staging or old tree beside --out, only the current and previous generations
  and the pointer in index/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pytest

from sitegen.metastore import MetaStore

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="strace is Linux")

TRACED = "rename,renameat,renameat2,unlink,unlinkat,link,linkat,mkdir,mkdirat,rmdir,fsync"
USER_FILES = {"CNAME": b"catalog.example.com\n", "custom/extra.html": b"<p>mine</p>\n"}
# What names a generation (index/, manifest, catalog) or is not byte-reproducible (Pagefind's
# filter and meta files differ between two runs on the same input): checked apart.
SKIPPED_FROM_STATE = ("index/", ".sitegen-manifest.json", "catalog.json", "pagefind/")
# An entry's twin JSON carries its uuid, drawn when the entry is first indexed: a new entry's
# differs between two runs, so pages are compared without it.
_UUID = re.compile(rb'"uuid":"[0-9a-f-]{36}"')


def strace() -> str:
    found = shutil.which("strace")
    assert found, "strace is needed for the crash tests (.ci/run installs it)"
    return found


def sitegen(*args: str, cwd: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "sitegen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SITEGEN_LOCK_TIMEOUT": "30"},
    )


def write_entry(lib: Path, kind: str, name: str, description: str) -> None:
    folder = lib / kind / name
    folder.mkdir(parents=True, exist_ok=True)
    filename = "SKILL.md" if kind == "skills" else "ROLE.md"
    (folder / filename).write_text(
        f"---\nname: {name}\ndescription: {description}\n---\n# {name}\n\n{description}\n"
    )


def library_v1(lib: Path) -> None:
    write_entry(lib, "skills", "csv-cleaner", "Cleans CSV files. Use when a CSV is messy.")
    write_entry(lib, "skills", "pdf-reader", "Reads PDF files. Use when text is in a PDF.")
    write_entry(lib, "skills", "sql-tuner", "Tunes slow SQL queries. Use when a query is slow.")
    write_entry(lib, "roles", "reviewer", "Reviews code changes for correctness and style.")


def library_v2(lib: Path) -> None:
    """One entry changed, one added, one removed."""
    write_entry(lib, "skills", "csv-cleaner", "Cleans and validates CSV files. Use when a CSV "
                "is messy or has broken rows.")
    write_entry(lib, "skills", "log-reader", "Summarizes application logs. Use when logs pile up.")
    shutil.rmtree(lib / "skills" / "pdf-reader")


def add_user_files(site: Path) -> None:
    for rel, data in USER_FILES.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    (site / "extra-link.html").symlink_to("custom/extra.html")


def check_user_files(site: Path) -> None:
    for rel, data in USER_FILES.items():
        assert (site / rel).read_bytes() == data, rel
    assert os.readlink(site / "extra-link.html") == "custom/extra.html"


def entries_of(index: Path) -> frozenset[tuple[str, str, str]]:
    """What a fresh reader of an index sees: (kind, name, etag) of every entry."""
    with MetaStore.open(fsspec.filesystem("file"), str(index)) as store:
        return frozenset((r.kind, r.name, r.etag) for r in store.list())


def pages_of(site: Path) -> dict[str, str]:
    """The site's files by digest, less what names a generation (index/, manifest, catalog)
    and the uuids in twin JSON."""
    found = {}
    for path in site.rglob("*"):
        rel = path.relative_to(site).as_posix()
        mine = not rel.startswith(SKIPPED_FROM_STATE) and rel not in USER_FILES
        if mine and path.is_file() and not path.is_symlink():
            found[rel] = hashlib.sha256(_UUID.sub(b'"uuid":""', path.read_bytes())).hexdigest()
    return found


def pagefind_is_whole(site: Path, entries: int) -> None:
    """The search bundle is one bundle: its entry file names a meta file that is there, and
    counts the pages the site's index has."""
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())
    language = entry["languages"]["en"]
    assert (site / "pagefind" / f"pagefind.{language['hash']}.pf_meta").is_file()
    assert language["page_count"] == entries


@dataclass(frozen=True)
class State:
    library_index: frozenset[tuple[str, str, str]]
    site_index: frozenset[tuple[str, str, str]] | None
    pages: dict[str, str] | None


def state_of(world: Path, *, with_site: bool) -> State:
    site = world / "site"
    return State(
        entries_of(world / "lib" / "index"),
        entries_of(site / "index") if with_site else None,
        pages_of(site) if with_site else None,
    )


@dataclass(frozen=True)
class Call:
    syscall: str
    ordinal: int  # the N-th call of this syscall by the main thread
    path: str
    step: str | None


def classify(trace: list[tuple[str, str]]) -> list[Call]:
    """Name the commit step of every traced call (None: not a commit step)."""
    calls: list[Call] = []
    seen: Counter[str] = Counter()
    exchanged = switched = False
    for syscall, args in trace:
        seen[syscall] += 1
        step: str | None = None
        if syscall == "renameat2" and "RENAME_EXCHANGE" in args:
            step, exchanged = "site: exchange the trees", True
        elif "current.json.tmp-" in args:
            step = "index: switch the pointer"
            switched = switched or syscall.startswith("rename")
        elif ".sitegen-txn-" in args or ".sitegen-old-" in args or (
            ".sitegen-gen-" in args and syscall.startswith("rename") and 'site")' in args
        ):
            step, exchanged = "site: journaled renames (no exchange)", True
        elif ".sitegen-gen-" in args:
            step = "site: remove the old tree" if exchanged else "site: stage the new tree"
        elif switched and re.search(r"/lib/index[/>]", args):
            step = "index: after the switch (fsync, sweep)"
        elif re.search(r"/index/g-[0-9a-f]+", args) or "current.json.tmp" in args:
            if switched:
                step = "index: sweep old generations"
            elif syscall == "fsync":
                step = "index: make the generation durable"
            else:
                step = "index: write the new generation"
        calls.append(Call(syscall, seen[syscall], args, step))
    return calls


def kill_points(calls: list[Call]) -> list[Call]:
    """First, middle and last call of every commit step."""
    by_step: dict[str, list[Call]] = {}
    for call in calls:
        if call.step is not None:
            by_step.setdefault(call.step, []).append(call)
    chosen: list[Call] = []
    for group in by_step.values():
        firsts = {}
        for call in group:
            firsts.setdefault(call.syscall, call)  # each kind of call once, at its first
        for picked in (group[0], *firsts.values(), group[len(group) // 2], group[-1]):
            if picked not in chosen:
                chosen.append(picked)
    return chosen


def parse_trace(log: Path) -> list[tuple[str, str]]:
    found = []
    for line in log.read_text().splitlines():
        match = re.match(r"^(\w+)\((.*)$", line)
        if match and match.group(1) in TRACED.split(","):
            found.append((match.group(1), match.group(2)))
    return found


@dataclass
class Scenario:
    template: Path  # lib (v2, not yet built) and site/index of v1, with user files
    old: State
    new: State
    points: list[Call]
    command: tuple[str, ...]
    with_site: bool
    no_exchange: tuple[str, ...] = ()  # strace options that make renameat2 fail (EINVAL)


NO_EXCHANGE = ("-e", "inject=renameat2:error=EINVAL")


def make_scenario(
    root: Path, command: tuple[str, ...], with_site: bool, no_exchange: tuple[str, ...] = ()
) -> Scenario:
    template = root / "template"
    lib = template / "lib"
    library_v1(lib)
    first = sitegen(*command, cwd=template)
    assert first.returncode == 0, first.stderr
    if with_site:
        add_user_files(template / "site")
    old = state_of(template, with_site=with_site)
    library_v2(lib)
    reference = root / "reference"
    shutil.copytree(template, reference, symlinks=True)
    clean = sitegen(*command, cwd=reference)
    assert clean.returncode == 0, clean.stderr
    new = state_of(reference, with_site=with_site)
    assert new != old
    traced = root / "traced"
    shutil.copytree(template, traced, symlinks=True)
    log = root / "trace.log"
    run = sitegen(
        *command,
        cwd=traced,
        prefix=(strace(), "-qq", "-y", "-o", str(log), "-e", TRACED, *no_exchange),
    )
    assert run.returncode == 0, run.stderr
    assert state_of(traced, with_site=with_site) == new
    points = kill_points(classify(parse_trace(log)))
    steps = {p.step for p in points}
    assert "index: switch the pointer" in steps and "index: write the new generation" in steps
    if with_site:
        switch = "journaled renames (no exchange)" if no_exchange else "exchange the trees"
        assert {"site: stage the new tree", f"site: {switch}"} <= steps
    return Scenario(template, old, new, points, command, with_site, no_exchange)


@pytest.fixture(scope="module")
def build_scenario(tmp_path_factory: pytest.TempPathFactory, embedder) -> Scenario:
    return make_scenario(
        tmp_path_factory.mktemp("crash-build"), ("build", "lib", "--out", "site"), True
    )


@pytest.fixture(scope="module")
def fallback_scenario(tmp_path_factory: pytest.TempPathFactory, embedder) -> Scenario:
    """A system without renameat2's exchange (strace makes it fail with EINVAL)."""
    return make_scenario(
        tmp_path_factory.mktemp("crash-fallback"),
        ("build", "lib", "--out", "site"),
        True,
        NO_EXCHANGE,
    )


@pytest.fixture(scope="module")
def index_scenario(tmp_path_factory: pytest.TempPathFactory, embedder) -> Scenario:
    return make_scenario(tmp_path_factory.mktemp("crash-index"), ("index", "lib"), False)


def leftovers(world: Path) -> list[str]:
    """What a finished run must not leave: anything beside lib/ and site/, temp files, or
    more than the current and previous index generations. The previous site tree is removed
    by a background process under the --out lock (`sitegen.publish.cleanup`): give it a
    minute, checking under the lock as a next build would."""
    from sitegen.locks import exclusive

    deadline = time.monotonic() + 60
    while True:
        with exclusive(str(world / "site"), what="site"):
            found = _leftovers(world)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _leftovers(world: Path) -> list[str]:
    found = sorted(p.name for p in world.iterdir() if p.name not in ("lib", "site"))
    index = world / "lib" / "index"
    names = sorted(p.name for p in index.iterdir())
    generations = [n for n in names if n.startswith("g-")]
    found += [n for n in names if n != "current.json" and not n.startswith("g-")]
    if len(generations) > 2:
        found.append(f"{len(generations)} generations in index/")
    site_index = world / "site" / "index"
    if site_index.is_dir():
        found += [f"site/index/{n}" for n in os.listdir(site_index) if n != "current.json"][1:]
    return found


def crash_and_recover(scenario: Scenario, point: Call, world: Path) -> str:
    shutil.copytree(scenario.template, world, symlinks=True)
    site = world / "site"
    old_reader = MetaStore.open(fsspec.filesystem("file"), str(world / "lib" / "index"))
    old_page = open(site / "index.html", "rb") if scenario.with_site else None  # noqa: SIM115
    old_page_bytes = (site / "index.html").read_bytes() if scenario.with_site else b""
    try:
        killed = sitegen(
            *scenario.command,
            cwd=world,
            prefix=(
                strace(),
                "-qq",
                "-y",
                "-o",
                str(world.parent / f"{world.name}.log"),
                "-e",
                "signal=none",
                "-e",
                f"trace={point.syscall},renameat2",  # injection acts on traced calls only
                "-e",
                f"inject={point.syscall}:signal=KILL:when={point.ordinal}",
                *scenario.no_exchange,
            ),
        )
        outcome = "killed" if killed.returncode == -9 or killed.returncode == 137 else "ran through"
        assert "Traceback" not in killed.stderr
        if scenario.no_exchange and not site.exists():
            # Between the two journaled renames there is no --out (documented); the next
            # build finishes the switch.
            outcome += ", site absent until the next build"
            assert entries_of(world / "lib" / "index") == scenario.old.library_index
            return outcome + recover_and_check(scenario, world)
        state = state_of(world, with_site=scenario.with_site)
        assert state.library_index in (scenario.old.library_index, scenario.new.library_index)
        if scenario.with_site:
            assert (state.site_index, state.pages) in (
                (scenario.old.site_index, scenario.old.pages),
                (scenario.new.site_index, scenario.new.pages),
            ), "the site's pages and its index must be one whole generation, old or new"
            check_user_files(site)
            assert state.site_index is not None
            pagefind_is_whole(site, len(state.site_index))
            assert old_page is not None and old_page.read() == old_page_bytes
        assert frozenset((r.kind, r.name, r.etag) for r in old_reader.list()) == (
            scenario.old.library_index
        )
        if state.library_index == scenario.new.library_index:
            outcome += ", index new"
        if scenario.with_site and state.pages == scenario.new.pages:
            outcome += ", site new"
    finally:
        old_reader.engine.close()
        if old_page is not None:
            old_page.close()
    return outcome + recover_and_check(scenario, world)


def recover_and_check(scenario: Scenario, world: Path) -> str:
    """The next run, as a user would start it: it succeeds and heals everything."""
    again = sitegen(*scenario.command, cwd=world)
    assert again.returncode == 0, again.stderr
    assert state_of(world, with_site=scenario.with_site) == scenario.new
    if scenario.with_site:
        check_user_files(world / "site")
    assert leftovers(world) == []
    return ""


def test_build_killed_at_every_commit_step(build_scenario: Scenario, tmp_path: Path) -> None:
    outcomes = []
    for number, point in enumerate(build_scenario.points):
        outcome = crash_and_recover(build_scenario, point, tmp_path / f"w{number}")
        outcomes.append(f"{point.step}: {point.syscall} #{point.ordinal}: {outcome}")
    print("\n".join(outcomes))
    assert any("killed" in o and "site new" not in o for o in outcomes)
    assert any("killed" in o and "site new" in o for o in outcomes)


def test_index_killed_at_every_commit_step(index_scenario: Scenario, tmp_path: Path) -> None:
    outcomes = []
    for number, point in enumerate(index_scenario.points):
        outcome = crash_and_recover(index_scenario, point, tmp_path / f"w{number}")
        outcomes.append(f"{point.step}: {point.syscall} #{point.ordinal}: {outcome}")
    print("\n".join(outcomes))
    assert any(o.endswith("killed") for o in outcomes)
    assert any("killed, index new" in o for o in outcomes)


def test_build_without_exchange_killed_at_every_commit_step(
    fallback_scenario: Scenario, tmp_path: Path
) -> None:
    outcomes = []
    for number, point in enumerate(fallback_scenario.points):
        outcome = crash_and_recover(fallback_scenario, point, tmp_path / f"w{number}")
        outcomes.append(f"{point.step}: {point.syscall} #{point.ordinal}: {outcome}")
    print("\n".join(outcomes))
    assert any("journaled renames" in o and "killed" in o for o in outcomes)
