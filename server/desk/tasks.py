"""The desk's Celery tasks: the end-of-shift check ten minutes before each shift ends.

Beat runs ``shift_checks`` every minute (settings: CELERY_BEAT_SCHEDULE); each run writes the
checks that fell due and are not written yet, so a run missed (no worker for a while) is
caught up by the next, and two runs at once write each check once.
"""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="propflow.shift_checks")
def shift_checks() -> int:
    return len(services.shift_checks_run())
