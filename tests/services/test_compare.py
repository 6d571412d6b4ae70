"""Cross-region comparison (app.central.comparison) against the hand computation in tests/compare_fixture.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from app.central import comparison as reports
from app.complaints.models import Status
from app.tenancy.scope import tenant_scope
from tests.compare_fixture import EXPECTED, EXPECTED_BANDS, EXPECTED_TREND, MONTHS, PERIOD, with_data


@pytest.fixture()
def compare_data(db, bjm, ktg, make_user):
    yield from with_data(db, bjm, ktg, make_user)


def _by_slug(rows):
    return {r.slug: r for r in rows}


def test_every_indicator_equals_the_hand_computation(compare_data):
    rows = _by_slug(reports.compare_regions(*PERIOD))
    assert set(rows) == {"banjarmasin", "katingan"}
    for slug, expected in EXPECTED.items():
        got = {key: rows[slug].value(key) for key in expected}
        assert got == pytest.approx(expected), slug
        assert dict(rows[slug].bands) == EXPECTED_BANDS[slug], slug
    bjm = rows["banjarmasin"]
    assert (bjm.verified_on_time, bjm.verified_total, bjm.answered_on_time, bjm.answered_total) == (1, 3, 1, 2)
    assert (bjm.verified_waiting_late, bjm.answered_waiting_late) == (1, 1)  # B4 never verified; B2 reopened
    assert (bjm.reopened, bjm.closed_ever, bjm.ratings, bjm.first_responses) == (1, 2, 2, 4)  # B4 waits
    ktg = rows["katingan"]
    assert (ktg.first_responses, ktg.ratings, ktg.closed_ever) == (3, 1, 2)  # K4 waits


def test_local_dates_decide_the_period(compare_data):
    # 31 Jan 16.30 UTC is 1 Feb in Banjarmasin (B4) but still 31 Jan in Katingan (K5): one day later
    # Katingan gains K5 while Banjarmasin loses B4.
    rows = _by_slug(reports.compare_regions(date(2026, 1, 31), date(2026, 1, 31)))
    assert rows["katingan"].received == 1 and rows["banjarmasin"].received == 0
    rows = _by_slug(reports.compare_regions(date(2026, 2, 1), date(2026, 2, 1)))
    assert rows["banjarmasin"].received == 1 and rows["katingan"].received == 0


def test_backlog_is_as_of_the_period_end(compare_data):
    # At the end of 10 March: B7 closed (3 Mar), B6 arrived (1 Mar); B2 still open; nothing else changed.
    rows = _by_slug(reports.compare_regions(date(2026, 3, 1), date(2026, 3, 10)))
    assert rows["banjarmasin"].backlog == 5  # B2, B3, B4, B5, B6
    assert rows["banjarmasin"].oldest_open_days == 59  # B5: 10 Jan → 10 Mar
    assert rows["banjarmasin"].received == 1 and rows["banjarmasin"].per_100k == pytest.approx(0.5)
    # Nothing received in the period: shares have no value (not 0 %) and no band.
    assert rows["katingan"].received == 0 and rows["katingan"].verified_share is None
    assert rows["katingan"].bands["verified_share"] is None


def test_monthly_trend_counts_local_months(compare_data):
    bjm, ktg = compare_data
    trend = reports.monthly_trend([bjm.id, ktg.id], MONTHS)
    assert trend == {bjm.id: EXPECTED_TREND["banjarmasin"], ktg.id: EXPECTED_TREND["katingan"]}
    assert reports.month_range(date(2025, 11, 15), date(2026, 2, 1)) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_thresholds_come_from_config_and_arguments(app, compare_data):
    rows = _by_slug(reports.compare_regions(*PERIOD, thresholds={"verified_share": {"green": 0.3, "yellow": 0.2}}))
    assert rows["banjarmasin"].bands["verified_share"] == "green"
    old = app.config["COMPARE_THRESHOLDS"]
    app.config["COMPARE_THRESHOLDS"] = {"avg_rating": {"green": 3.5}}
    try:
        rows = _by_slug(reports.compare_regions(*PERIOD))
        assert rows["banjarmasin"].bands["avg_rating"] == "green"
        assert rows["banjarmasin"].bands["verified_share"] == "red"  # defaults still apply
    finally:
        app.config["COMPARE_THRESHOLDS"] = old
    with pytest.raises(ValueError):
        reports.compare_regions(*PERIOD, thresholds={"bogus": {"green": 1}})


def test_sorting_by_any_indicator_puts_missing_values_last(compare_data):
    rows = reports.compare_regions(*PERIOD)
    assert [r.slug for r in reports.sort_rows(rows, "backlog", descending=True)] == ["banjarmasin", "katingan"]
    assert [r.slug for r in reports.sort_rows(rows, "verified_share", descending=True)] == ["katingan", "banjarmasin"]
    # January: Banjarmasin has B5 and B7 (all indicators have a value); Katingan has only K5, never answered
    # nor closed: no follow-up, reopen rate or rating (no value), so last either way.
    january = reports.compare_regions(date(2026, 1, 1), date(2026, 1, 31))
    for descending in (False, True):
        assert [r.slug for r in reports.sort_rows(january, "followup_share", descending)] == [
            "banjarmasin", "katingan"]
    with pytest.raises(ValueError):
        reports.sort_rows(rows, "reporter_email", descending=False)


def test_drill_down_has_aggregates_only(compare_data):
    agg = reports.tenant_aggregates("banjarmasin", *PERIOD)
    assert agg.indicators.received == 4 and agg.months == ["2026-02"] and agg.trend == [4]
    assert {k: v for k, v in agg.by_status.items() if v} == {
        Status.SUBMITTED: 1, Status.ON_HOLD: 1, Status.DISPOSED: 1, Status.CLOSED: 1}
    assert agg.by_class["pengaduan"] == 4
    assert reports.tenant_aggregates("atlantis", *PERIOD) is None


def test_queries_do_not_grow_with_complaints_or_tenants(db, compare_data):
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):  # not the savepoints and role switches of the tests
            statements.append(statement)

    engine_or_conn = db.session.get_bind()
    event.listen(engine_or_conn, "before_cursor_execute", count)
    try:
        reports.compare_regions(*PERIOD)
    finally:
        event.remove(engine_or_conn, "before_cursor_execute", count)
    assert len(statements) <= 4  # tenants, counts, first-response date pairs, ratings


def test_peer_median_is_anonymous_and_needs_enough_regions(app, compare_data):
    bjm, _ = compare_data
    # Two live regions: below the default minimum of 3, a median would reveal the other's figure.
    assert reports.peer_median("received", PERIOD) is None
    app.config["PEER_BENCHMARK_MIN_TENANTS"] = 2
    app.config["PEER_MIN_LIVE_DAYS"], app.config["PEER_MIN_REPORTS"] = 0, 1  # the fixture's regions are new
    try:
        assert reports.peer_median("verified_share", PERIOD) == pytest.approx(0.5)  # (1/3 + 2/3) / 2
        assert reports.peer_median("median_first_response_days", PERIOD) == pytest.approx(2)  # (3 + 1) / 2
        assert reports.peer_median("oldest_open_days", PERIOD) == pytest.approx(38.5)
        with tenant_scope(bjm.id):  # works from a tenant's request too, and returns only numbers
            bench = reports.peer_benchmark(bjm.id, PERIOD)
        assert bench.own.slug == "banjarmasin" and bench.peers == 2
        assert bench.medians["avg_rating"] == pytest.approx(3.75)
        assert all(isinstance(v, (int, float)) or v is None for v in bench.medians.values())
    finally:
        app.config["PEER_BENCHMARK_MIN_TENANTS"] = 3
        app.config["PEER_MIN_LIVE_DAYS"], app.config["PEER_MIN_REPORTS"] = 30, 20
        reports.clear_peer_cache()


def test_weighted_median_matches_statistics_median():
    import statistics

    for values in ([1], [1, 2], [3, 1, 2], [0, 0, 5, 9], [2, 2, 2, 7, 7]):
        pairs = [(v, values.count(v)) for v in set(values)]
        assert reports._weighted_median(pairs) == statistics.median(values)
    assert reports._weighted_median([]) is None


def test_fast_working_day_count_equals_the_calendar():
    import random

    from app.deadlines.calendar import WorkingCalendar

    cal = WorkingCalendar("Asia/Makassar", [{"date": "2026-02-13", "name": "Hari Jadi"},
                                            {"date": "2026-02-17", "name": "also Imlek"},
                                            {"date": "2026-02-21", "name": "Saturday"}])
    first, last = date(2025, 12, 1), date(2026, 4, 30)
    counter = reports._WorkingDayCounter(first, last)
    off = reports._WorkingDayCounter.local_days_off(cal)
    assert off == [date(2026, 2, 13)]  # national holidays and weekends are off anyway
    rnd = random.Random(7)
    span = (last - first).days + 1
    for _ in range(500):
        a, b = (first + timedelta(days=rnd.randrange(span)) for _ in range(2))
        assert counter.between(a, b, off) == cal.working_days_between(a, b), (a, b)
