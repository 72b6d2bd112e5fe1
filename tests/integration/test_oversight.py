"""The supervision dashboard: every figure equals independent SQL over the same rows; scope; exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from app import create_app
from app.db import transaction
from app.errors import Forbidden, InvalidInput
from app.models import Unit, User
from app.services.oversight import exports, figures
from app.services.oversight.scope import CITY, PROVINCE, UNIT, Filters, Scope, parse_filters, scope_of
from app.services.people import accounts
from app.services.provisioning import reference
from app.services.timelimits import itemclock
from engine.calendar import WorkingCalendar
from tests.integration.history_steps import generate, wipe

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
HAIKOU = ("460100", "460105", "460106", "460107", "460108")


@pytest.fixture(scope="module")
def history(backend_platform):
    """A history of 60 projects with a frozen 'now' a day after it ends; removed after the module."""
    wipe(backend_platform)
    generate(backend_platform, 60, seed=11)
    wall, backend_platform.clock = backend_platform.clock, lambda: NOW
    with transaction(backend_platform.sessions) as session:
        unit = session.scalar(select(Unit).where(Unit.code == "460100-HUD"))
        session.add(User(username="supervisor_unit_test", display_name="海口住建督办", role="supervisor",
                         unit_id=unit.id, password_hash=accounts.hash_password(reference.DEMO_PASSWORD, fast=True)))
    yield backend_platform
    backend_platform.clock = wall
    with transaction(backend_platform.sessions) as session:
        session.execute(text("DELETE FROM user_account WHERE username = 'supervisor_unit_test'"))
    wipe(backend_platform)


def _user(platform, name):
    with transaction(platform.sessions, write=False) as session:
        user = session.scalar(select(User).where(User.username == name))
        session.expunge(user)
        return user


def _sql_write(platform, statement, **params):
    with transaction(platform.sessions) as session:
        session.execute(text(statement), params)


def _sql(platform, statement, **params):
    with transaction(platform.sessions, write=False) as session:
        return session.execute(text(statement), params).all()


def _scope_sql(scope: Scope) -> str:
    if scope.level == CITY:
        return " AND p.division_code IN (" + ",".join(f"'{d}'" for d in scope.divisions) + ")"
    if scope.level == UNIT:
        return f" AND h.unit_id = {int(scope.unit_id)}"
    return ""


def _scopes(platform):
    with transaction(platform.sessions, write=False) as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "460100-HUD"))
    return [Scope(PROVINCE, name="海南省"), Scope(CITY, divisions=HAIKOU, name="海口市"),
            Scope(UNIT, unit_id=unit_id, name="海口市住房和城乡建设局")]


def test_viewers_scope_follows_their_unit(history):
    assert scope_of(history, _user(history, "admin")).level == PROVINCE
    city = scope_of(history, _user(history, "supervisor1"))
    assert city.level == CITY and set(city.divisions) == set(HAIKOU)
    assert scope_of(history, _user(history, "supervisor_unit_test")).level == UNIT
    for name in ("window1", "drc_haikou", "applicant1", "analyst1"):
        with pytest.raises(Forbidden):
            scope_of(history, _user(history, name))


@pytest.mark.parametrize("period", [(None, None), (dt.date(2025, 3, 1), dt.date(2025, 12, 31))])
def test_counts_equal_independent_sql(history, period):
    filters = Filters(*period)
    since = filters.since or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    until = filters.until or dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    for scope in _scopes(history):
        with transaction(history.sessions, write=False) as session:
            got = figures.summary(session, history, scope, filters)
        where = "FROM item_handling h JOIN project p ON p.id = h.project_id WHERE 1=1" + _scope_sql(scope)
        accepted = _sql(history, f"SELECT h.accepted_at {where}")
        finished = _sql(history, f"SELECT h.finished_at, h.due_at {where} AND h.finished_at IS NOT NULL")
        assert got["items_accepted"] == sum(1 for (a,) in accepted if since <= _utc(a) < until)
        in_period = [(f, d) for f, d in finished if since <= _utc(f) < until]
        assert got["items_finished"] == len(in_period)
        assert got["items_on_time"] == sum(1 for f, d in in_period if d is None or _utc(f) <= _utc(d))
        open_rows = _sql(history, f"SELECT h.due_at, h.warn_at, h.paused_at {where} AND h.finished_at IS NULL")
        red = sum(1 for due, _warn, paused in open_rows if due is not None and _utc(paused or NOW) > _utc(due))
        assert got["overdue"] == red and got["open"] == len(open_rows)
        if scope.level != UNIT:
            rows = _sql(history, "SELECT created_at, enterprise_id, division_code FROM project")
            mine = [(c, e) for c, e, d in rows if since <= _utc(c) < until
                    and (scope.level == PROVINCE or d in scope.divisions)]
            assert (got["projects"], got["enterprises"]) == (len(mine), len({e for _, e in mine}))


def _utc(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _rank_percentile(values, share):
    """The smallest value with at least ``share`` of the values at or below it (nearest rank)."""
    for candidate in sorted(set(values)):
        if sum(1 for v in values if v <= candidate) >= share * len(values):
            return candidate
    return None


@pytest.mark.parametrize("by", figures.GROUPINGS)
def test_durations_equal_working_days_counted_independently(history, by):
    calendar = history.calendar
    for scope in _scopes(history):
        with transaction(history.sessions, write=False) as session:
            got = {d["key"]: d for d in figures.durations(session, history, scope, Filters(), by)}
        rows = _sql(history, "SELECT pi.stage_key, h.item_code, p.division_code, h.accepted_at, h.finished_at, "
                             "h.paused_working_days FROM item_handling h JOIN project p ON p.id = h.project_id "
                             "JOIN process_instance pi ON pi.id = h.instance_id WHERE h.finished_at IS NOT NULL"
                    + _scope_sql(scope))
        groups: dict = {}
        for stage, item, division, accepted, finished, paused in rows:
            key = {"stage": stage, "item": item, "department": history.catalog.item(item).role,
                   "city": history.catalog.division(division).parent
                   if history.catalog.division(division).level == "district" else division}[by]
            start, end = _utc(accepted).astimezone(_SHANGHAI).date(), _utc(finished).astimezone(_SHANGHAI).date()
            days = sum(1 for k in range(1, (end - start).days + 1)
                       if calendar.is_working_day(start + dt.timedelta(days=k))) - (paused or 0)
            groups.setdefault(key, []).append(max(0, days))
        assert set(got) == set(groups)
        for key, values in groups.items():
            assert got[key]["count"] == len(values)
            assert got[key]["median"] == _rank_percentile(values, 0.5), (by, key)
            assert got[key]["p90"] == _rank_percentile(values, 0.9), (by, key)
            assert math.isclose(got[key]["mean"], round(sum(values) / len(values), 1))


_SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _independent_durations(platform, by):
    """Durations by ``by`` for the province, counted on the calendar from the raw instants."""
    calendar = platform.calendar
    rows = _sql(platform, "SELECT pi.stage_key, h.item_code, p.division_code, h.accepted_at, h.finished_at, "
                          "h.paused_working_days FROM item_handling h JOIN project p ON p.id = h.project_id "
                          "JOIN process_instance pi ON pi.id = h.instance_id WHERE h.finished_at IS NOT NULL")
    groups: dict = {}
    for stage, item, _division, accepted, finished, paused in rows:
        key = {"stage": stage, "item": item}[by]
        start, end = _utc(accepted).astimezone(_SHANGHAI).date(), _utc(finished).astimezone(_SHANGHAI).date()
        days = sum(1 for k in range(1, (end - start).days + 1)
                   if calendar.is_working_day(start + dt.timedelta(days=k))) - (paused or 0)
        groups.setdefault(key, []).append(max(0, days))
    return {k: (len(v), _rank_percentile(v, 0.5), _rank_percentile(v, 0.9)) for k, v in groups.items()}


def _got_durations(platform, by):
    with transaction(platform.sessions, write=False) as session:
        return {d["key"]: (d["count"], d["median"], d["p90"])
                for d in figures.durations(session, platform, Scope(PROVINCE, name="海南省"), Filters(), by)}


def test_each_finished_handling_keeps_its_working_days_and_old_rows_still_count(history):
    kept = _sql(history, "SELECT count(*), count(working_days) FROM item_handling WHERE finished_at IS NOT NULL")[0]
    assert kept[0] > 0 and kept[0] == kept[1]  # every handling the engine finished has its days
    _sql_write(history, "UPDATE item_handling SET working_days = NULL WHERE id % 3 = 0")
    try:
        for by in ("stage", "item"):  # rows without their days are counted on the calendar as they are read
            assert _got_durations(history, by) == _independent_durations(history, by)
        with transaction(history.sessions) as session:
            assert itemclock.recount(session, history) == kept[0] - _sql(history, (
                "SELECT count(*) FROM item_handling WHERE finished_at IS NOT NULL AND working_days IS NOT NULL"))[0][0]
        assert _sql(history, "SELECT count(*) FROM item_handling WHERE finished_at IS NOT NULL "
                             "AND working_days IS NULL")[0][0] == 0
    finally:
        with transaction(history.sessions) as session:
            itemclock.recount(session, history)


def test_kept_working_days_follow_a_change_of_the_calendar(history):
    rows = _sql(history, "SELECT id, accepted_at, finished_at, working_days FROM item_handling "
                         "WHERE working_days >= 2 ORDER BY id")
    calendar = history.calendar.current()
    for handling_id, accepted, finished, days in rows:  # noqa: B007 - the row found is used after the loop
        start, end = _utc(accepted).astimezone(_SHANGHAI).date(), _utc(finished).astimezone(_SHANGHAI).date()
        inside = [start + dt.timedelta(days=k) for k in range(1, (end - start).days + 1)]
        weekdays = [d for d in inside if d.weekday() < 5 and calendar.is_working_day(d)]
        if weekdays:
            break
    else:
        pytest.fail("no finished handling spans a working weekday")
    rest = weekdays[0]
    wall = history.calendar
    history.calendar = WorkingCalendar({**calendar.overrides, rest: False}, calendar.covered_years())
    try:
        with transaction(history.sessions) as session:
            changed = itemclock.recount(session, history, rest, rest)
        assert changed >= 1
        assert _sql(history, "SELECT working_days FROM item_handling WHERE id = :i", i=handling_id)[0][0] == days - 1
        assert _got_durations(history, "item") == _independent_durations(history, "item")
    finally:
        history.calendar = wall
        with transaction(history.sessions) as session:
            itemclock.recount(session, history, rest, rest)
    assert _sql(history, "SELECT working_days FROM item_handling WHERE id = :i", i=handling_id)[0][0] == days


def test_the_histogram_percentile_is_the_nearest_rank():
    import random
    rng = random.Random(3)
    for _ in range(200):
        values = [rng.randrange(0, 40) for _ in range(rng.randrange(1, 60))]
        counts: dict = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        for share in (0.1, 0.5, 0.9, 1.0):
            assert figures.histogram_percentile(counts, share) == _rank_percentile(values, share)
    assert figures.histogram_percentile({}, 0.5) is None


def test_trend_by_month_equals_independent_sql(history):
    scope = _scopes(history)[1]
    with transaction(history.sessions, write=False) as session:
        got = {m["month"]: m for m in figures.trend(session, history, scope, Filters())}
    rows = _sql(history, "SELECT h.accepted_at, h.finished_at, h.due_at FROM item_handling h "
                         "JOIN project p ON p.id = h.project_id WHERE 1=1" + _scope_sql(scope))
    accepted, finished, late = {}, {}, {}
    for a, f, d in rows:
        month = _utc(a).astimezone(_SHANGHAI).strftime("%Y-%m")
        accepted[month] = accepted.get(month, 0) + 1
        if f is not None:
            month = _utc(f).astimezone(_SHANGHAI).strftime("%Y-%m")
            finished[month] = finished.get(month, 0) + 1
            late[month] = late.get(month, 0) + (1 if d is not None and _utc(f) > _utc(d) else 0)
    assert {m: v["accepted"] for m, v in got.items() if v["accepted"]} == accepted
    assert {m: v["finished"] for m, v in got.items() if v["finished"]} == finished
    assert {m: v["late"] for m, v in got.items() if v["finished"]} == late


def test_overdue_list_and_notices_equal_independent_sql(history):
    for scope in _scopes(history):
        with transaction(history.sessions, write=False) as session:
            got = figures.overdue(session, history, scope, Filters())
            notices = figures.notices(session, history, scope)
        rows = _sql(history, "SELECT h.id, h.due_at, h.paused_at FROM item_handling h JOIN project p "
                             "ON p.id = h.project_id WHERE h.finished_at IS NULL AND h.due_at IS NOT NULL"
                    + _scope_sql(scope))
        red = sorted((_utc(due), hid) for hid, due, paused in rows if _utc(paused or NOW) > _utc(due))
        assert got["total"] == len(red) and [i["handling_id"] for i in got["items"]] == [h for _, h in red][:50]
        units = {PROVINCE: "", CITY: " WHERE unit_id IN (SELECT id FROM unit WHERE division_code IN ("
                 + ",".join(f"'{d}'" for d in HAIKOU) + "))", UNIT: f" WHERE unit_id = {scope.unit_id}"}[scope.level]
        (count,), = _sql(history, "SELECT count(*) FROM supervision_notice" + units
                         + (" AND" if units else " WHERE") + " acknowledged_at IS NULL")
        assert notices["unacknowledged"] == count


def test_reform_figures_are_computed_from_the_catalogue(history):
    cuts = figures.reform(history)
    baseline, current = history.catalog.baseline.items, history.catalog.items
    assert cuts["baseline"]["items"] == len(baseline) and cuts["current"]["items"] == len(current)
    assert cuts["items"] == round(100 * (len(baseline) - len(current)) / len(baseline), 1)
    materials = (sum(len(i.materials) for i in baseline), sum(len(i.materials) for i in current))
    assert cuts["materials"] == round(100 * (materials[0] - materials[1]) / materials[0], 1)
    assert 55 <= cuts["time_limits"] <= 60  # the seed's "more than 57 %", from the shipped catalogue


def test_filters_are_checked(history):
    city = _scopes(history)[1]
    assert parse_filters(history, city, {"from": "2025-01-01", "stage": "initiation"}).stage == "initiation"
    for bad in ({"from": "2025-13-01"}, {"from": "2025-02-01", "to": "2025-01-01"}, {"division": "460200"},
                {"division": "999999"}, {"flow_type": "11"}, {"stage": "nope"}):
        with pytest.raises(InvalidInput):
            parse_filters(history, city, bad)


def _client(platform, username):
    app = create_app(platform.settings, platform=platform)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": reference.DEMO_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


def test_pages_show_the_figures_in_both_languages(history):
    client = _client(history, "supervisor1")
    page = client.get("/oversight/").get_data(as_text=True)
    with transaction(history.sessions, write=False) as session:
        summary = figures.summary(session, history, _scopes(history)[1], Filters())
    assert "监管看板" in page and "海口市" in page and "echarts.min.js" in page
    found = re.search(r'data-figure="items_accepted"><span class="value">([\d,]+)<', page).group(1)
    assert int(found.replace(",", "")) == summary["items_accepted"]
    client.get("/lang/en")
    english = client.get("/oversight/?stage=initiation").get_data(as_text=True)
    assert "Supervision dashboard" in english and "Working days" in english


def test_drill_down_stays_inside_the_scope(history):
    client = _client(history, "supervisor1")
    inside = _sql(history, "SELECT code FROM project WHERE division_code = '460100' LIMIT 1")
    outside = _sql(history, "SELECT code FROM project WHERE division_code NOT IN ("
                   + ",".join(f"'{d}'" for d in HAIKOU) + ") LIMIT 1")
    if inside:
        assert client.get(f"/oversight/projects/{inside[0][0]}").status_code == 200
    assert client.get(f"/oversight/projects/{outside[0][0]}").status_code == 404
    assert client.get("/oversight/?division=460200").status_code == 422


def test_only_supervisors_and_leaders_open_it_and_nothing_writes(history):
    assert _client(history, "window1").get("/oversight/").status_code == 403
    assert _client(history, "applicant1").get("/oversight/").status_code == 403
    supervisor = _client(history, "supervisor1")
    assert supervisor.post("/oversight/").status_code in (400, 405)  # no form takes input here
    assert supervisor.get("/oversight/export/summary.pdf").status_code == 404
    assert supervisor.get("/oversight/export/nothing.csv").status_code == 422


def test_exports_hold_the_table_rows(history):
    client = _client(history, "admin")
    scope = _scopes(history)[0]
    with transaction(history.sessions, write=False) as session:
        head, rows = exports.table(session, history, scope, Filters(), "durations_item")
    workbook = load_workbook(io.BytesIO(client.get("/oversight/export/durations_item.xlsx").data))
    sheet = list(workbook.active.values)
    assert list(sheet[0]) == head and [list(r) for r in sheet[1:1 + len(rows)]] == rows
    text_rows = list(csv.reader(io.StringIO(client.get("/oversight/export/durations_item.csv")
                                            .data.decode("utf-8-sig"))))
    assert text_rows[0] == head and len(text_rows) == len(rows) + 1
    assert [r[0] for r in text_rows[1:]] == [r[0] for r in rows]
