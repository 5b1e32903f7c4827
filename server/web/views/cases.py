"""Cases: the list I may open, a case's page (record, open tasks, timers, diagram), and
the attachments it recorded (views/files.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engine import clock
from engine.text import pick
from server.audit import trail
from server.flows import access, presenters
from server.flows.cases import selectors, services
from server.flows.definitions import selectors as definitions
from server.flows.definitions.cache import source_for, sources_for
from server.flows.errors import Invalid, NotFound, ServiceError
from server.i18n import current_language

from .. import timeline
from .common import PAGE_SIZE, case_context, due, label, not_found, param, role_name, task_name


@login_required
def case_list(request):
    q = request.GET
    filters = {"process": param(q, "process"), "status": param(q, "status"),
               "search": param(q, "q")}  # fmt: skip
    try:
        cases = selectors.instance_list_for_user(user=request.user, **filters)
    except Invalid:
        filters["status"] = ""
        cases = selectors.instance_list_for_user(user=request.user, **filters)
    page = Paginator(cases, PAGE_SIZE).get_page(q.get("page"))
    names = definitions.process_names()
    keep = {k: v for k, v in q.items() if k != "page" and v}
    return render(request, "web/cases.html", {
        "rows": [{"case": c, "process": label(names.get(c.process_key, {}), c.process_key),
                  "status": timeline.status_label(c.status), **_about(c)}
                 for c in _with_sources(page.object_list)],
        "page": page, "filters": filters, "query": urlencode(keep),
        "processes": sorted((k, label(v, k)) for k, v in names.items()),
        "statuses": [(s, timeline.status_label(s)) for s in selectors.CASE_STATUSES],
    })  # fmt: skip


def _with_sources(cases) -> list:
    cases = list(cases)
    sources_for({c.definition_id for c in cases})  # one read at most
    return cases


def _about(case) -> dict:
    """What the case is about, for its row: no contact data (a list is read by many)."""
    lang = current_language()
    shown = presenters.summary(case, lang)
    tags = [{"label": pick(t.label, lang), "alert": t.alert} for t in shown.tags]
    return {"summary": shown.text, "tags": tags}


@login_required
def case_page(request, instance_id: str):
    try:
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
    except NotFound as err:
        not_found(err)
    lang = current_language()
    source = source_for(instance.definition_id)
    open_tasks = selectors.instance_open_tasks(instance=instance)
    done = selectors.instance_done_steps(instance=instance)
    return render(request, "web/case.html", {
        "instance": instance, "process": source.name(lang),
        "status": timeline.status_label(instance.status),
        "tasks": [{"task": t, "name": task_name(t), "role": role_name(t.role),
                   "due": due(t, clock.now())} for t in open_tasks],
        "timers": [{"name": pick([t.name, source.glossary.get(t.bpmn_id)], lang),
                    "due_at": t.due_at} for t in selectors.instance_timers(instance=instance)],
        "diagram": presenters.diagram(source, open_tasks, done, lang),
        "can_audit": trail.can_audit(request.user),
        **_controls(request.user, instance),
        **case_context(request.user, instance, source, lang, open_tasks=open_tasks),
    })  # fmt: skip


def _controls(user, instance) -> dict:
    """What a supervisor or manager may do to the case here: suspend, resume, terminate,
    move it to the newest version when there is a newer one."""
    if not access.can_control_case(user) or instance.status not in selectors.CONTROLLABLE:
        return {"controls": False, "newer": None}
    newest = definitions.latest_definition(instance.process_key)
    newer = newest.version if newest.version > instance.definition.version else None
    return {"controls": True, "newer": newer}


@login_required
@require_POST
def case_suspend(request, instance_id: str):
    reason = request.POST.get("reason", "").replace("\x00", "")[:1000]
    return _control(request, instance_id, services.instance_suspend,
                    _("The case is suspended."), reason=reason)  # fmt: skip


@login_required
@require_POST
def case_resume(request, instance_id: str):
    return _control(request, instance_id, services.instance_resume, _("The case runs again."))


@login_required
@require_POST
def case_terminate(request, instance_id: str):
    reason = request.POST.get("reason", "").replace("\x00", "")[:1000]
    return _control(request, instance_id, services.instance_terminate,
                    _("The case is terminated."), reason=reason)  # fmt: skip


@login_required
@require_POST
def case_migrate(request, instance_id: str):
    raw = request.POST.get("version", "")
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31):
        messages.error(request, _("Choose a version to move the case to."))
        return redirect("web:case", instance_id=instance_id)
    return _control(request, instance_id, services.instance_migrate,
                    _("The case now runs version %(version)s.") % {"version": raw},
                    to_version=int(raw))  # fmt: skip


def _control(request, instance_id, action, done: str, **values):
    """Act on the case, then back to its page with what happened or why not (the engine's
    reasons for a refused move among them)."""
    try:
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
        action(instance_id=instance.pk, user=request.user, **values)
    except NotFound as err:
        not_found(err)
    except Invalid as err:
        messages.error(request, " ".join([err.message, *sum(err.errors.values(), [])]))
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, done)
    return redirect("web:case", instance_id=instance.pk)
