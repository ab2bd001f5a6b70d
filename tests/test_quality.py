"""`sitegen eval` and the collision report, on the real model and real indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.evaluate import (
    QualityBelowThreshold,
    QueriesError,
    check_gates,
    evaluate,
    load_queries,
)
from sitegen.indexer import index_library, open_store
from sitegen.library import Library
from sitegen.search import COSINE_RANKING, match
from tests.conftest import EXAMPLE_LIBRARY, make_colliding_library

# The quality gate for the example library: measured, then set a little under the figure so
# noise in the int8 model cannot flip it, while a real regression does.
MIN_RECALL_AT_1 = 0.85
MIN_MRR = 0.90


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_example_queries_file_is_well_formed() -> None:
    queries = load_queries(EXAMPLE_LIBRARY / "queries.yaml")
    assert len(queries) >= 30
    names = {e.name for e in Library(EXAMPLE_LIBRARY).read().entries}
    for item in queries:
        assert set(item.expect) & names, item


def test_example_library_meets_the_quality_gate(indexed_example: Path) -> None:
    code, out, err = run(
        "eval",
        str(EXAMPLE_LIBRARY / "queries.yaml"),
        "--library",
        str(indexed_example),
        "--min-recall-at-1",
        str(MIN_RECALL_AT_1),
        "--min-mrr",
        str(MIN_MRR),
    )
    assert code == 0, out + err
    assert out.splitlines()[0].split() == ["scope", "n", "recall@1", "recall@5", "MRR@10"]


def test_eval_json_and_threshold_failure(indexed_example: Path) -> None:
    code, out, _ = run(
        "eval", str(EXAMPLE_LIBRARY / "queries.yaml"), "--library", str(indexed_example), "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"overall", "by_kind", "by_class", "misses"}
    assert set(report["by_kind"]) == {"roles", "skills"}
    assert {"typo-name", "typo-word", "exact-name"} <= set(report["by_class"])
    for miss in report["misses"]:
        assert miss["rank"] != 1 and miss["top"] not in miss["expect"]
    code, _, err = run(
        "eval",
        str(EXAMPLE_LIBRARY / "queries.yaml"),
        "--library",
        str(indexed_example),
        "--min-recall-at-1",
        "1.0",
        "--min-mrr",
        "1.0",
    )
    assert code == 1 and "quality below threshold" in err


def test_each_eval_gate_fails_alone_and_holds_at_its_boundary(
    indexed_example: Path, embedder
) -> None:
    """recall@1 and MRR@10 gate separately; a figure equal to its threshold passes, one just
    under fails (through the real command, as CI calls it)."""
    queries = EXAMPLE_LIBRARY / "queries.yaml"
    with open_store(Library(indexed_example), writable=False) as store:
        report = evaluate(store, embedder, load_queries(queries))
    recall, mrr = report.overall.recall_at_1, report.overall.mrr_at_10
    assert 0 < recall < 1 and 0 < mrr < 1  # room on both sides of each boundary
    base = ("eval", str(queries), "--library", str(indexed_example))
    for flag, figure, name in (
        ("--min-recall-at-1", recall, "recall@1"),
        ("--min-mrr", mrr, "MRR@10"),
    ):
        code, _, err = run(*base, flag, repr(figure))
        assert code == 0, (flag, err)
        above = min(1.0, figure + 1e-9)
        code, _, err = run(*base, flag, repr(above))
        assert code == 1, (flag, err)
        line = err.strip().splitlines()[-1]
        assert line.startswith("error: quality below threshold: ") and name in line, line
        other = "MRR@10" if name == "recall@1" else "recall@1"
        assert other not in line, line
    # Both failing: both named in the one line.
    code, _, err = run(*base, "--min-recall-at-1", "1", "--min-mrr", "1")
    assert code == 1 and "recall@1" in err and "MRR@10" in err
    # The same boundaries on the function itself, which every caller shares.
    check_gates(report, min_recall_at_1=recall, min_mrr=mrr)
    check_gates(report)
    for kwargs in ({"min_recall_at_1": recall + 1e-9}, {"min_mrr": mrr + 1e-9}):
        with pytest.raises(QualityBelowThreshold):
            check_gates(report, **kwargs)


def test_eval_scores_are_computed_from_ranks(indexed_example: Path, embedder, tmp_path) -> None:
    queries = tmp_path / "q.yaml"
    queries.write_text(
        "- query: terraform plan reviewer\n  expect: terraform-plan-reviewer\n"
        "- query: terraform plan reviewer\n  expect: csv-data-cleaner\n  type: skills\n"
    )
    with open_store(Library(indexed_example), writable=False) as store:
        report = evaluate(store, embedder, load_queries(queries))
    first, second = report.outcomes
    assert first.rank == 1
    assert second.rank is None or second.rank > 1
    assert report.overall.recall_at_1 == 0.5
    expected_mrr = (1.0 + (1.0 / second.rank if second.rank else 0.0)) / 2
    assert abs(report.overall.mrr_at_10 - expected_mrr) < 1e-9


def test_bad_queries_files_are_one_line_errors(indexed_example: Path, tmp_path: Path) -> None:
    cases = {
        "broken.yaml": "- query: [unclosed\n",
        "not-a-list.yaml": "query: x\nexpect: y\n",
        "no-expect.yaml": "- query: something\n",
        "bad-type.yaml": "- query: x\n  expect: csv-data-cleaner\n  type: agents\n",
        "unknown.yaml": "- query: x\n  expect: no-such-entry\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        code, _, err = run("eval", str(path), "--library", str(indexed_example))
        assert code == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and name in err, (name, err)
    with pytest.raises(QueriesError, match=r"no-expect\.yaml:1:"):
        load_queries(tmp_path / "no-expect.yaml")


def test_collisions_clean_on_example_and_found_in_a_colliding_library(
    embedder, tmp_path: Path
) -> None:
    code, _, err = run("check", str(EXAMPLE_LIBRARY), "--collisions")
    assert code == 0, err
    assert "0 pair(s)" in err
    library = make_colliding_library(tmp_path / "colliding")
    index_library(Library(library), embedder)  # the report reuses stored vectors
    code, out, err = run("check", str(library), "--collisions", "--format", "json")
    assert code == 1
    pairs = json.loads(out)
    names = {(p["a"]["name"], p["b"]["name"]) for p in pairs}
    assert ("merge-request-reviewer", "pull-request-reviewer") in names
    pair = next(p for p in pairs if p["a"]["name"] == "merge-request-reviewer")
    assert pair["distance"] < 0.3 and pair["suggestion"] and pair["shared_words"]
    assert out == json.dumps(pairs, indent=2) + "\n"
    code, text, summary = run("check", str(library), "--collisions")
    assert code == 1 and len(text.splitlines()) == len(pairs)  # one line per pair, plain
    assert "merge-request-reviewer" in text and f"{len(pairs)} pair(s)" in summary


def test_example_typo_classes_meet_their_gate(indexed_example: Path, embedder) -> None:
    """Every typo'd name in the example queries ranks its entry first; every typo'd content
    word keeps its entry in the top 3."""
    with open_store(Library(indexed_example), writable=False) as store:
        report = evaluate(store, embedder, load_queries(EXAMPLE_LIBRARY / "queries.yaml"))
    names, words = report.by_class["typo-name"], report.by_class["typo-word"]
    assert names.count >= 5 and names.recall_at_1 == 1.0, report.misses
    assert words.count >= 4 and words.recall_at_3 == 1.0, report.misses


def test_typo_in_a_name_finds_the_entry_first_and_offers_the_spelling(
    indexed_example: Path, embedder
) -> None:
    with open_store(Library(indexed_example), writable=False) as store:
        for query, name in [
            ("secret-scaner", "secret-scanner"),
            ("terafrom-plan-reviewer", "terraform-plan-reviewer"),
            ("Kubernetes Manifset Linter", "kubernetes-manifest-linter"),
        ]:
            result = match(store, embedder, query, limit=3)
            assert result.results[0].name == name, (query, result.results)
            assert result.results[0].exact, query
            assert result.did_you_mean is not None and name.split("-")[0] in result.did_you_mean
        # A typo'd content word is corrected to the library's word and still finds the entry.
        result = match(store, embedder, "terafrom plan", limit=3)
        assert "terraform-plan-reviewer" in [m.name for m in result.results]
        assert result.did_you_mean == "terraform plan"
        # Three edits away is no longer a near-exact name, and short words are never fuzzed.
        assert not match(store, embedder, "secrt-scaer", limit=3).results[0].exact
        assert match(store, embedder, "ml engineer", limit=3).did_you_mean is None
        # Four letters is long enough to be a typo; three is not; a word with digits is a
        # version or a product name (terraform2, ec2), never a typo.
        assert match(store, embedder, "gdrp audit", limit=3).did_you_mean == "gdpr audit"
        assert match(store, embedder, "sqk tuning", limit=3).did_you_mean is None
        assert match(store, embedder, "terraform2 plan", limit=3).did_you_mean is None


def test_name_words_lift_the_entry_they_name(indexed_example: Path, embedder) -> None:
    """The words of an entry's name in the query count for more than cosine alone gives."""
    query = "review the plan for our terraform change"
    with open_store(Library(indexed_example), writable=False) as store:
        ranked = match(store, embedder, query, limit=5)
        plain = match(store, embedder, query, limit=5, ranking=COSINE_RANKING)
    top = ranked.results[0]
    assert top.name == "terraform-plan-reviewer" and not top.exact
    # terraform, plan and review(er): the whole name is in the query, so the whole bonus
    # (name_weight 0.10) and nothing for tags (tag_weight 0: measured no gain).
    assert top.score == pytest.approx(top.distance - 0.10, abs=1e-6)
    assert all(m.score == m.distance for m in plain.results if not m.exact)
    assert [m.score for m in ranked.results] == sorted(m.score for m in ranked.results)
    # The cosine baseline pins only exactly named entries and corrects nothing.
    with open_store(Library(indexed_example), writable=False) as store:
        typo = match(store, embedder, "terraform-plan-reviewr", limit=3, ranking=COSINE_RANKING)
        fixed = match(store, embedder, "terafrom plan", limit=3, ranking=COSINE_RANKING)
    assert not any(m.exact for m in typo.results) and fixed.did_you_mean is None


def test_recipe_levers_change_the_training_data_and_the_key() -> None:
    import dataclasses
    import random

    from sitegen.tuning import DEFAULT_RECIPE, add_typo, build_triplets, recipe_key

    rows = [
        {
            "anchor": "senior terraform architect",
            "positive": "Sasha - Infrastructure Lead - A veteran cloud architect.",
            "negative": "Cloud Operations Specialist - A hands-on engineer.",
        }
    ]
    plain = dataclasses.replace(DEFAULT_RECIPE, strip_person_names=False, typo_rate=0.0)
    assert build_triplets(plain, rows) == rows
    stripped = build_triplets(dataclasses.replace(plain, strip_person_names=True), rows)
    assert stripped[0]["positive"] == "Infrastructure Lead - A veteran cloud architect."
    assert stripped[0]["negative"] == rows[0]["negative"]  # two parts: no person to strip
    typoed = build_triplets(dataclasses.replace(plain, typo_rate=1.0), rows)
    assert len(typoed) == 2 and typoed[1]["anchor"] != rows[0]["anchor"]
    assert typoed == build_triplets(dataclasses.replace(plain, typo_rate=1.0), rows)
    from rapidfuzz.distance import OSA

    slips = [add_typo("fix my terraform", random.Random(seed)) for seed in range(50)]
    assert all(s.startswith("fix my ") for s in slips)  # words under four letters stay
    edits = [OSA.distance(s, "fix my terraform") for s in slips]
    assert max(edits) == 1 and edits.count(1) >= 40  # one slip (rarely a no-op: "rr" swap)
    keys = {
        recipe_key(dataclasses.replace(DEFAULT_RECIPE, **c))
        for c in (
            {},
            {"epochs": 3},
            {"freeze_embeddings": not DEFAULT_RECIPE.freeze_embeddings},
            {"average": 0.5},
            {"typo_rate": 0.25},
        )
    }
    assert len(keys) == 5


def test_fine_tune_is_bit_identical_and_freezes_the_token_table(tmp_path: Path) -> None:
    """Two runs of the same recipe give the same bytes (the fingerprint relies on it)."""
    import dataclasses
    import hashlib

    from safetensors.numpy import load_file

    from sitegen.model_weights import package_model_dir
    from sitegen.tuning import DEFAULT_RECIPE, fine_tune, persona_rows

    recipe = dataclasses.replace(DEFAULT_RECIPE, epochs=1, freeze_embeddings=True, average=1.0)
    rows = persona_rows()[:6]
    digests = []
    for run_ in ("a", "b"):
        out = fine_tune(package_model_dir(), tmp_path / run_, recipe, rows)
        digests.append(hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    tuned = load_file(str(tmp_path / "a" / "model.safetensors"))
    plain = load_file(str(package_model_dir() / "model.safetensors"))
    table = next(k for k in tuned if k.endswith("word_embeddings.weight"))
    assert (tuned[table] == plain[next(k for k in plain if k.endswith(table))]).all()
    layer = next(k for k in tuned if k.endswith("layer.5.output.dense.weight"))
    assert not (tuned[layer] == plain[next(k for k in plain if k.endswith(layer))]).all()
