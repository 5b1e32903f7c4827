"""The business calendar: weekdays, Chinese statutory holidays and adjusted working days."""

from datetime import UTC, date, datetime

from engine import Engine, clock
from engine.workdays import WorkCalendar

NATIONAL_DAY_EVE = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)  # Wed 30 Sep 2026, 09:00 Shanghai


def test_the_national_day_week_is_off_and_the_adjusted_saturday_is_worked():
    cal = WorkCalendar()
    assert not any(cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2026, 10, 8)) and cal.is_working_day(date(2026, 10, 9))
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, 调休
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday, 调休
    assert not cal.is_working_day(date(2026, 10, 11))


def test_working_days_skip_the_holiday_and_count_the_adjusted_saturday():
    # Thu 8, Fri 9, Sat 10 Oct: three working days after Wed 30 Sep, same time of day.
    due = WorkCalendar().add_working_days(NATIONAL_DAY_EVE, 3)
    assert due == datetime(2026, 10, 10, 1, 0, tzinfo=UTC)


def test_end_of_working_day_moves_past_holidays():
    on_holiday = datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    assert WorkCalendar().end_of_working_day(on_holiday) == datetime(2026, 10, 8, 9, 30, tzinfo=UTC)


def test_a_site_can_add_days_off_and_working_days():
    cal = WorkCalendar(
        extra_days_off=frozenset({date(2026, 9, 29)}), extra_workdays=frozenset({date(2026, 10, 3)})
    )
    assert not cal.is_working_day(date(2026, 9, 29))
    assert cal.is_working_day(date(2026, 10, 3))


def test_a_year_without_an_announced_schedule_does_not_fail():
    cal = WorkCalendar()
    assert not cal.is_working_day(date(2027, 10, 1))  # fixed-date holidays are still known
    assert cal.add_working_days(datetime(2027, 12, 30, 1, 0, tzinfo=UTC), 2).year == 2028


def test_scripts_and_timers_call_the_calendar_by_name():
    env = Engine().script_engine.environment
    with clock.frozen(NATIONAL_DAY_EVE):
        assert env.evaluate("due_in_working_days(3)", {}) == "2026-10-10T01:00:00+00:00"
        assert env.evaluate("end_of_working_day()", {}) == "2026-09-30T09:30:00+00:00"
        assert env.evaluate("in_minutes(30)", {}) == "2026-09-30T01:30:00+00:00"
