"""The business calendar: which days are working days (工作日).

Monday to Friday, minus Chinese statutory holidays, plus the adjusted working
days (调休) that the State Council announces, as the ``holidays`` package knows
them; a site can add its own days off and working days on top. The calendar
never fails on a year whose schedule is not announced yet: it falls back to
the weekdays and the fixed-date holidays that ``holidays`` computes for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .errors import ScriptStopped

SITE_TIMEZONE = ZoneInfo("Asia/Shanghai")
# About forty years: counting further costs a script real time (a day at a time) and
# helps no deadline.
MAX_WORKING_DAYS = 10_000


@lru_cache(maxsize=64)
def _cn_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    cal = holidays.country_holidays("CN", years=year)
    days_off = frozenset(d for d in cal if d.year == year)
    workdays = frozenset(d for d in getattr(cal, "weekend_workdays", ()) if d.year == year)
    return days_off, workdays


@dataclass(frozen=True)
class WorkCalendar:
    """A site's working days. ``extra_days_off`` and ``extra_workdays`` win over the package."""

    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    start_of_day: time = time(8, 30)
    end_of_day: time = time(17, 30)
    tz: ZoneInfo = SITE_TIMEZONE

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_days_off:
            return False
        days_off, workdays = _cn_year(day.year)
        if day in workdays:
            return True
        return day.weekday() < 5 and day not in days_off

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time ``days`` working days after ``start`` (aware, returned in UTC)."""
        if days > MAX_WORKING_DAYS:
            raise ScriptStopped(
                f"stopped: {days:,} working days is more than the {MAX_WORKING_DAYS:,} the "
                "calendar counts"
            )
        local = start.astimezone(self.tz)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz()).astimezone(ZoneInfo("UTC"))

    def end_of_working_day(self, moment: datetime) -> datetime:
        """The end of the working day ``moment`` falls in, or of the next working day."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= self.end_of_day:
            day += timedelta(days=1)
            while not self.is_working_day(day):
                day += timedelta(days=1)
        return datetime.combine(day, self.end_of_day, self.tz).astimezone(ZoneInfo("UTC"))

    def next_working_day_start(self, moment: datetime) -> datetime:
        """The start of the first working day after the day ``moment`` falls in."""
        day = moment.astimezone(self.tz).date() + timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.start_of_day, self.tz).astimezone(ZoneInfo("UTC"))
