"""The one Engine of this process and the deployed sources it runs, cached by definition id.

Definitions are immutable, so a source read once stays right for the process's life.
"""

from __future__ import annotations

import threading
from datetime import date

from django.conf import settings

from engine import Engine, ProcessSource
from engine.limits import TimeLimits
from engine.workdays import WorkCalendar, parse_service_days, parse_service_hours

from ..models import ProcessDefinition


def build_engine() -> Engine:
    """The engine with the site's service hours, calendar overrides, time and script limits."""
    start_of_day, end_of_day = parse_service_hours(settings.PROPFLOW_SERVICE_HOURS)
    calendar = WorkCalendar(
        extra_days_off=frozenset(map(date.fromisoformat, settings.PROPFLOW_EXTRA_DAYS_OFF)),
        extra_workdays=frozenset(map(date.fromisoformat, settings.PROPFLOW_EXTRA_WORKDAYS)),
        start_of_day=start_of_day,
        end_of_day=end_of_day,
        service_days=parse_service_days(settings.PROPFLOW_SERVICE_DAYS),
    )
    return Engine(
        calendar=calendar,
        limits=TimeLimits(settings.PROPFLOW_TIME_LIMITS),
        script_seconds=settings.PROPFLOW_SCRIPT_SECONDS,
        script_memory_mb=settings.PROPFLOW_SCRIPT_MEMORY_MB,
        max_timer_cycles=settings.PROPFLOW_MAX_TIMER_CYCLES,
    )


_engine = build_engine()
_sources: dict[int, ProcessSource] = {}
_lock = threading.Lock()


def get_engine() -> Engine:
    return _engine


def source_for(definition_id: int) -> ProcessSource:
    source = _sources.get(definition_id)
    if source is None:
        definition = ProcessDefinition.objects.get(pk=definition_id)
        source = definition.source
        with _lock:
            _sources[definition_id] = source
    return source
