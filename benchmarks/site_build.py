"""One `sitegen build` in this process; prints JSON timings (the embedder load excluded).

`render` is the site stage (similar entries, plan, render, search index, publish); `total`
adds reading the library and the (incremental) index step.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from sitegen.build import build_site
from sitegen.embedder import load_embedder
from sitegen.library import Library


def main(library: str, out: str, jobs: int | None = None) -> None:
    embedder = load_embedder(lazy=True)
    start = time.perf_counter()
    result = build_site(Library(library), embedder, out, jobs=jobs)
    total = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    t = result.timings
    render = sum(t.get(k, 0.0) for k in ("similar", "plan", "render", "commit"))
    print(
        json.dumps(
            {
                "total": total,
                "cpu": cpu,  # the whole process, workers and Pagefind included
                "render": render,
                "timings": t,
                "entries": result.entries,
                "pages_written": result.write.pages_written,
                "pages_unchanged": result.write.pages_unchanged,
                "files_written": result.write.files_written,
                "published": result.published,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
