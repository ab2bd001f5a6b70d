"""The CLI's conventions: one error base caught once, flags declared once with the settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.cli.group import SitegenGroup
from sitegen.config import SETTINGS


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_sitegen_error_is_one_line_and_its_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    for command in ("check", "index", "build", "serve"):
        code, out, err = run(command, str(missing))
        assert code == 2, (command, err)
        assert err == f"error: {missing}: no such library (folder not found)\n", (command, err)


def test_a_bug_is_one_line_and_exit_1_and_a_traceback_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = SitegenGroup(name="sitegen")

    @group.command()
    def boom() -> None:
        raise RuntimeError("kaput")

    monkeypatch.delenv("SITEGEN_DEBUG", raising=False)
    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: boom failed (RuntimeError: kaput); set SITEGEN_DEBUG=1 for the traceback\n"
    )
    monkeypatch.setenv("SITEGEN_DEBUG", "1")
    result = CliRunner().invoke(group, ["boom"])
    assert isinstance(result.exception, RuntimeError)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "check", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env={**os.environ, "SITEGEN_DEBUG": "1"},
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "LibraryError" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("error: ")


def test_every_setting_with_a_flag_is_an_option_with_its_help() -> None:
    build = cli.commands["build"]
    options = {opt: p for p in build.params if isinstance(p, click.Option) for opt in p.opts}
    for setting in SETTINGS:
        if setting.flag is None or setting.key == "max_file_size":
            continue
        assert setting.flag in options, setting.flag
        assert options[setting.flag].help == setting.option_help
    check = {opt for p in cli.commands["check"].params for opt in getattr(p, "opts", ())}
    assert "--max-file-size" in check


def test_a_flag_is_checked_by_its_settings_parser(example_copy: Path) -> None:
    code, _, err = run("build", str(example_copy), "--base-url", "agents.example")
    assert code == 2
    assert "Invalid value for '--base-url': 'agents.example' is not an absolute http(s) URL" in err
    (example_copy / "sitegen.toml").write_text('title = "x"\nbase_url = "agents.example"\n')
    code, _, err = run("check", str(example_copy))
    assert code == 2
    assert err == (
        f"error: {example_copy}/sitegen.toml:2: base_url: 'agents.example' is not an absolute "
        "http(s) URL\n"
    )


# -- one convention (issue 13) ------------------------------------------------------------------


def _commands() -> list[tuple[str, click.Command]]:
    return sorted(cli.commands.items())


def test_every_option_has_help_and_every_flag_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name, command in _commands():
        for param in command.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            flag = param.opts[0]
            assert param.help, f"{name} {flag} has no help"
            if isinstance(param.type, click.IntRange | click.FloatRange):
                # the range the help promises is the range enforced, bounds included
                low, high = param.type.min, param.type.max
                assert f"({low:g}-{high:g}" in param.help, (name, flag)
                assert not (param.type.min_open or param.type.max_open), (name, flag)
            has_default = param.default not in (None, (), "") and not callable(param.default)
            if has_default and not param.is_flag:  # a value you need not give says what it is
                assert param.show_default or "default" in param.help, (name, flag)
            if flag not in ("--help", "--version"):
                assert f"{flag}" in readme, f"README lacks {name} {flag}"
        assert f"sitegen {name}" in readme, name


def test_the_readme_usage_shows_the_real_defaults() -> None:
    """`[--port 8000]` in the README's usage block is the default a user gets."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    usage = readme.split("## Usage", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = dict(_commands())
    shown = 0
    name = ""
    for line in usage.splitlines():
        if line.startswith("sitegen "):
            name = line.split()[1]
        for flag, value in re.findall(r"\[(--[a-z0-9-]+) ([^\]A-Z|]+)\]", line):
            option = next(p for p in commands[name].params if flag in getattr(p, "opts", ()))
            default = option.default
            assert value in (str(default), f"{default:g}" if isinstance(default, float) else ""), (
                name,
                flag,
                value,
                default,
            )
            shown += 1
    assert shown >= 5  # --limit, --max-distance (twice), --host, --port


def test_the_library_is_named_the_same_way_everywhere(indexed_example: Path) -> None:
    lib = str(indexed_example)
    assert run("check", "--library", lib)[0] == 0
    assert run("check", lib)[0] == 0  # the positional alias
    code, _, err = run("check", lib, "--library", str(indexed_example.parent))
    assert code == 2 and "the library is named twice" in err
    code, out, _ = run("match", "review my terraform plan", "--library", lib, "--json")
    assert code == 0 and "terraform-plan-reviewer" in out
    for command in ("check", "index", "build", "serve", "match", "eval"):
        names = {o for p in cli.commands[command].params for o in getattr(p, "opts", ())}
        assert "--library" in names, command


def test_errors_name_flags_never_python_identifiers(indexed_example: Path) -> None:
    lib = str(indexed_example)
    cases = [
        (("match", "x", "--max-distance", "3"), "Invalid value for '--max-distance'"),
        (("match", "x", "--limit", "0"), "Invalid value for '--limit'"),
        (("match", "x", "--type", "agents"), "Invalid value for '--type'"),
        (("match", "   "), "Invalid value for 'QUERY': must not be empty"),
        (("eval", "q.yaml"), "Invalid value for 'QUERIES': File 'q.yaml' does not exist"),
        (("eval", str(indexed_example / "queries.yaml"), "--min-mrr", "2"), "'--min-mrr'"),
        (("eval", str(indexed_example / "queries.yaml"), "--min-recall-at-1", "-1"),
         "'--min-recall-at-1'"),
        (("build", lib, "--jobs", "0"), "Invalid value for '--jobs'"),
    ]
    for args, expected in cases:
        code, _, err = run(*args, "--library", lib) if args[0] == "match" else run(*args)
        assert code == 2, args
        assert expected in err, (args, err)
        assert "max_distance" not in err and "'type'" not in err and "'limit'" not in err


def test_a_misspelt_value_gets_did_you_mean(indexed_example: Path) -> None:
    code, _, err = run("match", "x", "--library", str(indexed_example), "--type", "skill")
    assert code == 2
    assert "'skill' is not one of 'roles', 'skills', 'all'; did you mean 'skills'?" in err
    code, _, err = run("check", str(indexed_example), "--format", "jsn")
    assert code == 2 and "did you mean 'json'?" in err


def test_a_misspelt_key_gets_did_you_mean(tmp_path: Path) -> None:
    role = tmp_path / "lib" / "roles" / "helper"
    role.mkdir(parents=True)
    (role / "ROLE.md").write_text("---\nname: helper\ndescription: Helps.\ntag: [a]\n---\n")
    skill = tmp_path / "lib" / "skills" / "tidy"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: tidy\ndescription: Tidies.\ntag: a\nlicence: MIT\n---\n"
    )
    code, out, _ = run("check", str(tmp_path / "lib"))
    assert code == 0
    assert f"{role}/ROLE.md:4: warning: unknown key 'tag'; did you mean 'tags'?" in out
    assert "unknown key 'tag'" in out and "put tags in metadata.tags" in out  # the skill
    assert "unknown key 'licence'" in out and "did you mean 'license'?" in out


def test_an_unquoted_colon_gets_a_hint_to_quote(tmp_path: Path) -> None:
    skill = tmp_path / "lib" / "skills" / "colon"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: colon\ndescription: Reviews plans. Use when: a plan changes.\n---\n"
    )
    code, out, _ = run("check", str(tmp_path / "lib"))
    assert code == 1
    assert (
        f"{skill}/SKILL.md:3: error: frontmatter is not valid YAML: mapping values are not "
        "allowed in this context; a value holding ': ' must be quoted: "
        'description: "Reviews plans. Use when: a plan changes."'
    ) in out


def test_strict_summary_counts_agree(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    for name, extra in (("good", ""), ("warned", "tags: [a]\n")):
        (lib / "skills" / name).mkdir(parents=True)
        (lib / "skills" / name / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Does {name} things.\n{extra}---\n"
        )
    _, _, err = run("check", str(lib))
    assert err.strip().endswith("0 roles, 2 skills valid; 0 error(s), 2 warning(s)")
    code, _, err = run("check", str(lib), "--strict")
    assert code == 1
    assert err.strip().endswith("0 roles, 1 skills valid, 1 with errors; 2 error(s), 0 warning(s)")


def test_a_typo_is_not_a_dead_end(indexed_example: Path) -> None:
    code, out, err = run("match", "terafrom", "--library", str(indexed_example))
    assert code == 0
    assert out.splitlines()[1].split()[:3] == ["1", "skill", "terraform-plan-reviewer"]
    assert err == 'did you mean "terraform"? (its results are included above)\n'
    code, out, err = run("match", "terraform plan reviwer", "--library", str(indexed_example))
    assert code == 0 and "terraform-plan-reviewer" in out.splitlines()[1]
    assert "did you mean" in err


def test_install_offers_a_near_name(indexed_example: Path, tmp_path: Path) -> None:
    code, _, err = run(
        "install", "terraform-plan-reviwer", "--from", str(indexed_example), "--dir", str(tmp_path)
    )
    assert code == 2
    assert err.strip().endswith(
        "no role or skill named 'terraform-plan-reviwer' in "
        f"{indexed_example}; did you mean terraform-plan-reviewer?"
    )


def test_match_warns_once_when_the_library_changed_after_the_index(
    indexed_example: Path, tmp_path: Path
) -> None:
    import shutil

    lib = tmp_path / "lib"
    shutil.copytree(indexed_example, lib)  # copy2 keeps the times: the index stays newest
    query = ("match", "review my terraform plan", "--library", str(lib), "--json")
    assert "warning" not in run(*query)[2]
    definition = lib / "skills" / "csv-data-cleaner" / "SKILL.md"
    current = json.loads((lib / "index" / "current.json").read_text())
    later = (lib / "index" / current["files"]["skills"]).stat().st_mtime + 5
    os.utime(definition, (later, later))  # touched, unchanged: hashed, no warning
    assert "warning" not in run(*query)[2]
    definition.write_text(definition.read_text().replace("Cleans", "Scrubs"))
    os.utime(definition, (later, later))
    assert run(*query)[2] == (
        "warning: the library changed after its index was written (1 entry); "
        "run `sitegen index` for current results\n"
    )
    new = lib / "skills" / "brand-new"
    new.mkdir()
    (new / "SKILL.md").write_text("---\nname: brand-new\ndescription: New.\n---\n")
    os.utime(lib / "skills", (later, later))
    code, out, err = run(*query)
    assert code == 0 and out.startswith("[")
    assert err == (
        "warning: the library changed after its index was written (2 entries); "
        "run `sitegen index` for current results\n"
    )


def test_build_says_what_it_left_out_and_why(example_copy: Path, tmp_path: Path) -> None:
    broken = example_copy / "skills" / "csv-data-cleaner" / "SKILL.md"
    broken.write_text("---\nname: csv-data-cleaner\n---\n")
    code, _, err = run("build", str(example_copy), "--out", str(tmp_path / "site"))
    assert code == 1
    assert err.splitlines()[-1] == (
        "error: 1 entry left out of the site for errors: "
        f"{broken}:1 (description is missing (Agent Skills spec: description is required))"
    )


def test_progress_is_a_bar_on_a_terminal_and_two_lines_in_a_log() -> None:
    import io

    from sitegen.progress import Bar

    log = io.StringIO()
    with Bar("embedding", "entries", stream=log, tty=False) as bar:
        for done in range(0, 201, 50):
            bar(done, 200)
    lines = log.getvalue().splitlines()
    assert lines[0] == "embedding 200 entries ..."
    assert lines[1].startswith("embedding 200/200 entries in ") and len(lines) == 2

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    with Bar("rendering", "files", stream=screen) as bar:
        for done in range(0, 201, 50):
            bar(done, 200)
    assert "200/200" in screen.getvalue() and "\x1b[" in screen.getvalue()  # a drawn bar
    quiet = io.StringIO()
    with Bar("rendering", "files", stream=quiet, tty=False) as bar:
        bar(5, 10)  # small work: nothing at all
    assert quiet.getvalue() == ""
