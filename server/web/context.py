"""What every page's frame shows: the user's roles, the unread count, the languages."""

from server.desk import selectors as desk
from server.flows import access
from server.flows.notifications import selectors as notifications
from server.reports import registers
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
        "can_read_reports": registers.can_read_reports(user),
        "can_read_registers": registers.can_read_registers(user),
        "sees_shifts": bool(access.user_roles(user) & desk.SHIFT_READERS),
        "sees_hotline": bool(access.user_roles(user) & desk.HOTLINE_READERS),
    }
