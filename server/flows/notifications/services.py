"""What a reader does with their notifications."""

from __future__ import annotations

from django.utils.translation import gettext as _

from engine import clock

from ..errors import NotFound
from ..models import Notification


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
