"""The command-center wall shows complaint text as text, never as markup (security review, issue 15 item 2).

Titles come from anonymous citizens. The real ``command_center.js`` and the vendored Leaflet run in
Chromium against a board answer whose pin title carries markup; the map tooltip must show the title
literally and contain no element made from it. The page and the board JSON are served through
Playwright's request routing, so no server or database is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"
ORIGIN = "http://wall.test"
EVIL = '<b>x</b><a href="http://evil">click</a><img src=x>'

PAGE = """<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Wall</title>
<link rel="stylesheet" href="/static/vendor/leaflet-1.9.4/leaflet.css">
<script src="/static/vendor/leaflet-1.9.4/leaflet.js"></script>
<script src="/static/command_center.js" defer></script></head>
<body><main id="command-center" data-url="/board.json" data-refresh="600" data-locale="id"
  data-timezone="Asia/Makassar" data-t-empty="-" data-t-no-pins="{n}" data-t-updated="{when}"
  data-t-stale="{when}" data-t-signed-out="out" data-t-late="{n}" data-t-late-today="today" data-t-due="{when}">
<div id="cc-map" style="width:600px;height:400px"></div>
<ul id="cc-overdue"></ul><ul id="cc-due-soon"></ul><ul id="cc-incoming"></ul>
<table><tbody id="cc-agency-rows"></tbody></table><p id="cc-status"></p></main></body></html>"""


def _board() -> dict:
    item = {"code": "BJM-1", "title": EVIL, "agencies": [EVIL], "stage": EVIL, "status_label": EVIL,
            "category": EVIL, "received": EVIL, "due": EVIL, "late_working_days": 2}
    return {
        "generated_label": EVIL,
        "map": {"days": 30, "pins": [{"lat": -3.32, "lng": 114.59, "state": "overdue", "code": "BJM-1",
                                      "title": EVIL, "status_label": EVIL}]},
        "agencies": [{"name": EVIL, "full_name": EVIL, "incoming": 1, "open": 1, "due_soon": 0, "overdue": 1}],
        "overdue": [item], "due_soon": [item], "incoming": [item],
    }


def _route(route) -> None:
    path = route.request.url[len(ORIGIN):].split("?")[0]
    if path == "/wall":
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)
    elif path == "/board.json":
        route.fulfill(status=200, content_type="application/json", body=json.dumps(_board()))
    elif path.startswith("/static/"):
        target = (STATIC / path[len("/static/"):]).resolve()
        if STATIC in target.parents and target.is_file():
            kind = "text/css" if target.suffix == ".css" else "application/javascript"
            route.fulfill(status=200, content_type=kind, body=target.read_bytes())
        else:
            route.fulfill(status=404, body="")
    else:
        route.abort()


def test_wall_tooltip_and_lists_show_markup_as_text(browser):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.route("**/*", _route)
        page.goto(f"{ORIGIN}/wall")
        marker = page.locator("#cc-map path.leaflet-interactive")
        marker.wait_for(state="attached", timeout=10_000)
        marker.dispatch_event("mouseover")
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for(timeout=5_000)
        assert EVIL in tooltip.inner_text()
        assert tooltip.locator("a, b, img").count() == 0
        # Nothing the board gives becomes an element anywhere on the wall.
        assert page.locator("#command-center a, #command-center b, #command-center img[src='x']").count() == 0
        assert EVIL in page.locator("#cc-overdue").inner_text()
    finally:
        context.close()
