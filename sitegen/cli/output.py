"""How results are printed: problems as `path:line: level: message`, warnings in colour on a
terminal, progress bars and steps, the match table and the eval report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sitegen.evaluate import EvalReport
    from sitegen.library import Problem
    from sitegen.search import MatchResult


def step_printer() -> Any:
    from sitegen.progress import StepPrinter

    return StepPrinter()


LEVEL_COLOURS = {"error": "red", "warning": "yellow", "note": "cyan"}


def print_problems(problems: Iterable[Problem], *, err: bool) -> None:
    """`path:line: level: message`, the level in colour on a terminal (click strips it else)."""
    for problem in problems:
        level = click.style(problem.level, fg=LEVEL_COLOURS.get(problem.level), bold=True)
        click.echo(f"{problem.path}:{problem.line}: {level}: {problem.message}", err=err)


def print_json(data: Any) -> None:
    """Every `--json` prints the same way: indented, keys in the order the API gives them."""
    click.echo(json.dumps(data, indent=2))


def say(message: str) -> None:
    """A line on stderr; a leading `warning:` in colour on a terminal."""
    head, sep, rest = message.partition(": ")
    if sep and head in ("warning", "error"):
        message = click.style(head, fg=LEVEL_COLOURS[head], bold=True) + sep + rest
    click.echo(message, err=True)


def bar(label: str, unit: str, *, plain: bool = False) -> Any:
    from sitegen.progress import Bar

    return Bar(label, unit, plain=plain)


def print_table(result: MatchResult) -> None:
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


def first_errors(errors: Sequence[Problem], shown: int = 3) -> str:
    """The first few errors as `path:line (message)`, for a one-line summary of what was cut."""
    listed = "; ".join(f"{p.path}:{p.line} ({p.message})" for p in errors[:shown])
    more = f"; and {len(errors) - shown} more above" if len(errors) > shown else ""
    return listed + more


def print_eval(report: EvalReport) -> None:
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
