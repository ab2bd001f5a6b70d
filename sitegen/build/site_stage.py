"""The site stage: plan the site against the previous build's manifest; if anything changed,
render the changed outputs into a staged tree and commit it as one generation of `--out`."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from sitegen.build.results import BuildError, Log, Progress, WriteResult
from sitegen.locks import exclusive
from sitegen.publish import PublishError, Target, open_target
from sitegen.publish.common import MANIFEST, ours
from sitegen.site import Site, SiteError, SiteInput, pending, render_site


def read_manifest(target: Target) -> dict[str, Any]:
    try:
        data = json.loads(target.manifest_bytes() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def publish_site(
    site: Site,
    data: SiteInput,
    out: str | os.PathLike[str],
    *,
    log: Log | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    jobs: int | None = None,
) -> tuple[WriteResult, bool]:
    """The site stage alone: plan; if anything changed, render a new generation, switch."""
    say = log or (lambda message: None)
    spent = {} if timings is None else timings
    target = open_target(os.fspath(out))
    with exclusive(target.lock_key, what=target.display, wait=say):
        target.recover()
        return publish_locked(site, data, target, say, progress, spent, jobs)


def publish_locked(
    site: Site,
    data: SiteInput,
    target: Target,
    say: Log,
    progress: Progress | None,
    timings: dict[str, float],
    jobs: int | None,
) -> tuple[WriteResult, bool]:
    mark = time.perf_counter()
    say("planning pages")
    before = target.manifest_bytes()
    previous = read_manifest(target)
    # Planned against sitegen's own files only: files it did not write are carried over
    # untouched at the commit, and must not make every build plan in full (a CNAME in --out
    # would otherwise defeat the no-op skip).
    existing = target.existing() & (ours(previous) | target.owned)
    try:
        plan = site.plan(data, previous, existing=existing)
    except SiteError as exc:
        raise BuildError(str(exc)) from exc
    todo, _ = pending(plan, previous, existing)
    stale = existing - plan.paths - {MANIFEST}
    timings["plan"] = time.perf_counter() - mark
    nothing_to_do = not todo and not stale and not plan.search_pending
    if nothing_to_do and before == plan.manifest_bytes():
        pages = plan.pages
        unchanged = WriteResult(pages_unchanged=pages, files_unchanged=len(plan.outputs) - pages)
        return unchanged, False
    mark = time.perf_counter()
    say(f"rendering {len(todo)} file(s)")
    stage = target.begin()
    try:
        try:
            rendered = render_site(plan, todo, target.live, stage, jobs=jobs, progress=progress)
        except SiteError as exc:
            raise BuildError(str(exc)) from exc
        site.theme.fragments.flush()  # what was rendered, for the next build
        timings["render"] = time.perf_counter() - mark
        mark = time.perf_counter()
        stage.stage(MANIFEST, rendered.manifest, len(rendered.outputs))
        try:
            carried = stage.commit(rendered.paths | {MANIFEST}, ours(previous))
        except (PublishError, OSError) as exc:
            raise BuildError(str(exc)) from exc
        timings["commit"] = time.perf_counter() - mark
    finally:
        stage.abort()
    pages = rendered.pages
    others = len(rendered.outputs) - pages
    result = WriteResult(
        pages_written=rendered.pages_written,
        pages_unchanged=pages - rendered.pages_written,
        files_written=rendered.files_written,
        files_unchanged=others - rendered.files_written,
        removed=carried.removed,
        kept=carried.report(),
    )
    return result, True
