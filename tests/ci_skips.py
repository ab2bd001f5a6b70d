"""No silent skips in CI: a browser test skipped under `CI=true` fails the run (issue 17).

Browser tests carry the `browser` marker (tests/site/helpers.py). Where Chromium is missing
they skip, which is right on a laptop and wrong in CI: there a skip would hide the only check
that hostile content stays inert when run. `.ci/run` installs /usr/bin/chromium and exports
CI=true; this hook turns any remaining skip of a browser test into a failure naming why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

MARKER = "browser"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and in_ci()
        and item.get_closest_marker(MARKER) is not None
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"browser test skipped under CI=true: {_reason(report)} "
            "(CI must run it: .ci/run installs /usr/bin/chromium)"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: drives Chromium; a skip fails the run when CI=true"
    )
