"""Commands for agents: `mcp` (serve a catalog over MCP), `install`, `installed`, `update`."""

from __future__ import annotations

import sys

import click

from sitegen.cli.group import cli
from sitegen.cli.options import CATALOG_HELP, MODEL_OPTION, Choice
from sitegen.cli.output import print_json
from sitegen.targets import AGENT_KEYS, DEFAULT_AGENT


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
        print_json(result.as_dict())
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
        print_json([s.as_dict() for s in found])
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
        print_json([o.as_dict() for o in outcomes])
    else:
        for o in outcomes:
            click.echo(f"{o.record.kind}/{o.record.name}: {o.action} ({o.message})")
    failed = [o for o in outcomes if o.action in ("failed", "skipped")]
    click.echo(
        f"{sum(o.action == 'updated' for o in outcomes)} updated, {len(failed)} not updated",
        err=True,
    )
    sys.exit(1 if any(o.action == "failed" for o in outcomes) else 0)
