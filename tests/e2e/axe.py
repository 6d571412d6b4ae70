"""Accessibility checks with axe-core (from the npm registry: ``npm ci`` puts it in node_modules/).

Two ways in:

* :func:`assert_accessible` — inject ``node_modules/axe-core/axe.min.js`` into a page now, run it and
  fail on any violation of impact *serious* or *critical* (WCAG 2.0/2.1/2.2 A and AA rules), listing
  each rule, its help text and the elements concerned.
* :func:`install` — what the e2e conftest does for every browser context: axe is added to every HTML
  page the context loads (an init script, outside the page's CSP) and runs when the page has loaded;
  results come back through a binding. :meth:`Checker.settle` waits for the current page's result;
  :meth:`Checker.assert_clean` fails on serious/critical findings of every page seen so far. So every
  page a browser walkthrough visits is checked without the walkthroughs naming it.

Moderate and minor findings do not fail a test; they are counted in :data:`REGISTRY`, printed at the
end of the run and written to screenshots/axe-summary.txt.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")
#: The WCAG 2.x A/AA rules (axe's tags); best practices are left out.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}

# What a page sends back: every violation with its impact and up to five elements.
_SUMMARISE = """(results) => results.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
  nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                      summary: (n.failureSummary || '').slice(0, 300)})),
  count: v.nodes.length}))"""

_AUTO_RUN = """(() => {
  if (window.top !== window) { return; }
  window.__axeDone = false;
  window.addEventListener('load', () => {
    if (document.contentType !== 'text/html' || typeof axe === 'undefined') { window.__axeDone = true; return; }
    axe.run(document, %(options)s).then((results) => {
      const found = (%(summarise)s)(results);
      return window.__axeReport(location.href, found);
    }).catch((err) => window.__axeReport(location.href, [{id: 'axe-error', impact: 'critical',
      help: String(err), helpUrl: '', nodes: [], count: 0}]))
      .finally(() => { window.__axeDone = true; });
  });
})();"""


def axe_source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `npm ci --no-audit --no-fund` (make test-e2e does)")
    return AXE_JS.read_text()


def _where(url: str) -> str:
    """A page's path without its query (private tokens stay out of reports)."""
    parts = urlsplit(url)
    return parts.path + ("?…" if parts.query else "")


def describe(violations: list[dict], where: str) -> str:
    lines = [f"axe-core: {len(violations)} serious/critical violation(s) on {where}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['count']} element(s)) {v['helpUrl']}")
        for n in v["nodes"]:
            lines.append(f"      at {n['target']}: {n['html']}")
            if n["summary"]:
                lines.append("        " + n["summary"].replace("\n", "\n        "))
    return "\n".join(lines)


@dataclass
class Registry:
    """Every page checked in this run and what axe found there."""

    pages: dict[str, list[dict]] = field(default_factory=dict)
    missed: set[str] = field(default_factory=set)

    def record(self, url: str, violations: list[dict]) -> None:
        where = _where(url)
        self.pages.setdefault(where, [])
        known = {v["id"] for v in self.pages[where]}
        self.pages[where].extend(v for v in violations if v["id"] not in known)
        self.missed.discard(where)

    def impacts(self) -> Counter:
        return Counter(v["impact"] for found in self.pages.values() for v in found)

    def rules(self, impact: str) -> Counter:
        return Counter(v["id"] for found in self.pages.values() for v in found if v["impact"] == impact)

    def summary(self) -> str:
        counts = self.impacts()
        lines = [f"axe-core {self.version()}: {len(self.pages)} distinct pages checked (WCAG 2.x A/AA rules); "
                 f"violations by impact (rule × page): critical {counts['critical']}, serious {counts['serious']}, "
                 f"moderate {counts['moderate']}, minor {counts['minor']}"]
        for impact in ("critical", "serious", "moderate", "minor"):
            rules = self.rules(impact)
            if rules:
                lines.append(f"  {impact}: " + ", ".join(f"{rule} ×{n}" for rule, n in rules.most_common()))
        for where, found in sorted(self.pages.items()):
            tag = ", ".join(f"{v['id']} ({v['impact']})" for v in found) or "clean"
            lines.append(f"    {where}: {tag}")
        if self.missed:
            lines.append(f"  not checked (left before axe finished): {', '.join(sorted(self.missed))}")
        return "\n".join(lines)

    @staticmethod
    def version() -> str:
        try:
            return json.loads((AXE_JS.parent / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            return "?"


REGISTRY = Registry()


def run_axe(page) -> list[dict]:
    """Inject axe-core into the page if needed and return its violations (all impacts)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())  # evaluated through the DevTools protocol: the page's CSP does not apply
    return page.evaluate(f"(opts) => axe.run(document, opts).then({_SUMMARISE})", OPTIONS)


def assert_accessible(page, where: str | None = None) -> list[dict]:
    """Run axe now; fail on serious/critical violations; return the moderate/minor ones."""
    violations = run_axe(page)
    REGISTRY.record(page.url, violations)
    bad = [v for v in violations if v["impact"] in FAILING]
    assert not bad, describe(bad, where or _where(page.url))
    return violations


class Checker:
    """The automatic check of one browser context (see the module docstring)."""

    def __init__(self, context) -> None:
        self.failures: list[str] = []
        self.reported: set[str] = set()
        context.expose_binding("__axeReport", self._report)
        context.add_init_script(script=axe_source())
        context.add_init_script(script=_AUTO_RUN % {"options": json.dumps(OPTIONS), "summarise": _SUMMARISE})
        context.on("page", self._watch)

    def _watch(self, page) -> None:
        def loaded(_page=page):
            try:
                url = _page.url
                html = _page.evaluate("document.contentType") == "text/html"
            except Exception:  # noqa: BLE001 (a page closing or navigating meanwhile; a sandboxed file)
                return
            if html and url.startswith("http") and url not in self.reported:
                REGISTRY.missed.add(_where(url))

        page.on("load", loaded)

    def _report(self, source, url: str, violations: list[dict]) -> None:
        self.reported.add(url)
        REGISTRY.record(url, violations)
        bad = [v for v in violations if v["impact"] in FAILING]
        if bad:
            self.failures.append(describe(bad, _where(url)))

    def settle(self, page, timeout: float = 20_000) -> None:
        """Wait until axe has reported on the page now shown (HTML pages only)."""
        if page.is_closed() or not page.url.startswith("http"):
            return
        try:
            if page.evaluate("document.contentType") != "text/html":
                return  # a photo or a PDF opened on its own
        except Exception:  # noqa: BLE001 (a sandboxed file without scripts)
            return
        try:
            page.wait_for_function("window.__axeDone === true", timeout=timeout)
        except Exception as exc:  # noqa: BLE001 (a page navigating meanwhile is checked when it loads)
            if "Timeout" in type(exc).__name__ or re.search("[Tt]imeout", str(exc)):
                raise AssertionError(
                    f"axe-core did not finish on {_where(page.url)} within {timeout / 1000:.0f} s") from exc

    def assert_clean(self) -> None:
        failures, self.failures = self.failures, []
        assert not failures, "\n".join(failures)


def install(context):
    """Check every HTML page this context loads (JavaScript must be on); returns the Checker."""
    checker = Checker(context)
    context._axe_checker = checker  # noqa: SLF001 (found again by the conftest's wrappers)
    return checker


def checker_of(context) -> Checker | None:
    return getattr(context, "_axe_checker", None)
