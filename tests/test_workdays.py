"""The business calendar: weekdays, Chinese statutory holidays and adjusted working days."""

from datetime import UTC, date, datetime

import pytest

from engine import Engine, clock
from engine.errors import EngineError
from engine.workdays import WorkCalendar, parse_service_days, parse_service_hours

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


def test_the_same_day_ends_with_the_service_hours_on_weekends_and_holidays_too():
    # 標準服務時間 周一至周日上午8:00~下午18:00: the centre's day has no weekend.
    on_holiday = datetime(2026, 10, 3, 1, 0, tzinfo=UTC)  # Saturday of the National Day week
    assert WorkCalendar().end_of_working_day(on_holiday) == datetime(2026, 10, 3, 10, 0, tzinfo=UTC)
    after_hours = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # Saturday 19:00 in Shanghai
    assert WorkCalendar().end_of_working_day(after_hours) == datetime(2026, 11, 29, 10, tzinfo=UTC)


def test_a_site_with_weekday_service_hours_ends_a_saturday_on_monday():
    hours, days = parse_service_hours("08:30-17:30"), parse_service_days("1-5")
    cal = WorkCalendar(start_of_day=hours[0], end_of_day=hours[1], service_days=days)
    saturday = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert cal.end_of_working_day(saturday) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    assert cal.next_working_day_start(saturday) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours", "days", "message"),
    [
        ("8-18", "1-7", "Service hours must read like 08:00-18:00, not '8-18'"),
        ("18:00-08:00", "1-7", "Service hours must start before they end, not 18:00-08:00"),
        ("08:00-18:00", "0-6", "Service days must read like 1-7 (Monday 1, Sunday 7), not '0-6'"),
        ("08:00-18:00", "mon", "Service days must read like 1-7 (Monday 1, Sunday 7), not 'mon'"),
    ],
)
def test_service_hours_that_cannot_be_read_are_refused_saying_how_to_write_them(
    hours, days, message
):
    with pytest.raises(EngineError) as raised:
        start, end = parse_service_hours(hours)
        WorkCalendar(start_of_day=start, end_of_day=end, service_days=parse_service_days(days))
    assert str(raised.value) == message


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
        assert env.evaluate("end_of_working_day()", {}) == "2026-09-30T10:00:00+00:00"
        assert env.evaluate("in_minutes(30)", {}) == "2026-09-30T01:30:00+00:00"
