"""The administrator's holiday table: checked year entries, atomic writes, a calendar that follows the file."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from engine.calendar import CalendarError
from engine.holidays import HolidayFile, HolidayTable, check_entry, read_table, with_year, write_table

SHIPPED = Path(__file__).resolve().parents[2] / "catalog" / "holidays.json"
# A plausible 2027 notice (dates invented for the test: the real one is not published yet).
YEAR_2027 = {
    "declared": True, "notice": "国办发明电〔2026〕X号",
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
                 "2027-02-10", "2027-02-11", "2027-02-12", "2027-10-01", "2027-10-04", "2027-10-05",
                 "2027-10-06", "2027-10-07"],
    "workdays": ["2027-02-14", "2027-09-26", "2027-10-09"],
}


@pytest.fixture
def table_file(tmp_path):
    """The shipped table without its provisional 2027 entry: a year not yet declared."""
    path = tmp_path / "holidays.json"
    shutil.copy(SHIPPED, path)
    table = json.loads(path.read_text(encoding="utf-8"))
    table["years"].pop("2027", None)
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    return path


def test_declaring_a_year_makes_its_dates_work(table_file):
    calendar = HolidayFile(table_file, check_seconds=0)
    with pytest.raises(CalendarError, match="2027") as caught:
        calendar.add_working_days(dt.date(2026, 12, 28), 10)
    assert caught.value.fields == {"year": "2027"}
    table, built = with_year(read_table(table_file), 2027, YEAR_2027)
    assert 2027 in built.covered_years()
    write_table(table_file, table)
    assert json.loads(table_file.read_text(encoding="utf-8"))["note"]  # the explanation stays
    assert calendar.is_working_day(dt.date(2027, 2, 14))  # make-up Sunday
    assert not calendar.is_working_day(dt.date(2027, 2, 8))  # Spring Festival Monday
    assert calendar.add_working_days(dt.date(2027, 2, 4), 1) == dt.date(2027, 2, 14)
    assert list(table_file.parent.glob(".holidays-*")) == []  # no temporary file left


@pytest.mark.parametrize("entry,field", [
    ({**YEAR_2027, "workdays": ["2027-02-15"]}, "workdays"),  # a Monday is not a make-up day
    ({**YEAR_2027, "holidays": ["2027-13-01"]}, "holidays"),
    ({**YEAR_2027, "holidays": ["2028-01-03"]}, "holidays"),  # another year's date
    ({**YEAR_2027, "workdays": ["2027-02-14"], "holidays": ["2027-02-14"]}, "holidays"),
    ({**YEAR_2027, "holidays": []}, "holidays"),  # declared without holidays
    ({**YEAR_2027, "colour": "red"}, "colour"),
    ({**YEAR_2027, "notice": "x" * 201}, "notice"),
    ({**YEAR_2027, "holidays": "2027-01-01"}, "holidays"),
    ("2027", "body"),
])
def test_bad_entries_are_refused_naming_the_field(table_file, entry, field):
    with pytest.raises(CalendarError) as caught:
        with_year(read_table(table_file), 2027, entry)
    assert caught.value.problem_field == field


def test_years_outside_the_range_are_refused():
    with pytest.raises(CalendarError) as caught:
        check_entry(1999, YEAR_2027)
    assert caught.value.problem_field == "year"


def test_a_broken_file_keeps_the_last_good_calendar(table_file):
    calendar = HolidayFile(table_file, check_seconds=0)
    table_file.write_text("{ not json", encoding="utf-8")
    assert 2026 in calendar.covered_years()


def test_a_missing_file_means_the_library_alone(tmp_path):
    calendar = HolidayFile(tmp_path / "absent.json")
    assert calendar.covered_years() == frozenset(range(2004, 2027))
    assert read_table(tmp_path / "absent.json") == {"years": {}}


def test_a_table_kept_elsewhere_is_followed_when_its_stamp_moves(table_file):
    """``HolidayTable`` (the database's table on the platform) rebuilds when the stamp changes, and only then."""
    kept = {"table": read_table(table_file), "stamp": 0, "reads": 0}

    def table():
        kept["reads"] += 1
        return kept["table"]

    calendar = HolidayTable(lambda: kept["stamp"], table, check_seconds=0)
    with pytest.raises(CalendarError, match="2027"):
        calendar.add_working_days(dt.date(2026, 12, 28), 10)
    kept["table"], _ = with_year(kept["table"], 2027, YEAR_2027)
    assert 2027 not in calendar.covered_years()  # the same stamp: the table is not read again
    assert kept["reads"] == 1
    kept["stamp"] = 1
    assert not calendar.is_working_day(dt.date(2027, 2, 8))
    assert calendar.table()["years"]["2027"]["notice"] == YEAR_2027["notice"] and kept["reads"] == 2
