"""`sitegen build`: settings from flags over `sitegen.toml`, then one call to `build_site`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.batch import few_collections
from sitegen.build import BuildError, BuildResult, BuildUsageError, Log, Progress, build_site
from sitegen.commands.library import open_library, output_folder, read_library, settings
from sitegen.config import Config, ConfigError
from sitegen.embedder import Embedder, load_embedder
from sitegen.errors import SitegenError
from sitegen.library import Library, LibraryReport
from sitegen.site import SiteOptions

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress as ModelProgress


@dataclass(frozen=True)
class BuildRun:
    library: Library
    report: LibraryReport
    result: BuildResult
    out: str


def site_options(library: Library, config: Config) -> SiteOptions:
    """The site's options from the library's settings (`config`: flags laid over the file)."""
    folder = config.path("templates", library.root if library.is_local else None)
    if folder is not None and not Path(folder).is_dir():
        raise ConfigError(f"{config.where('templates')}: templates: no such folder: {folder}")
    return SiteOptions(
        base_url=config.base_url,
        api_url=config.api_url,
        templates=Path(folder) if folder else None,
        **({"title": config.title} if config.title else {}),
        **({"semantic": config.semantic} if config.semantic != "off" else {}),
    )


@few_collections()
def build(
    url: str | None,
    *,
    flags: Mapping[str, Any] | None = None,
    strict: bool = False,
    jobs: int | None = None,
    model: str | None = None,
    on_report: Callable[[LibraryReport], None] | None = None,
    log: Log | None = None,
    progress: Progress | None = None,
    embed_progress: Progress | None = None,
    model_progress: ModelProgress | None = None,
) -> BuildRun:
    """Read, index and render the library into its output folder, as one transaction.

    `on_report` sees the library's problems before the (longer) index and render steps.
    Any failure is a SitegenError whose message says the previous site is unchanged.
    """
    library = open_library(url, flags=flags, skip_out=True)
    chosen = settings(library, flags)
    out = output_folder(library, chosen)
    options = site_options(library, chosen)
    report = read_library(library)
    if on_report is not None:
        on_report(report)
    embedder = load_embedder(model, progress=model_progress, lazy=True)
    result = publish(
        library, embedder, out, options, report, strict, jobs, log, progress, embed_progress
    )
    return BuildRun(library, report, result, out)


def publish(
    library: Library,
    embedder: Embedder,
    out: str,
    options: SiteOptions,
    report: LibraryReport | None,
    strict: bool,
    jobs: int | None,
    log: Log | None,
    progress: Progress | None,
    embed_progress: Progress | None,
) -> BuildResult:
    """`build_site`, with every failure as one SitegenError that says nothing was published."""
    try:
        return build_site(
            library,
            embedder,
            out,
            options=options,
            strict=strict,
            report=report,
            log=log,
            progress=progress,
            embed_progress=embed_progress,
            jobs=jobs,
            background_cleanup=True,  # the old site tree goes after the command returns
        )
    except BuildUsageError:
        raise
    except BuildError as exc:
        raise BuildError(f"{exc}; the previous site is unchanged") from exc
    except SitegenError:
        raise
    except Exception as exc:  # a bug: still one line (SITEGEN_DEBUG=1 shows the traceback)
        raise BuildError(
            f"build failed ({type(exc).__name__}: {exc}); the previous site is unchanged"
        ) from exc
