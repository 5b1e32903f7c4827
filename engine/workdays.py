"""The site's calendar: its service hours, and which days are working days (工作日).

Two clocks, because the sources use two. The service centre is open seven days
a week ("標準服務時間 周一至周日上午8:00~下午18:00"): a limit given as "the same
day" or "the end of the working day" ends when the service day ends, Saturday
included. A limit given in working days counts the business calendar: Monday to
Friday, minus Chinese statutory holidays, plus the adjusted working days (调休)
that the State Council announces, as the ``holidays`` package knows them; a site
can add its own days off and working days on top. The calendar never fails on a
year whose schedule is not announced yet: it falls back to the weekdays and the
fixed-date holidays that ``holidays`` computes for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .errors import EngineError, ScriptStopped

SITE_TIMEZONE = ZoneInfo("Asia/Shanghai")
# About forty years: counting further costs a script real time (a day at a time) and
# helps no deadline.
MAX_WORKING_DAYS = 10_000
EVERY_DAY = frozenset(range(7))  # Monday (0) to Sunday (6)


@lru_cache(maxsize=64)
def _cn_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    cal = holidays.country_holidays("CN", years=year)
    days_off = frozenset(d for d in cal if d.year == year)
    workdays = frozenset(d for d in getattr(cal, "weekend_workdays", ()) if d.year == year)
    return days_off, workdays


@dataclass(frozen=True)
class WorkCalendar:
    """A site's service hours and working days.

    ``start_of_day``/``end_of_day`` on ``service_days`` (weekday numbers, Monday 0) are the
    service hours; ``extra_days_off`` and ``extra_workdays`` win over the package's holidays.
    """

    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    start_of_day: time = time(8, 0)
    end_of_day: time = time(18, 0)
    tz: ZoneInfo = SITE_TIMEZONE
    service_days: frozenset[int] = EVERY_DAY

    def __post_init__(self):
        if not self.service_days or not self.service_days <= EVERY_DAY:
            raise EngineError("Service days must be one or more of Monday (1) to Sunday (7)")
        if self.start_of_day >= self.end_of_day:
            raise EngineError(
                f"Service hours must start before they end, not {self.start_of_day:%H:%M}-"
                f"{self.end_of_day:%H:%M}"
            )

    def is_service_day(self, day: date) -> bool:
        return day.weekday() in self.service_days

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
        """The end of the service day ``moment`` falls in, or of the next service day.

        "當日" in the sources is the centre's day, which has no weekend; the name stays as
        diagrams call it."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if not self.is_service_day(day) or local.time() >= self.end_of_day:
            day += timedelta(days=1)
            while not self.is_service_day(day):
                day += timedelta(days=1)
        return datetime.combine(day, self.end_of_day, self.tz).astimezone(ZoneInfo("UTC"))

    def next_working_day_start(self, moment: datetime) -> datetime:
        """The start of the first working day after the day ``moment`` falls in."""
        day = moment.astimezone(self.tz).date() + timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.start_of_day, self.tz).astimezone(ZoneInfo("UTC"))


def parse_service_hours(text: str) -> tuple[time, time]:
    """``"08:00-18:00"`` as (start, end); a clear error for anything else."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise EngineError(f"Service hours must read like 08:00-18:00, not {text!r}") from None
    return start, end


def parse_service_days(text: str) -> frozenset[int]:
    """``"1-7"`` or ``"1,2,3,4,5,6"`` (ISO weekdays, Monday 1) as weekday numbers (Monday 0)."""
    days: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, _, last = part.partition("-")
            days.update(range(int(first), int(last or first) + 1))
    except ValueError:
        days.add(0)
    if not days or not days <= set(range(1, 8)):
        raise EngineError(f"Service days must read like 1-7 (Monday 1, Sunday 7), not {text!r}")
    return frozenset(d - 1 for d in days)
