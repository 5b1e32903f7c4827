"""Notifications: the list, opening one (marked read), marking all read, the bell."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from server.flows.notifications import selectors as notifications
from server.flows.notifications.messages import path as notification_path
from server.flows.notifications.messages import render as render_notification
from server.flows.notifications.services import mark_read
from server.i18n import current_language


@login_required
def notification_list(request):
    found = notifications.for_user(user=request.user)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    lang = current_language()
    return render(request, "web/notifications.html", {
        "page": page,
        "rows": [{"n": n, "text": render_notification(n, lang)} for n in page.object_list],
    })  # fmt: skip


@login_required
def notification_open(request, notification_id: int):
    """Mark it read and go where it points."""
    n = notifications.for_user(user=request.user).filter(pk=notification_id).first()
    if n is None:
        raise Http404(_("No such notification."))
    mark_read(user=request.user, notification_ids=[n.pk])
    return redirect(notification_path(n))


@login_required
@require_POST
def notification_read_all(request):
    marked = mark_read(user=request.user, notification_ids=None)
    messages.success(request, _("%(n)s notifications marked read.") % {"n": marked})
    return redirect("web:notifications")


@login_required
def notification_bell(request):
    """The bell alone, for the page to refresh every half minute."""
    return render(request, "web/_bell.html")
