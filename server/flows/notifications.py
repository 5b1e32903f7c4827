"""Notifications: the reader's read/unread, and the email outbox.

Notifications are written with the step that escalated, in its transaction. Email
leaves afterwards: :func:`deliver` takes unsent rows with ``FOR UPDATE SKIP LOCKED``
(two deliverers never take the same row), sends them through Django's email
framework and marks them sent in the same transaction. A deliverer that dies after
the mail server accepted a message and before the commit sends it again: at least
once. A refused message is retried with growing waits; after the last attempt it stays
in the table, unsent, with its error (admin: Notifications).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from engine import clock

from . import messages
from .errors import NotFound
from .models import Notification

log = logging.getLogger(__name__)
# A refused message is tried again after 1 minute, then 2, 4, ... up to 6 hours: about
# 31 hours in all before it stays unsent, with its error, for an operator to look at.
MAX_EMAIL_ATTEMPTS = 12


def outbox() -> QuerySet[Notification]:
    """Notifications whose email is due to be sent (again)."""
    return Notification.objects.filter(
        Q(email_next_at__isnull=True) | Q(email_next_at__lte=clock.now()),
        emailed_at__isnull=True, email_attempts__lt=MAX_EMAIL_ATTEMPTS,
    ).exclude(email="")  # fmt: skip


def _refused(n: Notification, err: Exception) -> None:
    log.warning("Email to %s for notification %s failed: %s", n.email, n.pk, err)
    n.email_attempts += 1
    n.email_error = f"{type(err).__name__}: {err}"[:2000]
    n.email_next_at = clock.now() + min(timedelta(minutes=2 ** (n.email_attempts - 1)),
                                        timedelta(hours=6))  # fmt: skip
    n.save(update_fields=["email_attempts", "email_error", "email_next_at"])


def deliver(*, limit: int = 100) -> int:
    """Send up to ``limit`` unsent notification emails; returns how many were sent."""
    with transaction.atomic():
        batch = list(
            outbox().select_for_update(skip_locked=True, of=("self",))
            .select_related("task").order_by("created_at")[:limit]
        )  # fmt: skip
        if not batch:
            return 0
        sent = 0
        connection = get_connection()
        try:
            connection.open()
        except Exception as err:  # the server is down: every message waits its turn again
            for n in batch:
                _refused(n, err)
            return 0
        try:
            for n in batch:
                subject, body = messages.email(n)
                try:
                    EmailMessage(subject, body, to=[n.email], connection=connection).send()
                except Exception as err:  # refused: say why, try again later
                    _refused(n, err)
                    continue
                n.emailed_at, n.email_attempts = clock.now(), n.email_attempts + 1
                n.save(update_fields=["emailed_at", "email_attempts"])
                sent += 1
        finally:
            connection.close()
    return sent


def mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read: the ones named, or all. Returns how many changed.

    Naming one that is not the user's answers "not found", like one that does not exist.
    """
    mine = Notification.objects.filter(recipient=user)
    if notification_ids is not None:
        found = set(mine.filter(pk__in=notification_ids).values_list("pk", flat=True))
        if missing := [i for i in notification_ids if i not in found]:
            raise NotFound(
                _("Notification %(id)s does not exist or is not yours.") % {"id": missing[0]}
            )
        mine = mine.filter(pk__in=notification_ids)
    return mine.filter(read_at__isnull=True).update(read_at=clock.now())
