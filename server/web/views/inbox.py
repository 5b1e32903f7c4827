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
from engine.text import pick
from server.desk import selectors as shifts
from server.flows import access, presenters
from server.flows.cases import selectors, services
from server.flows.definitions import selectors as definitions
from server.flows.definitions.cache import sources_for
from server.flows.errors import Invalid, NotFound, ServiceError
from server.i18n import current_language

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
    catalogue = definitions.process_catalogue()
    counts = selectors.task_step_counts(user=request.user, scope=scope, **filters)
    tabs, stage = _tabs(catalogue, counts, param(q, "stage"))
    tasks = selectors.task_list_for_user(
        user=request.user, scope=scope, **_stage_filter(catalogue, stage), **filters
    )
    page = Paginator(tasks, PAGE_SIZE).get_page(q.get("page"))
    keep = {k: v for k, v in q.items() if k != "page" and v}
    tab_query = urlencode({k: v for k, v in keep.items() if k != "stage"})
    context = {
        "rows": _rows(request.user, page.object_list, catalogue.names), "page": page,
        "scope": scope, "filters": filters, "tabs": tabs, "stage": stage,
        "tab_query": tab_query, "processes": sorted(
            (k, label(v, k)) for k, v in catalogue.names.items()),
        "scopes": [(s, _scope_label(s)) for s in scopes],
        "query": urlencode(keep), "next": request.get_full_path(),
    }  # fmt: skip
    if request.headers.get("HX-Request"):
        return render(request, "web/_inbox_rows.html", context)
    context["handover"] = shifts.handover_waiting(user=request.user)  # the next shift's banner
    return render(request, "web/inbox.html", context)


OTHER = "other"  # the tab of tasks in no milestone of their process


def _tabs(catalogue, counts: dict, wanted: str) -> tuple[list[dict], str]:
    """The inbox's tabs: all, then each stage with open tasks (in the packages' milestone
    order, a stage key shared by processes is one tab), then the rest; each with its count."""
    per_stage: dict[str, int] = {}
    for (key, bpmn_id), n in counts.items():
        stage = catalogue.stages.get(key, {}).get(bpmn_id, OTHER)
        per_stage[stage] = per_stage.get(stage, 0) + n
    lang = current_language()
    tabs = [{"key": "", "label": _("All"), "count": sum(per_stage.values())}]
    tabs += [{"key": k, "label": pick(names, lang, k), "count": per_stage[k]}
             for k, names in catalogue.tabs.items() if per_stage.get(k)]  # fmt: skip
    if per_stage.get(OTHER):
        tabs.append({"key": OTHER, "label": _("Other"), "count": per_stage[OTHER]})
    stage = wanted if wanted in {t["key"] for t in tabs} | set(catalogue.tabs) else ""
    return tabs, stage


def _stage_filter(catalogue, stage: str) -> dict:
    if not stage:
        return {}
    steps: dict[str, set[str]] = {}
    for key, stages in catalogue.stages.items():
        for bpmn_id, at in stages.items():
            if stage == OTHER or at == stage:
                steps.setdefault(key, set()).add(bpmn_id)
    return {"other_than": steps} if stage == OTHER else {"steps": steps}


def _rows(user, tasks, names: dict) -> list[dict]:
    """Each task as the inbox shows it: what the job is (its case's summary and tags), the
    caller for whoever works it, its due time, level and holder."""
    tasks = list(tasks)
    sources_for({t.instance.definition_id for t in tasks})  # one read at most
    now, roles, lang = clock.now(), access.user_roles(user), current_language()
    rows = []
    for t in tasks:
        shown = presenters.summary(t.instance, lang)
        contacts = selectors.task_contacts_visible(user=user, roles=roles, task=t)
        rows.append({
            "task": t, "name": task_name(t), "process": label(names.get(t.process_key, {}),
                                                             t.process_key),
            "unit": t.instance.business_key, "level": t.instance.escalation_level,
            "due": due(t, now), "mine": t.assignee_id == user.pk,
            "suspended": t.instance.status == selectors.SUSPENDED,
            "can_claim": t.assignee_id is None and t.role in roles
            and t.instance.status != selectors.SUSPENDED,
            "role": role_name(t.role), "summary": shown.text,
            "tags": [{"label": pick(g.label, lang), "alert": g.alert, "field": g.field}
                     for g in shown.tags],
            "caller": shown.caller if contacts else "", "phone": shown.phone if contacts else "",
        })  # fmt: skip
    return rows


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
