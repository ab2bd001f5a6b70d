"""Commands on the site: `build` (index and render as one transaction) and `serve`."""

from __future__ import annotations

import click

from sitegen.cli.group import cli
from sitegen.cli.options import MODEL_OPTION, Choice, library_param, setting_option
from sitegen.cli.output import bar, first_errors, print_problems, say, step_printer
from sitegen.config import SEMANTIC_CHOICES
from sitegen.errors import SitegenError


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
    with bar("embedding", "entries") as embed_progress, bar("rendering", "files") as progress:
        run = build(
            library,
            flags=flags,
            strict=strict,
            jobs=jobs,
            model=model,
            on_report=lambda report: print_problems(report.problems, err=True),
            log=lambda message: say(f"sitegen: {message}"),
            progress=progress,
            embed_progress=embed_progress,
            model_progress=step_printer(),
        )
    click.echo(run.result.summary())
    for note in run.result.notes:  # files kept for their owner; how an object store switches
        say(f"sitegen: {note}")
    click.echo(f"{run.library.display_root}: {run.report.summary(strict=strict)}", err=True)
    if "://" not in run.out:
        say(f"open {Path(run.out) / 'index.html'} (or serve {run.out}/ over HTTP for search)")
    left = run.report.left_out
    if left:
        raise SitegenError(
            f"{left} entr{'y' if left == 1 else 'ies'} left out of the site for errors: "
            + first_errors(run.report.errors)
        )


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
        say=say,
        on_problems=lambda problems: print_problems(problems, err=True),
        model_progress=step_printer(),
    )
