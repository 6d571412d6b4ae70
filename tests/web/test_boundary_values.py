"""Boundary values on every parameter: ids beyond 32 and 64 bits, years 1 and 9999, NaN and infinite
coordinates, very long strings. Each interface refuses them in its own format (a form error on a page,
the JSON error of the REST API, the Open311 error list in JSON or XML); none answers 5xx.

The sweep sends every boundary value to every parameter, one at a time, with the other parameters valid:
every field of every form the pages render (found by parsing them, so a new field is covered without
editing this file), every query parameter and body field of the REST API (from its OpenAPI document) and
every Open311 parameter. Run on SQLite and PostgreSQL, whose limits differ (int4/int8, timestamp range).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.api.support import auth, make_key
from tests.api.support import submit as api_submit
from tests.web.citizen_support import drive
from tests.web.staff_support import login, make_staff, submit

#: Values at and beyond the edges of what ids, numbers and dates can hold.
BOUNDARY = [
    str(2**31), str(2**63), str(2**64), "9" * 40, "-1", "0", str(-(2**63) - 1),
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
    "NaN", "inf", "-Infinity", "1e308", "-1e309",
    "x" * 10_000,
]
#: The same for JSON bodies, with real numbers too (Python's json writes NaN and Infinity, as some clients do).
JSON_BOUNDARY = [*BOUNDARY, 2**31, 2**63, 2**64, -1, 0, 1e308, float("nan"), float("inf"), True, None, [], {}]


# ------------------------------------------------------------------ the regressions named in the review


def test_public_form_category_id_beyond_64_bits_is_a_form_error(app, db, bjm, client):
    from tests.web.citizen_support import form_data

    for value in (str(2**64), str(2**31), "-1"):
        resp = client.post("/banjarmasin/lapor", data={**form_data(), "category_id": value})
        assert resp.status_code == 400, value
        assert 'class="errors"' in resp.text and "Pilih kategori dari daftar." in resp.text


@pytest.mark.parametrize("query", [
    "start_date=0001-01-01T00:00:00Z&end_date=0001-01-02T00:00:00Z", "start_date=9999-12-31T00:00:00Z",
    "end_date=0001-01-01T00:00:00Z", "start_date=0001-01-01", "end_date=9999-12-31T23:59:59-12:00"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_dates_at_year_1_and_9999_are_an_open311_error(app, db, bjm, client, query, fmt):
    resp = client.get(f"/banjarmasin/open311/v2/requests.{fmt}?{query}")  # no key needed to list
    assert resp.status_code == 400
    _check_open311_error(resp, fmt)


@pytest.mark.parametrize("query", ["submitted_from=0001-01-01", "submitted_to=9999-12-31",
                                   "updated_since=0001-01-01T00:00:00%2B14:00", "updated_since=9999-12-31T23:59:59"])
def test_rest_dates_at_year_1_and_9999_are_a_validation_error(app, db, bjm, client, query):
    resp = client.get(f"/banjarmasin/api/v1/complaints?{query}", headers=auth(make_key(db, bjm)))
    assert resp.status_code == 400
    error = resp.json["error"]
    assert error["code"] == "validation_failed" and "1900-01-01" in next(iter(error["fields"].values()))


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31", "category=" + str(2**64),
                                   "agency=" + str(2**31)])
def test_staff_inbox_filters_out_of_range_are_a_form_error(app, db, bjm, make_user, query):
    client = login(app, bjm, make_staff(make_user, bjm, "officer"))
    resp = client.get(f"/banjarmasin/staff/complaints?{query}")
    assert resp.status_code == 400 and 'class="errors' in resp.text


@pytest.mark.parametrize("page", [str(10**20), str(2**63), "-" + str(10**20)])
def test_a_huge_page_number_is_no_server_error(app, db, bjm, make_user, page):
    # OFFSET (page - 1) * size beyond 64 bits was an OverflowError on the public transparency page.
    assert app.test_client().get(f"/banjarmasin/transparansi?page={page}").status_code in (200, 404)
    officer = login(app, bjm, make_staff(make_user, bjm, "officer"))
    assert officer.get(f"/banjarmasin/staff/complaints?page={page}").status_code == 200
    admin = login(app, bjm, make_staff(make_user, bjm, "tenant_admin"))
    assert admin.get(f"/banjarmasin/staff/settings/audit?page={page}").status_code == 200


def test_the_shared_parsers_bound_ids_and_dates():
    from datetime import UTC, date, datetime

    from app.inputs import MAX_ID, OutOfRange, parse_date, parse_datetime, parse_id

    assert parse_id("") is None and parse_id(str(MAX_ID)) == MAX_ID
    for bad in (str(MAX_ID + 1), "0", "-5", str(2**64)):
        with pytest.raises(OutOfRange):
            parse_id(bad)
    with pytest.raises(ValueError):
        parse_id("12abc")
    assert parse_date("2026-03-17") == date(2026, 3, 17)
    for bad in ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"):
        with pytest.raises(OutOfRange):
            parse_date(bad)
    assert parse_datetime("2026-03-17T08:00:00+08:00") == datetime(2026, 3, 17, 0, 0, tzinfo=UTC)
    for bad in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01"):
        with pytest.raises(OutOfRange):
            parse_datetime(bad)


# ------------------------------------------------------------------ answers in each interface's format


def _check_page(resp) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code < 500, f"{resp.status_code}: {body[:2000]}"
    assert "Traceback" not in body
    if 400 <= resp.status_code < 500 and resp.mimetype == "text/html":
        assert ('class="errors' in body or 'class="flash error"' in body or "<h1>" in body
                or "<h1 " in body), f"{resp.status_code} without a message: {body[:2000]}"


def _check_rest(resp) -> None:
    assert resp.status_code < 500, resp.get_data(as_text=True)[:1000]
    if resp.status_code >= 400:
        error = resp.json["error"]
        assert error["status"] == resp.status_code and error["code"] and error["message"]


def _check_open311_error(resp, fmt: str) -> None:
    import xml.etree.ElementTree as ET

    assert resp.status_code < 500, resp.get_data(as_text=True)[:1000]
    if resp.status_code < 400:
        return
    if fmt == "json":
        body = resp.get_json()
        assert isinstance(body, list) and body
        assert all(e["code"] == resp.status_code and e["description"] for e in body)
    else:
        root = ET.fromstring(resp.data)  # noqa: S314 (our own app's answer)
        assert root.tag == "errors" and all(e.findtext("code") == str(resp.status_code) for e in root)


# ------------------------------------------------------------------ every field of every form


class _Forms(HTMLParser):
    """The forms of a page: action, method and each field's name and default value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}, "multipart": "multipart" in (a.get("enctype") or "")})
        elif not self.forms or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.forms[-1]["fields"].setdefault(a["name"], None)
                return
            value = "" if kind == "file" else a.get("value", "")
            self.forms[-1]["fields"][a["name"]] = value
        elif tag in ("textarea",):
            self.forms[-1]["fields"][a["name"]] = "Keterangan tambahan untuk uji nilai batas."
        elif tag == "select":
            self._select = a["name"]
            self.forms[-1]["fields"].setdefault(a["name"], None)
        elif tag == "option" and self._select and ("selected" in a
                                                    or self.forms[-1]["fields"].get(self._select) is None):
            self.forms[-1]["fields"][self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


#: Forms whose success would end the session or the test's own set-up; they take no ids or dates.
_SKIP = re.compile(r"logout|keluar|sessions|password|two-factor|mfa|/2fa|lang")


def _forms_of(client, url: str) -> list[dict]:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    parser = _Forms()
    parser.feed(page.get_data(as_text=True))
    out = []
    for form in parser.forms:
        action = form["action"] or url
        if _SKIP.search(action) or urlsplit(action).netloc:
            continue
        form["action"] = action
        form["fields"] = {k: v for k, v in form["fields"].items()}
        out.append(form)
    return out


def _sweep_forms(client, url: str) -> int:
    sent = 0
    for form in _forms_of(client, url):
        names = [n for n in form["fields"] if n not in ("csrf_token", "submission_key", "hp_note", "t")]
        for name in names:
            for value in BOUNDARY:
                data = {k: v for k, v in form["fields"].items() if v is not None}
                data[name] = value
                if form["method"] == "get":
                    resp = client.get(form["action"], query_string=data)
                else:
                    resp = client.post(form["action"], data=data)
                _check_page(resp)
                if resp.status_code in (302, 303):
                    _check_page(client.get(resp.headers["Location"]))
                sent += 1
    return sent


def test_every_citizen_form_field_refuses_boundary_values_without_a_server_error(app, db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    answered = drive(db, bjm, submit(db, bjm), officer, "verify", "dispose", "publish")
    client = app.test_client()
    sent = _sweep_forms(client, "/banjarmasin/lapor")
    sent += _sweep_forms(client, f"/banjarmasin/lacak/{answered.code}?t={answered.access_token}")
    sent += _sweep_forms(client, "/banjarmasin/lacak")
    sent += _sweep_forms(app.test_client(), "/daftar")
    assert sent > 20 * len(BOUNDARY)


def test_every_staff_form_field_refuses_boundary_values_without_a_server_error(app, db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    fresh, disposed = submit(db, bjm, with_photo=True), drive(db, bjm, submit(db, bjm), officer, "verify", "dispose")
    client = login(app, bjm, officer)
    sent = _sweep_forms(client, "/banjarmasin/staff/complaints")
    sent += _sweep_forms(client, f"/banjarmasin/staff/complaints/{fresh.id}")
    sent += _sweep_forms(client, f"/banjarmasin/staff/complaints/{disposed.id}")
    assert sent > 20 * len(BOUNDARY)


def test_every_settings_form_field_refuses_boundary_values_without_a_server_error(app, db, bjm, make_user):
    admin_client = login(app, bjm, make_staff(make_user, bjm, "tenant_admin"))
    sent = 0
    for page in ("agencies", "categories", "deadlines", "holidays", "staff", "branding"):
        page_url = f"/banjarmasin/staff/settings/{page}"
        if admin_client.get(page_url).status_code == 200:
            sent += _sweep_forms(admin_client, page_url)
    assert sent > 10 * len(BOUNDARY)


# ------------------------------------------------------------------ every REST parameter


def test_every_rest_parameter_refuses_boundary_values_without_a_server_error(app, db, bjm, make_user, client):
    document = client.get("/api/v1/openapi.json").json
    headers = auth(make_key(db, bjm))
    code = api_submit(db, bjm)
    base = "/banjarmasin/api/v1"
    params = [p["name"] for p in document["paths"]["/complaints"]["get"]["parameters"] if p.get("in") == "query"]
    assert {"submitted_from", "submitted_to", "updated_since", "page", "per_page"} <= set(params)
    for name in params:
        for value in BOUNDARY:
            _check_rest(client.get(f"{base}/complaints", query_string={name: value}, headers=headers))
    valid = {"title": "Lampu jalan padam", "description": "Lampu jalan di depan Pasar Lama padam sejak seminggu.",
             "class": "pengaduan", "privacy": "public",
             "location": {"text": "Pasar Lama", "latitude": -3.31, "longitude": 114.59},
             "reporter": {"name": "Warga", "email": "warga@contoh.id", "phone": "081234567890"}}
    paths = [("title",), ("description",), ("class",), ("category",), ("privacy",), ("locale",),
             ("location", "text"), ("location", "latitude"), ("location", "longitude"),
             ("reporter", "name"), ("reporter", "email"), ("reporter", "phone")]
    for path in paths:
        for value in JSON_BOUNDARY:
            body = json.loads(json.dumps(valid))
            target = body
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            _check_rest(client.post(f"{base}/complaints", data=json.dumps(body), content_type="application/json",
                                    headers=headers))
    for field in ("expected_version", "agencies", "category", "title", "refer_to", "tags", "privacy"):
        for value in JSON_BOUNDARY:
            for action in ("verify", "dispose", "refer"):
                body = json.dumps({"action": action, "expected_version": 1, field: value})
                _check_rest(client.post(f"{base}/complaints/{code}/transitions", data=body,
                                        content_type="application/json", headers=headers))
    for value in BOUNDARY[:12]:
        _check_rest(client.post(f"{base}/complaints", json=valid, headers={**headers, "Idempotency-Key": value}))


# ------------------------------------------------------------------ every Open311 parameter


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_open311_parameter_refuses_boundary_values_without_a_server_error(app, db, bjm, client, fmt):
    token = make_key(db, bjm)
    code = api_submit(db, bjm)
    base = "/banjarmasin/open311/v2"
    for name in ("start_date", "end_date", "status", "service_code", "service_request_id", "jurisdiction_id",
                 "api_key"):
        for value in BOUNDARY:
            _check_open311_error(client.get(f"{base}/requests.{fmt}", query_string={name: value}), fmt)
    for value in BOUNDARY:
        for url in (f"{base}/requests/{value[:300]}.{fmt}", f"{base}/services/{value[:300]}.{fmt}",
                    f"{base}/tokens/{value[:300]}.{fmt}", f"{base}/requests/{code}.{fmt}?jurisdiction_id={value}"):
            _check_open311_error(client.get(url), fmt)
    valid = {"service_code": "jalan", "lat": "-3.3194", "long": "114.5908", "address_string": "Jl. Veteran",
             "description": "Lampu jalan di depan Pasar Lama padam sejak seminggu.", "first_name": "Siti",
             "last_name": "Norhayati", "email": "siti@contoh.id", "phone": "081234567890", "api_key": token,
             "device_id": "d-1", "account_id": "1", "media_url": "https://contoh.id/foto.jpg",
             "attribute[privacy]": "public", "attribute[class]": "pengaduan", "attribute[title]": "Lampu padam"}
    for name in list(valid) + ["address_id", "jurisdiction_id"]:
        for value in BOUNDARY:
            resp = client.post(f"{base}/requests.{fmt}", data={**valid, name: value})
            _check_open311_error(resp, fmt)
