"""CI cannot pass with browser tests skipped (tests/ci_skips.py), and they are marked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest(folder: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "--rootdir", str(folder), str(folder)],
        capture_output=True, text=True, env=env, cwd=folder, check=False,
    )


def test_a_skipped_browser_test_fails_only_under_ci(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.ci_skips import pytest_configure, pytest_runtest_makereport  # noqa\n"
    )
    (tmp_path / "test_pages.py").write_text(
        "import pytest\n"
        "browser = [pytest.mark.browser, pytest.mark.skipif(True, reason='no chromium here')]\n"
        "@pytest.mark.browser\n"
        "@pytest.mark.skipif(True, reason='no chromium here')\n"
        "def test_in_a_browser():\n    pass\n"
        "@pytest.mark.skip(reason='not a browser test')\n"
        "def test_other():\n    pass\n"
        "def test_plain():\n    pass\n"
    )
    laptop = _pytest(tmp_path, None)
    assert laptop.returncode == 0, laptop.stdout
    assert "1 passed, 2 skipped" in laptop.stdout
    for value in ("true", "1"):
        ci = _pytest(tmp_path, value)
        assert ci.returncode == 1, ci.stdout
        assert "browser test skipped under CI=true: no chromium here" in ci.stdout
        # skipif skips in the setup phase, so the failed report is an error at setup
        assert "1 passed, 1 skipped, 1 error" in ci.stdout
    assert _pytest(tmp_path, "false").returncode == 0


def test_the_browser_modules_are_marked() -> None:
    env = {**os.environ, "CI": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-m", "browser", "tests/site/test_browser.py", "tests/site/test_search_browser.py"],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::test_" in line]
    assert len(collected) >= 10, proc.stdout
