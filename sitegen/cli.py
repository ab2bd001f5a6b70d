"""The command line: parse options, call one function in `sitegen.commands`, print the result.

Errors are caught in one place (:class:`SitegenGroup`): every
:class:`~sitegen.errors.SitegenError` becomes one line on stderr and its exit code (1 problems
found, 2 something named cannot be used); anything else is a bug, still one line unless
`SITEGEN_DEBUG=1` asks for the traceback. Imports of the rooms are inside the commands so a
cold `sitegen match` loads only what matching needs.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from sitegen import __version__
from sitegen.batch import few_collections
from sitegen.collisions import DEFAULT_COLLISION_DISTANCE
from sitegen.config import SEMANTIC_CHOICES, SETTINGS_BY_KEY, Setting
from sitegen.errors import SitegenError
from sitegen.search import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE, MAX_LIMIT, TYPES
from sitegen.suggest import closest
from sitegen.targets import AGENT_KEYS, DEFAULT_AGENT

if TYPE_CHECKING:
    from sitegen.evaluate import EvalReport
    from sitegen.library import Problem
    from sitegen.suggest import closest
from sitegen.search import MatchResult

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "SITEGEN_DEBUG"


class SitegenGroup(click.Group):
    """The one place a failure becomes an exit code and a line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SitegenError as exc:
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            _say(f"error: {exc}")
            ctx.exit(exc.exit_code)
        except Exception as exc:  # a bug: one line unless asked for the traceback
            if os.environ.get(DEBUG_ENV):
                raise
            command = ctx.invoked_subcommand or "sitegen"
            _say(
                f"error: {command} failed ({type(exc).__name__}: {exc}); "
                f"set {DEBUG_ENV}=1 for the traceback"
            )
            ctx.exit(1)


class Choice(click.Choice):
    """click.Choice that names the closest choice for a misspelt value (`--type skill`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            guess = closest(str(value), [str(c) for c in self.choices])
            if guess is None:
                raise
            self.fail(f"{exc.message.rstrip('.')}; did you mean {guess!r}?", param, ctx)


class SettingType(click.ParamType):
    """A flag checked by its setting's own parser, so a flag and `sitegen.toml` agree."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self.name = setting.metavar.lower()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.setting.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def setting_option(key: str, **extra: Any) -> Callable[[F], F]:
    """The command-line option of a setting declared in `sitegen.config.SETTINGS`."""
    setting = SETTINGS_BY_KEY[key]
    assert setting.flag is not None, key
    options: dict[str, Any] = {
        "type": SettingType(setting),
        "default": None,
        "metavar": setting.metavar,
        "help": setting.option_help,
    }
    options.update(extra)
    return click.option(setting.flag, key, **options)


LIBRARY_HELP = (
    "The library: a folder or any fsspec URL (also the positional LIBRARY) "
    "[env: SITEGEN_LIBRARY; default: .]."
)


def library_param(command: F) -> F:
    """The library, named one way for every command: `--library PATH_OR_URL`; commands that
    have no other argument also take it as the positional LIBRARY (same meaning)."""

    @functools.wraps(command)
    def wrapper(*args: Any, library: str | None, library_flag: str | None, **kwargs: Any) -> Any:
        if library and library_flag and library != library_flag:
            raise click.UsageError(
                f"the library is named twice ({library} and --library {library_flag}); give one"
            )
        return command(*args, library=library or library_flag, **kwargs)

    flagged = click.option(
        "--library", "library_flag", default=None, metavar="PATH_OR_URL", help=LIBRARY_HELP
    )(wrapper)
    return cast(F, click.argument("library", required=False)(flagged))


MODEL_OPTION = click.option(
    "--model",
    "model",
    envvar="SITEGEN_MODEL",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Local sentence-transformers model folder [env: SITEGEN_MODEL; default: the "
    "installed all-MiniLM-L6-v2].",
)


def _step_printer() -> Any:
    from sitegen.progress import StepPrinter

    return StepPrinter()


LEVEL_COLOURS = {"error": "red", "warning": "yellow", "note": "cyan"}


def _print_problems(problems: Iterable[Problem], *, err: bool) -> None:
    """`path:line: level: message`, the level in colour on a terminal (click strips it else)."""
    for problem in problems:
        level = click.style(problem.level, fg=LEVEL_COLOURS.get(problem.level), bold=True)
        click.echo(f"{problem.path}:{problem.line}: {level}: {problem.message}", err=err)


def _say(message: str) -> None:
    """A line on stderr; a leading `warning:` in colour on a terminal."""
    head, sep, rest = message.partition(": ")
    if sep and head in ("warning", "error"):
        message = click.style(head, fg=LEVEL_COLOURS[head], bold=True) + sep + rest
    click.echo(message, err=True)


def _bar(label: str, unit: str, *, plain: bool = False) -> Any:
    from sitegen.progress import Bar

    return Bar(label, unit, plain=plain)


@click.group(cls=SitegenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli() -> None:
    """Publish and search a library of agent roles and skills."""


@cli.command()
@library_param
@click.option("--strict", is_flag=True, help="Treat warnings as errors (notes never fail).")
@click.option(
    "--format",
    "fmt",
    type=Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format for problems (and collisions).",
)
@setting_option("max_file_size")
@click.option(
    "--collisions",
    is_flag=True,
    help="Instead, report pairs of entries so alike that an agent may pick the wrong one.",
)
@click.option(
    "--max-distance",
    type=click.FloatRange(0, 2),
    default=DEFAULT_COLLISION_DISTANCE,
    show_default=True,
    help="Cosine distance (0-2) under which two entries collide (with --collisions).",
)
@MODEL_OPTION
def check(
    library: str | None,
    strict: bool,
    fmt: str,
    max_file_size: int | None,
    collisions: bool,
    max_distance: float,
    model: str | None,
) -> None:
    """Validate LIBRARY (default: current folder or $SITEGEN_LIBRARY)."""
    from sitegen.commands.check import check as check_library
    from sitegen.commands.check import check_collisions

    flags = {"max_file_size": max_file_size}
    if collisions:
        found = check_collisions(
            library,
            max_distance=max_distance,
            model=model,
            flags=flags,
            progress=_step_printer(),
        )
        if fmt == "json":
            click.echo(json.dumps([c.as_dict() for c in found.pairs], indent=2))
        else:
            for pair in found.pairs:
                click.echo(pair.line())
        click.echo(found.summary(), err=True)
        sys.exit(1 if found.same_kind else 0)
    result = check_library(library, strict=strict, flags=flags)
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in result.problems], indent=2))
    else:
        _print_problems(result.problems, err=False)
    click.echo(result.summary(), err=True)
    sys.exit(1 if result.errors else 0)


@cli.command(name="new")
@click.argument("form", metavar="TYPE", type=Choice(("skill", "role", "agent")))
@click.argument("name")
@click.option(
    "--library",
    "library",
    default=None,
    metavar="DIR",
    help="Library to add it to (created if missing) [env: SITEGEN_LIBRARY; default: .].",
)
@click.option(
    "--description",
    default=None,
    help="What it does and when to use it (up to 1,024 characters) [default: a placeholder "
    "to rewrite].",
)
@click.option(
    "--tags",
    default=None,
    metavar="A,B",
    help="Comma-separated tags (a skill keeps them in metadata.tags, a role or agent in a "
    "tags list) [default: none].",
)
def new_command(
    form: str, name: str, library: str | None, description: str | None, tags: str | None
) -> None:
    """Write a new TYPE (skill, role or agent) named NAME from a template that passes
    `sitegen check --strict`: skills/NAME/SKILL.md, roles/NAME/ROLE.md or agents/NAME.md."""
    from sitegen.commands.library import library_location
    from sitegen.library import Library
    from sitegen.scaffold import new_entry

    tag_list = tuple(t.strip() for t in tags.split(",")) if tags else ()
    made = new_entry(
        Library(library_location(library)), form, name, description=description, tags=tag_list
    )
    click.echo(made.shown)
    _say(f"next: edit {made.shown}, then run `sitegen check --strict`")


@cli.command()
@MODEL_OPTION
def prepare(model: str | None) -> None:
    """Prepare the query model once (fine-tune, int8 export); print its cache folder.

    Every command that embeds does this on first use; run it on its own so CI can cache the
    folder ($SITEGEN_CACHE_DIR) and later steps start at once.
    """
    from sitegen.model_prepare import prepare_model

    click.echo(str(prepare_model(model, progress=_step_printer())))


@cli.command()
@library_param
@click.option("--full", is_flag=True, help="Re-embed every entry, not only changed ones.")
@click.option("--strict", is_flag=True, help="Any problem (even a warning) aborts the index.")
@MODEL_OPTION
@few_collections()
def index(library: str | None, full: bool, strict: bool, model: str | None) -> None:
    """Embed LIBRARY's entries into its index/ folder, incrementally by etag."""
    from sitegen.commands.library import open_library, read_library
    from sitegen.embedder import load_embedder
    from sitegen.indexer import index_library

    lib = open_library(library)
    report = read_library(lib)
    _print_problems(report.problems, err=True)
    embedder = load_embedder(model, progress=_step_printer(), lazy=True)
    with _bar("embedding", "entries") as progress:
        result = index_library(
            lib,
            embedder,
            full=full,
            strict=strict,
            report=report,
            progress=progress,
            warn=lambda line: click.echo(f"warning: {line}", err=True),
        )
    click.echo(result.summary())
    click.echo(f"{lib.display_root}: {report.summary(strict=strict)}", err=True)
    sys.exit(1 if report.errors else 0)


def _query(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("must not be empty", ctx, param)
    return value


@cli.command(name="match")
@click.argument("query", callback=_query)
@click.option(
    "--library",
    "library",
    default=None,
    metavar="PATH_OR_URL",
    help="Library, or a published site, holding index/: a folder or any fsspec URL "
    "[env: SITEGEN_LIBRARY; default: .].",
)
@click.option(
    "--type",
    "kind",
    type=Choice(TYPES),
    default="all",
    show_default=True,
    help="Which entries to rank.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=DEFAULT_LIMIT,
    show_default=True,
    help=f"Most results to print (1-{MAX_LIMIT}).",
)
@click.option(
    "--max-distance",
    type=click.FloatRange(0, 2),
    default=DEFAULT_MAX_DISTANCE,
    show_default=True,
    help="Cosine distance (0-2) beyond which an entry is not a match.",
)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@MODEL_OPTION
def match_command(
    query: str,
    library: str,
    kind: str,
    limit: int,
    max_distance: float,
    as_json: bool,
    model: str | None,
) -> None:
    """Find the roles and skills that best fit QUERY."""
    from sitegen.commands.match import match_library

    found = match_library(
        library,
        query,
        kind=kind,
        limit=limit,
        max_distance=max_distance,
        model=model,
        progress=_step_printer(),
    )
    if found.result.truncated:
        _say(
            f"warning: query is longer than the model's {found.window}-token window; "
            "only its start was used"
        )
    if found.changed:
        _say(
            f"warning: the library changed after its index was written ({found.changed} "
            "entr" + ("y" if found.changed == 1 else "ies") + "); run `sitegen index` "
            "for current results"
        )
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in found.result.results], indent=2))
    else:
        _print_table(found.result)
    if found.result.did_you_mean:
        _say(f'did you mean "{found.result.did_you_mean}"? (its results are included above)')
    elif found.near:
        _say(f"did you mean {' or '.join(found.near)}? (ranked first above)")


def _print_table(result: MatchResult) -> None:
    from sitegen.entry import SINGULAR

    if not result.results:
        click.echo("no match within the distance limit", err=True)
        return
    width = shutil.get_terminal_size((100, 20)).columns
    name_width = max(len(m.name) for m in result.results)
    header = f"{'#':>2}  {'type':<6}  {'name':<{name_width}}  {'dist':>5}  description"
    click.echo(header)
    room = max(width - len(header) + len("description"), 20)
    for rank, m in enumerate(result.results, start=1):
        text = m.description if len(m.description) <= room else m.description[: room - 1] + "…"
        click.echo(
            f"{rank:>2}  {SINGULAR[m.kind]:<6}  {m.name:<{name_width}}  {m.distance:5.3f}  {text}"
        )


@cli.command(name="build")
@library_param
@setting_option("out", metavar="DIR_OR_URL")
@setting_option("base_url")
@setting_option("api_url")
@setting_option("semantic", type=Choice(SEMANTIC_CHOICES))
@setting_option("templates", type=click.Path(exists=True, file_okay=False))
@setting_option("title")
@click.option("--strict", is_flag=True, help="Any problem (even a warning) fails the build.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for rendering (1-64) [default: one per CPU on Linux with 4+ CPUs, "
    "else 1].",
)
@MODEL_OPTION
def build_command(
    library: str | None,
    out: str | None,
    base_url: str | None,
    api_url: str | None,
    semantic: str | None,
    templates: str | None,
    title: str | None,
    strict: bool,
    jobs: int | None,
    model: str | None,
) -> None:
    """Index LIBRARY and render its catalog site into --out, as one transaction.

    Exits 1 when any entry was left out for errors (the valid ones are still published,
    unless --strict), 2 when the library or an option cannot be used.
    """
    from pathlib import Path

    from sitegen.commands.build import build

    flags = {
        "out": out,
        "base_url": base_url,
        "api_url": api_url,
        "semantic": semantic,
        "templates": templates,
        "title": title,
    }
    with _bar("embedding", "entries") as embed_progress, _bar("rendering", "files") as progress:
        run = build(
            library,
            flags=flags,
            strict=strict,
            jobs=jobs,
            model=model,
            on_report=lambda report: _print_problems(report.problems, err=True),
            log=lambda message: _say(f"sitegen: {message}"),
            progress=progress,
            embed_progress=embed_progress,
            model_progress=_step_printer(),
        )
    click.echo(run.result.summary())
    for note in run.result.notes:  # files kept for their owner; how an object store switches
        _say(f"sitegen: {note}")
    click.echo(f"{run.library.display_root}: {run.report.summary(strict=strict)}", err=True)
    if "://" not in run.out:
        _say(f"open {Path(run.out) / 'index.html'} (or serve {run.out}/ over HTTP for search)")
    left = run.report.left_out
    if left:
        raise SitegenError(
            f"{left} entr{'y' if left == 1 else 'ies'} left out of the site for errors: "
            + _first_errors(run.report.errors)
        )


def _first_errors(errors: Sequence[Problem], shown: int = 3) -> str:
    """The first few errors as `path:line (message)`, for a one-line summary of what was cut."""
    listed = "; ".join(f"{p.path}:{p.line} ({p.message})" for p in errors[:shown])
    more = f"; and {len(errors) - shown} more above" if len(errors) > shown else ""
    return listed + more


@cli.command(name="eval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--library",
    "library",
    envvar="SITEGEN_LIBRARY",
    default=None,
    help="Indexed library [env: SITEGEN_LIBRARY; default: the folder holding QUERIES].",
)
@click.option(
    "--min-recall-at-1",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when recall@1 (0-1) is below this [default: no gate].",
)
@click.option(
    "--min-mrr",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when MRR@10 (0-1) is below this [default: no gate].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@MODEL_OPTION
def eval_command(
    queries: str,
    library: str | None,
    min_recall_at_1: float | None,
    min_mrr: float | None,
    as_json: bool,
    model: str | None,
) -> None:
    """Score matching on QUERIES (YAML list of {query, expect, type?}); gate CI on it."""
    from sitegen.commands.evaluate import evaluate_library
    from sitegen.evaluate import check_gates

    report = evaluate_library(queries, library, model=model, progress=_step_printer())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_eval(report)
    check_gates(report, min_recall_at_1=min_recall_at_1, min_mrr=min_mrr)


def _print_eval(report: EvalReport) -> None:
    click.echo(f"{'scope':<8} {'n':>4} {'recall@1':>9} {'recall@5':>9} {'MRR@10':>7}")
    rows = [("overall", report.overall), *report.by_kind.items()]
    for scope, s in rows:
        click.echo(
            f"{scope:<8} {s.count:>4} {s.recall_at_1:>9.3f} {s.recall_at_5:>9.3f} "
            f"{s.mrr_at_10:>7.3f}"
        )
    if report.misses:
        click.echo("\nmisses (expected -> rank, what ranked first):")
        for o in report.misses:
            rank = "not in top 10" if o.rank is None else f"rank {o.rank}"
            click.echo(f"  {o.item.query!r}: {'/'.join(o.item.expect)} -> {rank}, top {o.top}")


@cli.command()
@library_param
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Built site folder to serve next to the API [default: sitegen.toml's `out`, else ./site].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0-65535; 0 picks a free one).",
)
@click.option("--watch", is_flag=True, help="Rebuild on library changes and reload open pages.")
@MODEL_OPTION
def serve(
    library: str | None,
    site_dir: str | None,
    host: str,
    port: int,
    watch: bool,
    model: str | None,
) -> None:
    """Serve the built site and a JSON match API for LIBRARY's index."""
    from sitegen.commands.serve import serve as serve_library

    serve_library(
        library,
        site_dir=site_dir,
        host=host,
        port=port,
        watch=watch,
        model=model,
        say=_say,
        on_problems=lambda problems: _print_problems(problems, err=True),
        model_progress=_step_printer(),
    )


# -- agents: MCP and install ----------------------------------------------------------------------


CATALOG_HELP = (
    "Catalog: a published site's URL, a built site folder, or an indexed library folder "
    "[default: $SITEGEN_CATALOG, else `catalog` in ./sitegen.toml]."
)


@cli.command(name="mcp")
@click.option(
    "--library",
    "library",
    default=None,
    help="Catalog to serve: a published site's URL, a built site folder or an indexed library "
    "folder [default: $SITEGEN_CATALOG, `catalog` in ./sitegen.toml, $SITEGEN_LIBRARY, else .].",
)
@MODEL_OPTION
def mcp_command(library: str | None, model: str | None) -> None:
    """Serve the catalog to agents over MCP (stdio): match, get, list and install."""
    from sitegen.commands.agents import run_mcp

    run_mcp(library, model=model)


@cli.command(name="install")
@click.argument("name")
@click.option("--from", "source", default=None, metavar="PATH_OR_URL", help=CATALOG_HELP)
@click.option(
    "--agent",
    type=Choice(AGENT_KEYS),
    default=DEFAULT_AGENT,
    show_default=True,
    help="Agent tool whose folder to install into.",
)
@click.option(
    "--scope",
    type=Choice(["user", "project"]),
    default="user",
    show_default=True,
    help="user: under your home folder; project: under the current folder.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Install into this folder instead of the agent's (NAME/ or NAME.md inside it).",
)
@click.option("--force", is_flag=True, help="Replace an older copy that has no local edits.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def install_command(
    name: str,
    source: str | None,
    agent: str,
    scope: str,
    folder: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Install NAME (or roles/NAME, skills/NAME) from a catalog, verified by its sha256."""
    from sitegen.catalog import open_catalog
    from sitegen.commands.agents import catalog_location
    from sitegen.install import install

    catalog = open_catalog(catalog_location(source))
    result = install(
        catalog,
        name,
        agent=agent,
        scope="project" if scope == "project" else "user",
        folder=folder,
        force=force,
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    verb = {"installed": "installed", "updated": "updated", "unchanged": "already up to date:"}
    click.echo(
        f"{verb[result.action]} {result.kind}/{result.name} -> {result.path} "
        f"(sha256:{result.digest[:12]})"
    )


@cli.command(name="installed")
@click.option("--offline", is_flag=True, help="Do not ask the catalogs for newer versions.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def installed_command(offline: bool, as_json: bool) -> None:
    """List what `sitegen install` put in place, and whether the catalog has a newer digest."""
    from sitegen.install import statuses

    found = statuses(check=not offline)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in found], indent=2))
        return
    for s in found:
        r = s.record
        click.echo(
            f"{r.kind}/{r.name}  {r.path}  sha256:{r.digest[:12]}  from {r.catalog}: {s.summary()}"
        )
    outdated = sum(s.outdated for s in found)
    click.echo(f"{len(found)} installed, {outdated} with an update available", err=True)


@cli.command(name="update")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
def update_command(names: tuple[str, ...], as_json: bool) -> None:
    """Update installed entries (all, or NAMES) that have no local edits."""
    from sitegen.install import update

    outcomes = update(names)
    if as_json:
        click.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        for o in outcomes:
            click.echo(f"{o.record.kind}/{o.record.name}: {o.action} ({o.message})")
    failed = [o for o in outcomes if o.action in ("failed", "skipped")]
    click.echo(
        f"{sum(o.action == 'updated' for o in outcomes)} updated, {len(failed)} not updated",
        err=True,
    )
    sys.exit(1 if any(o.action == "failed" for o in outcomes) else 0)


def main() -> None:
    cli(prog_name="sitegen")
