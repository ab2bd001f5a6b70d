"""Fixtures shared by the site's browser modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.site.helpers import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()
