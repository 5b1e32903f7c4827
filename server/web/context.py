"""What every page's frame shows: the user's roles, the unread count, the languages."""

from server.flows import access
from server.flows.notifications import selectors as notifications
from server.reports.kpi_filters import can_read_kpis


def frame(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread": notifications.unread_count(user=user),
        "is_supervisor": access.is_supervisor(user),
        "is_auditor": access.is_auditor(user),
        "can_read_kpis": can_read_kpis(user),
        "can_manage_processes": access.can_manage_processes(user),
    }
