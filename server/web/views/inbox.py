"""The inbox (待办): my tasks and my roles' unclaimed ones, overdue first; claiming, handing
back, and (supervisors) reassigning."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engine import clock
from server.flows import access
from server.flows.cases import selectors, services
from server.flows.definitions import selectors as definitions
from server.flows.errors import Invalid, NotFound, ServiceError

from .common import PAGE_SIZE, back, due, flag, label, not_found, param, role_name, task_name


@login_required
def inbox(request):
    q = request.GET
    scopes = list(selectors.TASK_SCOPES)
    scope = q.get("scope") if q.get("scope") in scopes else "inbox"
    filters = {
        "process": param(q, "process"), "unit": param(q, "unit"),
        "overdue": flag(q.get("overdue")), "search": param(q, "q"),
    }  # fmt: skip
    tasks = selectors.task_list_for_user(user=request.user, scope=scope, **filters)
    page = Paginator(tasks, PAGE_SIZE).get_page(q.get("page"))
    names = definitions.process_names()
    now = clock.now()
    user = request.user
    roles = access.user_roles(user)
    rows = [
        {
            "task": t, "name": task_name(t), "process": label(names.get(t.process_key, {}),
                                                             t.process_key),
            "unit": t.instance.business_key, "level": t.instance.escalation_level,
            "due": due(t, now), "mine": t.assignee_id == user.pk,
            "suspended": t.instance.status == selectors.SUSPENDED,
            "can_claim": t.assignee_id is None and t.role in roles
            and t.instance.status != selectors.SUSPENDED,
            "role": role_name(t.role),
        }
        for t in page.object_list
    ]  # fmt: skip
    keep = {k: v for k, v in q.items() if k != "page" and v}
    context = {
        "rows": rows, "page": page, "scope": scope, "filters": filters,
        "processes": sorted((k, label(v, k)) for k, v in names.items()),
        "scopes": [(s, _scope_label(s)) for s in scopes],
        "query": urlencode(keep), "next": request.get_full_path(),
    }  # fmt: skip
    template = "web/_inbox_rows.html" if request.headers.get("HX-Request") else "web/inbox.html"
    return render(request, template, context)


def _scope_label(scope: str) -> str:
    return {
        "inbox": _("My inbox"), "mine": _("Claimed by me"),
        "available": _("To claim"), "all": _("All open tasks"),
    }[scope]  # fmt: skip


@login_required
@require_POST
def task_claim(request, task_id):
    return _act(request, task_id, services.task_claim, _("You claimed “%(task)s”."))


@login_required
@require_POST
def task_unclaim(request, task_id):
    return _act(request, task_id, services.task_unclaim, _("“%(task)s” is back in the pool."))


@login_required
@require_POST
def task_hand_back(request, task_id):
    reason = request.POST.get("reason", "")

    def hand_back(*, task_id, user):
        return services.task_hand_back(task_id=task_id, user=user, reason=reason)

    return _act(request, task_id, hand_back, _("You handed back “%(task)s”, saying why."))


@login_required
@require_POST
def task_assign(request, task_id):
    raw = request.POST.get("assignee", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 20 and 0 < int(raw) < 2**63):
        messages.error(request, _("Choose who takes the task."))
        return redirect(back(request, reverse("web:task", args=[task_id])))

    def assign(*, task_id, user):
        return services.task_assign(task_id=task_id, user=user, assignee_id=int(raw))

    return _act(request, task_id, assign, _("“%(task)s” now goes to the person you chose."))


def _act(request, task_id, action, done: str):
    fallback = reverse("web:task", args=[task_id])
    try:
        task = action(task_id=task_id, user=request.user)
    except NotFound as err:
        not_found(err)
    except Invalid as err:
        messages.error(request, " ".join([err.message, *sum(err.errors.values(), [])]))
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, done % {"task": task_name(task)})
    return redirect(back(request, fallback))
