"""Real-browser walkthrough set-up: the app as a subprocess, Debian's Chromium driven by Playwright.

These tests never use the ``app``/``db`` fixtures of ``tests/conftest.py``: they talk to a server
started here on a free 127.0.0.1 port with its own fresh SQLite database (migrated and seeded with
the demo data through the real ``flask`` CLI), and stop it at the end of the session.

Run them with ``make test-e2e`` (``make test`` deselects them with ``-m "not e2e"``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from babel.support import Translations

from tests.e2e import axe

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCREENSHOTS = REPO / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]
#: Settings of the developer's shell that must not leak into the server under test.
_DROP_ENV = ("DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "SENTRY_DSN", "MAIL_SERVER",
             "SMS_GATEWAY_URL", "TENANTS_DIR", "JOBS_INLINE", "SERVER_NAME", "FLASK_APP", "FLASK_DEBUG")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    log: Path
    upload_dir: Path

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _run_cli(args: list[str], env: dict, log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ flask --app wsgi {' '.join(args)}\n")
        out.flush()
        proc = subprocess.run(  # noqa: S603 (our own venv's flask, fixed arguments)
            [str(BIN / "flask"), "--app", "wsgi", *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            timeout=600, check=False)  # seeding 400 demo reports is slow on a busy machine
    if proc.returncode != 0:
        pytest.fail(f"`flask --app wsgi {' '.join(args)}` failed ({proc.returncode}):\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The real app (gunicorn, else the Flask server) on a fresh, migrated, demo-seeded SQLite database."""
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    env.update({
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp}/e2e.db",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "PUBLIC_BASE_URL": base,
        "RATELIMIT_ENABLED": "0",
        "JOBS_INLINE": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    log = tmp / "server.log"
    _run_cli(["db", "upgrade"], env, log)
    _run_cli(["demo", "seed"], env, log)

    gunicorn = BIN / "gunicorn"
    if gunicorn.exists():
        cmd = [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
               "--timeout", "60", "--no-control-socket", "wsgi:app"]
    else:
        cmd = [str(BIN / "flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)]
    out = log.open("a")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    server = LiveServer(url=base, log=log, upload_dir=tmp / "uploads")
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server stopped at start-up ({proc.returncode}):\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:  # noqa: S310 (our server)
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /healthz within 30 s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        out.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium (no browser download): one instance for the session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _check_accessibility_of_every_context(instance)
        try:
            yield instance
        finally:
            instance.close()


def _check_accessibility_of_every_context(instance) -> None:
    """Every browser context the walkthroughs open runs axe-core on each HTML page it loads (tests/e2e/axe.py);
    closing a context waits for its open pages' results and fails on serious or critical violations.
    Contexts with JavaScript switched off cannot run axe: their pages are the same ones the other
    walkthroughs visit with JavaScript on."""
    new_context = instance.new_context

    def checked_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        if kwargs.get("java_script_enabled", True):
            axe.install(context)
            close = context.close

            def close_checked(*a, **kw):
                checker = axe.checker_of(context)
                try:
                    for page in context.pages:
                        checker.settle(page)
                finally:
                    close(*a, **kw)
                checker.assert_clean()

            context.close = close_checked
        return context

    instance.new_context = checked_context


class Catalog:
    """The Indonesian texts the server shows: its compiled catalog, or the English source texts
    while the catalog is not compiled or a text is not translated yet (as Flask-Babel does)."""

    def __init__(self, directory: Path):
        self.translations = Translations.load(str(directory), ["id"])
        self.compiled = isinstance(self.translations, Translations)

    def __call__(self, msgid: str, **variables) -> str:
        text = self.translations.gettext(msgid)
        return text % variables if variables else text

    def translated(self, msgid: str) -> bool:
        return self.compiled and self.translations.gettext(msgid) != msgid


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(REPO / "translations")


@dataclass
class ErrorLog:
    """Console errors, uncaught page errors and server errors of every page in a browser context."""

    entries: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        def on_console(msg):
            if msg.type == "error":
                url = (msg.location or {}).get("url", "")
                self.entries.append(f"console error on {page.url}: {msg.text} ({url})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.entries.append(f"page error on {page.url}: {exc}"))
        page.on("response", lambda resp: resp.status >= 500 and self.entries.append(
            f"HTTP {resp.status} for {resp.request.method} {resp.url}"))


class Actor:
    """One person with their own browser context (cookies), page, screenshots and error checks."""

    def __init__(self, browser, base_url: str, tenant: str, shots: Path, who: str):
        self.context = browser.new_context(base_url=base_url, locale="id-ID", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.errors = ErrorLog()
        self.context.on("page", self.errors.watch)
        self.page = self.context.new_page()
        self.tenant = tenant
        self.shots = shots
        self.who = who

    def url(self, path: str = "") -> str:
        return f"/{self.tenant}/{path.lstrip('/')}"

    def step(self, name: str) -> Path:
        """Screenshot of the whole page to screenshots/<tenant>/<name>.png; fail on any browser error so far."""
        self.page.wait_for_load_state("load")
        checker = axe.checker_of(self.context)
        if checker is not None:  # the page shown now has been checked by axe-core; nothing serious so far
            checker.settle(self.page)
            checker.assert_clean()
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert not self.errors.entries, f"{self.who}, step {name}: browser errors:\n" + "\n".join(self.errors.entries)
        return path


@pytest.fixture()
def actors(browser, live_server) -> Iterator:
    """actors(tenant, who) → Actor in a fresh browser context; all are closed after the test."""
    made: list[Actor] = []

    def make(tenant: str, who: str) -> Actor:
        shots = SCREENSHOTS / tenant
        shots.mkdir(parents=True, exist_ok=True)
        actor = Actor(browser, live_server.url, tenant, shots, who)
        made.append(actor)
        return actor

    yield make
    for actor in made:
        actor.context.close()


@pytest.fixture()
def clean_screenshots():
    """Empty screenshots/<tenant>/ so the folder shows this run only."""

    def clean(tenant: str) -> None:
        shutil.rmtree(SCREENSHOTS / tenant, ignore_errors=True)
        (SCREENSHOTS / tenant).mkdir(parents=True, exist_ok=True)

    return clean


@pytest.fixture(autouse=True)
def _server_log_on_failure(request, live_server):
    """On a failing test, show the end of the server log next to the browser's view."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        sys.stderr.write(f"\n--- server log ({live_server.log}) ---\n{live_server.log_tail()}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def pytest_terminal_summary(terminalreporter):
    """axe-core's figures for the pages this run visited (also in screenshots/axe-summary.txt)."""
    if not axe.REGISTRY.pages:
        return
    text = axe.REGISTRY.summary()
    terminalreporter.write_sep("-", "accessibility (axe-core)")
    terminalreporter.write_line(text)
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "axe-summary.txt").write_text(text + "\n")
