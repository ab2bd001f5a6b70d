"""The command line: argument parsing and printing only; the work lives in the library API."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from typing import Any

import click

from sitegen import __version__
from sitegen.config import DEFAULT_MAX_FILE_SIZE, parse_size
from sitegen.library import Library, LibraryError, LibraryReport

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


def _open_library(url: str | None, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> Library:
    """Open a library or exit 2: a missing library is a usage error, not a content problem."""
    target = url or os.environ.get(LIBRARY_ENV) or "."
    try:
        library = Library(target, max_file_size=max_file_size)
    except LibraryError as exc:
        raise click.UsageError(str(exc)) from exc
    if not library.exists():
        raise click.UsageError(f"{target}: no such library (folder not found)")
    return library


def _read(library: Library) -> LibraryReport:
    try:
        return library.read()
    except LibraryError as exc:
        raise click.UsageError(str(exc)) from exc


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
    default=DEFAULT_MAX_FILE_SIZE,
    help="Largest file an entry may hold (e.g. 10MB).",
)
def check(library: str | None, strict: bool, fmt: str, max_file_size: int) -> None:
    """Validate LIBRARY (default: current folder or $SITEGEN_LIBRARY)."""
    lib = _open_library(library, max_file_size)
    report = _read(lib)
    problems = list(report.problems)
    if strict:
        problems = [replace(p, level="error") for p in problems]
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(problem.format())
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    roles, skills = len(report.of_kind("roles")), len(report.of_kind("skills"))
    click.echo(
        f"{lib.display_root}: {roles} roles, {skills} skills valid; "
        f"{errors} error(s), {warnings} warning(s)",
        err=True,
    )
    sys.exit(1 if errors else 0)


def main() -> None:
    cli(prog_name="sitegen")
