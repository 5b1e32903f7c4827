"""Notifications: the reader's read/unread, and the email outbox.

Notifications are written with the step that escalated, in its transaction. Email
leaves afterwards: :func:`deliver` takes unsent rows with ``FOR UPDATE SKIP LOCKED``
(two deliverers never take the same row), sends them through Django's email
framework and marks them sent in the same transaction. A deliverer that dies after
the mail server accepted a message and before the commit sends it again: at least
once, never lost.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet

from engine import clock

from . import messages
from .errors import NotFound
from .models import Notification

log = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 5


def outbox() -> QuerySet[Notification]:
    return Notification.objects.filter(
        emailed_at__isnull=True, email_attempts__lt=MAX_EMAIL_ATTEMPTS
    ).exclude(email="")


def deliver(*, limit: int = 100) -> int:
    """Send up to ``limit`` unsent notification emails; returns how many were sent."""
    with transaction.atomic():
        batch = list(
            outbox().select_for_update(skip_locked=True, of=("self",))
            .select_related("instance").order_by("created_at")[:limit]
        )  # fmt: skip
        if not batch:
            return 0
        sent = 0
        with get_connection() as connection:
            for n in batch:
                subject, body = messages.email(n)
                try:
                    EmailMessage(subject, body, to=[n.email], connection=connection).send()
                except Exception as err:  # the server refused it: say why, try again later
                    log.warning("Email to %s for notification %s failed: %s", n.email, n.pk, err)
                    n.email_attempts += 1
                    n.email_error = f"{type(err).__name__}: {err}"[:2000]
                    n.save(update_fields=["email_attempts", "email_error"])
                    continue
                n.emailed_at, n.email_attempts = clock.now(), n.email_attempts + 1
                n.save(update_fields=["emailed_at", "email_attempts"])
                sent += 1
    return sent


def mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read: the ones named, or all. Returns how many changed.

    Naming one that is not the user's answers "not found", like one that does not exist.
    """
    mine = Notification.objects.filter(recipient=user)
    if notification_ids is not None:
        found = set(mine.filter(pk__in=notification_ids).values_list("pk", flat=True))
        if missing := [i for i in notification_ids if i not in found]:
            raise NotFound(f"Notification {missing[0]} does not exist or is not yours.")
        mine = mine.filter(pk__in=notification_ids)
    return mine.filter(read_at__isnull=True).update(read_at=clock.now())
