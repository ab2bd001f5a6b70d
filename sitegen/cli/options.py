"""How the commands spell their options: one library parameter, settings declared once in
`sitegen.config`, choices that suggest the closest value, and the shared model option."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from sitegen.config import SETTINGS_BY_KEY, Setting
from sitegen.suggest import closest

F = TypeVar("F", bound=Callable[..., Any])


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


CATALOG_HELP = (
    "Catalog: a published site's URL, a built site folder, or an indexed library folder "
    "[default: $SITEGEN_CATALOG, else `catalog` in ./sitegen.toml]."
)


def nonempty(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A callback refusing an empty (or blank) argument."""
    if not value.strip():
        raise click.BadParameter("must not be empty", ctx, param)
    return value
