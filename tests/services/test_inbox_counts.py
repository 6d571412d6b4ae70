"""The inbox takes its total from the per-status counts (one scan instead of two): the totals must agree."""

from __future__ import annotations

import pytest

from app.complaints import inbox
from app.complaints.models import Complaint
from app.tenancy.scope import tenant_scope
from tests.factories import make


@pytest.mark.parametrize("filters", [
    {}, {"status": "submitted"}, {"status": "closed"}, {"status": "disposed"}, {"q": "pasar"}, {"q": "sekolah"},
    {"q": "pasar", "status": "submitted"}, {"complaint_class": "aspirasi"},
])
def test_total_from_status_counts_equals_a_separate_count(app, db, bjm, make_user, filters):
    officer = make_user(bjm, "officer")
    with tenant_scope(bjm.id):
        for i, status in enumerate(["submitted"] * 5 + ["closed"] * 3 + ["verified"] * 2):
            make(Complaint, status=status, description="Lampu dekat sekolah padam." if i % 2 else "Pasar becek.",
                 complaint_class="aspirasi" if i % 3 == 0 else "pengaduan")
        db.session.flush()
        f = inbox.InboxFilters(**filters)
        counts = inbox.status_counts(officer, f)
        fast = inbox.paginate(officer, f, counts=counts, per_page=4)
        slow = inbox.paginate(officer, f, per_page=4)
        assert fast.total == slow.total
        assert [c.id for c in fast.items] == [c.id for c in slow.items]
    assert slow.total > 0 or filters.get("status") == "disposed"


@pytest.mark.parametrize("sort_max", [0, 2000])
@pytest.mark.parametrize("sort", ["newest", "oldest", "due"])
@pytest.mark.parametrize("filters", [{"q": "sekolah"}, {"q": "pasar", "status": "submitted"}, {"q": "PASAR", "page": 2},
                                     {"q": "tidak-ada-yang-cocok"}, {"q": "sekolah", "page": 9}])
def test_search_page_matches_the_ordinary_paging_for_every_sort(app, db, bjm, make_user, sort, filters, sort_max,
                                                                monkeypatch):
    """search_page (through the search index, either page strategy) gives the same counts, total, order and
    page as the ordinary path."""
    from datetime import timedelta

    from app.tenancy.models import utcnow

    officer = make_user(bjm, "officer")
    now = utcnow()
    with tenant_scope(bjm.id):
        for i in range(13):
            make(Complaint, status=["submitted", "verified", "closed"][i % 3],
                 description="Lampu dekat sekolah padam." if i % 2 else "Pasar becek.",
                 submitted_at=now - timedelta(hours=i * 7 % 11), due_at=None if i % 4 == 0 else now + timedelta(days=i))
        db.session.flush()
        monkeypatch.setattr(inbox, "SEARCH_SORT_MAX", sort_max)
        f = inbox.InboxFilters(sort=sort, **filters)
        counts, page = inbox.search_page(officer, f, per_page=4)
        assert counts == inbox.status_counts(officer, f)
        expected = inbox.paginate(officer, f, per_page=4)
        assert (page.total, page.page) == (expected.total, expected.page)
        assert [c.id for c in page.items] == [c.id for c in expected.items]
