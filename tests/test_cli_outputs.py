"""What the commands print, plain and as JSON (survivors of `make mutate` on the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from sitegen.cli import cli
from tests.test_cli import run


def _queries(tmp_path: Path) -> Path:
    path = tmp_path / "queries.yaml"
    path.write_text(
        # an exact name ranks first: one hit and one deliberate miss, whatever the model
        "- query: terraform-plan-reviewer\n"
        "  expect: terraform-plan-reviewer\n"
        "- query: terraform-plan-reviewer\n"
        "  expect: incident-postmortem-writer\n"
    )
    return path


def test_eval_prints_scores_and_misses(indexed_example: Path, tmp_path: Path) -> None:
    code, out, _ = run("eval", str(_queries(tmp_path)), "--library", str(indexed_example))
    assert code == 0, out
    overall = next(line for line in out.splitlines() if line.startswith("overall"))
    assert overall.split()[1:3] == ["2", "0.500"]  # n, recall@1
    misses = out.split("misses (expected -> rank, what ranked first):\n", 1)[1].splitlines()
    assert len(misses) == 1
    assert misses[0].startswith("  'terraform-plan-reviewer': incident-postmortem-writer -> ")
    assert misses[0].endswith(", top terraform-plan-reviewer")
    # The rank in words is the rank the JSON report gives (None: not in the top 10).
    report = json.loads(
        run("eval", str(_queries(tmp_path)), "--library", str(indexed_example), "--json")[1]
    )
    rank = report["misses"][0]["rank"]
    said = "not in top 10" if rank is None else f"rank {rank}"
    assert f" -> {said}, top " in misses[0]


def test_eval_json_is_the_report(indexed_example: Path, tmp_path: Path) -> None:
    code, out, _ = run("eval", str(_queries(tmp_path)), "--library", str(indexed_example), "--json")
    assert code == 0
    report = json.loads(out)  # nothing but the report on stdout
    assert out == json.dumps(report, indent=2) + "\n"
    assert report["overall"]["count"] == 2
    assert report["overall"]["recall@1"] == 0.5
    assert [m["expect"] for m in report["misses"]] == [["incident-postmortem-writer"]]


def test_match_fits_descriptions_to_the_terminal(indexed_example: Path) -> None:
    code, out, _ = run(
        "match",
        "review my terraform plan",
        "--library",
        str(indexed_example),
        env={"COLUMNS": "70"},
    )
    assert code == 0
    rows = [line for line in out.splitlines()[1:] if line.strip()]
    assert rows and all(len(line) <= 70 for line in rows), rows
    assert any(line.endswith("…") for line in rows)  # long descriptions are cut, marked
    wide = run(
        "match",
        "review my terraform plan",
        "--library",
        str(indexed_example),
        env={"COLUMNS": "1000"},
    )[1]
    assert "…" not in wide


def test_index_strict_refuses_warnings(tmp_path: Path) -> None:
    library = tmp_path / "library"
    skill = library / "skills" / "tiny"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: tiny\ndescription: Does a tiny thing.\nlicense: [MIT]\n---\n\n# Tiny\n"
    )
    code, out, err = run("check", str(library))
    assert code == 0 and ": warning: a flow-style list" in out + err, out + err  # a warning only
    code, _, err = run("index", "--strict", str(library))
    assert code == 1, err
    assert not (library / "index").exists() or not any((library / "index").iterdir())


def test_eval_gates_at_their_boundary_and_their_ranges(
    indexed_example: Path, tmp_path: Path
) -> None:
    queries = str(_queries(tmp_path))  # recall@1 is exactly 0.5
    lib = ("--library", str(indexed_example))
    assert run("eval", queries, *lib, "--min-recall-at-1", "0.5")[0] == 0
    code, _, err = run("eval", queries, *lib, "--min-recall-at-1", "0.51")
    assert code == 1 and "recall@1" in err
    assert run("eval", queries, *lib, "--min-mrr", "0.5")[0] == 0
    assert run("eval", queries, *lib, "--min-mrr", "1")[0] == 1
    for flag in ("--min-recall-at-1", "--min-mrr"):
        code, _, err = run("eval", queries, *lib, flag, "1.01")
        assert code == 2 and flag in err
        code, _, err = run("eval", queries, *lib, flag, "-0.01")
        assert code == 2 and flag in err


def test_a_description_that_just_fits_is_not_cut(indexed_example: Path) -> None:
    query = ("match", "review my terraform plan", "--library", str(indexed_example))
    code, out, _ = run(*query, "--json")
    results = json.loads(out)
    assert out == json.dumps(results, indent=2) + "\n"
    name_width = max(len(m["name"]) for m in results)
    header = f"{'#':>2}  {'type':<6}  {'name':<{name_width}}  {'dist':>5}  description"
    first = results[0]["description"]
    # The room for a description is what the header leaves beside its own "description".
    columns = len(first) + len(header) - len("description")
    rows = run(*query, env={"COLUMNS": str(columns)})[1].splitlines()[1:]
    assert rows[0].endswith(first) and len(rows[0]) == columns
    rows = run(*query, env={"COLUMNS": str(columns - 1)})[1].splitlines()[1:]
    assert rows[0].endswith("…") and len(rows[0]) == columns - 1


def test_problem_levels_are_coloured_on_a_terminal(tmp_path: Path) -> None:
    skill = tmp_path / "skills" / "Bad_Name"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: Bad_Name\ndescription: x\n---\n")
    result = CliRunner().invoke(cli, ["check", str(tmp_path)], color=True)
    assert click.style("error", fg="red", bold=True) + ": " in result.stdout
    plain = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert "\x1b[" not in plain.stdout and ": error: " in plain.stdout


def test_no_match_is_said_on_stderr_and_prints_no_table(indexed_example: Path) -> None:
    code, out, err = run(
        "match", "quantum knitting patterns", "--library", str(indexed_example),
        "--max-distance", "0",
    )
    assert (code, out) == (0, "") and err == "no match within the distance limit\n"


def test_without_a_terminal_the_table_is_100_columns(indexed_example: Path) -> None:
    import shutil

    width = shutil.get_terminal_size((100, 20)).columns  # 100 unless pytest runs on a tty
    rows = CliRunner().invoke(
        cli, ["match", "review my terraform plan", "--library", str(indexed_example)],
        env={"COLUMNS": None, "LINES": None},
    ).stdout.splitlines()[1:]
    assert max(len(row) for row in rows) == width
    assert any(row.endswith("…") for row in rows)


def test_warnings_are_coloured_on_a_terminal(indexed_example: Path) -> None:
    query = " ".join(["terraform"] * 400)  # past the model's window: a warning
    result = CliRunner().invoke(
        cli, ["match", query, "--library", str(indexed_example)], color=True
    )
    warning = click.style("warning", fg="yellow", bold=True)
    assert result.stderr.startswith(f"{warning}: query is longer than the model's")


def test_a_build_summary_names_the_first_three_errors() -> None:
    from sitegen.cli.output import first_errors
    from sitegen.library import Problem

    problems = [Problem(f"skills/s{i}/SKILL.md", i, "error", "x", f"bad {i}") for i in range(1, 6)]
    assert first_errors(problems) == (
        "skills/s1/SKILL.md:1 (bad 1); skills/s2/SKILL.md:2 (bad 2); "
        "skills/s3/SKILL.md:3 (bad 3); and 2 more above"
    )
    assert first_errors(problems[:3]) == (
        "skills/s1/SKILL.md:1 (bad 1); skills/s2/SKILL.md:2 (bad 2); skills/s3/SKILL.md:3 (bad 3)"
    )
