"""The engine's clock.

SpiffWorkflow compares timers against ``datetime.now(timezone.utc)`` and has no
clock hook. We install, once, a ``datetime`` subclass in its timer module whose
``now()`` honours a context-local override, so tests can run on a fake clock and
operators can fire timers "as of" a moment, without patching per call and
without affecting other threads.
"""

from __future__ import annotations

import contextlib
import contextvars
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_override: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "propflow_now", default=None
)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        fixed = _override.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz is not None else fixed.replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


def now() -> datetime:
    """The current time in UTC, honouring :func:`frozen`."""
    fixed = _override.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextlib.contextmanager
def frozen(moment: datetime):
    """Run the block as if the time were ``moment`` (timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    token = _override.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _override.reset(token)
