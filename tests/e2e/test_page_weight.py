"""Page weight for rural connections, with JavaScript disabled.

The citizen's submission and tracking pages must stay at or under 50 KB transferred (headers and
compressed bodies of every request the page makes), make no third-party request, and work without
JavaScript: the report is sent and tracked here with JavaScript switched off. Figures are printed
(run with ``-s`` to see them) and written to screenshots/page-weight.txt.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

BUDGET = 50 * 1024


class Meter:
    """Bytes transferred by every request of one page load, and the hosts asked."""

    def __init__(self, page, base_url: str):
        self.base_host = urlsplit(base_url).netloc
        self.requests: list = []
        page.on("requestfinished", lambda req: self.requests.append(req))

    def start(self) -> None:
        self.requests.clear()

    def total(self) -> tuple[int, list[str], list[str]]:
        size, lines, foreign = 0, [], []
        for req in self.requests:
            sizes = req.sizes()
            n = sizes["requestHeadersSize"] + sizes["requestBodySize"] + sizes["responseHeadersSize"] \
                + sizes["responseBodySize"]
            size += n
            lines.append(f"    {n:>7,} B  {req.method} {urlsplit(req.url).path}")
            if urlsplit(req.url).netloc != self.base_host:
                foreign.append(req.url)
        return size, lines, foreign


@pytest.mark.parametrize("slug", ["banjarmasin", "katingan"])
def test_citizen_pages_are_light_local_and_work_without_javascript(slug, browser, live_server, catalog):
    t = catalog
    context = browser.new_context(base_url=live_server.url, locale="id-ID", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    meter = Meter(page, live_server.url)
    report: list[str] = []

    def measure(name: str) -> None:
        page.wait_for_load_state("load")
        size, lines, foreign = meter.total()
        report.append(f"{slug} {name}: {size:,} B transferred ({size / 1024:.1f} KB), {len(lines)} requests")
        report.extend(lines)
        assert not foreign, f"{name}: third-party requests {foreign}"
        assert size <= BUDGET, f"{name}: {size:,} B > {BUDGET:,} B\n" + "\n".join(lines)

    try:
        # With JavaScript on, the submission page also loads its script (the map pin helper).
        js_context = browser.new_context(base_url=live_server.url, locale="id-ID")
        js_page = js_context.new_page()
        js_meter = Meter(js_page, live_server.url)
        js_page.goto(f"/{slug}/lapor")
        js_page.wait_for_load_state("networkidle")
        size, lines, foreign = js_meter.total()
        js_context.close()
        report.append(f"{slug} submission page with JavaScript: {size:,} B ({size / 1024:.1f} KB), "
                      f"{len(lines)} requests")
        report.extend(lines)
        assert not foreign and size <= BUDGET, "\n".join(lines + foreign)

        meter.start()
        page.goto(f"/{slug}/lapor")
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Send a report"))
        measure("submission page")

        page.get_by_label(t("Short title")).fill("Lampu jalan mati di gang sempit")
        page.get_by_label(t("What happened?")).fill("Sudah satu minggu lampu jalan di gang ini mati.")
        page.locator("input[name=complaint_class]").first.check()
        page.get_by_label(t("Your name")).fill("Ahmad Fauzi")
        page.get_by_label(t("Email"), exact=True).fill(f"ahmad.{slug}@example.com")
        page.get_by_label(t("Public"), exact=True).check()
        page.get_by_label(t("I have read and accept the terms of use.")).check()
        meter.start()
        page.get_by_role("button", name=t("Send report")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
        measure("confirmation page (after sending, without JavaScript)")
        code = page.get_by_text(re.compile(r"^[A-Z]{2,5}-\d{2}-\d{5}$")).inner_text().strip()
        link = page.get_by_label(t("Your private tracking link")).input_value()

        meter.start()
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text(code)
        measure("tracking page (private link)")

        meter.start()
        page.goto(f"/{slug}/lacak/{code}")
        expect(page.get_by_role("heading", level=1)).to_have_text(code)
        measure("tracking page (by code)")
    finally:
        context.close()
        text = "\n".join(report)
        print("\n" + text)
        SCREENSHOTS.mkdir(exist_ok=True)
        with (SCREENSHOTS / "page-weight.txt").open("a") as out:
            out.write(text + "\n")
