"""Firing due timers: the sweep that claims them and the work that fires them.

The database is the source of truth. A sweep claims due :class:`Timer` rows with
``SELECT ... FOR UPDATE SKIP LOCKED`` (two sweeps never claim the same row), marks
them claimed for a lease, and after its transaction commits hands the instances to
``dispatch``: Celery workers in production, this thread in the embedded mode, the
command itself in ``manage.py fire_timers``. Firing goes through
:func:`services.instance_fire_timers`, the one write path, under the instance's row
lock; a timer that fired is gone from the engine's state and from the rows, so a
second hand-out of the same instance finds nothing to do. A worker that dies leaves
its transaction rolled back and the rows claimed until the lease runs out; the next
sweep after that hands them out again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q

from engine import clock

from .cases import services
from .errors import ServiceError
from .models import ProcessInstance, Timer

log = logging.getLogger(__name__)


def lease() -> timedelta:
    return timedelta(seconds=settings.PROPFLOW_TIMER_LEASE_SECONDS)


def claim_due(*, dispatch: Callable[[list[int]], None], as_of: datetime | None = None,
              limit: int = 500) -> tuple[list[int], int]:  # fmt: skip
    """Claim up to ``limit`` due, unclaimed timers; once committed, ``dispatch`` their
    instances' ids (in due order). Returns those ids and how many timers were claimed."""
    moment, now = as_of or clock.now(), clock.now()
    with transaction.atomic():
        # A suspended case's timers stay due and unclaimed: resuming it fires them. Only
        # the timer rows are locked (``of``): a case someone is working on is not skipped.
        rows = list(
            Timer.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now), due_at__lte=moment)
            .exclude(instance__status=ProcessInstance.Status.SUSPENDED)
            .order_by("due_at").values_list("pk", "instance_id")[:limit]
        )  # fmt: skip
        if not rows:
            return [], 0
        Timer.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            claimed_until=now + lease(), attempts=F("attempts") + 1
        )
        instance_ids = list(dict.fromkeys(instance_id for _, instance_id in rows))
        transaction.on_commit(lambda: dispatch(instance_ids))
    return instance_ids, len(rows)


def sweep(*, dispatch: Callable[[list[int]], None], as_of: datetime | None = None,
          batch: int = 500, most: int = 20_000) -> int:  # fmt: skip
    """Claim and dispatch every due timer, ``batch`` rows per transaction, at most ``most``
    rows in one sweep (the next sweep takes the rest). Returns how many instances it handed
    out (a case with timers in two batches counts twice)."""
    instances = timers = 0
    while timers < most:
        claimed, rows = claim_due(dispatch=dispatch, as_of=as_of, limit=batch)
        instances, timers = instances + len(claimed), timers + rows
        if rows < batch:
            break
    return instances


def fire(instance_ids: Iterable[int], *, as_of: datetime | None = None) -> list[int]:
    """Fire the due timers of each instance, each in its own transaction. Returns the ids
    whose timers fired. An instance that fails is deferred with its error recorded (see
    :func:`defer`) and the others go on."""
    fired = []
    with clock.frozen(as_of) if as_of else contextlib.nullcontext():
        for instance_id in instance_ids:
            try:
                if services.instance_fire_timers(instance_id=instance_id):
                    fired.append(instance_id)
            except ServiceError as err:
                defer(instance_id, err.message)
            except Exception as err:  # a bug or a lost database: keep the timer, say why
                log.exception("Firing the timers of instance %s failed", instance_id)
                defer(instance_id, f"{type(err).__name__}: {err}")
    return fired


def defer(instance_id: int, error: str) -> None:
    """Record why the instance's due timers could not fire and retry them later, backing off:
    one lease after the first failure, doubling up to an hour."""
    try:
        now = clock.now()
        due = Timer.objects.filter(instance_id=instance_id, due_at__lte=now)
        attempts = due.aggregate(n=Max("attempts"))["n"] or 1
        wait = min(lease() * 2 ** min(attempts - 1, 12), timedelta(hours=1))
        due.update(last_error=error[:2000], claimed_until=now + wait)
        log.warning("Timers of instance %s deferred %s: %s", instance_id, wait, error)
    except Exception:  # the claim's lease still brings it back
        log.exception("Could not record the failure of instance %s", instance_id)


def fire_due(*, as_of: datetime | None = None) -> list[int]:
    """One sweep that fires in this process: ``manage.py fire_timers`` and tests."""
    fired: list[int] = []
    sweep(dispatch=lambda ids: fired.extend(fire(ids, as_of=as_of)), as_of=as_of)
    return fired
