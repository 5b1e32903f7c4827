"""Reading one's own notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Notification


def for_user(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    mine = (
        Notification.objects.filter(recipient=user).select_related("task")
        .order_by("-created_at", "-pk")
    )  # fmt: skip
    return mine.filter(read_at__isnull=True) if unread_only else mine


def unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
