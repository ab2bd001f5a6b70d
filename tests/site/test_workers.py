"""Forked render workers: every output once, failures reported, the same site as serial."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sitegen.build import build_site
from sitegen.library import Library
from sitegen.site import MANIFEST, SiteError, SiteOptions
from sitegen.site.outputs import Output
from sitegen.site.workers import MIN_PARALLEL, Workers
from tests.site.helpers import BuiltSite, tree_state


def outputs(count: int, groups: int = 50) -> list[Output]:
    return [Output(f"f{i}", str(i), lambda: b"", group=i % groups) for i in range(count)]


def test_forked_workers_render_every_output_once(tmp_path: Path) -> None:
    todo = outputs(MIN_PARALLEL)

    def render(index: int) -> bool:
        (tmp_path / f"{index}-{os.getpid()}").touch()  # which process rendered what
        return index % 2 == 0

    with Workers(render, todo, jobs=2) as workers:
        assert workers.jobs == 2
        done = sorted(workers.run(range(len(todo))))
    assert done == [(i, i % 2 == 0) for i in range(len(todo))]
    marks = [p.name.split("-") for p in tmp_path.iterdir()]
    assert sorted(int(i) for i, _ in marks) == list(range(len(todo)))
    pids = {pid for _, pid in marks}
    assert str(os.getpid()) not in pids and len(pids) == 2


def test_a_failing_output_fails_the_render_with_its_message() -> None:
    todo = outputs(MIN_PARALLEL)

    def render(index: int) -> bool:
        if index == 123:
            raise SiteError("entry.html:3: template error: boom")
        return False

    workers = Workers(render, todo, jobs=2)
    with pytest.raises(SiteError, match="entry.html:3: template error: boom"), workers:
        list(workers.run(range(len(todo))))
    assert not workers.processes  # terminated, none left behind


def test_a_worker_that_dies_is_reported() -> None:
    todo = outputs(MIN_PARALLEL)

    def render(index: int) -> bool:
        if index == 7:
            os._exit(3)  # a worker killed mid-batch (OOM killer, say)
        return False

    workers = Workers(render, todo, jobs=2)
    with pytest.raises(SiteError, match="render worker stopped unexpectedly"), workers:
        list(workers.run(range(len(todo))))


def test_small_renders_stay_in_this_process() -> None:
    parent = os.getpid()
    with Workers(lambda i: os.getpid() == parent, outputs(10), jobs=4) as workers:
        assert workers.jobs == 1
        assert all(wrote for _, wrote in workers.run(range(10)))


def test_parallel_render_gives_the_same_site(
    tmp_path: Path, site: BuiltSite, embedder: Any
) -> None:
    out = tmp_path / "site"
    build_site(Library(site.library), embedder, out, options=SiteOptions(), jobs=2)
    mine = {p: v[0] for p, v in tree_state(out).items() if not p.startswith("pagefind/")}
    serial = {p: v[0] for p, v in tree_state(site.out).items() if not p.startswith("pagefind/")}
    mine.pop(MANIFEST)
    serial.pop(MANIFEST)
    assert mine == serial
