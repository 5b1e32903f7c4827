"""The staff's pages: inbox, task, start a case, case, notifications.

Like the API, each view reads through selectors and writes through services, so the two
answer the same permissions and errors; a service's error becomes a message on the page
(field errors beside their fields), never a 500. What a user may not see is a 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engine import clock
from server.flows import access, notifications, presenters, selectors, services
from server.flows.engine_binding import source_for
from server.flows.errors import Invalid, NotFound, ServiceError
from server.flows.messages import path as notification_path
from server.flows.messages import render as render_notification
from server.flows.models import HumanTask, ProcessInstance

from . import schema_form, timeline

PAGE_SIZE = 25


def language() -> str:
    return "en" if (translation.get_language() or "").startswith("en") else "zh-hans"


def role_name(key: str) -> str:
    return timeline.role_label(key, language())


def pick(names: dict, key: str = "") -> str:
    return names.get(language()) or names.get("zh-hans") or key


def task_name(task: HumanTask) -> str:
    return (task.name_en or task.name) if language() == "en" else task.name


def _not_found(err: NotFound):
    raise Http404(err.message) from err


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return fallback


def _flag(value) -> bool:
    return value in ("1", "on", "true")


def _param(q, name: str, limit: int = 100) -> str:
    """A text parameter, trimmed, without NUL (which PostgreSQL refuses)."""
    return q.get(name, "").replace("\x00", "").strip()[:limit]


# -- inbox -------------------------------------------------------------------------------


def _due(task: HumanTask, now) -> dict | None:
    if task.due_at is None:
        return None
    minutes = int((task.due_at - now).total_seconds() // 60)
    return {
        "at": task.due_at,
        "overdue": minutes < 0,
        "text": timeline.duration_text(minutes, language()),
    }


@login_required
def inbox(request):
    q = request.GET
    scopes = ["inbox", "mine", "available", "all"]
    scope = q.get("scope") if q.get("scope") in scopes else "inbox"
    filters = {
        "process": _param(q, "process"), "unit": _param(q, "unit"),
        "overdue": _flag(q.get("overdue")), "search": _param(q, "q"),
    }  # fmt: skip
    tasks = selectors.task_list_for_user(user=request.user, scope=scope, **filters)
    page = Paginator(tasks, PAGE_SIZE).get_page(q.get("page"))
    names = selectors.process_names()
    now = clock.now()
    user = request.user
    roles = access.user_roles(user)
    rows = [
        {
            "task": t, "name": task_name(t), "process": pick(names.get(t.process_key, {}),
                                                            t.process_key),
            "unit": t.instance.business_key, "level": t.instance.escalation_level,
            "due": _due(t, now), "mine": t.assignee_id == user.pk,
            "can_claim": t.assignee_id is None and t.role in roles,
            "role": role_name(t.role),
        }
        for t in page.object_list
    ]  # fmt: skip
    keep = {k: v for k, v in q.items() if k != "page" and v}
    context = {
        "rows": rows, "page": page, "scope": scope, "filters": filters,
        "processes": sorted((k, pick(v, k)) for k, v in names.items()),
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
    return _act(request, task_id, services.task_unclaim, _("You handed back “%(task)s”."))


@login_required
@require_POST
def task_assign(request, task_id):
    raw = request.POST.get("assignee", "")
    assignee = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0

    def assign(*, task_id, user):
        if not assignee:  # the service takes a checked id
            raise Invalid(_("Choose who takes the task."), {"assignee": [_("Must be a user id.")]})
        return services.task_assign(task_id=task_id, user=user, assignee_id=assignee)

    return _act(request, task_id, assign, _("“%(task)s” now goes to the person you chose."))


def _act(request, task_id, action, done: str):
    fallback = reverse("web:task", args=[task_id])
    try:
        task = action(task_id=task_id, user=request.user)
    except NotFound as err:
        _not_found(err)
    except Invalid as err:
        messages.error(request, " ".join([err.message, *sum(err.errors.values(), [])]))
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, done % {"task": task_name(task)})
    return redirect(_back(request, fallback))


# -- task ----------------------------------------------------------------------------------


def _can_act(user, task: HumanTask) -> bool:
    if task.status != HumanTask.Status.OPEN:
        return False
    if task.assignee_id == user.pk:
        return True
    return task.assignee_id is None and task.role in access.user_roles(user)


@login_required
def task_page(request, task_id):
    try:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    except NotFound as err:
        _not_found(err)
    source = source_for(task.instance.definition_id)
    schema = source.forms.get(task.form) if task.form else None
    lang = language()
    raw, errors, status = schema_form.to_raw(schema or {}, {}), {}, 200
    if request.method == "POST":
        if not _can_act(request.user, task):
            messages.error(request, _("This task is not yours to complete."))
            return redirect("web:task", task_id=task.pk)
        data, raw, errors = schema_form.parse(schema or {}, request.POST, request.FILES, lang)
        if not errors:
            try:
                services.task_complete(task_id=task.pk, user=request.user, data=data)
            except Invalid as err:
                errors = err.errors or {"non_field_errors": [err.message]}
            except NotFound as err:
                _not_found(err)
            except ServiceError as err:
                messages.error(request, err.message)
                return redirect("web:task", task_id=task.pk)
            else:
                return _after_complete(request, task)
        status = 400
        messages.error(
            request, _("The form has errors; nothing was saved. See the fields marked below.")
        )
    instance = task.instance
    context = {
        "task": task, "name": task_name(task), "instance": instance,
        "process": source.name(lang), "role": role_name(task.role),
        "due": _due(task, clock.now()), "can_act": _can_act(request.user, task),
        "is_supervisor": access.is_supervisor(request.user),
        "form": schema and _form(schema, raw, errors, lang),
        "candidates": _candidates(request.user, task),
        **_case_context(request.user, instance, source, lang),
    }  # fmt: skip
    return render(request, "web/task.html", context, status=status)


def _form(schema: dict, raw: dict, errors: dict, lang: str) -> dict:
    """What the form template draws: title, help, fields holding ``raw``, form-wide errors."""
    return {
        "title": schema_form.label(schema, lang),
        "help": schema_form.label(schema, lang, "description"),
        "fields": schema_form.fields(schema, raw, errors, lang),
        "errors": errors.get("non_field_errors", []),
    }


def _candidates(user, task: HumanTask) -> list[User]:
    if not (access.is_supervisor(user) and task.status == HumanTask.Status.OPEN and task.role):
        return []
    return list(
        User.objects.filter(groups__name=task.role, is_active=True).distinct().order_by("username")
    )


def _next_task(user, instance: ProcessInstance) -> HumanTask | None:
    """The case's first open task the user may work now."""
    return next((t for t in selectors.instance_open_tasks(instance=instance) if _can_act(user, t)),
                None)  # fmt: skip


def _after_complete(request, task: HumanTask):
    """Straight on to the case's next task when it is the user's, else back to the inbox."""
    done = _("Done: “%(task)s”.") % {"task": task_name(task)}
    nxt = _next_task(request.user, task.instance)
    if nxt is not None:
        messages.success(request, done + " " + _("Next: “%(task)s”.") % {"task": task_name(nxt)})
        return redirect("web:task", task_id=nxt.pk)
    messages.success(request, done)
    return redirect("web:inbox")


def _case_context(user, instance: ProcessInstance, source, lang: str) -> dict:
    """What the case recorded so far, its unit and people (contact data only for those
    with a task in it)."""
    contacts = selectors.can_see_contacts(user=user, instance=instance)
    events = selectors.instance_events(instance=instance)
    people = []
    unit_code = instance.business_key
    if contacts and unit_code:
        people = sorted(selectors.unit_people(code=unit_code), key=lambda r: r.kind != "owner")
    return {
        "contacts": contacts,
        "people": people,
        "timeline": timeline.entries(events, source, lang, contacts=contacts),
    }


# -- start a case ----------------------------------------------------------------------


@login_required
def start_menu(request):
    roles = access.user_roles(request.user)
    lang = language()
    startable = [
        {"key": d.key, "name": d.name(lang),
         "help": schema_form.label(d.source.forms.get(d.source.start_form) or {}, lang,
                                   "description")}
        for d in selectors.process_list() if roles & set(d.start_roles)
    ]  # fmt: skip
    return render(request, "web/start.html", {"processes": startable})


@login_required
def start_form(request, key: str):
    try:
        definition = selectors.process_get(key=key)
    except NotFound as err:
        _not_found(err)
    source = source_for(definition.pk)
    if not access.user_roles(request.user) & set(source.start_roles):
        raise Http404(_("There is no such process to start."))
    lang = language()
    schema = source.forms.get(source.start_form) if source.start_form else {}
    raw, errors, status = schema_form.to_raw(schema, {}), {}, 200
    if request.method == "POST":
        data, raw, errors = schema_form.parse(schema, request.POST, request.FILES, lang)
        if not errors:
            try:
                instance = services.instance_start(
                    process_key=key, started_by=request.user, data=data
                )
            except Invalid as err:
                errors = err.errors or {"non_field_errors": [err.message]}
            except ServiceError as err:
                errors = {"non_field_errors": [err.message]}
            else:
                return _after_start(request, instance, source.name(lang))
        status = 400
        messages.error(
            request, _("The form has errors; nothing was saved. See the fields marked below.")
        )
    context = {
        "process": source.name(lang), "key": key,
        "form": _form(schema, raw, errors, lang),
    }  # fmt: skip
    return render(request, "web/start_form.html", context, status=status)


def _after_start(request, instance: ProcessInstance, process: str):
    messages.success(
        request, _("Case #%(id)s started: %(process)s.") % {"id": instance.pk, "process": process}
    )
    nxt = _next_task(request.user, instance)
    if nxt is not None:
        return redirect("web:task", task_id=nxt.pk)
    return redirect("web:case", instance_id=instance.pk)


# -- cases ---------------------------------------------------------------------------------


@login_required
def case_list(request):
    q = request.GET
    filters = {"process": _param(q, "process"), "status": _param(q, "status"),
               "search": _param(q, "q")}  # fmt: skip
    try:
        cases = selectors.instance_list_for_user(user=request.user, **filters)
    except Invalid:
        filters["status"] = ""
        cases = selectors.instance_list_for_user(user=request.user, **filters)
    page = Paginator(cases, PAGE_SIZE).get_page(q.get("page"))
    names = selectors.process_names()
    keep = {k: v for k, v in q.items() if k != "page" and v}
    return render(request, "web/cases.html", {
        "rows": [{"case": c, "process": pick(names.get(c.process_key, {}), c.process_key)}
                 for c in page.object_list],
        "page": page, "filters": filters, "query": urlencode(keep),
        "processes": sorted((k, pick(v, k)) for k, v in names.items()),
        "statuses": [(s, timeline.status_label(s)) for s in ProcessInstance.Status.values],
    })  # fmt: skip


@login_required
def case_page(request, instance_id: str):
    try:
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
    except NotFound as err:
        _not_found(err)
    lang = language()
    source = source_for(instance.definition_id)
    open_tasks = selectors.instance_open_tasks(instance=instance)
    done = selectors.instance_done_steps(instance=instance)
    return render(request, "web/case.html", {
        "instance": instance, "process": source.name(lang),
        "status": timeline.status_label(instance.status),
        "tasks": [{"task": t, "name": task_name(t), "role": role_name(t.role),
                   "due": _due(t, clock.now())} for t in open_tasks],
        "timers": selectors.instance_timers(instance=instance),
        "diagram": presenters.diagram(source, open_tasks, done),
        **_case_context(request.user, instance, source, lang),
    })  # fmt: skip


@login_required
def case_file(request, instance_id: str, seq: int, path: str):
    """An attachment recorded in the case (a photo, a drawing, a signature)."""
    try:
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
    except NotFound as err:
        _not_found(err)
    event = next((e for e in selectors.instance_events(instance=instance) if e.seq == seq), None)
    data = (event.data.get("data") if event else None) or {}
    top, _sep, index = path.partition(".")
    schema = presenters.recorded_form(event, source_for(instance.definition_id)) if event else None
    if top in access.contact_fields(schema) and not selectors.can_see_contacts(
        user=request.user, instance=instance
    ):
        raise Http404(_("No such file."))
    value = data.get(top)
    if isinstance(value, list):
        value = value[int(index)] if index.isdigit() and int(index) < len(value) else None
    found = schema_form.data_url_content(value) if isinstance(value, str) else None
    if found is None:
        raise Http404(_("No such file."))
    media, content = found
    response = HttpResponse(content, content_type=media)
    inline = media.startswith("image/") or media == "application/pdf"
    response["Content-Disposition"] = "inline" if inline else f'attachment; filename="{top}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


# -- notifications ---------------------------------------------------------------------


@login_required
def notification_list(request):
    found = selectors.notification_list_for_user(user=request.user)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    lang = language()
    return render(request, "web/notifications.html", {
        "page": page,
        "rows": [{"n": n, "text": render_notification(n, lang)} for n in page.object_list],
    })  # fmt: skip


@login_required
def notification_open(request, notification_id: int):
    """Mark it read and go where it points."""
    n = selectors.notification_list_for_user(user=request.user).filter(pk=notification_id).first()
    if n is None:
        raise Http404(_("No such notification."))
    notifications.mark_read(user=request.user, notification_ids=[n.pk])
    return redirect(notification_path(n))


@login_required
@require_POST
def notification_read_all(request):
    marked = notifications.mark_read(user=request.user, notification_ids=None)
    messages.success(request, _("%(n)s notifications marked read.") % {"n": marked})
    return redirect("web:notifications")


@login_required
def notification_bell(request):
    """The bell alone, for the page to refresh every half minute."""
    return render(request, "web/_bell.html")
