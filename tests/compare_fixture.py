"""A fixed, hand-computed fixture for the cross-region comparison (tests/services/test_compare.py and
tests/web/test_compare_pages.py). Every complaint goes through the service layer under frozen_time.

Period: February 2026 (local dates). Holidays: Mon 16 Feb (cuti bersama Imlek), Tue 17 Feb (Imlek).
Populations are set to round numbers for the hand computation: Banjarmasin 200,000, Katingan 50,000.

"Now" is any time after April 2026 (the deadlines of every waiting report have passed); ``AS_OF_FEB`` is
28 Feb 2026 12.00 UTC, when K4's verification deadline (Wed 4 Mar) has not passed yet.

Banjarmasin (WITA, UTC+8)                                 in Feb?  first resp. (wd)    open at 28 Feb 24:00?
  B1 Mon 2 Feb 09.00 → verified Wed 4 Feb (on time), answered 10 Feb (on time), rated 5, closed 11 Feb
                                                            yes     2 (3, 4 Feb)        no (closed 11 Feb)
  B2 Thu 12 Feb 10.00 → verified Fri 20 Feb: 13, [16, 17 holidays], 18, 19, 20 = 4 wd > 3 → late;
     answered 16 Mar (deadline Thu 12 Mar) → late; rated 2; closed 17 Mar; reopened 18 Mar (disposed)
                                                            yes     4                   yes (disposed)
  B3 Mon 23 Feb 09.00 → put on hold the same day           yes     0                   yes (on hold)
  B4 Sun 1 Feb 00.30 WITA = Sat 31 Jan 16.30 UTC, untouched yes (local date!) —       yes
     never verified: verification deadline Wed 4 Feb 23.59 WITA passed → late (still waiting)
  B5 Sat 10 Jan 10.00, untouched                           no      —                   yes ← oldest: 49 days
  B6 Sun 1 Mar 00.30 WITA = Sat 28 Feb 16.30 UTC           no (March)                  no (received after)
  B7 Tue 20 Jan → verified, disposed 21 Jan, answered 2 Mar, closed 3 Mar
                                                            no      —                   yes (closed after)
  B8 Thu 5 Feb → verified late, answered late, rated 1: a TEST report (marked) — left out of everything

Katingan (WIB, UTC+7)
  K1 Tue 3 Feb 08.00 → verified same day (on time), answered 5 Feb (on time), rated 4, closed 6 Feb
                                                            yes     0                   no
  K2 Wed 4 Feb 09.00 → verified Thu 5 Feb (on time), answered 9 Feb (on time), closed 10 Feb
                                                            yes     1                   no
  K3 Mon 9 Feb → archived the same day (spam; no first response)
                                                            yes     —                   no
  K4 Fri 27 Feb 23.30 WIB = 16.30 UTC, untouched            yes     —                   yes
     verification deadline Wed 4 Mar 23.59 WIB: late now; at AS_OF_FEB still within it (not counted)
  K5 Sat 31 Jan 23.30 WIB = 16.30 UTC (the same instant as B4, but January here), untouched
                                                            no      —                   yes ← oldest: 28 days
  K6 Mon 16 Feb, untouched: a TEST report (marked) — left out of everything

Indicator                          Banjarmasin                      Katingan
received                           4 (B1–B4)                        4 (K1–K4)
per 100,000                        4 / 200,000 × 100,000 = 2.0      4 / 50,000 × 100,000 = 8.0
verified within 3 wd (now)         1 of 3 (B1 yes; B2, B4 late)     2 of 3 (K1, K2 yes; K4 late)
                                   = 33.3 %                         = 66.7 %
  … at AS_OF_FEB                   1 of 3 = 33.3 %                  2 of 2 = 100 % (K4 not yet counted)
median wd to first response        median(2, 4, 0, B4 waiting:      median(0, 1, K4 waiting: many)
  (a report awaiting verification  many) = (2 + 4) / 2 = 3          = 1
  counts with the days waited)
follow-ups within deadline         1 of 2 (B2 answered late, and     2 of 2 = 100 %
                                   waits again past its deadline
                                   since the reopening) = 50 %
backlog at 28 Feb                  5 (B2, B3, B4, B5, B7)           2 (K4, K5)
oldest open (days to 28 Feb)       B5: 10 Jan → 28 Feb = 49         K5: 31 Jan → 28 Feb = 28
reopen rate                        1 reopened / 2 ever closed = 50 % 0 / 2 (K1, K2) = 0 %
average rating                     (5 + 2) / 2 = 3.5                4 / 1 = 4.0
performance score (default         verified 33.3 × 25, follow-up     verified 66.7 × 25, follow-up
weights; points in brackets)       50 × 25, median 3 → 77.8 × 15,    100 × 25, median 1 → 100 × 15,
                                   oldest 49 → 87.3 × 15, reopen     oldest 28 → 100 × 15, reopen 0 →
                                   50 % → 0 × 10, rating 3.5 → 62.5  100 × 10, rating 4 → 75 × 10
                                   × 10: 5185 / 100 = 51.85          8916.7 / 100 = 89.2
bands (defaults)                   verified red, follow-up red,     verified yellow (≥ 60 %), others
                                   median green (≤ 3), reopen red,  green (rating 4.0 ≥ 4.0), score
                                   rating yellow (≥ 3.0), score     green (≥ 75)
                                   yellow (≥ 50)
monthly trend Jan, Feb, Mar        2 (B5, B7), 4, 1 (B6)            1 (K5), 4, 0
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import select

from app.agencies.models import Agency
from app.complaints import service
from app.complaints.models import Complaint
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

PERIOD = (date(2026, 2, 1), date(2026, 2, 28))
MONTHS = ["2026-01", "2026-02", "2026-03"]
AS_OF_FEB = datetime(2026, 2, 28, 12, tzinfo=UTC)

#: The performance score by hand (default weights 25/25/15/15/10/10; points as in the table above).
SCORE_BJM = (25 * 100 / 3 + 25 * 50 + 15 * 700 / 9 + 15 * 131 / 1.5 + 10 * 0 + 10 * 62.5) / 100
SCORE_KTG = (25 * 200 / 3 + 25 * 100 + 15 * 100 + 15 * 100 + 10 * 100 + 10 * 75) / 100

EXPECTED = {
    "banjarmasin": dict(received=4, per_100k=2.0, verified_share=1 / 3, median_first_response_days=3,
                        followup_share=0.5, backlog=5, oldest_open_days=49, reopen_rate=0.5, avg_rating=3.5,
                        score=SCORE_BJM),
    "katingan": dict(received=4, per_100k=8.0, verified_share=2 / 3, median_first_response_days=1,
                     followup_share=1.0, backlog=2, oldest_open_days=28, reopen_rate=0.0, avg_rating=4.0,
                     score=SCORE_KTG),
}
EXPECTED_BANDS = {
    "banjarmasin": dict(verified_share="red", followup_share="red", median_first_response_days="green",
                        reopen_rate="red", avg_rating="yellow", score="yellow"),
    "katingan": dict(verified_share="yellow", followup_share="green", median_first_response_days="green",
                     reopen_rate="green", avg_rating="green", score="green"),
}
EXPECTED_TREND = {"banjarmasin": [2, 4, 1], "katingan": [1, 4, 0]}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Story:
    """Drives one complaint through the service layer, each step at a frozen UTC instant."""

    def __init__(self, db, tenant, officer, submitted: datetime, title: str):
        self.db, self.tenant, self.unit = db, tenant, service.Actor.of(officer)
        c, _ = submit_complaint(tenant, when=submitted, title=title,
                                description="Keterangan uji untuk perbandingan antarwilayah.",
                                reporter_name="Warga Uji", reporter_email="warga@contoh.id")
        self.id = c.id

    def _do(self, when: datetime, fn, *args, **kw) -> Story:
        with tenant_scope(self.tenant.id), frozen_time(when):
            c = self.db.session.get(Complaint, self.id)
            fn(c, *args, **kw)
            self.db.session.commit()
        return self

    def verify(self, when):
        return self._do(when, service.verify, self.unit)

    def dispose(self, when):
        def go(c):
            agency = self.db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
            service.dispose(c, self.unit, [agency])
        return self._do(when, go)

    def answer(self, when):
        def go(c):
            agency = self.db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
            fu = service.save_followup_draft(c, self.unit, "Sudah ditindaklanjuti oleh dinas.", agency_id=agency,
                                             submit=True)
            service.publish_followup(c, self.unit, fu.id)
        return self._do(when, go)

    def rate(self, when, score):
        return self._do(when, service.rate, score)

    def close(self, when):
        return self._do(when, service.close, self.unit)

    def reopen(self, when):
        return self._do(when, service.reopen, self.unit, "Belum selesai.")

    def hold(self, when):
        return self._do(when, service.hold, self.unit, "Mohon lengkapi lokasi.")

    def archive(self, when):
        return self._do(when, service.archive, self.unit, "Spam")

    def mark_test(self, when):
        return self._do(when, service.mark_test, self.unit, True, "Uji coba petugas")


def build(db, bjm, ktg, make_user) -> None:
    bjm.population, ktg.population = 200_000, 50_000
    db.session.commit()
    bo, ko = make_user(bjm, "officer"), make_user(ktg, "officer")

    (Story(db, bjm, bo, at(2026, 2, 2, 1), "B1 lampu jalan").verify(at(2026, 2, 4, 2)).dispose(at(2026, 2, 4, 3))
     .answer(at(2026, 2, 10, 2)).rate(at(2026, 2, 10, 3), 5).close(at(2026, 2, 11, 2)))
    (Story(db, bjm, bo, at(2026, 2, 12, 2), "B2 saluran air").verify(at(2026, 2, 20, 2)).dispose(at(2026, 2, 20, 3))
     .answer(at(2026, 3, 16, 2)).rate(at(2026, 3, 16, 3), 2).close(at(2026, 3, 17, 2)).reopen(at(2026, 3, 18, 2)))
    Story(db, bjm, bo, at(2026, 2, 23, 1), "B3 sampah").hold(at(2026, 2, 23, 3))
    Story(db, bjm, bo, at(2026, 1, 31, 16, 30), "B4 tengah malam")
    Story(db, bjm, bo, at(2026, 1, 10, 2), "B5 lama sekali")
    Story(db, bjm, bo, at(2026, 2, 28, 16, 30), "B6 bulan Maret")
    (Story(db, bjm, bo, at(2026, 1, 20, 1), "B7 jembatan").verify(at(2026, 1, 21, 2)).dispose(at(2026, 1, 21, 3))
     .answer(at(2026, 3, 2, 2)).close(at(2026, 3, 3, 2)))
    # A test report: everything about it would change the figures, were it counted.
    (Story(db, bjm, bo, at(2026, 2, 5, 2), "B8 uji coba").verify(at(2026, 2, 13, 2)).dispose(at(2026, 2, 13, 3))
     .answer(at(2026, 3, 20, 2)).rate(at(2026, 3, 20, 3), 1).mark_test(at(2026, 3, 21, 2)))

    (Story(db, ktg, ko, at(2026, 2, 3, 1), "K1 jalan desa").verify(at(2026, 2, 3, 3)).dispose(at(2026, 2, 3, 4))
     .answer(at(2026, 2, 5, 3)).rate(at(2026, 2, 5, 4), 4).close(at(2026, 2, 6, 3)))
    (Story(db, ktg, ko, at(2026, 2, 4, 2), "K2 air bersih").verify(at(2026, 2, 5, 2)).dispose(at(2026, 2, 5, 3))
     .answer(at(2026, 2, 9, 3)).close(at(2026, 2, 10, 3)))
    Story(db, ktg, ko, at(2026, 2, 9, 2), "K3 iklan").archive(at(2026, 2, 9, 5))
    Story(db, ktg, ko, at(2026, 2, 27, 16, 30), "K4 larut malam")
    Story(db, ktg, ko, at(2026, 1, 31, 16, 30), "K5 akhir Januari")
    Story(db, ktg, ko, at(2026, 2, 16, 2), "K6 uji coba").mark_test(at(2026, 2, 16, 3))


def with_data(db, bjm, ktg, make_user) -> Iterator[tuple]:
    """Body of the ``compare_data`` fixture of the test modules: builds the fixture, clears the peer cache.
    The regions have four reports each: the performance score's minimum (COMPARE_SCORE_MIN_REPORTS, 10) is
    lowered to 4 meanwhile."""
    from app.central import comparison as reports

    reports.clear_peer_cache()
    old = current_app.config.get("COMPARE_SCORE_MIN_REPORTS", 10)
    current_app.config["COMPARE_SCORE_MIN_REPORTS"] = 4
    build(db, bjm, ktg, make_user)
    yield bjm, ktg
    current_app.config["COMPARE_SCORE_MIN_REPORTS"] = old
    reports.clear_peer_cache()
