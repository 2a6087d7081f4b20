"""The pages in a real browser: Debian's Chromium (/usr/bin/chromium, installed by .ci/run
when missing; never a browser download) driven by Playwright, against a real server
process (uvicorn running what `compliance serve` runs) on a SQLite ledger of the test's
own with the staff of the HTTP tests.

Without Chromium or Playwright the tests skip with the reason, except under CI=true,
where that is a failure. Screenshots go to var/browser-shots/<test>/ as artefacts."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infrastructure.settings import load_settings
from interfaces.composition import build_application, initialise_store
from tests.conftest import running_under_ci
from tests.e2e.http.conftest import FAST_ARGON2, PASSWORD, staff_the_store
from tests.e2e.http.server import REPO, ApiServer

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "var" / "browser-shots"


def _unavailable() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if running_under_ci():
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


@dataclass
class Site:
    """A server on a ledger of its own, its staff, and a way to set up cases directly."""

    server: ApiServer
    environ: dict[str, str]
    importer11: str
    importer12: str
    shots: Path

    @property
    def url(self) -> str:
        return self.server.base_url

    def loader(self) -> Any:
        """The application with access control off, on the same store (close it)."""
        return build_application(load_settings(self.environ), access_control=False)

    def shot(self, page: Any, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        target = self.shots / f"{name}.png"
        # caret="initial": Playwright's default hides the caret with an inline style,
        # which the pages' CSP then reports on the next htmx swap.
        page.screenshot(path=str(target), full_page=True, caret="initial")
        return target


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    environ = {"COMPLIANCE_SQLITE_PATH": str(tmp_path / "ledger.db"),
               "COMPLIANCE_SEAL_KEY": str(tmp_path / "keys" / "seal.key"), **FAST_ARGON2}
    settings = load_settings(environ)
    initialise_store(settings)
    importer11, importer12 = staff_the_store(settings)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shots = SHOTS / name
    shutil.rmtree(shots, ignore_errors=True)
    with ApiServer(environ) as server:
        yield Site(server, environ, importer11, importer12, shots)


def log_in(browser: Any, site: Site, username: str) -> Any:
    """A new browser context (its own cookies) logged in as `username` through /login."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    return page
