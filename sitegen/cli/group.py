"""The `sitegen` click group: the one place a failure becomes an exit code and a line."""

from __future__ import annotations

import os
import traceback
from typing import Any

import click

from sitegen import __version__
from sitegen.cli.output import say
from sitegen.errors import SitegenError

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
            say(f"error: {exc}")
            ctx.exit(exc.exit_code)
        except Exception as exc:  # a bug: one line unless asked for the traceback
            if os.environ.get(DEBUG_ENV):
                raise
            command = ctx.invoked_subcommand or "sitegen"
            say(
                f"error: {command} failed ({type(exc).__name__}: {exc}); "
                f"set {DEBUG_ENV}=1 for the traceback"
            )
            ctx.exit(1)


@click.group(cls=SitegenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli() -> None:
    """Publish and search a library of agent roles and skills."""


def main() -> None:
    cli(prog_name="sitegen")
