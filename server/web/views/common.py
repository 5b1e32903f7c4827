"""What the page views share: names in the reader's language, due times, the form and the
case's record as templates draw them, and turning a service's errors into pages."""

from __future__ import annotations

from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from engine.text import pick
from server.flows import access, presenters
from server.flows.cases import selectors, services
from server.flows.errors import NotFound
from server.i18n import current_language

from .. import schema_form, timeline

PAGE_SIZE = 25


def role_name(key: str) -> str:
    return timeline.role_label(key, current_language())


def label(names: dict, key: str) -> str:
    """A process's name in the reader's language (its key if it has none)."""
    return pick(names, current_language(), key)


def task_name(task) -> str:
    return pick([task.name, task.name_en], current_language())


def not_found(err: NotFound):
    raise Http404(err.message) from err


def back(request, fallback: str) -> str:
    """Where to go after a form: its ``next`` if it is on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return fallback


def flag(value) -> bool:
    return value in ("1", "on", "true")


def param(q, name: str, limit: int = 100) -> str:
    """A text parameter, trimmed, without NUL (which PostgreSQL refuses)."""
    return q.get(name, "").replace("\x00", "").strip()[:limit]


def due(task, now) -> dict | None:
    if task.due_at is None:
        return None
    minutes = int((task.due_at - now).total_seconds() // 60)
    return {
        "at": task.due_at,
        "overdue": minutes < 0,
        "text": timeline.duration_text(minutes, current_language()),
    }


def form_context(schema: dict, raw: dict, errors: dict, lang: str) -> dict:
    """What the form template draws: title, help, fields holding ``raw``, form-wide errors."""
    return {
        "title": schema_form.label(schema, lang),
        "help": schema_form.label(schema, lang, "description"),
        "fields": schema_form.fields(schema, raw, errors, lang),
        "errors": errors.get("non_field_errors", []),
    }


def case_context(user, instance, source, lang: str, open_tasks=None, *, page="case_page"):
    """What the case recorded so far, what it is about, its caller, unit and people (personal
    data only for those the contact rules allow; an auditor's read of it is recorded, as
    ``page``, and shows on the timeline); with ``open_tasks``, its step bar too."""
    contacts = selectors.can_see_contacts(user=user, instance=instance)
    events = selectors.instance_events(instance=instance)
    people = []
    unit_code = instance.business_key
    if contacts and unit_code:
        people = sorted(selectors.unit_people(code=unit_code), key=lambda r: r.kind != "owner")
    shown = presenters.summary(instance, lang)
    if access.personal_reads_recorded(user) and contacts and (
        people or shown.caller or shown.phone
        or selectors.personal_values_read(user=user, instance=instance, events=events)
    ):  # fmt: skip
        services.record_personal_read(user=user, instance=instance, what=page)
    reads = selectors.instance_personal_reads(user=user, instance=instance)
    return {
        "contacts": contacts,
        "people": people,
        "summary": shown,
        "tags": [{"label": pick(t.label, lang), "alert": t.alert} for t in shown.tags],
        "timeline": timeline.entries(events, source, lang, contacts=contacts, reads=reads),
        "steps": None if open_tasks is None else timeline.steps(source, events, open_tasks, lang),
    }
