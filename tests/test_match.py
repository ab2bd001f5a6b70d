"""`match()` and `sitegen match` on the indexed example library, with the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.indexer import open_store
from sitegen.library import Library
from sitegen.search import QueryError, match


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def match_json(library: Path, query: str, *extra: str) -> list[dict]:
    code, out, err = run("match", query, "--library", str(library), "--json", *extra)
    assert code == 0, err
    assert out == json.dumps(json.loads(out), indent=2) + "\n"  # as every --json prints
    return list(json.loads(out))


def test_terraform_question_finds_the_plan_reviewer(indexed_example: Path) -> None:
    results = match_json(indexed_example, "review my terraform plan")
    assert results[0]["name"] == "terraform-plan-reviewer"
    assert results[0]["type"] == "skills"
    assert set(results[0]) >= {"type", "name", "description", "tags", "distance"}
    # Ranked by score (cosine distance less the name-word bonus, issue 15), so distances need
    # not be sorted; every one stays within the distance limit.
    distances = [r["distance"] for r in results]
    assert all(0 <= d <= 0.8 for d in distances) and distances[0] == min(distances)


def test_type_limit_and_distance_filters(indexed_example: Path) -> None:
    roles = match_json(indexed_example, "keep production reliable", "--type", "roles")
    assert roles and {r["type"] for r in roles} == {"roles"}
    assert len(match_json(indexed_example, "data pipelines", "--limit", "2")) == 2
    assert match_json(indexed_example, "data pipelines", "--max-distance", "0") == []


def test_exact_name_ranks_first(indexed_example: Path, embedder) -> None:
    with open_store(Library(indexed_example), writable=False) as store:
        names = [r.name for r in store.list()]
        for name in names:
            for query in (name, name.replace("-", " "), name.replace("-", " ").upper()):
                result = match(store, embedder, query, limit=3)
                assert result.results[0].name == name, query
                assert result.results[0].exact


def _skill(root: Path, name: str, description: str) -> None:
    folder = root / "skills" / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\n")


def test_an_exact_name_ranks_first_even_when_it_is_not_the_nearest_vector(
    tmp_path: Path, embedder
) -> None:
    """`terraform-plan` is about bread; its neighbour reviews Terraform plans. The query
    "terraform plan" names the first exactly, so it comes first although the second is nearer
    by meaning and by score (it even earns the name bonus)."""
    from sitegen.indexer import index_library

    library = tmp_path / "lib"
    _skill(library, "terraform-plan", "Bakes sourdough bread and schedules proofing times.")
    _skill(
        library,
        "terraform-plan-reviewer",
        "Reviews a Terraform plan before apply and flags destructive infrastructure changes.",
    )
    _skill(library, "csv-data-cleaner", "Cleans CSV files: encodings, delimiters and dates.")
    index_library(Library(library), embedder)
    with open_store(Library(library), writable=False) as store:
        vector = embedder.embed(["terraform plan"])[0]
        nearest = store.search(vector, kinds=("skills",), limit=1, max_distance=2.0)[0]
        assert nearest.record.name == "terraform-plan-reviewer"  # the premise of the test
        for query in ("terraform plan", "Terraform-Plan", "terraform   plan"):
            result = match(store, embedder, query, limit=3)
            assert [m.name for m in result.results[:2]] == [
                "terraform-plan",
                "terraform-plan-reviewer",
            ], query
            assert [m.exact for m in result.results[:2]] == [True, False], query
            # Pinned first although its score is the worse one.
            assert result.results[0].score > result.results[1].score
        # A pinned entry reports its true cosine distance, as a ranked one does.
        result = match(store, embedder, "terraform plan", limit=3)
        searched = {
            h.record.name: h.distance
            for h in store.search(vector, kinds=("skills",), limit=3, max_distance=2.0)
        }
        for m in result.results:
            assert m.distance == pytest.approx(searched[m.name], abs=1e-5), m.name
            # What the CLI, API and MCP print: six decimals, the same figure.
            assert m.as_dict()["distance"] == round(m.distance, 6), m.name


def test_match_function_rejects_bad_parameters(indexed_example: Path, embedder) -> None:
    with open_store(Library(indexed_example), writable=False) as store:
        for kwargs, param in [
            ({"query": "   "}, "query"),
            ({"query": "x", "kind": "agents"}, "type"),
            ({"query": "x", "limit": 0}, "limit"),
            ({"query": "x", "limit": 101}, "limit"),
            ({"query": "x", "max_distance": -0.1}, "max_distance"),
            ({"query": "x", "max_distance": float("nan")}, "max_distance"),
        ]:
            with pytest.raises(QueryError) as info:
                match(store, embedder, **kwargs)  # type: ignore[arg-type]
            assert info.value.param == param


def test_cli_bad_input_exits_2(indexed_example: Path) -> None:
    lib = str(indexed_example)
    code, _, err = run("match", "", "--library", lib)
    assert code == 2 and "Invalid value for 'QUERY': must not be empty" in err
    code, _, err = run("match", "x", "--library", lib, "--type", "agents")
    assert code == 2 and "Invalid value for '--type'" in err
    code, _, err = run("match", "x", "--library", lib, "--limit", "nope")
    assert code == 2


def test_long_query_is_truncated_with_a_warning(indexed_example: Path) -> None:
    query = "review my terraform plan " * 200
    code, out, err = run("match", query, "--library", str(indexed_example), "--json")
    assert code == 0
    assert "warning: query is longer than" in err
    assert json.loads(out)[0]["name"] == "terraform-plan-reviewer"


def test_text_table(indexed_example: Path) -> None:
    code, out, _ = run("match", "review my terraform plan", "--library", str(indexed_example))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["#", "type", "name", "dist"]
    assert lines[1].split()[:3] == ["1", "skill", "terraform-plan-reviewer"]


def test_missing_index_says_what_to_run(example_copy: Path) -> None:
    code, _, err = run("match", "anything", "--library", str(example_copy))
    assert code == 1
    assert "no index at" in err and "run `sitegen index`" in err


def test_corrupt_index_is_one_line(indexed_example: Path, tmp_path: Path) -> None:
    import shutil

    from tests.conftest import flatten_index

    broken = tmp_path / "broken"
    shutil.copytree(indexed_example, broken)
    flatten_index(broken)  # an index of an earlier version, with a broken file
    (broken / "index" / "skills.parquet").write_bytes(b"not parquet at all")
    code, _, err = run("match", "anything", "--library", str(broken))
    assert code == 1
    assert "skills.parquet" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_model_mismatch_says_what_to_run(indexed_example: Path, tmp_path: Path) -> None:
    import shutil

    import duckdb

    from tests.conftest import flatten_index

    other = tmp_path / "other"
    shutil.copytree(indexed_example, other)
    flatten_index(other)
    con = duckdb.connect()
    for kind in ("roles", "skills"):
        path = other / "index" / f"{kind}.parquet"
        kv = dict(
            (bytes(k).decode(), bytes(v).decode())
            for k, v in con.execute(
                "SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]
            ).fetchall()
        )
        kv["sitegen.fingerprint"] = "some-other-model"
        spec = ", ".join(f"'{k}': '{v}'" for k, v in kv.items())
        con.execute(
            f"COPY (SELECT * FROM '{path}') TO '{path}.new' "
            f"(FORMAT parquet, KV_METADATA {{{spec}}})"
        )
        os.replace(f"{path}.new", path)
    code, _, err = run("match", "anything", "--library", str(other))
    assert code == 1 and "sitegen index --full" in err


def test_match_process_never_imports_torch(indexed_example: Path) -> None:
    """The whole `sitegen match` process, as a user runs it, loads no torch stack."""
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['sitegen', 'match', 'review my terraform plan', '--json',"
        f" '--library', {str(indexed_example)!r}]\n"
        "try:\n"
        "    runpy.run_module('sitegen', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in sys.modules"
        " if m.split('.')[0] in {'torch', 'transformers', 'sentence_transformers'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["name"] == "terraform-plan-reviewer"
    assert "HEAVY []" in proc.stderr


def test_near_names_pin_the_three_closest_spellings_once_each(tmp_path: Path, embedder) -> None:
    """Four names one edit from the query: the three nearest by meaning are pinned (closest
    first), none twice, and the fourth ranks by meaning like any other entry."""
    from sitegen.indexer import index_library

    library = tmp_path / "lib"
    for name, description in {
        "data-cleaned": "Publishes a cleaned data set to the warehouse.",
        "data-cleaners": "Lists the data cleaning tools a team may use.",
        "data-cleanser": "Removes duplicate rows and fixes broken values in CSV files.",
        "date-cleaner": "Normalises dates in spreadsheets to ISO 8601.",
        "gpu-profiler": "Profiles CUDA kernels.",
    }.items():
        _skill(library, name, description)
    index_library(Library(library), embedder)
    with open_store(Library(library), writable=False) as store:
        result = match(store, embedder, "data cleaner", limit=5)
    names = [m.name for m in result.results]
    assert len(names) == len(set(names))  # a pinned entry is not ranked a second time
    pinned = [m for m in result.results if m.exact]
    assert len(pinned) == 3 and result.results[:3] == tuple(pinned)
    assert [m.distance for m in pinned] == sorted(m.distance for m in pinned)
    assert "gpu-profiler" not in names[:4]


def test_a_typo_of_a_word_found_only_in_tags_is_corrected(tmp_path: Path, embedder) -> None:
    """The correction vocabulary is the library's names plus the nearest entries' words,
    their tags included: a word authors put only in a tag is still a word of the library."""
    from sitegen.indexer import index_library

    library = tmp_path / "lib"
    folder = library / "skills" / "cluster-upgrader"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: cluster-upgrader\ndescription: Upgrades container clusters node pool by "
        "node pool.\ntags: [kubernetes]\n---\n"
    )
    _skill(library, "gpu-profiler", "Profiles CUDA kernels.")
    index_library(Library(library), embedder)
    with open_store(Library(library), writable=False) as store:
        result = match(store, embedder, "kuberntes cluster upgrade")
    assert result.did_you_mean == "kubernetes cluster upgrade"
