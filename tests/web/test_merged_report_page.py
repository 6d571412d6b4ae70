"""A merged duplicate's own page: the primary's progress as the public sees it, never the primary's
content, reporter or actions (the page the duplicate's reporter is sent to)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agencies.models import Agency
from app.complaints import service
from app.complaints.models import FollowUp, Privacy
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

SECRET = "Petugas loket meminta uang Rp50.000; saya punya rekaman suaranya."


def _report(privacy: str, title: str, name: str, email: str):
    c, _ = submit_complaint(
        title=title, description=SECRET if privacy != Privacy.PUBLIC else "Warga diminta membayar surat pengantar.",
        privacy=privacy, reporter_name=name, reporter_email=email, commit=False)
    return c


@pytest.mark.parametrize("privacy", [Privacy.CONFIDENTIAL, Privacy.ANONYMOUS, Privacy.PUBLIC])
def test_duplicate_page_shows_the_primarys_public_progress_only(client, db, bjm, make_user, privacy):
    officer = service.Actor.of(make_user(bjm, "officer"))
    liaison = service.Actor.of(make_user(bjm, "liaison", agency_code="pupr"))
    with tenant_scope(bjm.id):
        primary = _report(privacy, "Pungutan liar di loket kelurahan", "Rina Maulida", "rina@contoh.id")
        dup = _report(Privacy.PUBLIC, "Biaya tambahan di loket", "Budi Santoso", "budi@contoh.id")
        service.merge(dup, primary, officer)
        service.verify(primary, officer)
        service.dispose(primary, officer, [db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()])
        service.save_followup_draft(primary, liaison, "Petugas loket sudah diperiksa dan diberi sanksi.", submit=True)
        fu = db.session.execute(select(FollowUp).filter_by(complaint_id=primary.id)).scalar_one()
        service.publish_followup(primary, officer, fu.id)
        db.session.commit()
        dup_code, dup_token, p_code, p_token = dup.code, dup.access_token, primary.code, primary.access_token

    page = client.get(f"/banjarmasin/lacak/{dup_code}?t={dup_token}")
    assert page.status_code == 200
    html = page.text
    assert 'id="merged"' in html and p_code in html
    assert p_token not in html and "Rina" not in html and "rina@contoh.id" not in html
    assert f"/lacak/{p_code}/" not in html  # no form acting on the primary
    if privacy == Privacy.CONFIDENTIAL:
        assert SECRET not in html and "Pungutan liar" not in html
        assert "diberi sanksi" not in html  # a rahasia report's answer is not public either
    else:
        assert "diberi sanksi" in html  # the public answer, as on the primary's public page
