"""Celery tasks: thin wrappers over :mod:`.timers` and :mod:`.notifications`.

``sweep`` (beat, every few seconds) claims due timers and enqueues ``fire`` for them in
chunks, once its claim has committed; ``fire`` fires each instance through the one write
path (whose steps ask for delivery once they commit, :mod:`.outbox`); ``deliver`` sends
the notification emails waiting in the outbox. Every task is safe to run twice: what is
done is found done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from celery import shared_task
from django.db import close_old_connections, connections

from . import timers
from .notifications import delivery

log = logging.getLogger(__name__)

CHUNK = 20  # instances per fire message: fewer messages, still spread over the workers


def dispatch(instance_ids: list[int]) -> None:
    for i in range(0, len(instance_ids), CHUNK):
        fire.delay(instance_ids[i : i + CHUNK])


@shared_task(name="propflow.sweep")
def sweep() -> int:
    claimed = timers.sweep(dispatch=dispatch)
    if delivery.outbox().exists():
        deliver.delay()
    return claimed


@shared_task(name="propflow.fire")
def fire(instance_ids: list[int]) -> int:
    return len(timers.fire(instance_ids))


@shared_task(name="propflow.deliver")
def deliver() -> int:
    total = 0
    while sent := delivery.deliver():
        total += sent
    return total


@shared_task(name="propflow.anchor")
def anchor() -> int:
    """Append the moved chains' heads to the anchor file (settings: PROPFLOW_AUDIT_ANCHOR_*)."""
    from django.conf import settings

    from .cases import anchors

    body = anchors.write(settings.PROPFLOW_AUDIT_ANCHOR_FILE, settings.PROPFLOW_AUDIT_ANCHOR_KEY)
    return len(body["chains"])


@shared_task(name="propflow.retention")
def retention() -> int:
    """Mask the personal data of cases past the rule (PROPFLOW_PERSONAL_DATA_YEARS)."""
    from .cases import retention as rules

    return len(rules.retire_due())


@shared_task(name="propflow.kpi_rollup")
def kpi_rollup() -> int:
    """Bring the KPI roll-up up to date with the cases that moved (server/reports/rollup.py)."""
    from server.reports import rollup

    return rollup.refresh()


class EmbeddedSweeper(threading.Thread):
    """Beat and worker in one thread, for a site with no broker (``manage.py serve``).

    Each round calls the same ``sweep`` task, whose ``fire`` and ``deliver`` run
    in-process (``CELERY_TASK_ALWAYS_EAGER``): one code path in both modes.
    """

    def __init__(self, interval: float, periodic: Sequence[tuple[float, Callable]] = ()):
        super().__init__(name="propflow-sweeper", daemon=True)
        self.interval = interval
        # Beat's other entries, for a site with no beat: (every so many seconds, task), e.g.
        # the desk's end-of-shift checks (``serve`` passes them: this layer cannot name them).
        self.periodic = [[every, task, 0.0] for every, task in periodic]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                sweep()
                self._periodic()
            except Exception:  # a locked SQLite file, a broken definition: log, go on
                log.exception("The embedded timer sweep failed; trying again")
            finally:
                close_old_connections()
        connections.close_all()  # this thread's own: nothing left open after stop()

    def _periodic(self) -> None:
        now = time.monotonic()
        for entry in self.periodic:
            every, task, last = entry
            if now - last >= every:
                entry[2] = now
                task()

    def stop(self) -> None:
        self.stopping.set()
