"""`examples/github-pages.yml` works: its `run:` steps, in order, on a fresh clone.

Not the Actions runner: the YAML is parsed, every `${{ ... }}` the steps use is given the
value Actions would give, and each `run:` is executed with bash (`-eo pipefail`, as Actions
does) in the library's folder of a fresh `git clone` of this repository (example_library/
standing in for a library repository's root). Two substitutions, both said here: the install
step is skipped (this checkout's sitegen is the one on PATH; it is not on PyPI), and the
model cache is this test session's (the workflow's cache step would restore it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "github-pages.yml"
PAGES_URL = "https://example-team.github.io/catalog"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return list(workflow["jobs"]["build"]["steps"])


def test_the_workflow_publishes_with_the_gates_the_readme_promises() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = _steps()
    runs = [s["run"] for s in steps if "run" in s]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    order = [
        next(i for i, r in enumerate(runs) if r.startswith(command))
        for command in (
            "pip install",
            "sitegen prepare",
            "sitegen check --strict",
            "sitegen eval",
            "sitegen build",
        )
    ]
    assert order == sorted(order)
    assert "--base-url" in runs[order[-1]]
    assert uses.count("actions/cache") == 2 and "actions/upload-pages-artifact" in uses
    deploy = workflow["jobs"]["deploy"]["steps"][0]["uses"]
    assert deploy.startswith("actions/deploy-pages@")
    readme = (ROOT / "README.md").read_text()
    assert WORKFLOW.read_text().split("\njobs:", 1)[1] in readme  # the README shows it whole


def test_the_run_steps_pass_in_order_on_a_fresh_clone(tmp_path: Path, embedder: Any) -> None:
    clone = tmp_path / "repo"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True
    )
    # The clone has the last commit; the workflow and the example library are part of it.
    workspace = clone / "example_library"
    outputs = tmp_path / "github_output"
    values = {
        "github.workspace": str(workspace),
        "runner.os": "Linux",
        "steps.pages.outputs.base_url": PAGES_URL,
    }
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(outputs),
        "CI": "true",
    }
    env.pop("SITEGEN_LIBRARY", None)
    job_env = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"].get("env", {})
    for key, value in job_env.items():
        env[key] = EXPRESSION.sub(lambda m: _value(m.group(1), values, outputs), str(value))
    assert env["SITEGEN_CACHE_DIR"] == f"{workspace}/.sitegen-cache"
    env["SITEGEN_CACHE_DIR"] = os.environ["SITEGEN_CACHE_DIR"]  # what the cache step restores
    ran = []
    for step in _steps():
        if "run" not in step or step["run"].startswith("pip install"):
            continue
        command = EXPRESSION.sub(lambda m: _value(m.group(1), values, outputs), step["run"])
        proc = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert proc.returncode == 0, f"{step.get('name')}: {command}\n{proc.stdout}{proc.stderr}"
        assert "Traceback" not in proc.stderr
        ran.append(command.split()[1] if command.startswith("sitegen") else step.get("name"))
    assert ran == ["Which sitegen", "prepare", "check", "index", "eval", "build"]
    assert outputs.read_text().strip() == "version=0.1.0"
    site = workspace / "site"
    assert (site / "skills" / "terraform-plan-reviewer" / "index.html").is_file()
    assert f'href="{PAGES_URL}/static/sitegen.css"' in (site / "404.html").read_text()
    assert f"<loc>{PAGES_URL}/skills/" in (site / "sitemap.xml").read_text()


def _value(expression: str, values: dict[str, str], outputs: Path) -> str:
    if expression in values:
        return values[expression]
    found = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+)", expression)
    if found and outputs.is_file():
        for line in outputs.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == found.group(2):
                return value
    pytest.fail(f"the workflow uses ${{{{ {expression} }}}}, which this test cannot give")
