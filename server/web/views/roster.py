"""The site roster (值班表): who holds which role, their trade, on duty or not, and their
open jobs; supervisors and managers change duty and trade from the same page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engine.roles import ROLES
from server.flows import access
from server.flows.errors import Invalid, ServiceError
from server.i18n import current_language
from server.staff import selectors as staff
from server.staff import services
from server.staff.models import TRADE_NAMES, Trade

from .common import role_name


@login_required
def roster_page(request):
    if not access.user_roles(request.user):
        raise PermissionDenied(_("Only staff with a role may read the roster."))
    english = current_language() == "en"
    members = staff.roster()
    groups = []
    for role in ROLES:
        people = [m for m in members if role.key in m.roles]
        if people:
            groups.append({"role": role.key, "name": role_name(role.key), "people": [
                {"m": m, "name": m.name_en if english else m.name,
                 "trade": TRADE_NAMES[m.trade][1 if english else 0]}
                for m in people
            ]})  # fmt: skip
    trades = [(t, TRADE_NAMES[t][1 if english else 0] or "—") for t in Trade.values]
    context = {"groups": groups, "trades": trades, "can_edit": access.is_supervisor(request.user)}
    return render(request, "web/roster.html", context)


@login_required
@require_POST
def roster_change(request, username):
    changes = {"on_duty": request.POST.get("on_duty") == "1"}
    if "trade" in request.POST:
        changes["trade"] = request.POST["trade"]
    try:
        services.staff_update(user=request.user, username=username, changes=changes)
    except Invalid as err:
        messages.error(request, " ".join([err.message, *sum(err.errors.values(), [])]))
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("The roster is up to date."))
    return redirect("web:roster")
