"""GET /<slug>/lapor/sekitar: open public reports near a point as JSON, for the report form's panel."""

from __future__ import annotations

from datetime import timedelta

from app.complaints import nearby
from app.complaints.models import Complaint, Status
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.factories import make

LAT, LON = -3.3194, 114.5908
URL = "/banjarmasin/lapor/sekitar"


def _open_report(db, tenant, north_m: float = 50, **kw) -> Complaint:
    now = utcnow()
    with tenant_scope(tenant.id):
        c = make(Complaint, status=Status.DISPOSED, submitted_at=now - timedelta(days=3),
                 verified_at=now - timedelta(days=2), latitude=LAT + north_m / nearby.METRES_PER_DEGREE,
                 longitude=LON, **kw)
        db.session.commit()
        return c


def test_lists_nearby_reports_with_public_fields_and_links(client, db, bjm):
    c = _open_report(db, bjm, title="Lampu jalan mati di depan pasar")
    r = client.get(URL, query_string={"lat": str(LAT), "lon": str(LON).replace(".", ","), "q": "lampu mati"})
    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body["radius_m"] == 300 and body["days"] == 30
    [item] = body["reports"]
    assert item["code"] == c.code and item["title"] == c.title and item["distance_m"] == 50
    assert item["url"] == f"/banjarmasin/lacak/{c.code}"
    assert item["follow_url"] == f"/banjarmasin/lacak/{c.code}/ikuti"
    assert item["thumbnail"] is None and item["status"] == Status.DISPOSED
    assert item["status_label"] and item["submitted_label"] and item["submitted_on"]


def test_an_anonymous_reports_identity_never_appears(client, db, bjm):
    c = _open_report(db, bjm, anonymous=True, reporter_name="Muhammad Yusuf Anonimus",
                     reporter_email="yusuf.anonimus@contoh.id", reporter_phone="+6281299887766")
    r = client.get(URL, query_string={"lat": LAT, "lon": LON})
    assert [i["code"] for i in r.get_json()["reports"]] == [c.code]
    text = r.get_data(as_text=True)
    for personal in ("Yusuf", "Anonimus", "anonimus", "6281299887766", "reporter", "access_token",
                     c.access_token):
        assert personal not in text


def test_confidential_and_other_regions_reports_are_not_listed(client, db, bjm, ktg):
    _open_report(db, bjm, confidential=True)
    _open_report(db, ktg)
    r = client.get(URL, query_string={"lat": LAT, "lon": LON})
    assert r.get_json()["reports"] == []


def test_bad_input_answers_400_with_a_translated_message(client, db, bjm):
    for query in ({}, {"lat": "abc", "lon": str(LON)}, {"lat": str(LAT)}, {"lat": "95", "lon": str(LON)},
                  {"lat": "nan", "lon": str(LON)}, {"lat": str(LAT), "lon": "inf"}):
        r = client.get(URL, query_string=query)
        assert r.status_code == 400, query
        assert "lintang" in r.get_json()["error"]  # Indonesian: the region's default language
    r = client.get(URL, query_string={"lat": LAT, "lon": LON, "category": "x'; drop"})
    assert r.status_code == 400 and r.get_json()["error"] == "Kategori tidak dikenal."
    r = client.get(URL, query_string={"lat": "abc", "lon": LON, "lang": "en"})
    assert r.status_code == 400 and "latitude" in r.get_json()["error"]


def test_the_lookup_is_rate_limited(limited_app):
    limited_app.config["NEARBY_RATE_LIMIT"] = "3 per minute"
    client = limited_app.test_client()
    answers = [client.get(URL, query_string={"lat": LAT, "lon": LON}).status_code for _ in range(5)]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]
