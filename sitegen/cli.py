"""The command line: argument parsing and printing only; the work lives in the library API."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import click

from sitegen import __version__
from sitegen.collisions import DEFAULT_COLLISION_DISTANCE
from sitegen.config import Config, parse_size
from sitegen.embedder import Embedder, EmbedderError, load_embedder
from sitegen.entry import SINGULAR
from sitegen.errors import SitegenError
from sitegen.indexer import IndexAbort, index_library, open_store
from sitegen.library import Library, LibraryError, LibraryReport, Problem
from sitegen.metastore import MetaStoreError
from sitegen.search import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MatchResult,
    QueryError,
    check_compatible,
    match,
    validate,
)
from sitegen.targets import AGENT_KEYS, DEFAULT_AGENT

LIBRARY_ENV = "SITEGEN_LIBRARY"


class SizeParam(click.ParamType):
    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _open_library(
    url: str | None,
    max_file_size: int | None = None,
    *,
    index_only: bool = False,
    config: Config | None = None,
    ignore: tuple[str, ...] = (),
) -> Library:
    """Open a library or exit 2: a missing library is a usage error, not a content problem.

    `index_only` commands read nothing but `index/`, which a published site over HTTP holds
    without its root being listable; the meta store then says plainly if there is no index.
    Other commands also load the library's `sitegen.toml` here, so a bad one stops them first.
    """
    target = url or os.environ.get(LIBRARY_ENV) or "."
    try:
        library = Library(target, max_file_size=max_file_size, config=config, ignore=ignore)
    except LibraryError as exc:
        raise click.UsageError(str(exc)) from exc
    if not index_only:
        if not library.exists():
            raise click.UsageError(f"{target}: no such library (folder not found)")
        try:
            library.config  # noqa: B018 - loads and checks sitegen.toml
        except SitegenError as exc:
            _fail(str(exc), exc.exit_code)
    return library


def _read(library: Library) -> LibraryReport:
    """Read the library; exit 2 when it cannot be read or holds no entry at all."""
    try:
        report = library.read()
        report.require_entries()
    except SitegenError as exc:
        _fail(str(exc), exc.exit_code)
        raise  # unreachable; keeps type checkers honest
    return report


def _print_problems(problems: Iterable[Problem], *, err: bool) -> None:
    for problem in problems:
        click.echo(problem.format(), err=err)


def _report_collisions(
    lib: Library, report: LibraryReport, fmt: str, max_distance: float, model: str | None
) -> None:
    """Print colliding pairs; exit 1 when two entries of one kind collide."""
    from sitegen.collisions import find_collisions
    from sitegen.indexer import current_vectors

    embedder = _load_embedder(model)
    entries = report.entries
    try:
        vectors = current_vectors(lib, entries, embedder)
    except (MetaStoreError, EmbedderError) as exc:
        _fail(str(exc))
        return
    found = find_collisions(
        [(e.kind, e.name, e.description) for e in entries], vectors, max_distance=max_distance
    )
    if fmt == "json":
        click.echo(json.dumps([c.as_dict() for c in found], indent=2))
    else:
        for c in found:
            click.echo(
                f"{c.distance:.3f}  {SINGULAR[c.kind_a]} {c.name_a}  <->  "
                f"{SINGULAR[c.kind_b]} {c.name_b}: "
                f"{c.suggestion()}"
            )
    same = sum(c.same_kind for c in found)
    click.echo(
        f"{lib.display_root}: {len(entries)} entries, {len(found)} pair(s) within "
        f"distance {max_distance} ({same} of one kind)",
        err=True,
    )
    sys.exit(1 if same else 0)


MODEL_OPTION = click.option(
    "--model",
    "model",
    envvar="SITEGEN_MODEL",
    type=click.Path(file_okay=False),
    default=None,
    help="Local sentence-transformers model folder (default: the installed all-MiniLM-L6-v2).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli() -> None:
    """Publish and search a library of agent roles and skills."""


@cli.command()
@click.argument("library", required=False)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format for problems.",
)
@click.option(
    "--max-file-size",
    type=SizeParam(),
    default=None,
    help="Largest file an entry may hold (e.g. 10MB; default: sitegen.toml's, else 10MB).",
)
@click.option(
    "--collisions",
    is_flag=True,
    help="Also report pairs of entries so alike that an agent may pick the wrong one.",
)
@click.option(
    "--max-distance",
    type=click.FloatRange(0, 2),
    default=DEFAULT_COLLISION_DISTANCE,
    show_default=True,
    help="Cosine distance under which two entries collide (with --collisions).",
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
    lib = _open_library(library, max_file_size)
    report = _read(lib)
    if collisions:
        _report_collisions(lib, report, fmt, max_distance, model)
        return
    problems = list(report.problems)
    if strict:  # warnings become errors; notes stay advice
        problems = [replace(p, level="error") if p.level == "warning" else p for p in problems]
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    else:
        _print_problems(problems, err=False)
    errors = sum(p.level == "error" for p in problems)
    click.echo(f"{lib.display_root}: {report.summary(strict=strict)}", err=True)
    sys.exit(1 if errors else 0)


def _fail(message: str, code: int = 1) -> None:
    """One clear line on stderr and an exit code: never a traceback for a known failure."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load_embedder(model: str | None) -> Embedder:
    from sitegen.progress import StepPrinter

    try:
        return load_embedder(model, progress=StepPrinter())
    except EmbedderError as exc:
        _fail(str(exc))
        raise  # unreachable; keeps type checkers honest


def _index_embedder(fingerprint: str, sources: tuple[str, ...], model: str | None) -> Embedder:
    """The model an index was built with: cached, else fetched from the catalog named in
    `sources` (which carries it), else prepared (the build extra)."""
    from sitegen.embedder import load_embedder_for
    from sitegen.progress import StepPrinter

    return load_embedder_for(fingerprint, sources=sources, model_path=model, progress=StepPrinter())


def _served_embedder(lib: Library, site_dir: str, model: str | None) -> Embedder:
    """For `serve`: the index's own model, which the served site may carry."""
    try:
        with open_store(lib, writable=False) as store:
            fingerprint = store.fingerprint
    except MetaStoreError:
        fingerprint = None
    if not fingerprint:
        return _load_embedder(model)
    try:
        return _index_embedder(fingerprint, (site_dir, lib.url), model)
    except EmbedderError as exc:
        _fail(str(exc))
        raise


@cli.command()
@MODEL_OPTION
def prepare(model: str | None) -> None:
    """Prepare the query model once (fine-tune, int8 export); print its cache folder.

    Every command that embeds does this on first use; run it on its own so CI can cache the
    folder ($SITEGEN_CACHE_DIR) and later steps start at once.
    """
    from sitegen.model_prepare import prepare_model
    from sitegen.progress import StepPrinter

    try:
        folder = prepare_model(model, progress=StepPrinter())
    except EmbedderError as exc:
        _fail(str(exc))
        return
    click.echo(str(folder))


@cli.command()
@click.argument("library", required=False)
@click.option("--full", is_flag=True, help="Re-embed every entry, not only changed ones.")
@click.option("--strict", is_flag=True, help="Any problem (even a warning) aborts the index.")
@MODEL_OPTION
def index(library: str | None, full: bool, strict: bool, model: str | None) -> None:
    """Embed LIBRARY's entries into its index/ folder, incrementally by etag."""
    lib = _open_library(library)
    report = _read(lib)
    _print_problems(report.problems, err=True)
    embedder = _load_embedder(model)
    with _progress("embedding") as progress:
        try:
            result = index_library(
                lib, embedder, full=full, strict=strict, report=report, progress=progress
            )
        except (IndexAbort, MetaStoreError, EmbedderError) as exc:
            _fail(str(exc))
            return
    click.echo(result.summary())
    click.echo(f"{lib.display_root}: {report.summary(strict=strict)}", err=True)
    sys.exit(1 if report.errors else 0)


class _progress:
    """A progress bar on a terminal for long embeddings; silent in CI logs."""

    def __init__(self, label: str, threshold: int = 64) -> None:
        self.label = label
        self.threshold = threshold
        self.bar: Any = None

    def __enter__(self) -> Any:
        return self.update

    def update(self, done: int, total: int) -> None:
        if total < self.threshold or not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@cli.command(name="match")
@click.argument("query")
@click.option(
    "--library",
    "library",
    envvar=LIBRARY_ENV,
    default=".",
    show_default=True,
    help="Library (or published site) path or URL holding index/.",
)
@click.option("--type", "kind", default="all", show_default=True, help="roles, skills or all.")
@click.option("--limit", type=int, default=DEFAULT_LIMIT, show_default=True)
@click.option("--max-distance", type=float, default=DEFAULT_MAX_DISTANCE, show_default=True)
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
    try:
        validate(query, kind, limit, max_distance)
    except QueryError as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{exc.param}'") from exc
    lib = _open_library(library, index_only=True)
    try:
        with open_store(lib, writable=False) as store:
            store.require_index()
            embedder = _index_embedder(store.fingerprint or "", (library,), model)
            check_compatible(store, embedder)
            result = match(
                store, embedder, query, kind=kind, limit=limit, max_distance=max_distance
            )
    except QueryError as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{exc.param}'") from exc
    except (MetaStoreError, EmbedderError) as exc:
        _fail(str(exc))
        return
    if result.truncated:
        click.echo(
            f"warning: query is longer than the model's {embedder.max_seq_length}-token window; "
            "only its start was used",
            err=True,
        )
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in result.results], indent=2))
    else:
        _print_table(result)


def _print_table(result: MatchResult) -> None:
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
@click.argument("library", required=False)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to publish the site into, updated as one transaction (default: sitegen.toml's "
    "`out`, relative to the library, else ./site).",
)
@click.option(
    "--base-url",
    default=None,
    help="Absolute URL the site is published at; enables sitemap.xml and absolute links "
    "in the discovery index.",
)
@click.option(
    "--api-url",
    default=None,
    help="Semantic match endpoint the search page also queries: an http(s) URL, or a path "
    "relative to the site root (e.g. api/match).",
)
@click.option(
    "--semantic",
    type=click.Choice(["off", "browser", "static"]),
    default=None,
    help="In-browser semantic search for static hosts, fetched only when a visitor asks for it: "
    "browser (the index's own model in onnxruntime-web, ~20 MB once) or static (a distilled "
    "static model, a few MB, less exact). Default: sitegen.toml's `semantic`, else off.",
)
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Folder of templates (and static/ files) overriding the default theme by file name.",
)
@click.option("--title", default=None, help="Site title (default: Agent roles & skills).")
@click.option("--strict", is_flag=True, help="Any problem (even a warning) fails the build.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for rendering (default: one per CPU on Linux with 4+ CPUs, else 1).",
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

    from sitegen.build import BuildError, BuildUsageError, build_site

    first = _open_library(library)
    config = first.config
    out = out or _config_path(first, config, "out") or "site"
    lib = _open_library(library, config=config, ignore=(out,))
    options = _site_options(lib, config, base_url, api_url, templates, title)
    chosen = semantic or config.semantic
    if chosen != "off":
        options = replace(options, semantic=chosen)
    report = _read(lib)
    _print_problems(report.problems, err=True)
    embedder = _load_embedder(model)

    def say(message: str) -> None:
        click.echo(f"sitegen: {message}", err=True)

    try:
        with _progress("embedding") as embed_progress, _progress("rendering") as progress:
            result = build_site(
                lib,
                embedder,
                out,
                options=options,
                strict=strict,
                report=report,
                log=say,
                progress=progress,
                embed_progress=embed_progress,
                jobs=jobs,
            )
    except BuildUsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except BuildError as exc:
        _fail(f"{exc}; the previous site is unchanged")
        return
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if os.environ.get("SITEGEN_DEBUG"):
            raise
        _fail(f"build failed ({type(exc).__name__}: {exc}); the previous site is unchanged")
        return
    click.echo(result.summary())
    click.echo(f"{lib.display_root}: {report.summary(strict=strict)}", err=True)
    index_page = Path(out) / "index.html"
    click.echo(f"open {index_page} (or serve {out}/ over HTTP for search)", err=True)
    if report.left_out:
        _fail(f"{report.left_out} entr{'y' if report.left_out == 1 else 'ies'} left out of the "
              "site for errors (see above)")


def _config_path(lib: Library, config: Config, key: str) -> str | None:
    """A path setting from sitegen.toml, relative to the library root (when it is local)."""
    if not config.given(key):
        return None
    value = str(getattr(config, key))
    if lib.is_local and not os.path.isabs(value):
        return os.path.join(lib.root, value)
    return value


def _site_options(
    lib: Library,
    config: Config,
    base_url: str | None,
    api_url: str | None,
    templates: str | None,
    title: str | None,
) -> Any:
    """Site options from flags, else sitegen.toml; a bad value names where it came from."""
    from pathlib import Path

    from sitegen.site import SiteOptions
    from sitegen.urls import normalize_api_url, normalize_base_url

    def checked(flag_value: str | None, key: str, normalize: Any) -> str | None:
        value = flag_value if flag_value is not None else getattr(config, key)
        if value is None:
            return None
        try:
            return str(normalize(value))
        except ValueError as exc:
            if flag_value is not None:
                hint = f"'--{key.replace('_', '-')}'"
                raise click.BadParameter(str(exc), param_hint=hint) from exc
            _fail(f"{config.where(key)}: {key}: {exc}", 2)
            raise  # unreachable

    base = checked(base_url, "base_url", normalize_base_url)
    api = checked(api_url, "api_url", normalize_api_url)
    folder = templates or _config_path(lib, config, "templates")
    if folder is not None and not Path(folder).is_dir():
        _fail(f"{config.where('templates')}: templates: no such folder: {folder}", 2)
    chosen_title = title or config.title
    return SiteOptions(
        base_url=base,
        api_url=api,
        templates=Path(folder) if folder else None,
        **({"title": chosen_title} if chosen_title else {}),
    )


@cli.command(name="eval")
@click.argument("queries", type=click.Path(dir_okay=False))
@click.option(
    "--library",
    "library",
    envvar=LIBRARY_ENV,
    default=None,
    help="Indexed library (default: the folder holding QUERIES).",
)
@click.option("--min-recall-at-1", type=click.FloatRange(0, 1), default=None)
@click.option("--min-mrr", type=click.FloatRange(0, 1), default=None)
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
    from pathlib import Path

    from sitegen.evaluate import QueriesError, evaluate, load_queries

    if not Path(queries).is_file():
        raise click.BadParameter(f"{queries}: no such file", param_hint="'QUERIES'")
    try:
        items = load_queries(queries)
    except QueriesError as exc:
        _fail(str(exc), 2)
        return
    lib = _open_library(library or str(Path(queries).resolve().parent))
    embedder = _load_embedder(model)
    try:
        with open_store(lib, writable=False) as store:
            check_compatible(store, embedder)
            report = evaluate(store, embedder, items)
    except (MetaStoreError, EmbedderError) as exc:
        _fail(str(exc))
        return
    except QueriesError as exc:
        _fail(f"{queries}: {exc}", 2)
        return
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_eval(report)
    failed = []
    if min_recall_at_1 is not None and report.overall.recall_at_1 < min_recall_at_1:
        failed.append(f"recall@1 {report.overall.recall_at_1:.3f} < {min_recall_at_1}")
    if min_mrr is not None and report.overall.mrr_at_10 < min_mrr:
        failed.append(f"MRR@10 {report.overall.mrr_at_10:.3f} < {min_mrr}")
    if failed:
        _fail("quality below threshold: " + "; ".join(failed))


def _print_eval(report: Any) -> None:
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
@click.argument("library", required=False)
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Built site folder to serve next to the API (default: sitegen.toml's `out`, "
    "else ./site).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
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
    from pathlib import Path

    import uvicorn

    from sitegen.server import create_app

    lib = _open_library(library)
    site_dir = site_dir or _config_path(lib, lib.config, "out") or "site"
    embedder = _load_embedder(model) if watch else _served_embedder(lib, site_dir, model)
    rebuilder = None
    if watch:
        if not lib.is_local:
            raise click.UsageError("--watch needs a library folder on this machine")
        from sitegen.build import build_site
        from sitegen.watch import Rebuilder

        served = site_dir

        def rebuild() -> None:
            fresh = Library(lib.url, ignore=(served,))  # re-reads sitegen.toml too
            try:
                options = _site_options(fresh, fresh.config, None, "api/match", None, None)
            except SystemExit as exc:  # the bad setting was printed; keep serving
                raise RuntimeError("sitegen.toml cannot be used") from exc
            result = build_site(fresh, embedder, served, options=options)
            _print_problems(result.problems, err=True)
            click.echo(f"sitegen: rebuilt: {result.summary()}", err=True)

        ignore = [Path(lib.root) / "index", Path(site_dir)]
        rebuilder = Rebuilder(Path(lib.root), rebuild, ignore=ignore)
        if not rebuilder.rebuild():
            _fail("the first build failed; fix the library and try again")
        rebuilder.start()
    if not Path(site_dir).is_dir():
        click.echo(
            f"warning: no site at {site_dir}/; serving the API only (run `sitegen build` first)",
            err=True,
        )
    app = create_app(
        lib,
        embedder,
        site_dir=site_dir,
        live_reload=rebuilder.current if rebuilder else None,
        mcp_app=_mcp_http_app(lib, site_dir, embedder, host),
    )
    click.echo(f"sitegen: serving http://{host}:{port}/ (API under /api/, MCP at /mcp)", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if rebuilder is not None:
            rebuilder.stop()


# -- agents: MCP and install ----------------------------------------------------------------------


def _mcp_module() -> Any:
    try:
        import sitegen.mcp as module
    except ImportError as exc:  # the SDK is a runtime dependency; say so if it went missing
        _fail(f"the MCP server needs the `mcp` package ({exc}); pip install 'mcp>=2.3,<3'", 2)
    return module


def _mcp_http_app(lib: Library, site_dir: str, embedder: Embedder, host: str) -> Any:
    """The /mcp app for `serve`: over the built site when there is one, else the library."""
    from pathlib import Path

    from sitegen.catalog import CATALOG_JSON, open_catalog
    from sitegen.errors import SitegenError

    location = site_dir if (Path(site_dir) / CATALOG_JSON).is_file() else lib.url
    try:
        catalog = open_catalog(location)
    except SitegenError as exc:
        click.echo(f"warning: no MCP endpoint ({exc})", err=True)
        return None
    return _mcp_module().http_app(location, catalog=catalog, embedder=embedder, host=host)


CATALOG_HELP = (
    "Catalog: a published site's URL, a built site folder, or an indexed library folder "
    "(default: $SITEGEN_CATALOG, else `catalog` in ./sitegen.toml)."
)


def _catalog_location(value: str | None, *, fallback_to_library: bool = False) -> str:
    from sitegen.catalog import default_catalog
    from sitegen.errors import SitegenError

    try:
        found = value or default_catalog(fallback_to_library=fallback_to_library)
    except SitegenError as exc:
        raise click.UsageError(str(exc)) from exc
    if not found:
        raise click.UsageError(
            "no catalog named: pass --from PATH_OR_URL, set $SITEGEN_CATALOG, or put "
            "catalog = \"...\" in ./sitegen.toml"
        )
    return found


@cli.command(name="mcp")
@click.option(
    "--library",
    "library",
    default=None,
    help="Catalog to serve: a published site's URL, a built site folder or an indexed library "
    "folder (default: $SITEGEN_CATALOG, `catalog` in ./sitegen.toml, $SITEGEN_LIBRARY, else .).",
)
@MODEL_OPTION
def mcp_command(library: str | None, model: str | None) -> None:
    """Serve the catalog to agents over MCP (stdio): match, get, list and install."""
    from sitegen.errors import SitegenError

    location = _catalog_location(library, fallback_to_library=True)
    module = _mcp_module()
    try:
        module.run_stdio(location, model=model)
    except SitegenError as exc:
        _fail(str(exc), exc.exit_code)


@cli.command(name="install")
@click.argument("name")
@click.option("--from", "source", default=None, help=CATALOG_HELP)
@click.option(
    "--agent",
    type=click.Choice(AGENT_KEYS),
    default=DEFAULT_AGENT,
    show_default=True,
    help="Agent tool whose folder to install into.",
)
@click.option(
    "--scope",
    type=click.Choice(["user", "project"]),
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
    from sitegen.errors import SitegenError
    from sitegen.install import install

    location = _catalog_location(source)
    try:
        catalog = open_catalog(location)
        result = install(
            catalog,
            name,
            agent=agent,
            scope="project" if scope == "project" else "user",
            folder=folder,
            force=force,
        )
    except SitegenError as exc:
        _fail(str(exc), exc.exit_code)
        return
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
    from sitegen.errors import SitegenError
    from sitegen.install import statuses

    try:
        found = statuses(check=not offline)
    except SitegenError as exc:
        _fail(str(exc), exc.exit_code)
        return
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
    from sitegen.errors import SitegenError
    from sitegen.install import update

    try:
        outcomes = update(names)
    except SitegenError as exc:
        _fail(str(exc), exc.exit_code)
        return
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
