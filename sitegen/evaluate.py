"""Match quality as numbers: recall@1, recall@5 and MRR@10 over a file of labelled queries.

Evaluation calls the same :func:`sitegen.search.match` as the CLI and the server, so the
figures describe what users get, not a lab setup.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from sitegen.embedder import Embedder
from sitegen.errors import SitegenError, UsageError
from sitegen.metastore import KINDS, MetaStore
from sitegen.search import DEFAULT_RANKING, Ranking, match

EVAL_DEPTH = 10  # MRR@10: ranks past 10 count as misses
NO_CUTOFF = 2.0  # cosine distance never exceeds 2: rank everything


class QueriesError(UsageError):
    """The queries file cannot be used; the message names the file and the item."""


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    expect: tuple[str, ...]
    kind: str | None = None
    line: int = 0
    group: str | None = None  # the query's class (paraphrase, typo-name, ...), for reports


@dataclass(frozen=True)
class QueryOutcome:
    item: LabelledQuery
    rank: int | None  # 1-based rank of the first acceptable entry within EVAL_DEPTH
    top: str | None  # what ranked first
    expected_kind: str

    @property
    def reciprocal_rank(self) -> float:
        return 0.0 if self.rank is None else 1.0 / self.rank


@dataclass(frozen=True)
class Scores:
    count: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    recall_at_3: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "recall@1": round(self.recall_at_1, 4),
            "recall@3": round(self.recall_at_3, 4),
            "recall@5": round(self.recall_at_5, 4),
            "mrr@10": round(self.mrr_at_10, 4),
        }


@dataclass(frozen=True)
class EvalReport:
    outcomes: tuple[QueryOutcome, ...]
    overall: Scores
    by_kind: dict[str, Scores] = field(default_factory=dict)
    by_class: dict[str, Scores] = field(default_factory=dict)

    @property
    def misses(self) -> tuple[QueryOutcome, ...]:
        return tuple(o for o in self.outcomes if o.rank != 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "by_kind": {k: v.as_dict() for k, v in self.by_kind.items()},
            "by_class": {k: v.as_dict() for k, v in self.by_class.items()},
            "misses": [
                {
                    "query": o.item.query,
                    "expect": list(o.item.expect),
                    "rank": o.rank,
                    "top": o.top,
                }
                for o in self.misses
            ],
        }


def load_queries(path: str | os.PathLike[str]) -> list[LabelledQuery]:
    """Read a YAML list of {query, expect, type?, class?}; every defect is one clear error."""
    shown = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise QueriesError(f"{shown}: cannot read queries ({exc})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise QueriesError(f"{shown}:{line}: not valid YAML") from exc
    if not isinstance(data, list) or not data:
        raise QueriesError(f"{shown}:1: expected a non-empty list of {{query, expect}} items")
    lines = [item.start_mark.line + 1 for item in getattr(node, "value", [])]
    queries = []
    for number, item in enumerate(data):
        line = lines[number] if number < len(lines) else 1
        where = f"{shown}:{line}"
        if not isinstance(item, dict):
            raise QueriesError(f"{where}: each item must be a mapping with query and expect")
        query, expect, kind = item.get("query"), item.get("expect"), item.get("type")
        group = item.get("class")
        if not isinstance(query, str) or not query.strip():
            raise QueriesError(f"{where}: query must be a non-empty string")
        names = [expect] if isinstance(expect, str) else expect
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise QueriesError(f"{where}: expect must be an entry name or a list of names")
        if kind is not None and kind not in KINDS:
            raise QueriesError(f"{where}: type must be roles or skills, not {kind!r}")
        if group is not None and (not isinstance(group, str) or not group.strip()):
            raise QueriesError(f"{where}: class must be a non-empty string")
        queries.append(LabelledQuery(query.strip(), tuple(names), kind, line, group))
    return queries


def _scores(outcomes: Sequence[QueryOutcome]) -> Scores:
    n = len(outcomes)
    if n == 0:
        return Scores(0, 0.0, 0.0, 0.0)
    return Scores(
        count=n,
        recall_at_1=sum(o.rank == 1 for o in outcomes) / n,
        recall_at_5=sum(o.rank is not None and o.rank <= 5 for o in outcomes) / n,
        mrr_at_10=sum(o.reciprocal_rank for o in outcomes) / n,
        recall_at_3=sum(o.rank is not None and o.rank <= 3 for o in outcomes) / n,
    )


def evaluate(
    store: MetaStore,
    embedder: Embedder,
    queries: Sequence[LabelledQuery],
    ranking: Ranking = DEFAULT_RANKING,
) -> EvalReport:
    """Run every query through `match()` and score where the expected entry landed."""
    known = {kind: store.etags(kind) for kind in KINDS}
    outcomes = []
    for item in queries:
        kinds = [k for k in KINDS if any(name in known[k] for name in item.expect)]
        if not kinds:
            raise QueriesError(
                f"line {item.line}: no entry named {' or '.join(item.expect)} in the index"
            )
        result = match(
            store,
            embedder,
            item.query,
            kind=item.kind or "all",
            limit=EVAL_DEPTH,
            max_distance=NO_CUTOFF,
            ranking=ranking,
        )
        names = [m.name for m in result.results]
        rank = next((i for i, name in enumerate(names, 1) if name in item.expect), None)
        outcomes.append(
            QueryOutcome(
                item=item,
                rank=rank,
                top=names[0] if names else None,
                expected_kind=item.kind or kinds[0],
            )
        )
    by_kind = {
        kind: _scores([o for o in outcomes if o.expected_kind == kind])
        for kind in KINDS
        if any(o.expected_kind == kind for o in outcomes)
    }
    groups = sorted({o.item.group for o in outcomes if o.item.group})
    by_class = {g: _scores([o for o in outcomes if o.item.group == g]) for g in groups}
    return EvalReport(tuple(outcomes), _scores(outcomes), by_kind, by_class)


class QualityBelowThreshold(SitegenError):
    """A quality gate failed (exit 1): CI stops the publish."""


def check_gates(
    report: EvalReport, *, min_recall_at_1: float | None = None, min_mrr: float | None = None
) -> None:
    """Raise QualityBelowThreshold naming every figure under its threshold (None: no gate)."""
    failed = []
    if min_recall_at_1 is not None and report.overall.recall_at_1 < min_recall_at_1:
        failed.append(f"recall@1 {report.overall.recall_at_1:.3f} < {min_recall_at_1}")
    if min_mrr is not None and report.overall.mrr_at_10 < min_mrr:
        failed.append(f"MRR@10 {report.overall.mrr_at_10:.3f} < {min_mrr}")
    if failed:
        raise QualityBelowThreshold("quality below threshold: " + "; ".join(failed))
