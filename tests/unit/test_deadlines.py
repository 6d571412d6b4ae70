"""Working-day deadlines (app.deadlines): pure unit tests, no app or database fixtures.

Every expected date below is counted by hand in a comment. Holiday dates come from the `holidays`
package (0.109) for Indonesia with categories public + government (government = cuti bersama), as printed:

2026: 01-01 Thu Tahun Baru Masehi; 01-16 Fri Isra Mikraj; 02-16 Mon cuti bersama Imlek; 02-17 Tue Imlek;
      03-18 Wed cuti bersama Nyepi; 03-19 Thu Nyepi; 03-20 Fri cuti bersama Idul Fitri;
      03-21 Sat Idul Fitri; 03-22 Sun Idul Fitri day 2; 03-23 Mon + 03-24 Tue cuti bersama Idul Fitri;
      04-03 Fri Wafat Yesus Kristus (Good Friday); 04-05 Sun Easter; 05-01 Fri; 05-14 Thu; 05-15 Fri (cb);
      05-27 Wed; 05-28 Thu (cb); 05-31 Sun; 06-01 Mon; 06-16 Tue; 08-17 Mon; 08-25 Tue;
      12-24 Thu cuti bersama Natal; 12-25 Fri Natal.
2027: 01-01 Fri Tahun Baru Masehi; 01-05 Tue Isra Mikraj; 02-05 Fri (cb); 02-06 Sat; 03-08 Mon Nyepi;
      03-09 Tue (cb); 03-10 Wed + 03-11 Thu Idul Fitri (estimated); 03-12 Fri + 03-15 Mon (cb); ...
      No cuti bersama on 31 Dec 2026 or 2 Jan 2027.
Offsets: WIB (Asia/Pontianak) = UTC+7, WITA (Asia/Makassar) = UTC+8, no daylight saving.
"""

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.deadlines import (
    COUNTING_RULE,
    STAGES,
    DeadlineState,
    WorkingCalendar,
    calendar_for_tenant,
    deadline_for,
    deadline_state,
    stage_days,
)

WITA = ZoneInfo("Asia/Makassar")
WIB = ZoneInfo("Asia/Pontianak")
TEMPLATE = Path(__file__).resolve().parents[2] / "tenants" / "_template" / "tenant.toml"


@pytest.fixture()
def bjm():
    return WorkingCalendar("Asia/Makassar", [])


@pytest.fixture()
def ktg():
    return WorkingCalendar("Asia/Pontianak", [])


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# -- the holiday data the rest relies on -------------------------------------------------------------


def test_march_2026_holidays_match_domain(bjm):
    # DOMAIN.md: 18 Mar cuti bersama Nyepi, 19 Nyepi, 20 cuti bersama Idul Fitri, 21-22 Idul Fitri
    # (weekend), 23-24 cuti bersama; 17 and 25 are ordinary working days.
    assert bjm.holiday_name(date(2026, 3, 18)) == "Cuti Bersama Hari Suci Nyepi"
    assert bjm.holiday_name(date(2026, 3, 19)) == "Hari Suci Nyepi"
    assert bjm.holiday_name(date(2026, 3, 20)) == "Cuti Bersama Hari Raya Idul Fitri"
    assert bjm.holiday_name(date(2026, 3, 21)) == "Hari Raya Idul Fitri"
    assert bjm.holiday_name(date(2026, 3, 22)) == "Hari kedua dari Hari Raya Idul Fitri"
    assert bjm.holiday_name(date(2026, 3, 23)) == "Cuti Bersama Hari Raya Idul Fitri"
    assert bjm.holiday_name(date(2026, 3, 24)) == "Cuti Bersama Hari Raya Idul Fitri"
    assert [bjm.is_working_day(date(2026, 3, d)) for d in range(17, 26)] == [True] + [False] * 7 + [True]
    assert bjm.holiday_name(date(2026, 3, 17)) is None
    assert bjm.holiday_name(date(2026, 3, 28)) is None  # a plain Saturday is not a holiday


def test_weekends_are_not_working_days(bjm):
    assert bjm.is_working_day(date(2026, 11, 27))  # Friday
    assert not bjm.is_working_day(date(2026, 11, 28))  # Saturday
    assert not bjm.is_working_day(date(2026, 11, 29))  # Sunday
    assert bjm.is_working_day(date(2026, 11, 30))  # Monday


# -- deadlines ----------------------------------------------------------------------------------------


def test_domain_example_banjarmasin_verification(bjm):
    # Tue 17 Mar 2026 15.00 WITA = 07:00 UTC. Day 0 = 17 Mar; 18-24 Mar are not working days;
    # day 1 = Wed 25, day 2 = Thu 26, day 3 = Fri 27 → 27 Mar 23:59:59 WITA = 15:59:59 UTC.
    received = datetime(2026, 3, 17, 15, 0, tzinfo=WITA)
    due = deadline_for(bjm, {}, "verification", received)
    assert due == utc(2026, 3, 27, 15, 59, 59)
    assert due.tzinfo is UTC
    assert due.astimezone(WITA) == datetime(2026, 3, 27, 23, 59, 59, tzinfo=WITA)
    assert bjm.deadline(received.astimezone(UTC), 3) == due


def test_followup_pengaduan_across_idul_fitri_2026(ktg):
    # Katingan (WIB). Received Tue 17 Mar 2026 10.00 WIB, the last working day before the
    # Nyepi + Idul Fitri block (18-24 Mar: cb Nyepi, Nyepi, cb Idul Fitri, Idul Fitri Sat/Sun, cb, cb).
    # Day 1 Wed 25, 2 Thu 26, 3 Fri 27, 4 Mon 30, 5 Tue 31, 6 Wed 1 Apr, 7 Thu 2 Apr,
    # Fri 3 Apr = Good Friday (skip), 8 Mon 6, 9 Tue 7, 10 Wed 8, 11 Thu 9, 12 Fri 10, 13 Mon 13,
    # 14 Tue 14 Apr → 14 Apr 2026 23:59:59 WIB = 16:59:59 UTC.
    received = datetime(2026, 3, 17, 10, 0, tzinfo=WIB)
    assert ktg.add_working_days(date(2026, 3, 17), 14) == date(2026, 4, 14)
    assert deadline_for(ktg, {}, "followup", received, complaint_class="pengaduan") == utc(2026, 4, 14, 16, 59, 59)


def test_across_the_year_end(bjm):
    # Wed 30 Dec 2026 10.00 WITA. No cuti bersama on 31 Dec or 2 Jan; 1 Jan 2027 (Fri) is New Year,
    # 5 Jan 2027 (Tue) is Isra Mikraj. Day 1 Thu 31 Dec, Fri 1 Jan skip, weekend, 2 Mon 4 Jan,
    # Tue 5 Jan skip, 3 Wed 6 Jan, 4 Thu 7 Jan, 5 Fri 8 Jan.
    received = datetime(2026, 12, 30, 10, 0, tzinfo=WITA)
    assert not bjm.is_working_day(date(2027, 1, 1))
    assert bjm.is_working_day(date(2026, 12, 31))
    assert bjm.holiday_name(date(2027, 1, 5)) == "Isra Mikraj Nabi Muhammad"
    # verification 3 → Wed 6 Jan 2027 23:59:59 WITA = 15:59:59 UTC
    assert deadline_for(bjm, {}, "verification", received) == utc(2027, 1, 6, 15, 59, 59)
    # coordination 5 → Fri 8 Jan 2027 23:59:59 WITA = 15:59:59 UTC
    assert deadline_for(bjm, {}, "coordination", received) == utc(2027, 1, 8, 15, 59, 59)
    assert bjm.working_days_between(date(2026, 12, 30), date(2027, 1, 8)) == 5


def test_weekend_evening_receipt(bjm):
    # Sat 28 Nov 2026 21.00 WITA (13:00 UTC): day 0 is the Saturday itself; day 1 Mon 30 Nov,
    # 2 Tue 1 Dec, 3 Wed 2 Dec (no holidays in that stretch).
    received = utc(2026, 11, 28, 13, 0)
    assert bjm.local_date(received) == date(2026, 11, 28)
    assert bjm.deadline(received, 1) == utc(2026, 11, 30, 15, 59, 59)  # Mon 30 Nov 23:59:59 WITA
    assert deadline_for(bjm, {}, "verification", received) == utc(2026, 12, 2, 15, 59, 59)  # Wed 2 Dec


def test_same_instant_in_wib_and_wita(bjm, ktg):
    # 2026-11-27 16:30 UTC = Fri 27 Nov 23:30 WIB = Sat 28 Nov 00:30 WITA.
    instant = utc(2026, 11, 27, 16, 30)
    assert ktg.local_date(instant) == date(2026, 11, 27)
    assert bjm.local_date(instant) == date(2026, 11, 28)
    # WIB: day 0 Fri 27; 1 Mon 30, 2 Tue 1 Dec, 3 Wed 2 Dec → 23:59:59 WIB = 16:59:59 UTC.
    # WITA: day 0 Sat 28; 1 Mon 30, 2 Tue 1 Dec, 3 Wed 2 Dec → 23:59:59 WITA = 15:59:59 UTC.
    # Both land on Wednesday (Friday night and Saturday both lead to Monday); only the zone differs.
    assert deadline_for(ktg, {}, "verification", instant) == utc(2026, 12, 2, 16, 59, 59)
    assert deadline_for(bjm, {}, "verification", instant) == utc(2026, 12, 2, 15, 59, 59)


def test_same_instant_on_a_weekday_gives_different_local_dates(bjm, ktg):
    # 2026-11-26 16:30 UTC = Thu 26 Nov 23:30 WIB = Fri 27 Nov 00:30 WITA.
    instant = utc(2026, 11, 26, 16, 30)
    # WIB: day 0 Thu 26; 1 Fri 27, 2 Mon 30, 3 Tue 1 Dec → 23:59:59 WIB = 16:59:59 UTC.
    assert deadline_for(ktg, {}, "verification", instant) == utc(2026, 12, 1, 16, 59, 59)
    # WITA: day 0 Fri 27; 1 Mon 30, 2 Tue 1 Dec, 3 Wed 2 Dec → 23:59:59 WITA = 15:59:59 UTC.
    assert deadline_for(bjm, {}, "verification", instant) == utc(2026, 12, 2, 15, 59, 59)


def test_n_zero_is_end_of_the_receipt_day(bjm):
    # Day 0 is the local receipt day even when it is not a working day.
    assert bjm.add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 28)
    assert bjm.add_working_days(date(2026, 3, 19), 0) == date(2026, 3, 19)  # Nyepi
    # Sat 28 Nov 2026 21.00 WITA → Sat 28 Nov 23:59:59 WITA = 15:59:59 UTC.
    assert bjm.deadline(utc(2026, 11, 28, 13, 0), 0) == utc(2026, 11, 28, 15, 59, 59)
    with pytest.raises(ValueError):
        bjm.add_working_days(date(2026, 11, 28), -1)


# -- local holidays -----------------------------------------------------------------------------------


def test_local_holiday_shifts_the_deadline():
    # Hari Jadi Kota Banjarmasin, Thu 24 Sep 2026 (no national holiday that week).
    # Received Tue 22 Sep 2026 10.00 WITA, verification 3:
    # without it: 1 Wed 23, 2 Thu 24, 3 Fri 25 Sep; with it: 1 Wed 23, 2 Fri 25, 3 Mon 28 Sep.
    received = datetime(2026, 9, 22, 10, 0, tzinfo=WITA)
    plain = SimpleNamespace(id=1, timezone="Asia/Makassar", settings={})
    local = SimpleNamespace(
        id=1,
        timezone="Asia/Makassar",
        settings={"local_holidays": [{"date": "2026-09-24", "name": "Hari Jadi Kota Banjarmasin"}]},
    )
    assert deadline_for(calendar_for_tenant(plain), {}, "verification", received) == utc(2026, 9, 25, 15, 59, 59)
    cal = calendar_for_tenant(local)
    assert deadline_for(cal, local.settings, "verification", received) == utc(2026, 9, 28, 15, 59, 59)
    assert not cal.is_working_day(date(2026, 9, 24))
    assert cal.holiday_name(date(2026, 9, 24)) == "Hari Jadi Kota Banjarmasin"
    assert cal.working_days_between(date(2026, 9, 22), date(2026, 9, 28)) == 3


def test_local_holidays_as_date_name_pairs():
    cal = WorkingCalendar("Asia/Makassar", [(date(2026, 9, 24), "Hari Jadi Kota Banjarmasin")])
    assert cal.add_working_days(date(2026, 9, 22), 3) == date(2026, 9, 28)


def test_calendar_for_tenant_is_cached_per_settings():
    settings = {"local_holidays": [{"date": "2026-09-24", "name": "Hari Jadi"}]}
    first = calendar_for_tenant(SimpleNamespace(id=7, timezone="Asia/Makassar", settings=settings))
    again = calendar_for_tenant(SimpleNamespace(id=7, timezone="Asia/Makassar", settings=dict(settings)))
    assert first is again
    # An edited holiday list must not reuse the stale calendar.
    edited = {"local_holidays": [*settings["local_holidays"], {"date": "2026-10-01", "name": "Libur"}]}
    changed = calendar_for_tenant(SimpleNamespace(id=7, timezone="Asia/Makassar", settings=edited))
    assert changed is not first
    assert not changed.is_working_day(date(2026, 10, 1))
    assert first.is_working_day(date(2026, 10, 1))


def test_bad_local_holiday_and_time_zone_raise():
    with pytest.raises(ValueError):
        WorkingCalendar("Asia/Makassar", [{"date": "24-09-2026", "name": "x"}])
    with pytest.raises(ValueError):
        WorkingCalendar("Asia/Makassar", [{"name": "no date"}])
    with pytest.raises(ValueError):
        WorkingCalendar("Asia/Banjarmasin", [])


# -- hold (tunda) -------------------------------------------------------------------------------------


def test_tunda_pause_adds_working_days(bjm):
    # DOMAIN example due Fri 27 Mar 2026; 2 working days on hold → Mon 30 (1), Tue 31 Mar (2)
    # → 31 Mar 23:59:59 WITA = 15:59:59 UTC.
    received = datetime(2026, 3, 17, 15, 0, tzinfo=WITA)
    # Hold from Wed 25 Mar 09.00 to Fri 27 Mar 14.00 WITA: working days after 25 up to 27 = 26, 27 = 2.
    paused = bjm.working_days_elapsed(datetime(2026, 3, 25, 9, tzinfo=WITA), datetime(2026, 3, 27, 14, tzinfo=WITA))
    assert paused == 2
    due = deadline_for(bjm, {}, "verification", received, paused_working_days=paused)
    assert due == utc(2026, 3, 31, 15, 59, 59)
    with pytest.raises(ValueError):
        deadline_for(bjm, {}, "verification", received, paused_working_days=-1)


# -- working_days_between / elapsed --------------------------------------------------------------------


def test_working_days_between(bjm):
    assert bjm.working_days_between(date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert bjm.working_days_between(date(2026, 3, 27), date(2026, 3, 17)) == 0
    # After Tue 17 up to Fri 27 Mar: 25, 26, 27.
    assert bjm.working_days_between(date(2026, 3, 17), date(2026, 3, 27)) == 3
    # Sat → Mon: only Monday counts.
    assert bjm.working_days_between(date(2026, 11, 28), date(2026, 11, 30)) == 1


@pytest.mark.parametrize("start", [date(2026, 3, 17), date(2026, 11, 28), date(2026, 12, 23), date(2027, 3, 5)])
def test_working_days_between_inverts_add_working_days(bjm, start):
    # Cross-check the arithmetic count against the day-by-day walk, over holiday clusters and a year end.
    for n in range(0, 70):
        assert bjm.working_days_between(start, bjm.add_working_days(start, n)) == n


def test_working_days_elapsed_uses_local_dates(bjm, ktg):
    # 2026-11-26 16:30 UTC is Thu 26 in WIB but Fri 27 in WITA; 2026-11-30 02:00 UTC is Mon 30 in both.
    since, now = utc(2026, 11, 26, 16, 30), utc(2026, 11, 30, 2, 0)
    assert ktg.working_days_elapsed(since, now) == 2  # Fri 27, Mon 30
    assert bjm.working_days_elapsed(since, now) == 1  # Mon 30


# -- deadline state -----------------------------------------------------------------------------------


def test_deadline_state_transitions_around_end_of_day(bjm):
    # Due Fri 27 Mar 2026 23:59:59 WITA = 15:59:59 UTC; due_soon_working_days defaults to 1.
    due = utc(2026, 3, 27, 15, 59, 59)
    # Tue 24 Mar (cuti bersama) 12.00 WITA: 25, 26, 27 remain = 3 → on time.
    assert deadline_state(bjm, {}, due, utc(2026, 3, 24, 4, 0)) == DeadlineState.ON_TIME
    # Wed 25 Mar 23:59:59 WITA (15:59:59 UTC): 26, 27 remain = 2 → on time.
    assert deadline_state(bjm, {}, due, utc(2026, 3, 25, 15, 59, 59)) == "on_time"
    # One second later is Thu 26 Mar 00:00 WITA: only 27 remains = 1 → due soon.
    assert deadline_state(bjm, {}, due, utc(2026, 3, 25, 16, 0, 0)) == "due_soon"
    # The due day itself, up to and including 23:59:59 WITA, is still due soon.
    assert deadline_state(bjm, {}, due, utc(2026, 3, 27, 2, 0)) == "due_soon"
    assert deadline_state(bjm, {}, due, due) == "due_soon"
    # Sat 28 Mar 00:00:00 WITA → overdue.
    assert deadline_state(bjm, {}, due, due + timedelta(seconds=1)) == "overdue"


def test_deadline_state_due_soon_setting(bjm):
    due = utc(2026, 3, 27, 15, 59, 59)  # Fri 27 Mar 2026 23:59:59 WITA
    # With 0 days, only the due day is "due soon": Thu 26 23:59:59 WITA on time, Fri 27 00:00 due soon.
    settings = {"due_soon_working_days": 0}
    assert deadline_state(bjm, settings, due, utc(2026, 3, 26, 15, 59, 59)) == "on_time"
    assert deadline_state(bjm, settings, due, utc(2026, 3, 26, 16, 0, 0)) == "due_soon"
    # With 3 days, Tue 24 Mar (25, 26, 27 remain) is already due soon.
    assert deadline_state(bjm, {"due_soon_working_days": 3}, due, utc(2026, 3, 24, 4, 0)) == "due_soon"


def test_deadline_state_over_a_weekend(bjm):
    # Due Mon 30 Mar 2026 23:59:59 WITA = 15:59:59 UTC. Thu 26 23:59:59 WITA: 27, 30 remain = 2 → on time;
    # Fri 27 00:00 WITA: only Mon 30 remains = 1 → due soon (the weekend does not count).
    due = utc(2026, 3, 30, 15, 59, 59)
    assert deadline_state(bjm, {}, due, utc(2026, 3, 26, 15, 59, 59)) == "on_time"
    assert deadline_state(bjm, {}, due, utc(2026, 3, 26, 16, 0, 0)) == "due_soon"
    assert deadline_state(bjm, {}, due, utc(2026, 3, 28, 2, 0)) == "due_soon"  # Saturday


def test_deadline_state_none(bjm):
    assert deadline_state(bjm, {}, None, utc(2026, 3, 25, 0, 0)) == DeadlineState.NONE


# -- naive datetimes ----------------------------------------------------------------------------------


def test_naive_datetimes_raise(bjm):
    naive = datetime(2026, 3, 17, 15, 0)
    aware = utc(2026, 3, 17, 7, 0)
    with pytest.raises(ValueError):
        bjm.local_date(naive)
    with pytest.raises(ValueError):
        bjm.deadline(naive, 3)
    with pytest.raises(ValueError):
        bjm.working_days_elapsed(naive, aware)
    with pytest.raises(ValueError):
        bjm.working_days_elapsed(aware, naive)
    with pytest.raises(ValueError):
        deadline_for(bjm, {}, "verification", naive)
    with pytest.raises(ValueError):
        deadline_state(bjm, {}, aware, naive)
    with pytest.raises(ValueError):
        deadline_state(bjm, {}, naive, aware)


# -- policy from settings -----------------------------------------------------------------------------


def test_stage_days_defaults_without_settings():
    assert STAGES == ("verification", "coordination", "followup", "auto_close")
    assert stage_days({}, "verification") == 3
    assert stage_days({}, "coordination") == 5
    assert stage_days({}, "auto_close") == 10
    assert stage_days(None, "followup", "aspirasi") == 5
    assert stage_days({}, "followup", "informasi") == 5
    assert stage_days({}, "followup", "pengaduan") == 14
    assert stage_days({}, "followup", "pengawasan") == 60


def test_template_settings_match_national_defaults():
    settings = tomllib.loads(TEMPLATE.read_text(encoding="utf-8"))["settings"]
    for stage in ("verification", "coordination", "auto_close"):
        assert stage_days(settings, stage) == stage_days({}, stage)
    for cls in ("aspirasi", "informasi", "pengaduan", "pengawasan"):
        assert stage_days(settings, "followup", cls) == stage_days({}, "followup", cls)


def test_tenant_settings_override_and_partial_fallback():
    settings = {
        "deadlines": {"verification": 2},  # coordination and auto_close missing → defaults
        "classes": {
            "pengaduan": {"name_id": "Pengaduan", "followup_days": 10},
            "aspirasi": {"name_id": "Aspirasi"},  # no followup_days → default 5
            "permohonan": {"name_id": "Permohonan", "followup_days": 7},  # a region's own class
        },
    }
    assert stage_days(settings, "verification") == 2
    assert stage_days(settings, "coordination") == 5
    assert stage_days(settings, "auto_close") == 10
    assert stage_days(settings, "followup", "pengaduan") == 10
    assert stage_days(settings, "followup", "aspirasi") == 5
    assert stage_days(settings, "followup", "permohonan") == 7
    assert stage_days(settings, "followup", "pengawasan") == 60  # not in settings → default


def test_unknown_class_stage_or_bad_value_raises():
    with pytest.raises(ValueError):
        stage_days({}, "followup", "keluhan")
    with pytest.raises(ValueError):
        stage_days({}, "followup")  # follow-up needs a class
    with pytest.raises(ValueError):
        stage_days({}, "closing")
    with pytest.raises(ValueError):
        stage_days({"deadlines": {"verification": -1}}, "verification")
    with pytest.raises(ValueError):
        stage_days({"deadlines": {"verification": "tiga"}}, "verification")
    with pytest.raises(ValueError):
        deadline_for(WorkingCalendar("Asia/Makassar"), {}, "followup", utc(2026, 3, 17, 7, 0), "keluhan")


def test_counting_rule_help_text():
    assert "day 0" in COUNTING_RULE
    assert "23:59:59" in COUNTING_RULE
    assert "\n" not in COUNTING_RULE
