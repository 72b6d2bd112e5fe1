"""The item clock's arithmetic: due and warning instants, pauses, restarts, lights."""

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import LOCAL_TZ, CalendarError, WorkingCalendar
from engine.timelimits import (
    GREEN,
    NO_LIMIT,
    RED,
    YELLOW,
    ItemClock,
    light,
    pause_amount,
    paused,
    restarted,
    thresholds,
    warning_day_index,
)

SHARE = 2 / 3


@pytest.fixture(scope="module")
def cal():
    return WorkingCalendar()


def at(y, m, d, hh=0, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def end_of(y, m, d):
    return dt.datetime.combine(dt.date(y, m, d), dt.time.max, LOCAL_TZ)


def local(value):
    return value.astimezone(LOCAL_TZ)


def test_spring_festival_2024_with_its_make_up_sunday(cal):
    # 2024-02-10..17 rest; Sunday 2024-02-18 is a make-up working day (and Sunday 02-04 before it)
    clock = ItemClock(at(2024, 2, 7, 10), 10, "working_days")
    found = thresholds(cal, clock, SHARE)
    # working days after acceptance: 8, 9, 18 (Sun), 19, 20, 21, 22, 23, 26, 27
    assert local(found.due_at) == end_of(2024, 2, 27)
    # warning: the 7th of 10 days (ceil(2/3 * 10)) starts at midnight
    assert local(found.warn_at) == at(2024, 2, 22)
    assert chinese_calendar.is_workday(dt.date(2024, 2, 18)) and not chinese_calendar.is_workday(dt.date(2024, 2, 24))


def test_national_day_2025_with_its_make_up_weekend(cal):
    # 2025-10-01..08 rest; Sunday 09-28 and Saturday 10-11 are working days
    found = thresholds(cal, ItemClock(at(2025, 9, 26, 16), 5, "working_days"), SHARE)
    assert local(found.due_at) == end_of(2025, 10, 10)  # 28, 29, 30, 9, 10
    assert local(found.warn_at) == at(2025, 10, 9)  # ceil(2/3 * 5) = 4th day
    longer = thresholds(cal, ItemClock(at(2025, 9, 26, 16), 6, "working_days"), SHARE)
    assert local(longer.due_at) == end_of(2025, 10, 11)  # the make-up Saturday counts


def test_a_pause_counts_the_days_after_it_started_up_to_the_day_it_ended(cal):
    # stopped on 30 Sep, running again on 9 Oct: only 9 Oct is a paused working day
    assert pause_amount(cal, "working_days", at(2025, 9, 30, 15), at(2025, 10, 9, 10)) == (1, 0)
    # stopped 8 Feb 2024, running again on the make-up Sunday 18 Feb: 9 and 18 Feb
    assert pause_amount(cal, "working_days", at(2024, 2, 8, 15), at(2024, 2, 18, 10)) == (2, 0)
    assert pause_amount(cal, "working_days", at(2024, 3, 4, 9), at(2024, 3, 4, 17)) == (0, 0)
    assert pause_amount(cal, "calendar_days", at(2024, 2, 8, 15), at(2024, 2, 18, 10)) == (10, 0)
    assert pause_amount(cal, "hours", at(2024, 2, 8, 15), at(2024, 2, 9, 16)) == (0, 25 * 3600)
    with pytest.raises(CalendarError):
        pause_amount(cal, "working_days", at(2024, 2, 9), at(2024, 2, 8))


def test_resuming_moves_due_and_warning_by_the_pause(cal):
    clock = ItemClock(at(2024, 2, 7, 10), 10, "working_days")
    resumed = paused(cal, clock, at(2024, 2, 8, 15), at(2024, 2, 18, 10))
    assert resumed.paused_days == 2
    found = thresholds(cal, resumed, SHARE)
    assert local(found.due_at) == end_of(2024, 2, 29)  # two working days later than 27 Feb
    assert local(found.warn_at) == at(2024, 2, 26)  # 22 Feb + 2 working days (23, 26)


def test_restart_counts_the_whole_limit_from_the_resume(cal):
    clock = paused(cal, ItemClock(at(2024, 2, 7, 10), 10, "working_days"), at(2024, 2, 8), at(2024, 2, 9))
    fresh = restarted(clock, at(2024, 2, 18, 10))
    assert fresh.paused_days == 0 and fresh.started_at == at(2024, 2, 18, 10)
    assert local(thresholds(cal, fresh, SHARE).due_at) == end_of(2024, 3, 1)  # 19..23, 26..29, 1 Mar


def test_other_units(cal):
    calendar_days = thresholds(cal, ItemClock(at(2024, 2, 7, 10), 30, "calendar_days"), SHARE)
    assert local(calendar_days.due_at) == end_of(2024, 3, 8)
    assert local(calendar_days.warn_at) == at(2024, 2, 27)  # day 20 of 30 (2024 is a leap year)
    hours = thresholds(cal, ItemClock(at(2024, 2, 9, 18), 24, "hours", paused_seconds=3600), SHARE)
    assert local(hours.due_at) == at(2024, 2, 10, 19) and local(hours.warn_at) == at(2024, 2, 10, 11)
    immediate = thresholds(cal, ItemClock(at(2024, 2, 9, 18), 0, "immediate"), SHARE)
    assert local(immediate.due_at) == end_of(2024, 2, 9) and immediate.warn_at is None
    # an immediate item paused over the Spring Festival break is due at the end of the resume day
    resumed = paused(cal, ItemClock(at(2024, 2, 9, 18), 0, "immediate"), at(2024, 2, 9, 18), at(2024, 2, 18, 9))
    assert local(thresholds(cal, resumed, SHARE).due_at) == end_of(2024, 2, 18)


def test_bad_clocks_and_shares_are_refused(cal):
    with pytest.raises(CalendarError):
        ItemClock(dt.datetime(2024, 2, 7), 5, "working_days")  # naive
    with pytest.raises(CalendarError):
        ItemClock(at(2024, 2, 7), 5, "fortnights")
    with pytest.raises(CalendarError):
        ItemClock(at(2024, 2, 7), 3, "immediate")
    with pytest.raises(CalendarError):
        warning_day_index(10, 0)
    with pytest.raises(CalendarError, match="2027"):
        thresholds(cal, ItemClock(at(2026, 12, 20), 20, "working_days"), SHARE)


@pytest.mark.parametrize("n,k", [(1, 1), (3, 2), (5, 4), (7, 5), (10, 7), (20, 14), (30, 20)])
def test_warning_day_is_ceil_of_the_share(n, k):
    assert warning_day_index(n, SHARE) == k


def test_lights():
    due, warn = at(2024, 2, 27, 23, 59), at(2024, 2, 22)
    assert light(None, None, at(2024, 3, 1)) == NO_LIMIT
    assert light(due, warn, at(2024, 2, 21, 23, 59)) == GREEN
    assert light(due, warn, at(2024, 2, 22)) == YELLOW
    assert light(due, warn, due) == YELLOW
    assert light(due, warn, due + dt.timedelta(microseconds=1)) == RED
    # a paused clock keeps the light it had when it stopped; a finished one the light at the end
    assert light(due, warn, at(2024, 3, 9), paused_at=at(2024, 2, 20)) == GREEN
    assert light(due, warn, at(2024, 3, 9), finished_at=at(2024, 2, 23)) == YELLOW
    assert light(due, warn, at(2024, 2, 1), finished_at=at(2024, 3, 1)) == RED
    assert light(due, None, at(2024, 2, 27)) == GREEN


@settings(max_examples=60, deadline=None)
@given(st.dates(dt.date(2020, 1, 1), dt.date(2025, 10, 1)), st.integers(1, 40), st.integers(0, 20))
def test_a_pause_of_k_working_days_equals_a_limit_k_days_longer(start_day, n, k):
    calendar = WorkingCalendar()
    start = dt.datetime.combine(start_day, dt.time(10), LOCAL_TZ)
    longer = thresholds(calendar, ItemClock(start, n + k, "working_days"), SHARE)
    assert thresholds(calendar, ItemClock(start, n, "working_days", paused_days=k), SHARE).due_at == longer.due_at
    assert calendar.working_days_between(start, longer.due_at) == n + k
