"""Open311 GeoReport v2: every endpoint in JSON and XML, the filters, the error format, privacy, the platform
door (jurisdiction_id) and isolation between regions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.agencies.models import Agency, Category
from app.complaints import service
from app.complaints.models import Attachment, Complaint, ComplaintEvent, Privacy, Status
from app.complaints.workflow import status_label
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.scope import tenant_scope
from tests.api.support import auth, make_key
from tests.factories import make, submit_complaint

NAME, EMAIL, PHONE = "Siti Norhayati", "siti.norhayati@contoh.id", "+6281234567890"
DESCRIPTION = "Lubang besar di tengah jalan Kayu Tangi, sudah dua minggu tidak diperbaiki."
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'


# ------------------------------------------------------------------ helpers


def submit(db, tenant, *, when: datetime | None = None, category: str = "jalan", privacy: str = Privacy.PUBLIC,
           description: str = DESCRIPTION, **kw) -> str:
    """A complaint of ``tenant`` sent through the web's service function (committed); returns its code."""
    kw.setdefault("location_text", "Jl. Kayu Tangi Ujung")
    lat, lng = (-3.2952, 114.5916) if tenant.slug == "banjarmasin" else (-1.8950, 113.4050)  # inside its area
    kw.setdefault("latitude", lat)
    kw.setdefault("longitude", lng)
    return submit_complaint(tenant, when=when or utcnow(), category=category, privacy=privacy, description=description,
                            reporter_name=NAME, reporter_email=EMAIL, reporter_phone=PHONE, **kw)[0].code


def complaint(db, tenant, code: str) -> Complaint:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        stmt = select(Complaint).filter_by(code=code).options(selectinload(Complaint.category))
        return db.session.execute(stmt).scalar_one()


def _officer(make_user, tenant):
    return service.Actor.of(make_user(tenant, "officer", name="Faturrahim"))


def verify(db, tenant, code, actor):
    with tenant_scope(tenant.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        service.verify(c, actor)
        db.session.commit()


def close_via_agency(db, tenant, code, actor, agency_code="pupr"):
    """Verify, dispose to an agency and close."""
    with tenant_scope(tenant.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        agency = db.session.execute(select(Agency).filter_by(code=agency_code)).scalar_one()
        service.verify(c, actor)
        service.dispose(c, actor, [agency.id])
        service.close(c, actor)
        db.session.commit()
        return agency.name


def xml_of(resp) -> ET.Element:
    """The parsed XML answer, after checking the declaration and the UTF-8 content type."""
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.data.startswith(XML_DECLARATION)
    return ET.fromstring(resp.data)  # noqa: S314 (our own app's answer, not untrusted input)


def json_of(resp):
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    return resp.get_json()


def errors_json(resp, status):
    assert resp.status_code == status, resp.data[:400]
    body = json_of(resp)
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and e["code"] == status and e["description"] for e in body)
    return [e["description"] for e in body]


def errors_xml(resp, status):
    assert resp.status_code == status, resp.data[:400]
    root = xml_of(resp)
    assert root.tag == "errors" and len(root) >= 1
    for error in root:
        assert error.tag == "error"
        assert error.findtext("code") == str(status) and error.findtext("description")
    return [e.findtext("description") for e in root]


def post(client, slug, token, fmt="json", **fields):
    data = {"service_code": "jalan", "lat": "-3.3194", "long": "114.5908", "description": DESCRIPTION,
            "first_name": "Siti", "last_name": "Norhayati", "email": EMAIL, "phone": PHONE, **fields}
    if token is not None:
        data["api_key"] = token
    return client.post(f"/{slug}/open311/v2/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def count(db, tenant, model=Complaint) -> int:
    with tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(model))


def local_iso(value: datetime, offset_hours: int) -> str:
    from datetime import timezone

    return value.astimezone(timezone(timedelta(hours=offset_hours))).isoformat(timespec="seconds")


# ------------------------------------------------------------------ discovery and services


def test_discovery_names_the_endpoint_its_formats_and_the_key_page(client, bjm):
    data = json_of(client.get("/banjarmasin/open311/v2/discovery.json"))
    endpoint = data["endpoints"][0]
    assert endpoint["url"] == "http://localhost/banjarmasin/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"] and endpoint["type"] == "production"
    assert datetime.fromisoformat(data["changeset"]).utcoffset() == timedelta(hours=8)  # WITA
    assert "/banjarmasin/staff/api-keys/" in data["key_service"]

    root = xml_of(client.get("/banjarmasin/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [e.tag for e in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "http://localhost/banjarmasin/open311/v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


def test_services_are_the_regions_active_categories_in_json_and_xml(db, client, bjm):
    with tenant_scope(bjm.id):
        cats = {c.code: c for c in db.session.scalars(select(Category).filter_by(active=True))}
        hidden = make(Category, active=False)
        db.session.commit()
    data = json_of(client.get("/banjarmasin/open311/v2/services.json"))
    assert {s["service_code"] for s in data} == set(cats) and hidden.code not in {s["service_code"] for s in data}
    road = next(s for s in data if s["service_code"] == "jalan")
    assert road["service_name"] == "Jalan dan Jembatan"
    assert road["metadata"] is True and road["type"] == "realtime"
    assert road["group"] == "Dinas PUPR" and "Dinas Pekerjaan Umum" in road["description"]

    root = xml_of(client.get("/banjarmasin/open311/v2/services.xml"))
    assert root.tag == "services" and {s.tag for s in root} == {"service"}
    assert {s.findtext("service_code") for s in root} == set(cats)
    road = next(s for s in root if s.findtext("service_code") == "jalan")
    assert [e.tag for e in road] == ["service_code", "service_name", "description", "metadata", "type", "keywords",
                                     "group"]
    assert road.findtext("metadata") == "true" and road.findtext("type") == "realtime"

    english = json_of(client.get("/banjarmasin/open311/v2/services.json?lang=en"))
    assert next(s for s in english if s["service_code"] == "jalan")["service_name"] == "Roads and bridges"


def test_service_definition_offers_the_kind_of_report_its_privacy_and_a_title(client, bjm):
    data = json_of(client.get("/banjarmasin/open311/v2/services/jalan.json"))
    assert data["service_code"] == "jalan"
    attrs = {a["code"]: a for a in data["attributes"]}
    assert list(attrs) == ["complaint_class", "privacy", "title"]
    assert [v["key"] for v in attrs["privacy"]["values"]] == ["public", "anonim", "rahasia"]
    assert "pengaduan" in [v["key"] for v in attrs["complaint_class"]["values"]]
    assert all(a["variable"] is True and a["required"] is False for a in attrs.values())

    root = xml_of(client.get("/banjarmasin/open311/v2/services/jalan.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "jalan"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["complaint_class", "privacy", "title"]
    privacy = attributes[1]
    assert privacy.findtext("datatype") == "singlevaluelist" and privacy.findtext("required") == "false"
    assert [v.findtext("key") for v in privacy.findall("values/value")] == ["public", "anonim", "rahasia"]


def test_an_unknown_service_code_is_an_error_in_the_specifications_format(db, client, bjm):
    token = make_key(db, bjm)
    errors_json(client.get("/banjarmasin/open311/v2/services/nope.json"), 404)
    errors_xml(client.get("/banjarmasin/open311/v2/services/nope.xml"), 404)
    assert any("service_code" in d for d in errors_json(post(client, "banjarmasin", token, service_code="nope"), 400))
    assert any("service_code" in d for d in errors_xml(post(client, "banjarmasin", token, "xml", service_code="nope"),
                                                        400))
    errors_json(client.get("/banjarmasin/open311/v2/requests.json?service_code=nope"), 400)
    assert count(db, bjm) == 0


def test_an_unknown_url_or_method_answers_in_the_specifications_format(db, client, bjm):
    errors_json(client.get("/banjarmasin/open311/v2/nothing-here.json"), 404)
    response = client.put("/banjarmasin/open311/v2/requests.xml")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    errors_xml(response, 405)
    errors_json(client.delete("/open311/v2/services.json"), 405)


# ------------------------------------------------------------------ POST requests


def test_a_post_creates_the_complaint_at_once_and_answers_its_tracking_code(db, client, bjm):
    token = make_key(db, bjm)
    resp = post(client, "banjarmasin", token, address_string="Jl. Kayu Tangi Ujung, depan SMPN 6")
    assert resp.status_code == 201, resp.data
    [answer] = json_of(resp)
    assert set(answer) == {"service_request_id", "service_notice", "account_id", "token"}
    assert answer["account_id"] is None
    c = complaint(db, bjm, answer["service_request_id"])
    assert c.code.startswith("BJM-") and c.source == "open311" and c.status == Status.SUBMITTED
    assert (c.category.code, c.complaint_class, c.privacy) == ("jalan", "pengaduan", Privacy.PUBLIC)
    assert (c.latitude, c.longitude, c.location_text) == (-3.3194, 114.5908, "Jl. Kayu Tangi Ujung, depan SMPN 6")
    assert c.description == DESCRIPTION and c.title.startswith("Lubang besar")
    assert (c.reporter_name, c.reporter_email, c.reporter_phone) == (NAME, EMAIL, PHONE)
    assert c.code in answer["service_notice"]
    # The answer never echoes the identity.
    assert NAME not in resp.text and EMAIL not in resp.text and PHONE not in resp.text


def test_a_post_answers_in_xml_and_takes_the_key_in_a_header_too(db, client, bjm):
    token = make_key(db, bjm)
    resp = client.post("/banjarmasin/open311/v2/requests.xml", headers=auth(token), data={
        "service_code": "drainase", "address_string": "Jl. Sultan Adam", "description": DESCRIPTION})
    assert resp.status_code == 201
    root = xml_of(resp)
    assert root.tag == "service_requests"
    [request] = root
    assert request.tag == "request"
    assert [e.tag for e in request] == ["service_request_id", "service_notice", "account_id", "token"]
    c = complaint(db, bjm, request.findtext("service_request_id"))
    assert c.category.code == "drainase" and c.latitude is None and c.reporter_name is None


def test_attributes_set_the_kind_of_report_its_privacy_and_title(db, client, bjm):
    token = make_key(db, bjm)
    resp = post(client, "banjarmasin", token, **{"attribute[complaint_class]": "aspirasi",
                                                 "attribute[privacy]": "rahasia",
                                                 "attribute[title]": "Usul taman baca di kelurahan"})
    c = complaint(db, bjm, json_of(resp)[0]["service_request_id"])
    assert (c.complaint_class, c.privacy, c.title) == ("aspirasi", Privacy.CONFIDENTIAL, "Usul taman baca di kelurahan")
    bad = post(client, "banjarmasin", token, **{"attribute[privacy]": "semua", "attribute[complaint_class]": "x"})
    descriptions = errors_json(bad, 400)
    assert any("attribute[privacy]" in d for d in descriptions)
    assert any("attribute[complaint_class]" in d for d in descriptions)


def test_a_post_needs_a_location_and_a_real_description_with_translated_errors(db, client, bjm):
    token = make_key(db, bjm)
    no_place = errors_json(post(client, "banjarmasin", token, lat=None, long=None), 400)
    assert any("address_string" in d for d in no_place)
    short = errors_json(post(client, "banjarmasin", token, description="rusak"), 400)
    with force_locale("id"):
        expected = gettext("Describe what happened (at least 20 characters).")
    assert short == [f"description: {expected}"]
    errors_json(post(client, "banjarmasin", token, lat="abc"), 400)
    errors_json(post(client, "banjarmasin", token, lat="1.0", long="10.0"), 400)  # outside Indonesia
    errors_json(post(client, "banjarmasin", token, email="bukan-email"), 400)
    errors_json(post(client, "banjarmasin", token, media_url="javascript:alert(1)"), 400)
    assert count(db, bjm) == 0


def test_a_post_without_a_valid_write_key_is_refused_in_the_specifications_format(db, client, bjm):
    assert any("api_key" in d for d in errors_json(post(client, "banjarmasin", None), 403))
    errors_xml(post(client, "banjarmasin", None, "xml"), 403)
    errors_json(post(client, "banjarmasin", "lpr_0123456789_notarealsecretnotarealsecret"), 403)
    read_only = make_key(db, bjm, scopes=("read",))
    assert any("write" in d for d in errors_json(post(client, "banjarmasin", read_only), 403))
    assert count(db, bjm) == 0


def test_a_posted_media_url_is_kept_as_an_internal_note_and_not_shown(db, client, bjm):
    token = make_key(db, bjm)
    link = "https://foto.contoh.id/lubang.jpg"
    code = json_of(post(client, "banjarmasin", token, media_url=link))[0]["service_request_id"]
    c = complaint(db, bjm, code)
    with tenant_scope(bjm.id):
        notes = db.session.scalars(select(ComplaintEvent).filter_by(complaint_id=c.id, kind="note")).all()
    assert len(notes) == 1 and link in notes[0].message and notes[0].visibility == "internal"
    assert link not in client.get(f"/banjarmasin/open311/v2/requests/{code}.json", headers=auth(token)).text


def test_a_region_that_is_not_live_yet_takes_no_posts(db, client, bjm):
    token = make_key(db, bjm)
    bjm.live = False
    db.session.commit()
    errors_json(post(client, "banjarmasin", token), 503)
    assert count(db, bjm) == 0


# ------------------------------------------------------------------ GET requests


def test_one_request_reads_back_with_status_deadline_and_times_with_the_zone(db, client, bjm):
    token = make_key(db, bjm)
    code = json_of(post(client, "banjarmasin", token))[0]["service_request_id"]
    c = complaint(db, bjm, code)
    [data] = json_of(client.get(f"/banjarmasin/open311/v2/requests/{code}.json", headers=auth(token)))
    assert data["service_request_id"] == code and data["status"] == "open"
    with force_locale("id"):
        assert data["status_notes"] == status_label(Status.SUBMITTED)
    assert (data["service_code"], data["service_name"]) == ("jalan", "Jalan dan Jembatan")
    assert data["requested_datetime"] == local_iso(c.submitted_at, 8)  # WITA, with its offset
    assert data["expected_datetime"] == local_iso(c.due_at, 8)
    assert datetime.fromisoformat(data["updated_datetime"]).tzinfo is not None
    assert (data["description"], data["lat"], data["long"]) == (DESCRIPTION, -3.3194, 114.5908)
    assert data["agency_responsible"] is None and data["media_url"] is None

    root = xml_of(client.get(f"/banjarmasin/open311/v2/requests/{code}.xml?api_key={token}"))
    [request] = root.findall("request")
    assert root.tag == "service_requests"
    assert request.findtext("service_request_id") == code and request.findtext("status") == "open"
    assert request.findtext("requested_datetime") == local_iso(c.submitted_at, 8)
    assert request.findtext("lat") == "-3.3194" and request.findtext("description") == DESCRIPTION
    errors_json(client.get("/banjarmasin/open311/v2/requests/BJM-26-99999.json"), 404)
    errors_xml(client.get("/banjarmasin/open311/v2/requests/BJM-26-99999.xml"), 404)


def test_a_closed_request_says_so_with_a_public_note_and_the_agency(db, client, bjm, make_user):
    code = submit(db, bjm)
    agency_name = close_via_agency(db, bjm, code, _officer(make_user, bjm))
    [data] = json_of(client.get(f"/banjarmasin/open311/v2/requests/{code}.json"))
    assert data["status"] == "closed" and data["expected_datetime"] is None
    with force_locale("id"):
        assert data["status_notes"].startswith(status_label(Status.CLOSED) + ". ")
        assert gettext("The agency's follow-up was published and the report is closed.") in data["status_notes"]
    assert data["agency_responsible"] == agency_name
    root = xml_of(client.get(f"/banjarmasin/open311/v2/requests/{code}.xml"))
    assert root.findtext("request/agency_responsible") == agency_name


def test_requests_list_the_last_90_days_by_default_and_take_a_date_range(db, client, bjm):
    now = utcnow()
    old = submit(db, bjm, when=now - timedelta(days=100))
    recent = submit(db, bjm, when=now - timedelta(days=10))
    listed = [r["service_request_id"] for r in json_of(client.get("/banjarmasin/open311/v2/requests.json"))]
    assert listed == [recent]
    root = xml_of(client.get("/banjarmasin/open311/v2/requests.xml"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [recent]

    start = (now - timedelta(days=120)).isoformat()
    end = (now - timedelta(days=60)).isoformat()
    window = client.get("/banjarmasin/open311/v2/requests.json", query_string={"start_date": start, "end_date": end})
    assert [r["service_request_id"] for r in json_of(window)] == [old]
    only_start = client.get("/banjarmasin/open311/v2/requests.json", query_string={"start_date": start})
    assert [r["service_request_id"] for r in json_of(only_start)] == [old]  # start + 90 days
    # A zone written as +08:00 but not URL-encoded arrives as a space: still understood.
    unencoded = client.get(f"/banjarmasin/open311/v2/requests.json?start_date="
                           f"{local_iso(now - timedelta(days=20), 8)}".replace("+", "%20"))
    assert [r["service_request_id"] for r in json_of(unencoded)] == [recent]

    too_long = {"start_date": (now - timedelta(days=200)).isoformat(), "end_date": now.isoformat()}
    assert any("90" in d for d in errors_json(client.get("/banjarmasin/open311/v2/requests.json",
                                                         query_string=too_long), 400))
    errors_json(client.get("/banjarmasin/open311/v2/requests.json?start_date=kemarin"), 400)
    errors_xml(client.get("/banjarmasin/open311/v2/requests.xml?end_date=2026-13-45"), 400)


def test_requests_filter_by_status_and_service_code(db, client, bjm, make_user):
    open_road = submit(db, bjm)
    drain = submit(db, bjm, category="drainase")
    closed_road = submit(db, bjm)
    close_via_agency(db, bjm, closed_road, _officer(make_user, bjm))

    def codes(query):
        return {r["service_request_id"] for r in json_of(client.get(f"/banjarmasin/open311/v2/requests.json?{query}"))}

    assert codes("status=open") == {open_road, drain}
    assert codes("status=closed") == {closed_road}
    assert codes("status=open,closed") == codes("") == {open_road, drain, closed_road}
    assert codes("service_code=jalan") == {open_road, closed_road}
    assert codes("service_code=jalan&status=open") == {open_road}
    assert codes("service_code=jalan,drainase") == {open_road, drain, closed_road}
    errors_json(client.get("/banjarmasin/open311/v2/requests.json?status=pending"), 400)


def test_service_request_ids_override_the_other_filters(db, client, bjm):
    old = submit(db, bjm, when=utcnow() - timedelta(days=200))
    recent = submit(db, bjm)
    resp = client.get(f"/banjarmasin/open311/v2/requests.json?service_request_id={old},{recent.lower()},BJM-00-0"
                      f"&status=closed&service_code=drainase")
    assert [r["service_request_id"] for r in json_of(resp)] == [recent, old]


def test_a_token_from_a_post_resolves_to_the_request(db, client, bjm):
    token = make_key(db, bjm)
    answer = json_of(post(client, "banjarmasin", token))[0]
    data = json_of(client.get(f"/banjarmasin/open311/v2/tokens/{answer['token']}.json"))
    assert data == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]
    root = xml_of(client.get(f"/banjarmasin/open311/v2/tokens/{answer['token']}.xml"))
    assert root.findtext("request/service_request_id") == answer["service_request_id"]
    errors_json(client.get(f"/banjarmasin/open311/v2/tokens/{'0' * 32}.json"), 404)
    errors_json(client.get("/banjarmasin/open311/v2/tokens/not-a-token.json"), 404)


# ------------------------------------------------------------------ privacy


def _bodies(client, code, token, extra_ids=()):
    """Every answer that can carry a request, JSON and XML, with and without the key."""
    ids = ",".join((code, *extra_ids))
    for fmt in ("json", "xml"):
        for headers in ({}, auth(token)):
            for url in (f"/banjarmasin/open311/v2/requests/{code}.{fmt}",
                        f"/banjarmasin/open311/v2/requests.{fmt}",
                        f"/banjarmasin/open311/v2/requests.{fmt}?service_request_id={ids}",
                        f"/open311/v2/requests/{code}.{fmt}?jurisdiction_id=banjarmasin"):
                resp = client.get(url, headers=headers)
                assert resp.status_code == 200, url
                yield fmt, bool(headers), resp


@pytest.mark.parametrize("privacy", [Privacy.PUBLIC, Privacy.ANONYMOUS, Privacy.CONFIDENTIAL])
def test_no_answer_ever_carries_the_reporters_identity(db, client, bjm, make_user, privacy):
    token = make_key(db, bjm)
    code = submit(db, bjm, privacy=privacy)
    posted = json_of(post(client, "banjarmasin", token, **{"attribute[privacy]": privacy}))[0]["service_request_id"]
    verify(db, bjm, code, _officer(make_user, bjm))
    seen = 0
    for _fmt, _keyed, resp in _bodies(client, code, token, (posted,)):
        for secret in (NAME, "Norhayati", EMAIL, PHONE):
            assert secret not in resp.text
        seen += 1
    assert seen == 16


def test_a_rahasia_request_shows_no_content_to_anyone(db, client, bjm, make_user):
    token = make_key(db, bjm)
    code = submit(db, bjm, privacy=Privacy.CONFIDENTIAL)
    verify(db, bjm, code, _officer(make_user, bjm))
    withheld = {"description", "address", "address_id", "zipcode", "lat", "long", "media_url"}
    for fmt, _keyed, resp in _bodies(client, code, token):
        assert "Kayu Tangi" not in resp.text and "114.59" not in resp.text and "-3.29" not in resp.text
        if fmt == "json":
            [entry] = [r for r in resp.get_json() if r["service_request_id"] == code]
            assert not withheld & set(entry) and entry["status"] == "open"
        else:
            [entry] = [r for r in xml_of(resp) if r.findtext("service_request_id") == code]
            assert not withheld & {e.tag for e in entry} and entry.findtext("status") == "open"


def test_the_public_sees_content_once_verified_while_the_regions_key_sees_it_at_once(db, client, bjm, make_user):
    token = make_key(db, bjm)
    code = submit(db, bjm)
    url = f"/banjarmasin/open311/v2/requests/{code}.json"
    assert "description" not in json_of(client.get(url))[0]
    assert json_of(client.get(url, headers=auth(token)))[0]["description"] == DESCRIPTION
    assert client.get(url, headers=auth(token)).headers["Cache-Control"] == "private, no-store"
    verify(db, bjm, code, _officer(make_user, bjm))
    public = json_of(client.get(url))[0]
    assert public["description"] == DESCRIPTION and public["address"] == "Jl. Kayu Tangi Ujung"


@pytest.mark.parametrize("privacy,shown", [(Privacy.PUBLIC, True), (Privacy.ANONYMOUS, False)])
def test_media_url_is_the_public_photo_of_a_public_report_only(db, client, bjm, make_user, privacy, shown):
    code = submit(db, bjm, privacy=privacy)
    verify(db, bjm, code, _officer(make_user, bjm))
    c = complaint(db, bjm, code)
    with tenant_scope(bjm.id):
        photo = make(Attachment, complaint_id=c.id, public=True, content_type="image/jpeg")
        db.session.commit()
    data = json_of(client.get(f"/banjarmasin/open311/v2/requests/{code}.json"))[0]
    expected = f"http://localhost/banjarmasin/lacak/{code}/lampiran/{photo.id}" if shown else None
    assert data["media_url"] == expected


# ------------------------------------------------------------------ the platform door and isolation


def test_the_platform_door_serves_the_region_named_by_jurisdiction_id(db, client, bjm, ktg):
    ktg_key = make_key(db, ktg)
    bjm_code = submit(db, bjm)
    services = json_of(client.get("/open311/v2/services.json?jurisdiction_id=katingan"))
    with tenant_scope(ktg.id):
        assert {s["service_code"] for s in services} == set(db.session.scalars(
            select(Category.code).filter_by(active=True)))
    data = json_of(client.get("/open311/v2/discovery.json?jurisdiction_id=katingan"))
    assert data["endpoints"][0]["url"] == "http://localhost/open311/v2"
    resp = client.post("/open311/v2/requests.json", data={
        "jurisdiction_id": "katingan", "api_key": ktg_key, "service_code": "jalan",
        "address_string": "Jl. Tjilik Riwut",
        "description": "Jembatan kayu di Desa Tumbang Lahang rapuh dan berbahaya bagi anak sekolah."})
    assert resp.status_code == 201
    ktg_code = json_of(resp)[0]["service_request_id"]
    assert ktg_code.startswith("KTG-") and complaint(db, ktg, ktg_code).source == "open311"
    listing = client.get("/open311/v2/requests.json?jurisdiction_id=katingan")
    listed = {r["service_request_id"] for r in json_of(listing)}
    assert listed == {ktg_code} and bjm_code not in listed
    root = xml_of(client.get(f"/open311/v2/requests/{ktg_code}.xml?jurisdiction_id=katingan"))
    assert root.findtext("request/requested_datetime").endswith("+07:00")  # WIB
    errors_json(client.get(f"/open311/v2/requests/{bjm_code}.json?jurisdiction_id=katingan"), 404)


def test_the_platform_door_needs_a_known_live_jurisdiction(db, client, bjm):
    assert any("jurisdiction_id" in d for d in errors_json(client.get("/open311/v2/services.json"), 400))
    errors_xml(client.get("/open311/v2/services.xml"), 400)
    errors_json(client.get("/open311/v2/services.json?jurisdiction_id=atlantis"), 404)
    errors_xml(client.get("/open311/v2/discovery.xml?jurisdiction_id=../etc"), 404)
    db.session.add(Tenant(slug="kapuas", name="Pemerintah Kabupaten Kapuas", type="kabupaten",
                          province="Kalimantan Tengah", region_code="62.03", code_prefix="KPS",
                          timezone="Asia/Pontianak", status=TenantStatus.PENDING))
    db.session.commit()
    errors_json(client.get("/open311/v2/services.json?jurisdiction_id=kapuas"), 404)
    bjm.live = False
    db.session.commit()
    errors_json(client.get("/open311/v2/services.json?jurisdiction_id=banjarmasin"), 404)


def test_katingan_cannot_reach_banjarmasins_requests_by_any_door(db, client, bjm, ktg):
    bjm_code = submit(db, bjm)
    ktg_key = make_key(db, ktg)
    bjm_key = make_key(db, bjm)
    errors_json(client.get(f"/katingan/open311/v2/requests/{bjm_code}.json"), 404)
    errors_json(client.get(f"/katingan/open311/v2/requests/{bjm_code}.json", headers=auth(ktg_key)), 404)
    assert bjm_code not in client.get(f"/katingan/open311/v2/requests.json?service_request_id={bjm_code}").text
    assert bjm_code not in client.get("/open311/v2/requests.xml?jurisdiction_id=katingan").text
    # A region's key works only in its region, whichever door.
    errors_json(post(client, "banjarmasin", ktg_key), 403)
    errors_json(client.post("/open311/v2/requests.json", data={
        "jurisdiction_id": "banjarmasin", "api_key": ktg_key, "service_code": "jalan", "lat": "-3.3",
        "long": "114.6", "description": DESCRIPTION}), 403)
    errors_json(client.get("/banjarmasin/open311/v2/requests.json", headers=auth(ktg_key)), 403)
    # A jurisdiction_id on a region's own URL must name that region.
    errors_json(post(client, "banjarmasin", bjm_key, jurisdiction_id="katingan"), 404)
    errors_json(client.get("/banjarmasin/open311/v2/requests.json?jurisdiction_id=katingan"), 404)
    assert count(db, bjm) == 1 and count(db, ktg) == 0


def test_unknown_and_suspended_regions_answer_in_the_specifications_format(db, client, bjm):
    errors_json(client.get("/atlantis/open311/v2/services.json"), 404)
    errors_xml(client.get("/atlantis/open311/v2/services.xml"), 404)
    bjm.status = TenantStatus.SUSPENDED
    db.session.commit()
    errors_json(client.get("/banjarmasin/open311/v2/services.json"), 503)
    errors_xml(client.get("/banjarmasin/open311/v2/requests.xml"), 503)


def test_texts_are_utf8_in_both_formats(db, client, bjm):
    token = make_key(db, bjm)
    text = "Lampu jalan padam di depan Masjid Sabilal Muhtadin — sudah 3 malam, “gelap gulita”."
    code = json_of(post(client, "banjarmasin", token, description=text))[0]["service_request_id"]
    resp = client.get(f"/banjarmasin/open311/v2/requests/{code}.json", headers=auth(token))
    assert text.encode() in resp.data  # raw UTF-8, not \u escapes
    root = xml_of(client.get(f"/banjarmasin/open311/v2/requests/{code}.xml", headers=auth(token)))
    assert root.findtext("request/description") == text


def test_requests_come_newest_first_and_at_most_1000_ids_are_asked_at_once(db, client, bjm):
    now = utcnow()
    first = submit(db, bjm, when=now - timedelta(days=2))
    second = submit(db, bjm, when=now - timedelta(days=1))
    assert [r["service_request_id"] for r in json_of(client.get("/banjarmasin/open311/v2/requests.json"))] == [
        second, first]
    many = ",".join(f"BJM-26-{n:05d}" for n in range(1001))
    errors_json(client.get(f"/banjarmasin/open311/v2/requests.json?service_request_id={many}"), 400)


def test_a_regions_own_domain_serves_its_open311_door_at_the_root(app, client, bjm):
    app.wsgi_app.invalidate()  # the host cache outlives tests
    try:
        resp = client.get("/open311/v2/discovery.json", headers={"Host": "lapor.banjarmasinkota.go.id"})
        assert json_of(resp)["endpoints"][0]["url"] == "http://lapor.banjarmasinkota.go.id/banjarmasin/open311/v2"
        services = client.get("/open311/v2/services.json", headers={"Host": "lapor.banjarmasinkota.go.id"})
        assert "jalan" in {s["service_code"] for s in json_of(services)}
    finally:
        app.wsgi_app.invalidate()
