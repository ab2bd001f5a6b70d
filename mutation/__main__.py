"""`make mutate`: mutation testing of the modules whose behaviour matters most (issue 17).

    python -m mutation                 # every target in mutation/targets.py
    python -m mutation search cli      # some of them
    python -m mutation --resume        # go on with the mutants a stopped run left pending
    python -m mutation --sample 40     # a seeded random 40 mutants per target: an estimate
    python -m mutation --survivors     # judge again the mutants that lived (after new tests)

Cosmic Ray makes the mutants (one small change each, written into the source file and put
back afterwards) and this driver judges them one at a time: first the target's tests that run
the mutated line (from one coverage run with a context per test), then, if the mutant lives,
all of the target's tests. It prints the score per module: killed / (killed + survived).
`--resume` and `--survivors` keep the session's mutants, so they hold only while the mutated
files are unchanged. Mutants judged equivalent (no test can tell them from the real code) are
listed with the reason in `mutation/equivalents.toml` and left out of the score. Sessions and
the surviving mutants' diffs are kept in `.mutation/` (one SQLite session per target,
resumable).

Why Cosmic Ray rather than mutmut: it mutates the source file in place and runs the test
command as a subprocess, so mutants are seen by everything the tests start -- `sitegen`
subprocesses, forked render workers, uvicorn -- where mutmut 3's in-process trampolines are
not (its mutated copy lives in `mutants/`, outside what a subprocess imports).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shlex
import subprocess
import sys
import time
import tomllib
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mutation.targets import OPERATORS, TARGETS, Target

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cosmic_ray.work_item import MutationSpec, WorkResult

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".mutation"
SEED = 17  # the sample is the same on every run, so scores before and after a fix compare
EQUIVALENTS = Path(__file__).resolve().parent / "equivalents.toml"


@dataclass(frozen=True)
class Equivalent:
    """A mutant no test can kill: the source line it changes, the operator, and why."""

    file: str
    line: str  # the source line, stripped (stable when code above it moves)
    operator: str
    why: str

    def matches(self, file: str, source_line: str, operator: str) -> bool:
        return (
            self.file == file
            and self.line == source_line.strip()
            and re.fullmatch(self.operator, operator) is not None
        )


@dataclass
class Score:
    target: str
    file: str
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    other: int = 0  # the mutant could not be applied or the run itself failed
    seconds: float = 0.0
    survivors: list[str] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return self.killed + self.survived

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.judged if self.judged else 100.0


def load_equivalents() -> list[Equivalent]:
    data = tomllib.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    return [Equivalent(**item) for item in data.get("equivalent", [])]


PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=")


def test_command(tests: Sequence[str]) -> str:
    """Stop at the first failure: a mutant needs one red test, not all of them."""
    return shlex.join([*PYTEST, "-x", *tests])


def coverage_map(target: Target) -> dict[str, dict[int, set[str]]]:
    """Which tests run each line of the target's files: {file: {line: {test node id}}}.

    The target's tests run once under coverage with one context per test. A mutant then runs
    only the tests that run its line first, and the whole set only when those let it live, so
    a killed mutant costs a few tests rather than the target's whole suite. A line run outside
    any test (import time, a subprocess) maps to "" and gets the whole set."""
    from coverage import CoverageData

    data_file = STATE / f"{target.name}.coverage"
    rc = STATE / "coveragerc"
    rc.write_text("[run]\npatch = subprocess\nparallel = true\n")
    for old in STATE.glob(f"{target.name}.coverage*"):
        old.unlink()
    env = {**os.environ, "COVERAGE_FILE": str(data_file)}
    args = [
        *PYTEST,
        "--cov=sitegen",
        f"--cov-config={rc}",
        "--cov-context=test",
        "--cov-report=",
        *target.tests,
    ]
    done = subprocess.run(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"{target.name}: the tests fail on the real code; fix them first")
    data = CoverageData(str(data_file))
    data.read()
    found: dict[str, dict[int, set[str]]] = {}
    for measured in data.measured_files():
        path = Path(measured).resolve()
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else ""
        if rel not in target.files:
            continue
        by_line = data.contexts_by_lineno(measured)
        found[rel] = {line: {c.split("|")[0] for c in tests} for line, tests in by_line.items()}
    return found


def tests_for(
    target: Target, covered: dict[int, set[str]], first: int, last: int
) -> list[str] | None:
    """The tests that run lines first..last, in the target's order; None means all of them."""
    contexts: set[str] = set()
    for line in range(first, last + 1):
        contexts |= covered.get(line, set())
    if not contexts or "" in contexts:
        return None
    return sorted(contexts, key=lambda node: (_rank(target, node), node))


def _rank(target: Target, node: str) -> int:
    path = node.split("::")[0]
    for n, tests in enumerate(target.tests):
        if path == tests or path.startswith(tests.rstrip("/") + "/"):
            return n
    return len(target.tests)


def _relative(module_path: str | Path) -> str:
    """A mutant's file as the targets and equivalents name it: relative to the project."""
    return Path(module_path).resolve().relative_to(ROOT).as_posix()


def _source_line(path: str, line: int, cache: dict[str, list[str]]) -> str:
    if path not in cache:
        cache[path] = (ROOT / path).read_text().splitlines()
    lines = cache[path]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def skip_reason(
    rel: str, source: str, mutation: MutationSpec, equivalents: list[Equivalent]
) -> str | None:
    """Why a mutant is not judged: not a change at all, or listed as equivalent."""
    column = mutation.start_pos[1]
    if mutation.operator_name.startswith("core/ReplaceBinaryOperator_Mul_"):
        rest = source[column + 1 :].lstrip()
        if source[column : column + 1] == "*" and (not rest or rest[0] in ",)"):
            # Cosmic Ray takes the keyword-only marker in `def f(a, *, b)` for a product.
            return "not an operator: the keyword-only marker of a signature"
    if source.strip() == "if TYPE_CHECKING:" and mutation.operator_name == "core/AddNot":
        return "not behaviour: imports made for the type checker only"
    for eq in equivalents:
        if eq.matches(rel, source, mutation.operator_name):
            return f"equivalent: {eq.why}"
    return None


def init_session(
    target: Target, session: Path, equivalents: list[Equivalent], sample: int | None = None
) -> None:
    """Every mutant of the target's files, with unused operators and equivalents skipped.

    With `sample`, a seeded random subset of the remaining mutants is run and the rest marked
    "not sampled": a whole run of every target takes hours on 2 cores (~1,400 mutants at
    20-40 s each), a sample of 40 per target gives each score within about +-11 points (95 %)."""
    from cosmic_ray.commands import init
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    session.unlink(missing_ok=True)
    keep = re.compile("|".join(f"(?:{op})" for op in OPERATORS))
    lines: dict[str, list[str]] = {}
    with use_db(str(session), mode=WorkDB.Mode.create) as db:
        init([ROOT / f for f in target.files], db, {})
        for item in db.pending_work_items:
            mutation = item.mutations[0]
            rel = _relative(mutation.module_path)
            source = _source_line(rel, mutation.start_pos[0], lines)
            reason = skip_reason(rel, source, mutation, equivalents)
            if not keep.match(mutation.operator_name):
                reason = "operator not used"
            if reason is not None:
                db.set_result(
                    item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason)
                )
        if sample is not None:
            pending = sorted(db.pending_work_items, key=lambda w: w.job_id)
            picked = random.Random(SEED).sample(pending, min(sample, len(pending)))
            chosen = {w.job_id for w in picked}
            for item in pending:
                if item.job_id not in chosen:
                    db.set_result(
                        item.job_id,
                        WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="not sampled"),
                    )


def judge(target: Target, mutation: MutationSpec, selected: list[str] | None) -> WorkResult:
    """Apply one mutant, run the tests that run its line, then (if it lives) all of them."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import _make_diff, use_mutation
    from cosmic_ray.testing import run_tests
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    operator = cosmic_ray.plugins.get_operator(mutation.operator_name)()
    with contextlib.ExitStack() as stack:
        try:
            applied = use_mutation(mutation.module_path, operator, mutation.occurrence)
            before, after = stack.enter_context(applied)
        except Exception:  # Cosmic Ray cannot make this one (its parser meets a construct)
            return WorkResult(
                output=traceback.format_exc(),
                test_outcome=TestOutcome.INCOMPETENT,
                worker_outcome=WorkerOutcome.EXCEPTION,
            )
        if after is None:
            return WorkResult(worker_outcome=WorkerOutcome.NO_TEST)
        outcome = TestOutcome.SURVIVED
        output = ""
        if selected is not None:
            outcome, output = run_tests(test_command(selected), target.timeout)
        if outcome == TestOutcome.SURVIVED:
            outcome, output = run_tests(test_command(target.tests), target.timeout)
        diff = "\n".join(_make_diff(before, after, mutation.module_path))
    return WorkResult(
        output=output, diff=diff, test_outcome=outcome, worker_outcome=WorkerOutcome.NORMAL
    )


def reopen_survivors(session: Path, equivalents: list[Equivalent]) -> None:
    """Put the mutants that lived back in the queue (after new tests), minus new equivalents.

    Only valid while the mutated files are unchanged: a mutant is its file, operator and
    occurrence, and an edit above it would point the same numbers at another spot."""
    import sqlite3

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with sqlite3.connect(session) as db:
        db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    lines: dict[str, list[str]] = {}
    with use_db(str(session), mode=WorkDB.Mode.open) as work:
        for item in work.pending_work_items:
            m = item.mutations[0]
            rel = _relative(m.module_path)
            reason = skip_reason(rel, _source_line(rel, m.start_pos[0], lines), m, equivalents)
            if reason is not None:
                result = WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason)
                work.set_result(item.job_id, result)


def run_session(target: Target, session: Path) -> None:
    """Apply each pending mutant in turn, run the tests that can see it, record the outcome."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        pending = sorted(
            db.pending_work_items,
            key=lambda w: (str(w.mutations[0].module_path), w.mutations[0].start_pos, w.job_id),
        )
        if not pending:
            return
        covered = coverage_map(target)
        for n, item in enumerate(pending, 1):
            m = item.mutations[0]
            rel = _relative(m.module_path)
            started = time.monotonic()
            selected = tests_for(target, covered.get(rel, {}), m.start_pos[0], m.end_pos[0])
            result = judge(target, m, selected)
            db.set_result(item.job_id, result)
            outcome = result.test_outcome or result.worker_outcome
            print(
                f"  [{n}/{len(pending)}] {rel}:{m.start_pos[0]} {m.operator_name} -> "
                f"{outcome} ({time.monotonic() - started:.0f}s)",
                flush=True,
            )


def scores(target: Target, session: Path) -> list[Score]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    by_file = {f: Score(target.name, f) for f in target.files}
    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            m = item.mutations[0]
            rel = _relative(m.module_path)
            score = by_file[rel]
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                if (result.output or "").startswith("equivalent:"):
                    score.equivalent += 1
                continue
            if result.test_outcome == TestOutcome.KILLED:
                score.killed += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                score.survived += 1
                score.survivors.append(
                    f"{rel}:{m.start_pos[0]} {m.operator_name} #{m.occurrence}\n{result.diff or ''}"
                )
            else:
                score.other += 1
    return list(by_file.values())


def print_table(all_scores: list[Score]) -> None:
    print(
        f"\n{'target':<10} {'module':<30} {'killed':>6} {'surv':>5} {'equiv':>5} "
        f"{'other':>5} {'score':>7}"
    )
    totals: Counter[str] = Counter()
    for s in all_scores:
        print(
            f"{s.target:<10} {s.file:<30} {s.killed:>6} {s.survived:>5} {s.equivalent:>5} "
            f"{s.other:>5} {s.percent:>6.1f}%"
        )
        totals.update(killed=s.killed, survived=s.survived)
    judged = totals["killed"] + totals["survived"]
    if judged:
        print(
            f"{'all':<41} {totals['killed']:>6} {totals['survived']:>5} "
            f"{'':>11} {100.0 * totals['killed'] / judged:>7.1f}%"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help="targets to run (default: all)")
    parser.add_argument("--resume", action="store_true", help="keep sessions; run what is left")
    parser.add_argument(
        "--survivors", action="store_true", help="judge again only the mutants that lived"
    )
    parser.add_argument("--report", action="store_true", help="print the last scores; run nothing")
    parser.add_argument(
        "--sample", type=int, metavar="N", help="run a seeded random N mutants per target"
    )
    args = parser.parse_args(argv)
    known = {t.name: t for t in TARGETS}
    unknown = [name for name in args.targets if name not in known]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [known[name] for name in args.targets] or list(TARGETS)
    STATE.mkdir(exist_ok=True)
    # Subprocesses the tests start (`sitegen ...`, workers) import the mutated tree too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    os.chdir(ROOT)
    equivalents = load_equivalents()
    all_scores: list[Score] = []
    for target in chosen:
        session = STATE / f"{target.name}.sqlite"
        if not args.report:
            if args.survivors and session.exists():
                reopen_survivors(session, equivalents)
            elif not (args.resume and session.exists()):
                init_session(target, session, equivalents, args.sample)
            print(f"{target.name}: {test_command(target.tests)}", flush=True)
            started = time.monotonic()
            run_session(target, session)
            print(f"{target.name}: {time.monotonic() - started:.0f}s", flush=True)
        if not session.exists():
            print(f"{target.name}: no session yet", file=sys.stderr)
            continue
        found = scores(target, session)
        (STATE / f"{target.name}-survivors.txt").write_text(
            "\n".join(s for score in found for s in score.survivors)
        )
        all_scores.extend(found)
    print_table(all_scores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
