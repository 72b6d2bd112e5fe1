"""The working-day calendar: library data, overrides, arithmetic, pauses, time zones."""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import (
    LOCAL_TZ,
    WORKING_DAY,
    CalendarError,
    WorkingCalendar,
    after_office_days,
    load_overrides,
    office_days_between,
)
from engine.errors import EngineError

SHIPPED_TABLE = Path(__file__).resolve().parents[2] / "catalog" / "holidays.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
END = time.max  # 23:59:59.999999, the due moment of a day

# the last start from which 60 working days still end inside 2026
LAST_SAFE_START = date(2026, 9, 30)


@pytest.fixture(scope="module")
def cal():
    return WorkingCalendar()


def end_of(y, m, d):
    return datetime.combine(date(y, m, d), END)


# -- the library's data ------------------------------------------------------------


def test_every_covered_day_matches_the_library(cal):
    day, checked = date(2004, 1, 1), 0
    while day.year <= 2026:
        assert cal.is_working_day(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
        checked += 1
    assert checked == 8401


def test_covered_years_are_the_library_years(cal):
    assert cal.covered_years() == frozenset(range(2004, 2027))


def test_calendar_error_is_a_domain_value_error():
    assert issubclass(CalendarError, ValueError)
    assert issubclass(CalendarError, EngineError)


# -- Spring Festival 2024: Feb 10-17 off, Sun Feb 4 and Sun Feb 18 worked ----------


@pytest.mark.parametrize(
    "start, n, due",
    [
        # Thu Feb 8 + 3: Fri Feb 9 (1), Sun Feb 18 make-up (2), Mon Feb 19 (3)
        (date(2024, 2, 8), 3, date(2024, 2, 19)),
        # Fri Feb 9 (除夕, a working day in 2024) + 1: the break, then Sun Feb 18
        (date(2024, 2, 9), 1, date(2024, 2, 18)),
        # Sat Feb 3 + 1: Sun Feb 4 is a make-up working day
        (date(2024, 2, 3), 1, date(2024, 2, 4)),
        # Thu Feb 1 + 10: Feb 2, 4, 5, 6, 7, 8, 9, 18, 19, 20
        (date(2024, 2, 1), 10, date(2024, 2, 20)),
        # accepted during the break (Tue Feb 13) + 2: Sun Feb 18, Mon Feb 19
        (date(2024, 2, 13), 2, date(2024, 2, 19)),
        # Mon Jan 29 + 20: Jan 30, 31, Feb 1, 2, 4, 5-9 (10), 18-23 (16), 26-29 (20)
        (date(2024, 1, 29), 20, date(2024, 2, 29)),
    ],
)
def test_spring_festival_2024(cal, start, n, due):
    assert cal.add_working_days(start, n) == due
    assert cal.working_days_between(start, due) == n


def test_spring_festival_2024_days(cal):
    assert cal.is_working_day(date(2024, 2, 4))
    assert cal.is_working_day(date(2024, 2, 18))
    assert not any(cal.is_working_day(date(2024, 2, d)) for d in range(10, 18))
    assert cal.working_days_between(date(2024, 2, 9), date(2024, 2, 17)) == 0
    assert cal.working_days_between(date(2024, 2, 9), date(2024, 2, 18)) == 1


# -- National Day 2025: Oct 1-8 off, Sun Sep 28 and Sat Oct 11 worked ---------------


@pytest.mark.parametrize(
    "start, n, due",
    [
        # Fri Sep 26 + 5: Sun Sep 28, Mon 29, Tue 30, Thu Oct 9, Fri Oct 10
        (date(2025, 9, 26), 5, date(2025, 10, 10)),
        # + 6: Sat Oct 11 is a make-up working day
        (date(2025, 9, 26), 6, date(2025, 10, 11)),
        # + 7: Sun Oct 12 rests, Mon Oct 13
        (date(2025, 9, 26), 7, date(2025, 10, 13)),
        # Tue Sep 30 + 1: the whole break, then Thu Oct 9
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        # Tue Sep 30 + 20: Oct 9, 10, 11, 13-17 (8), 20-24 (13), 27-31 (18), Nov 3, Nov 4
        (date(2025, 9, 30), 20, date(2025, 11, 4)),
        # Sat Sep 27 + 1: Sun Sep 28 is a make-up working day
        (date(2025, 9, 27), 1, date(2025, 9, 28)),
    ],
)
def test_national_day_2025(cal, start, n, due):
    assert cal.add_working_days(start, n) == due
    assert cal.working_days_between(start, due) == n


# -- the counting convention -------------------------------------------------------


def test_start_day_is_not_counted_and_due_is_end_of_day(cal):
    morning = datetime(2024, 2, 8, 8, 30)
    evening = datetime(2024, 2, 8, 23, 59)
    assert cal.add_working_days(morning, 3) == end_of(2024, 2, 19)
    assert cal.add_working_days(evening, 3) == end_of(2024, 2, 19)


def test_zero_days_is_the_end_of_the_same_day(cal):
    assert cal.add_working_days(datetime(2025, 10, 3, 10, 0), 0) == end_of(2025, 10, 3)
    assert cal.add_working_days(date(2025, 10, 3), 0) == date(2025, 10, 3)


def test_negative_days_raise(cal):
    with pytest.raises(CalendarError):
        cal.add_working_days(date(2024, 2, 8), -1)


def test_working_days_between_is_negative_backwards(cal):
    assert cal.working_days_between(date(2024, 2, 19), date(2024, 2, 8)) == -3
    assert cal.working_days_between(date(2024, 2, 8), date(2024, 2, 8)) == 0


DAYS = st.dates(min_value=date(2004, 1, 1), max_value=LAST_SAFE_START)
LIMITS = st.integers(min_value=0, max_value=60)


@settings(database=None, max_examples=300)
@given(start=DAYS, n=LIMITS)
def test_between_inverts_add_for_dates(cal, start, n):
    due = cal.add_working_days(start, n)
    assert cal.working_days_between(start, due) == n
    if n > 0:
        assert cal.is_working_day(due)
        assert due > start


@settings(database=None, max_examples=300)
@given(
    start=st.datetimes(
        min_value=datetime(2004, 1, 2),
        max_value=datetime.combine(LAST_SAFE_START, time.min),
        timezones=st.sampled_from([None, UTC, SHANGHAI, NEW_YORK]),
    ),
    n=LIMITS,
)
def test_between_inverts_add_for_datetimes(cal, start, n):
    due = cal.add_working_days(start, n)
    assert cal.working_days_between(start, due) == n
    assert due.tzinfo is start.tzinfo
    local = due.astimezone(LOCAL_TZ) if due.tzinfo else due
    assert local.time() == END
    if n > 0:
        assert cal.is_working_day(due)


# -- years the library does not know -------------------------------------------------


def test_2027_raises_until_declared(cal):
    with pytest.raises(CalendarError) as caught:
        cal.is_working_day(date(2027, 3, 1))
    message = str(caught.value)
    assert "2027" in message and "2027年" in message
    assert caught.value.context == {"year": 2027}
    with pytest.raises(CalendarError, match="2027"):
        cal.add_working_days(date(2026, 12, 28), 5)
    with pytest.raises(CalendarError, match="2027"):
        cal.working_days_between(date(2026, 12, 1), date(2027, 1, 10))
    with pytest.raises(CalendarError, match="2003"):
        cal.is_working_day(date(2003, 12, 31))


def test_late_2026_needs_no_2027(cal):
    # Thu Dec 24 2026 + 4: Fri 25, Mon 28, Tue 29, Wed 30
    assert cal.add_working_days(date(2026, 12, 24), 4) == date(2026, 12, 30)
    # an immediate item needs no knowledge of its day
    assert cal.add_working_days(date(2027, 3, 1), 0) == date(2027, 3, 1)


def test_declaring_2027_makes_it_work():
    cal = WorkingCalendar({date(2027, 1, 1): False}, extra_years=[2027])
    assert 2027 in cal.covered_years()
    assert not cal.is_working_day(date(2027, 1, 1))  # Friday, New Year
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert cal.is_working_day(date(2027, 1, 4))  # Monday
    # Wed Dec 30 2026 + 2: Thu Dec 31, then Mon Jan 4 2027
    assert cal.add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 4)
    with pytest.raises(CalendarError, match="2028"):
        cal.is_working_day(date(2028, 1, 3))


def test_a_gap_between_declared_years_raises():
    cal = WorkingCalendar(extra_years=[2028])
    with pytest.raises(CalendarError, match="2027"):
        cal.add_working_days(date(2026, 12, 30), 5)
    with pytest.raises(CalendarError, match="2027"):
        cal.working_days_between(date(2026, 12, 30), date(2028, 1, 5))


def test_an_override_wins_over_the_library():
    cal = WorkingCalendar({date(2024, 2, 9): False, date(2024, 2, 17): True})
    assert not cal.is_working_day(date(2024, 2, 9))
    assert cal.is_working_day(date(2024, 2, 17))
    # Thu Feb 8 + 1 now skips Fri Feb 9 and lands on the overridden Sat Feb 17
    assert cal.add_working_days(date(2024, 2, 8), 1) == date(2024, 2, 17)
    assert cal.add_working_days(date(2024, 2, 8), 2) == date(2024, 2, 18)


def test_overrides_must_be_dates_and_booleans():
    with pytest.raises(CalendarError):
        WorkingCalendar({datetime(2024, 2, 9): False})
    with pytest.raises(CalendarError):
        WorkingCalendar({date(2024, 2, 9): 0})


# -- the override table file ------------------------------------------------------------


def write_table(tmp_path, years):
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"note": "test", "years": years}), encoding="utf-8")
    return path


def test_the_shipped_table_declares_2027_provisionally():
    overrides, declared = load_overrides(SHIPPED_TABLE)
    assert declared == frozenset({2027})
    table = json.loads(SHIPPED_TABLE.read_text(encoding="utf-8"))
    assert "暂定" in table["years"]["2027"]["notice"]  # says it is provisional, pending the notice
    calendar = WorkingCalendar(overrides, declared)
    assert not calendar.is_working_day(date(2027, 2, 8))  # 初三, a statutory holiday
    assert not calendar.is_working_day(date(2027, 2, 9))  # made up for 初一 falling on a Saturday
    assert calendar.is_working_day(date(2027, 2, 11))
    with pytest.raises(CalendarError, match="2028"):
        calendar.is_working_day(date(2028, 6, 1))


def test_a_declared_year_in_the_table(tmp_path):
    path = write_table(tmp_path, {
        "2027": {
            "declared": True,
            "notice": "test",
            "holidays": ["2026-12-31", "2027-01-01"],
            "workdays": ["2027-01-09"],
        },
    })
    overrides, declared = load_overrides(path)
    assert declared == frozenset({2027})
    assert overrides[date(2026, 12, 31)] is False
    assert overrides[date(2027, 1, 9)] is True
    cal = WorkingCalendar.from_file(path)
    assert not cal.is_working_day(date(2026, 12, 31))
    assert cal.is_working_day(date(2027, 1, 9))  # a Saturday made a working day
    # Wed Dec 30 2026 + 2: Mon Jan 4, Tue Jan 5
    assert cal.add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 5)


@pytest.mark.parametrize(
    "entry",
    [
        {"declared": True, "holidays": [], "workdays": []},
        {"declared": False, "holidays": ["2027-02-30"]},
        {"declared": False, "holidays": ["2025-10-01"]},
        {"declared": False, "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]},
        {"declared": "yes"},
        {"declard": True},
    ],
)
def test_malformed_tables_raise(tmp_path, entry):
    with pytest.raises(CalendarError):
        load_overrides(write_table(tmp_path, {"2027": entry}))


# -- pausing the clock -------------------------------------------------------------------


def test_pause_over_dragon_boat_weekend_is_one_working_day(cal):
    # Fri Jun 7 2024 09:00 to Tue Jun 11 09:00; Sat 8 - Mon 10 are rest days
    paused = cal.working_time_between(datetime(2024, 6, 7, 9), datetime(2024, 6, 11, 9))
    assert paused == WORKING_DAY  # 15 h on Friday + 9 h on Tuesday
    # a due at the end of Fri Jun 14 moves to the end of Mon Jun 17
    assert cal.extend(end_of(2024, 6, 14), paused) == end_of(2024, 6, 17)


def test_pause_over_national_day_2025(cal):
    # Fri Sep 26 12:00 to Thu Oct 9 12:00: 12 h + Sun 28, Mon 29, Tue 30 + 12 h
    paused = cal.working_time_between(datetime(2025, 9, 26, 12), datetime(2025, 10, 9, 12))
    assert paused == 4 * WORKING_DAY
    # end of Mon Oct 20 + 4 working days: Oct 21, 22, 23, 24
    assert cal.extend(end_of(2025, 10, 20), paused) == end_of(2025, 10, 24)
    # the same pause spread on a due before the break skips it too
    assert cal.extend(end_of(2025, 9, 26), paused) == end_of(2025, 10, 9)


def test_pause_inside_rest_days_counts_nothing(cal):
    assert cal.working_time_between(datetime(2024, 2, 10, 9), datetime(2024, 2, 17, 18)) == timedelta(0)
    assert cal.working_time_between(datetime(2024, 2, 19, 9), datetime(2024, 2, 19, 17)) == timedelta(hours=8)


def test_partial_pause_moves_into_the_next_working_day(cal):
    # 18 h of working time after the end of Fri Jun 7 2024: the break, then Tue Jun 11 18:00
    assert cal.extend(end_of(2024, 6, 7), timedelta(hours=18)) == datetime(2024, 6, 11, 17, 59, 59, 999999)
    # a due in the middle of a working day moves within it when it can
    assert cal.extend(datetime(2024, 6, 7, 10), timedelta(hours=3)) == datetime(2024, 6, 7, 13)


def test_extend_takes_working_days_and_date_dues(cal):
    assert cal.extend(end_of(2024, 2, 8), 2) == end_of(2024, 2, 18)
    assert cal.extend(date(2024, 2, 8), 2) == date(2024, 2, 18)
    assert cal.extend(end_of(2024, 2, 8), 0) == end_of(2024, 2, 8)
    with pytest.raises(CalendarError):
        cal.extend(date(2024, 2, 8), 0.5)
    with pytest.raises(CalendarError):
        cal.extend(end_of(2024, 2, 8), timedelta(hours=-1))


def test_working_time_is_negative_backwards(cal):
    a, b = datetime(2024, 6, 7, 9), datetime(2024, 6, 11, 9)
    assert cal.working_time_between(b, a) == -WORKING_DAY


@settings(database=None, max_examples=200)
@given(start=DAYS, n=st.integers(0, 30), k=st.integers(0, 30))
def test_a_whole_day_pause_equals_a_longer_limit(cal, start, n, k):
    start = datetime.combine(start, time(10))
    assert cal.extend(cal.add_working_days(start, n), k * WORKING_DAY) == cal.add_working_days(start, n + k)


# -- time zones -----------------------------------------------------------------------------


def test_naive_datetimes_are_shanghai_time(cal):
    # 23:30 on Thu Feb 8 local: the start day is Feb 8
    assert cal.add_working_days(datetime(2024, 2, 8, 23, 30), 1) == end_of(2024, 2, 9)


def test_aware_datetimes_use_their_shanghai_day_and_keep_their_zone(cal):
    # 23:30 UTC on Feb 8 is 07:30 on Fri Feb 9 in Shanghai: the start day is Feb 9
    start = datetime(2024, 2, 8, 23, 30, tzinfo=UTC)
    due = cal.add_working_days(start, 1)
    assert due.tzinfo is UTC
    assert due == datetime(2024, 2, 18, 15, 59, 59, 999999, tzinfo=UTC)
    assert due.astimezone(SHANGHAI) == end_of(2024, 2, 18).replace(tzinfo=SHANGHAI)
    assert cal.is_working_day(datetime(2024, 2, 9, 16, 30, tzinfo=UTC)) is False  # Sat 00:30 local


def test_working_time_mixes_naive_and_aware(cal):
    naive = datetime(2024, 6, 7, 9)  # Shanghai
    aware = datetime(2024, 6, 11, 1, tzinfo=UTC)  # Tue 09:00 Shanghai
    assert cal.working_time_between(naive, aware) == WORKING_DAY


# -- other units ------------------------------------------------------------------------------


def test_calendar_days_and_hours(cal):
    assert cal.add_calendar_days(date(2025, 9, 30), 3) == date(2025, 10, 3)
    assert cal.add_calendar_days(datetime(2025, 9, 30, 9), 3) == end_of(2025, 10, 3)
    assert cal.add_calendar_days(date(2025, 9, 30), 3, roll_forward=True) == date(2025, 10, 9)
    assert cal.add_hours(datetime(2025, 9, 30, 9), 48) == datetime(2025, 10, 2, 9)
    # elapsed hours across a daylight-saving change stay elapsed hours
    start = datetime(2025, 3, 8, 12, tzinfo=NEW_YORK)
    due = cal.add_hours(start, 24)
    assert due == datetime(2025, 3, 9, 13, tzinfo=NEW_YORK)  # EST to EDT
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)
    assert cal.add_hours(start, 24).tzinfo is NEW_YORK
    with pytest.raises(CalendarError):
        cal.add_hours(date(2025, 9, 30), 2)


def test_due_date_dispatches_on_the_unit(cal):
    start = datetime(2024, 2, 8, 10)
    assert cal.due_date(start, 3, "working_days") == end_of(2024, 2, 19)
    assert cal.due_date(start, 3, "calendar_days") == end_of(2024, 2, 11)
    assert cal.due_date(start, 2, "hours") == datetime(2024, 2, 8, 12)
    assert cal.due_date(start, None, "immediate") == end_of(2024, 2, 8)
    assert cal.due_date(start, 0, "immediate") == end_of(2024, 2, 8)
    with pytest.raises(CalendarError):
        cal.due_date(start, 5, "immediate")
    with pytest.raises(CalendarError, match="fortnights"):
        cal.due_date(start, 1, "fortnights")


# -- office hours (how long work takes, 09:00-17:00 on working days) ---------------------------------

def _at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_office_time_counts_office_hours_of_working_days_only(cal):
    # Friday 16:00 to Monday 10:00 (2025-05-09 to 05-12): one hour each side, the weekend nothing
    assert office_days_between(cal, _at(2025, 5, 9, 16), _at(2025, 5, 12, 10)) == pytest.approx(2 / 8)
    assert office_days_between(cal, _at(2025, 5, 12, 8), _at(2025, 5, 12, 20)) == pytest.approx(1.0)
    assert office_days_between(cal, _at(2025, 5, 10, 10), _at(2025, 5, 10, 15)) == 0.0  # a Saturday
    # 国庆 2025: 10-01 to 10-08 rest; 09-30, 10-09, 10-10 and Saturday 10-11 (调休) work
    assert office_days_between(cal, _at(2025, 9, 30, 9), _at(2025, 10, 13, 9)) == pytest.approx(4.0)
    assert office_days_between(cal, _at(2025, 5, 12, 12), _at(2025, 5, 12, 11)) == 0.0


def test_after_office_days_starts_at_the_next_opening_and_lands_in_office_hours(cal):
    assert after_office_days(cal, _at(2025, 5, 9, 16), 0.25) == _at(2025, 5, 12, 10)  # over the weekend
    assert after_office_days(cal, _at(2025, 5, 10, 14), 1.0) == _at(2025, 5, 13, 9)   # from a Saturday
    assert after_office_days(cal, _at(2025, 5, 12, 20), 0.5) == _at(2025, 5, 13, 13)  # from the evening
    assert after_office_days(cal, _at(2025, 9, 30, 16), 0.25) == _at(2025, 10, 9, 10)  # past 国庆


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 6, 30)),
       st.floats(min_value=0, max_value=40))
def test_office_time_and_after_office_days_are_inverse(start, days):
    cal = WorkingCalendar()
    begins = after_office_days(cal, start.replace(second=0, microsecond=0, tzinfo=SHANGHAI), 0)
    ends = after_office_days(cal, begins, days)
    assert office_days_between(cal, begins, ends) == pytest.approx(days, abs=1e-6)
    local = ends.astimezone(SHANGHAI)
    assert cal.is_working_day(local.date()) and time(9) <= local.time() <= time(17)
