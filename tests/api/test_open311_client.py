"""Done-when of the Open311 work: GeoReport v2 client libraries from PyPI, written by others (``civicbot``,
which lists, defines, posts and reads; ``georeport``, which reads JSON and XML), talk to the real app over
HTTP on 127.0.0.1: they list the services, post a request with the region's API key and read it back.

The server is werkzeug's, in a thread, serving the test's application; every request it handles gets its
own app context and session on the test's connection (the ``db`` fixture), so it sees the test's data on
SQLite and on PostgreSQL (as the runtime role, under row-level security) and leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import CONFIRM_TOKEN, Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport
from sqlalchemy import select
from werkzeug.serving import make_server

from app.complaints import service
from app.complaints.models import Complaint, Privacy
from app.tenancy.scope import tenant_scope
from tests.api.support import make_key

DESCRIPTION = "Lampu penerangan jalan di Jl. Kayu Tangi II padam sejak Senin, rawan kecelakaan malam hari."
ADDRESS = "Jl. Kayu Tangi II, depan Masjid Al-Jihad"
LAT, LNG = -3.2931, 114.5984


@pytest.fixture()
def live_url(app, db, tenants, monkeypatch) -> Iterator[str]:
    """The app on http://127.0.0.1:<free port> for the duration of the test (one request at a time)."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")  # the clients must not go through a proxy
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, name="open311-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def civicbot_client(base_url: str, jurisdiction_id: str | None = None) -> Open311Client:
    endpoint = Endpoint(id="lapor-test", name="Lapor (test)", base_url=base_url, write=True)
    transport = HttpTransport(timeout=20, rate_limiter=RateLimiter(min_interval=0))
    return Open311Client(endpoint, transport=transport, jurisdiction_id=jurisdiction_id)


def verify(db, tenant, code: str, make_user) -> None:
    """The complaint unit verifies the report: from then on the public sees its content."""
    officer = service.Actor.of(make_user(tenant, "officer"))
    db.session.expire_all()
    with tenant_scope(tenant.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        service.verify(c, officer)
        db.session.commit()


def test_civicbot_lists_posts_and_reads_back_a_request_of_a_region(db, bjm, live_url, make_user):
    key = make_key(db, bjm, scopes=("read", "write"))
    client = civicbot_client(f"{live_url}/banjarmasin/open311/v2")

    services = client.list_services()
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["jalan"] == "Jalan dan Jembatan" and "drainase" in names
    definition = client.get_service_definition("jalan")
    assert [a["code"] for a in definition["attributes"]] == ["complaint_class", "privacy", "title"]

    # validate_remote: the client checks the payload against our service list and definition first.
    prepared = client.create_request(
        "jalan", dry_run=False, confirm=CONFIRM_TOKEN, api_key=key, validate_remote=True, lat=LAT, lng=LNG,
        address_string=ADDRESS, description=DESCRIPTION, first_name="Siti", last_name="Norhayati",
        email="siti.norhayati@contoh.id", attributes={"privacy": Privacy.ANONYMOUS, "complaint_class": "pengaduan"})
    [answer] = prepared.response
    code = answer["service_request_id"]
    assert code.startswith("BJM-") and answer["token"]

    db.session.expire_all()
    with tenant_scope(bjm.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        assert (c.source, c.privacy, c.description, c.location_text) == ("open311", Privacy.ANONYMOUS,
                                                                          DESCRIPTION, ADDRESS)
        assert (c.latitude, c.longitude, c.reporter_name) == (LAT, LNG, "Siti Norhayati")

    # Read back by id and by token. Before verification the public sees the status, not the content.
    first = client.get_request(code)
    assert (first["service_request_id"], first["status"], first["service_code"]) == (code, "open", "jalan")
    assert "description" not in first and first["requested_datetime"].endswith("+08:00")
    assert client.get_token(answer["token"]) == [{"service_request_id": code, "token": answer["token"]}]

    verify(db, bjm, code, make_user)
    read = client.get_request(code)
    assert (read["description"], read["address"], read["lat"], read["long"]) == (DESCRIPTION, ADDRESS, LAT, LNG)
    assert read["status"] == "open" and read["expected_datetime"]
    assert "Norhayati" not in str(read) and "siti.norhayati" not in str(read)  # anonim: never the identity
    listed = client.list_requests(service_code="jalan", status="open")
    assert [r["service_request_id"] for r in listed] == [code]

    # Without the key, or with a read-only one, the client's post is refused (GeoReport's 403).
    with pytest.raises(HttpError) as refused:
        client.create_request("jalan", dry_run=False, confirm=CONFIRM_TOKEN, api_key=make_key(db, bjm, ("read",)),
                              lat=LAT, lng=LNG, description=DESCRIPTION)
    assert refused.value.status == 403 and "write" in refused.value.body


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_reads_services_and_the_posted_request_through_the_platform_door(db, ktg, live_url, make_user,
                                                                                     output_format):
    key = make_key(db, ktg)
    poster = civicbot_client(f"{live_url}/open311/v2", jurisdiction_id="katingan")
    answer = poster.create_request(
        "jalan", dry_run=False, confirm=CONFIRM_TOKEN, api_key=key, address_string="Jl. Tjilik Riwut km 3",
        description="Jembatan kayu di Desa Tumbang Lahang rapuh, papannya banyak yang lepas.").response[0]
    code = answer["service_request_id"]
    assert code.startswith("KTG-")
    verify(db, ktg, code, make_user)

    reader = GeoReport(f"{live_url}/open311/v2", jurisdiction="katingan", output_format=output_format)
    services = reader.get_service_list()
    assert "jalan" in {s["service_code"] for s in services}
    definition = reader.get_service_definition("jalan")
    assert definition["service_code"] == "jalan"
    one = reader.get_service_request(code)
    assert one["service_request_id"] == code and one["status"] == "open"
    assert one["description"].startswith("Jembatan kayu") and one["address"] == "Jl. Tjilik Riwut km 3"
    assert one["requested_datetime"].endswith("+07:00")  # Katingan keeps WIB
    found = reader.get_service_requests(service_request_id=code)
    found = found if isinstance(found, list) else [found]  # xmltodict: one <request> is a dict
    assert [r["service_request_id"] for r in found] == [code]
