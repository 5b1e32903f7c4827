"""Notification delivery: the outbox, per channel, and how it empties.

Notifications are written with the step that escalated, in its transaction, and so are
their delivery rows, one per channel the recipient has an address on (:func:`queue`); the
step asks for delivery once it has committed (:func:`kick`). Messages leave afterwards:
:func:`deliver` takes each channel's unsent rows with ``FOR UPDATE SKIP LOCKED`` (two
deliverers never take the same row), hands them to the channel and marks them sent in
the same transaction. A deliverer that dies after the channel accepted a message and
before the commit sends it again: at least once. A refused message is retried with
growing waits; after the last attempt it stays in the table, unsent, with its error
(admin: Notification deliveries).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q, QuerySet

from engine import clock
from server.celery import app

from ..models import Notification, NotificationDelivery
from . import channels

log = logging.getLogger(__name__)
# A refused message is tried again after 1 minute, then 2, 4, ... up to 6 hours: about
# 31 hours in all before it stays unsent, with its error, for an operator to look at.
MAX_ATTEMPTS = 12


def outbox(channel: str | None = None) -> QuerySet[NotificationDelivery]:
    """Deliveries due to be sent (again), on one channel or all."""
    due = NotificationDelivery.objects.filter(
        Q(next_at__isnull=True) | Q(next_at__lte=clock.now()),
        sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS,
    )  # fmt: skip
    return due if channel is None else due.filter(channel=channel)


def _refused(d: NotificationDelivery, err: Exception) -> None:
    log.warning("%s to %s for notification %s failed: %s", d.channel, d.address,
                d.notification_id, err)  # fmt: skip
    d.attempts += 1
    d.error = f"{type(err).__name__}: {err}"[:2000]
    d.next_at = clock.now() + min(timedelta(minutes=2 ** (d.attempts - 1)), timedelta(hours=6))
    d.save(update_fields=["attempts", "error", "next_at"])


def _deliver(channel: channels.Channel, limit: int) -> int:
    with transaction.atomic():
        batch = list(
            outbox(channel.name).select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__task").order_by("pk")[:limit]
        )  # fmt: skip
        if not batch:
            return 0
        try:
            answers = channel.send(batch)
        except Exception as err:  # the channel is down: every message waits its turn again
            answers = [err] * len(batch)
        sent = 0
        for d, err in zip(batch, answers, strict=True):
            if err is not None:
                _refused(d, err)
                continue
            d.sent_at, d.attempts = clock.now(), d.attempts + 1
            d.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


def deliver(*, limit: int = 100) -> int:
    """Send up to ``limit`` unsent messages per channel; returns how many were sent."""
    return sum(_deliver(channel, limit) for channel in channels.registered())


def queue(batch, notifications: list[Notification]) -> None:
    """Queue on the step's write batch a delivery row for each notification and channel its
    recipient has an address on: one ``INSERT … SELECT`` per step, so a step costs no round
    trip more on PostgreSQL.

    The notification rows are inserted by the same batch and get their ids there, so the
    statement finds them as the step wrote them: by instance, creation time and recipient.
    Two steps at one frozen moment (a test's clock, a rehearsal's ``--as-of``) share a
    creation time, so rows that already have a delivery on the channel are skipped; an
    earlier one whose recipient had no address on it then would be given one now.
    """
    wanted: dict[tuple, dict[tuple[int, str], str]] = defaultdict(dict)
    for n in notifications:
        for channel in channels.registered():
            if address := channel.address(n.recipient):
                wanted[(n.instance_id, n.created_at)][(n.recipient_id, channel.name)] = address
    for (instance_id, created_at), rows in wanted.items():
        batch.add(*_insert_deliveries(instance_id, created_at, rows))


def queue_saved(notifications: list[Notification]) -> int:
    """A delivery row for each saved notification (with its id) and channel its recipient
    has an address on, for notifications written outside a case's step (a shift check's):
    call it in the transaction that wrote them. Returns how many rows it wrote."""
    rows = [
        NotificationDelivery(notification=n, channel=channel.name, address=address)
        for n in notifications
        for channel in channels.registered()
        if (address := channel.address(n.recipient))
    ]
    NotificationDelivery.objects.bulk_create(rows)
    return len(rows)


def _insert_deliveries(instance_id, created_at, rows: dict[tuple[int, str], str]):
    db = connections[DEFAULT_DB_ALIAS]
    qn = db.ops.quote_name
    n_table, d_table = (qn(m._meta.db_table) for m in (Notification, NotificationDelivery))
    # VALUES' columns are column1, column2, ... in PostgreSQL and SQLite alike.
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {d_table} (notification_id, channel, address, attempts, error) "
        f"SELECT n.id, v.column2, v.column3, 0, '' FROM {n_table} n "
        f"JOIN (VALUES {values}) v ON n.recipient_id = v.column1 "
        "WHERE n.instance_id = %s AND n.created_at = %s AND NOT EXISTS ("
        f"SELECT 1 FROM {d_table} d WHERE d.notification_id = n.id AND d.channel = v.column2)"
    )
    params = [p for (recipient, channel), address in rows.items()
              for p in (recipient, channel, address)]  # fmt: skip
    created = Notification._meta.get_field("created_at").get_db_prep_value(created_at, db)
    return sql, [*params, instance_id, created]


# A burst of escalations (a worker firing hundreds of cases) asks once per interval per
# process: each delivery drains the whole outbox, so more messages would find nothing.
KICK_INTERVAL = 1.0
_last = 0.0
_lock = threading.Lock()


def kick() -> None:
    """Ask for the outbox to be delivered (the write path calls it on commit). With a broker
    it enqueues one ``propflow.deliver`` by name (the task module sits above the write path);
    with none, the embedded sweeper delivers on its next round. Either way the sweep's own
    outbox check is the safety net: a kick skipped or lost delays mail by one sweep."""
    global _last
    if app.conf.task_always_eager:
        return
    with _lock:
        now = time.monotonic()
        if now - _last < KICK_INTERVAL:
            return
        _last = now
    app.send_task("propflow.deliver")
