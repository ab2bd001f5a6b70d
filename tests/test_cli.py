"""The CLI's conventions: one error base caught once, flags declared once with the settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from sitegen.cli import cli
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
