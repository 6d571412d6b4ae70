"""The staff header navigation by role (issue 17): each role sees the pages it may open and no other, the
current page is marked with aria-current, the phone menu works without JavaScript, and the dashboard no longer
carries a line of small links."""

from __future__ import annotations

import re

import pytest

from app.accounts.models import Role

EXPECTED = {
    Role.LIAISON: ["Kotak masuk", "Dasbor", "Pemberitahuan", "Akun"],
    Role.OFFICER: ["Kotak masuk", "Dasbor", "Pemberitahuan", "Templat jawaban", "Command Center", "Akun"],
    Role.TENANT_ADMIN: ["Kotak masuk", "Dasbor", "Pemberitahuan", "Templat jawaban", "Command Center", "Administrasi",
                        "Integrasi", "Akun"],
}


def _wide_nav(html: str) -> str:
    match = re.search(r'<ul class="staff-nav wide-only"[^>]*>(.*?)</ul>', html, re.S)
    assert match, "no staff navigation in the header"
    return match.group(1)


def _links(nav: str) -> list[tuple[str, str, bool]]:
    """(label, href, current) of each link of the navigation."""
    out = []
    for attrs, label in re.findall(r"<a ([^>]*)>(.*?)</a>", nav, re.S):
        href = re.search(r'href="([^"]+)"', attrs).group(1)
        text = re.sub(r"<[^>]+>", "", label).strip()
        text = re.sub(r"\s+\d+$", "", text)  # an unread badge
        out.append((text, href, 'aria-current="page"' in attrs))
    return out


@pytest.mark.parametrize("role", [Role.LIAISON, Role.OFFICER, Role.TENANT_ADMIN])
def test_each_role_sees_only_the_pages_it_may_open(bjm, make_user, login_as, role):
    client = login_as(bjm, make_user(bjm, role))
    page = client.get("/banjarmasin/staff/")
    links = _links(_wide_nav(page.text))
    assert [label for label, _href, _cur in links] == EXPECTED[role]
    for label, href, _cur in links:
        assert client.get(href).status_code == 200, (label, href)
    assert "Keluar" in _wide_nav(page.text)  # sign out, a POST button
    # The same links in the phone menu, a <details> element that needs no script.
    menu = re.search(r'<details class="staff-menu phone-only">(.*?)</details>', page.text, re.S).group(1)
    assert [label for label, _h, _c in _links(menu)] == EXPECTED[role]


@pytest.mark.parametrize(("path", "current"), [
    ("/banjarmasin/staff/", "Dasbor"),
    ("/banjarmasin/staff/complaints", "Kotak masuk"),
    ("/banjarmasin/staff/notifications", "Pemberitahuan"),
    ("/banjarmasin/staff/templates", "Templat jawaban"),
    ("/banjarmasin/staff/settings/staff", "Administrasi"),
    ("/banjarmasin/staff/settings/audit", "Administrasi"),
    ("/banjarmasin/staff/integrations/", "Integrasi"),
    ("/banjarmasin/staff/integrations/sp4n", "Integrasi"),
    ("/banjarmasin/account", "Akun"),
])
def test_the_current_page_is_marked(bjm, make_user, login_as, path, current):
    client = login_as(bjm, make_user(bjm, Role.TENANT_ADMIN))
    page = client.get(path)
    assert page.status_code == 200
    marked = [label for label, _href, cur in _links(_wide_nav(page.text)) if cur]
    assert marked == [current]
    assert f'<span class="here">· {current}</span>' in page.text  # the closed phone menu says where one is


def test_the_dashboard_has_no_line_of_small_links(bjm, make_user, login_as):
    client = login_as(bjm, make_user(bjm, Role.TENANT_ADMIN))
    html = client.get("/banjarmasin/staff/").text
    main = html[html.index('<main id="main"'):]
    for target in ("/banjarmasin/staff/settings/staff", "/banjarmasin/staff/audit", "/banjarmasin/staff/integrations/",
                   "/banjarmasin/staff/command-center"):
        assert f'href="{target}"' not in main, target


def test_citizens_and_visitors_get_no_staff_navigation(client, bjm, make_user, login_as):
    assert "staff-nav" not in client.get("/banjarmasin/").text
    citizen = login_as(bjm, make_user(bjm, "citizen"))
    assert "staff-nav" not in citizen.get("/banjarmasin/").text
