"""The functions scripts and timer expressions call by name: deadlines, the calendar, "now".

They are built from a calendar, the time limits and a ``now`` function, so the
server process (``now`` is :func:`engine.clock.now`) and the isolated
interpreter of :mod:`engine.isolation` (``now`` is the server's clock at the
moment of the call, sent with each request) offer the same functions. The
calendar and limits travel to the isolated interpreter as :func:`config`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .limits import DEFAULTS, TimeLimits
from .workdays import WorkCalendar


def make(
    calendar: WorkCalendar, limits: TimeLimits, now: Callable[[], datetime]
) -> dict[str, Callable]:
    cal = calendar

    def start_at(start: str | None) -> datetime:
        moment = datetime.fromisoformat(start) if start else now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=cal.tz)
        return moment

    return {
        "deadline": lambda *keys, start=None: limits.deadline(
            cal, start_at(start), *keys
        ).isoformat(),
        "reminder": lambda *keys, start=None: limits.reminder(
            cal, start_at(start), *keys
        ).isoformat(),
        "limit": lambda key: limits[key].amount,
        "is_past": lambda moment: start_at(moment) <= now(),
        "is_before": lambda a, b: start_at(a) < start_at(b),
        "now": lambda: now().isoformat(),
        "in_minutes": lambda n: (now() + timedelta(minutes=n)).isoformat(),
        "in_hours": lambda n: (now() + timedelta(hours=n)).isoformat(),
        "in_days": lambda n: (now() + timedelta(days=n)).isoformat(),
        "due_in_working_days": lambda n: cal.add_working_days(now(), n).isoformat(),
        "end_of_working_day": lambda: cal.end_of_working_day(now()).isoformat(),
        "next_working_day": lambda: cal.next_working_day_start(now()).isoformat(),
        "is_working_day": lambda: cal.is_working_day(now().astimezone(cal.tz).date()),
    }


NAMES = frozenset(make(WorkCalendar(), TimeLimits(), lambda: datetime.now()))


def config(calendar: WorkCalendar, limits: TimeLimits) -> dict:
    """The calendar and the site's time-limit overrides as plain JSON data."""
    return {
        "days_off": sorted(d.isoformat() for d in calendar.extra_days_off),
        "workdays": sorted(d.isoformat() for d in calendar.extra_workdays),
        "start_of_day": calendar.start_of_day.isoformat(),
        "end_of_day": calendar.end_of_day.isoformat(),
        "service_days": sorted(calendar.service_days),
        "tz": calendar.tz.key,
        "limits": {limit.key: limit.amount for limit in limits if limit != DEFAULTS[limit.key]},
    }


def from_config(data: dict) -> tuple[WorkCalendar, TimeLimits]:
    calendar = WorkCalendar(
        extra_days_off=frozenset(map(date.fromisoformat, data["days_off"])),
        extra_workdays=frozenset(map(date.fromisoformat, data["workdays"])),
        start_of_day=time.fromisoformat(data["start_of_day"]),
        end_of_day=time.fromisoformat(data["end_of_day"]),
        tz=ZoneInfo(data["tz"]),
        service_days=frozenset(data["service_days"]),
    )
    return calendar, TimeLimits(data["limits"])
