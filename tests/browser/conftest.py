"""The real desk in a real browser: ``desk init --demo`` on a temporary SQLite database,
``desk serve`` (gunicorn, in-process timer worker) on a free loopback port, and
Debian's chromium driven by Playwright. No browser is ever downloaded: without
/usr/bin/chromium the tests are skipped when run by hand, and fail under ``make test``
(which installs it first and sets DESK_REQUIRE_SYSTEM).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ON_POSTGRES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
DIST = ROOT / "webforms" / "static" / "dist"
OUTPUT = ROOT / "tests" / "output"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
VIEWPORT = {"width": 1366, "height": 768}


def pytest_collection_modifyitems(items) -> None:
    if ON_POSTGRES:
        # every browser test serves its own desk on its own SQLite file (``serve_desk``): the
        # PostgreSQL pass would only run them again, unchanged
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="the browser tests serve their own SQLite desk: the SQLite pass runs them"))
        return
    reason = None
    if not CHROMIUM.exists():
        reason = "Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium"
    elif not (DIST / "desk.js").exists() or not (DIST / "diagram.js").exists():
        reason = "front-end assets are not built (webforms/static/dist): run `make assets`"
    if reason and os.environ.get("DESK_REQUIRE_SYSTEM"):
        raise pytest.UsageError(f"browser tests cannot run: {reason}")
    if reason:
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"desk serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as res:
                if res.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"desk serve did not answer at {url}:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve_desk(work: Path):
    """``desk init --demo`` on a fresh SQLite file in ``work`` and ``desk serve`` on a free port; yields its URL."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'desk.sqlite'}",
        "SECRET_KEY": "browser-tests",
        "PYTHONWARNINGS": "ignore",  # the server's own warnings are not this test run's
    }
    cli = [sys.executable, "-m", "webforms.cli"]
    init = subprocess.run([*cli, "init", "--demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    port = _free_port()
    log = work / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/login", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The base URL of a freshly initialised desk served by gunicorn."""
    with serve_desk(tmp_path_factory.mktemp("desk-server")) as base:
        yield base


class _Relaunching:
    """The session's Chromium, launched again if it has gone away.

    A browser that crashes fails the test it crashed in; without this, every later
    browser test of the session failed with it ("Target page, context or browser has
    been closed"), hiding what they would have found.
    """

    def __init__(self, playwright) -> None:
        self._playwright = playwright
        self._browser = None

    def _current(self):
        if self._browser is None or not self._browser.is_connected():
            self._browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        return self._browser

    def close(self) -> None:
        """Close the browser if one is running (not launch one to close it)."""
        if self._browser is not None and self._browser.is_connected():
            self._browser.close()

    def __getattr__(self, name):
        return getattr(self._current(), name)


def close_context(context) -> None:
    """Close a browser context; one whose Chromium has gone away (crashed) is closed already.

    Chromium here crashes now and then, between tests as well: closing a dead context
    then raised in the teardown of a test that had passed, or in a ``finally`` hid the
    error the test had failed with. The next launch replaces the browser (``_Relaunching``).
    """
    from playwright.sync_api import Error as PlaywrightError

    try:
        context.close()
    except PlaywrightError as exc:  # playwright's TargetClosedError is not public
        if "has been closed" not in str(exc):
            raise


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = _Relaunching(p)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """A fresh browser context (its own cookies) per call, at 1366×768 in Simplified Chinese."""
    contexts = []

    def make():
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        close_context(context)


@pytest.fixture(scope="session")
def output() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
