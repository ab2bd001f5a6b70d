"""Commands on a library: `check`, `new`, `prepare` (the model) and `index`."""

from __future__ import annotations

import sys

import click

from sitegen.batch import few_collections
from sitegen.cli.group import cli
from sitegen.cli.options import MODEL_OPTION, Choice, library_param, setting_option
from sitegen.cli.output import bar, print_json, print_problems, say, step_printer
from sitegen.collisions import DEFAULT_COLLISION_DISTANCE


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
            progress=step_printer(),
        )
        if fmt == "json":
            print_json([c.as_dict() for c in found.pairs])
        else:
            for pair in found.pairs:
                click.echo(pair.line())
        click.echo(found.summary(), err=True)
        sys.exit(1 if found.same_kind else 0)
    result = check_library(library, strict=strict, flags=flags)
    if fmt == "json":
        print_json([p.as_dict() for p in result.problems])
    else:
        print_problems(result.problems, err=False)
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
    say(f"next: edit {made.shown}, then run `sitegen check --strict`")


@cli.command()
@MODEL_OPTION
def prepare(model: str | None) -> None:
    """Prepare the query model once (fine-tune, int8 export); print its cache folder.

    Every command that embeds does this on first use; run it on its own so CI can cache the
    folder ($SITEGEN_CACHE_DIR) and later steps start at once.
    """
    from sitegen.model_prepare import prepare_model

    click.echo(str(prepare_model(model, progress=step_printer())))


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
    print_problems(report.problems, err=True)
    embedder = load_embedder(model, progress=step_printer(), lazy=True)
    with bar("embedding", "entries") as progress:
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
