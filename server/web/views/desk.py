"""The desk's pages: the end-of-shift check and hand-over (``/shift/``) and the hotline log
(``/hotline/``). Reads through server.desk.selectors, writes through its services."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from server.desk import selectors as desk
from server.desk import services
from server.desk.models import HotlineCall
from server.flows import access
from server.flows.errors import Forbidden, Invalid, NotFound, ServiceError
from server.i18n import current_language

from .common import not_found


def _allowed(check, user) -> None:
    try:
        check(user)
    except Forbidden as err:
        raise PermissionDenied(err.message) from err


def _said(request, err: ServiceError) -> None:
    """A refusal as the page's message: what was wrong, field by field."""
    details = [m for found in (err.errors or {}).values() for m in found]
    messages.error(request, " ".join([err.message, *details]))


def _act(request, write, done: str = ""):
    """Run one of the desk's writes for a page: a refusal becomes the 403 or 404 page or,
    for bad input, the page's message; ``done`` is said when it worked. Returns what the
    write returned, or None when it was refused."""
    try:
        result = write()
    except Forbidden as err:
        raise PermissionDenied(err.message) from err
    except NotFound as err:
        not_found(err)
    except ServiceError as err:
        _said(request, err)
        return None
    if done:
        messages.success(request, done)
    return result


# -- the end-of-shift check ----------------------------------------------------------------------


@login_required
def shift_page(request):
    _allowed(desk.check_reads_shifts, request.user)
    checks = desk.check_list(user=request.user)
    chosen = request.GET.get("check")
    try:
        check = desk.check_get(user=request.user, check_id=chosen) if chosen else checks.first()
    except NotFound as err:
        not_found(err)
    english = current_language() == "en"
    items = desk.check_items(check=check) if check else []
    handovers = desk.handover_list(user=request.user)
    context = {
        "check": check,
        "items": [{"i": i, "step": i.step_en if english else i.step} for i in items],
        "checks": checks[:20],
        "latest_handover": handovers.first(),
        "own_handover": getattr(check, "handover", None) if check else None,
        "waiting": desk.handover_waiting(user=request.user),
        "can_write": desk.DISPATCHER in access.user_roles(request.user),
        "dispatchers": [u for u in desk.dispatcher_choices() if u.pk != request.user.pk],
    }  # fmt: skip
    return render(request, "web/shift.html", context)


def _back_to(check_id) -> str:
    return f"/shift/?check={check_id}"


@login_required
@require_POST
def shift_item_annotate(request, item_id: int):
    item = _act(request, lambda: services.item_annotate(
        user=request.user, item_id=item_id, reason=request.POST.get("reason", "")))  # fmt: skip
    return redirect(_back_to(item.shift_check_id) if item else "web:shift")


@login_required
@require_POST
def shift_complete(request, check_id: int):
    _act(request, lambda: services.check_complete(user=request.user, check_id=check_id),
         _("The check is complete: now write the hand-over."))  # fmt: skip
    return redirect(_back_to(check_id))


@login_required
@require_POST
def shift_handover(request, check_id: int):
    p = request.POST
    _act(request, lambda: services.handover_create(
        user=request.user, check_id=check_id, to_user=p.get("to_user", ""),
        pending=p.get("pending", ""), reasons=p.get("reasons", ""), remarks=p.get("remarks", ""),
    ), _("The hand-over is written; the next shift will see it."))  # fmt: skip
    return redirect(_back_to(check_id))


@login_required
@require_POST
def handover_acknowledge(request, handover_id: int):
    _act(request, lambda: services.handover_acknowledge(user=request.user, handover_id=handover_id),
         _("Hand-over acknowledged."))  # fmt: skip
    return redirect(request.POST.get("next") == "inbox" and "web:inbox" or "web:shift")


# -- the hotline log -----------------------------------------------------------------------------

FIELDS = ("kind", "channel", "unit", "caller", "phone", "summary", "reply")


@login_required
def hotline_page(request):
    _allowed(desk.check_reads_hotline, request.user)
    values, errors, status = {"channel": "phone"}, {}, 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in FIELDS}
        try:
            call = services.call_create(user=request.user, **values)
        except Forbidden as err:
            raise PermissionDenied(err.message) from err
        except Invalid as err:
            errors, status = err.errors, 400
            messages.error(request, err.message)
        else:
            logged = _("Call logged: %(kind)s.") % {"kind": call.get_kind_display()}
            messages.success(request, logged)
            return redirect("web:hotline")
    day, kind = _day(request.GET.get("day")), request.GET.get("kind", "")
    if kind not in HotlineCall.Kind.values:
        kind = ""
    calls = desk.call_list(user=request.user, day=day, kind=kind)[:200]
    context = {
        "rows": desk.call_rows(user=request.user, calls=calls), "day": day, "kind": kind,
        "kinds": HotlineCall.Kind.choices, "channels": HotlineCall.Channel.choices,
        "values": values, "errors": errors,
        "can_write": bool(access.user_roles(request.user) & desk.HOTLINE_WRITERS),
    }  # fmt: skip
    template = "web/_hotline_rows.html" if request.headers.get("HX-Request") else "web/hotline.html"
    return render(request, template, context, status=status)


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else desk.local_today()
    except ValueError:
        return desk.local_today()
