"""Commands that rank: `match` (one query) and `eval` (a set of queries, gating CI)."""

from __future__ import annotations

import click

from sitegen.cli.group import cli
from sitegen.cli.options import MODEL_OPTION, Choice, nonempty
from sitegen.cli.output import print_eval, print_json, print_table, say, step_printer
from sitegen.search import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE, MAX_LIMIT, TYPES


@cli.command(name="match")
@click.argument("query", callback=nonempty)
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
        progress=step_printer(),
    )
    if found.result.truncated:
        say(
            f"warning: query is longer than the model's {found.window}-token window; "
            "only its start was used"
        )
    if found.changed:
        say(
            f"warning: the library changed after its index was written ({found.changed} "
            "entr" + ("y" if found.changed == 1 else "ies") + "); run `sitegen index` "
            "for current results"
        )
    if as_json:
        print_json([m.as_dict() for m in found.result.results])
    else:
        print_table(found.result)
    if found.result.did_you_mean:
        say(f'did you mean "{found.result.did_you_mean}"? (its results are included above)')
    elif found.near:
        say(f"did you mean {' or '.join(found.near)}? (ranked first above)")


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

    report = evaluate_library(queries, library, model=model, progress=step_printer())
    if as_json:
        print_json(report.as_dict())
    else:
        print_eval(report)
    check_gates(report, min_recall_at_1=min_recall_at_1, min_mrr=min_mrr)
