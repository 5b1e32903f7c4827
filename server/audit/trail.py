"""One case's whole trail for an auditor: every event with its actor and what it changed,
the path through the diagram, each human task's time against its limit, the escalations
and who was told when. A few queries whatever the number of events (tests hold it).

Everything here is a plain value in the reader's language, for the page, the JSON answer
and the record's files alike. Recorded form data passes through :func:`personal`, the one
place that decides what a reader may see of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from engine import personal as flags
from engine.errors import EngineError
from engine.text import normalise, pick
from engine.types import CaseTrail
from server.estate.models import Unit
from server.flows import access
from server.flows.cases.personal import Masker
from server.flows.definitions.cache import get_engine, source_for
from server.flows.errors import Forbidden, NotFound
from server.flows.models import (
    AuditEvent,
    HumanTask,
    Notification,
    NotificationDelivery,
    ProcessInstance,
)

from . import limits, words

Kind = AuditEvent.Kind


def _unit_statuses() -> dict:
    """A unit's statuses as a choice's titles, in the reader's language (translation is
    active while a trail is read)."""
    return {value: [str(label), str(label)] for value, label in Unit.Status.choices}


def can_audit(user) -> bool:
    """Auditors and superusers (who hold every role) read any case's trail."""
    return access.is_auditor(user)


def case_for_auditor(*, user, instance_id) -> ProcessInstance:
    """The case whose trail ``user`` asks for: 403 unless they audit, then 404 for a case
    that does not exist (an auditor may see every case)."""
    if not can_audit(user):
        raise Forbidden(_("Only auditors may read a case's trail."))
    text = str(instance_id)
    found = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        found = (
            ProcessInstance.objects.filter(pk=int(text))
            .select_related("definition", "started_by").first()
        )  # fmt: skip
    if found is None:
        raise NotFound(
            _("Case %(id)s does not exist or is not visible to you.") % {"id": instance_id}
        )
    return found


def personal(data: dict, schema: dict | None, *, contacts: bool) -> dict:
    """Recorded form data as this reader may see it: every ``x-personal`` value masked
    unless ``contacts`` (engine/personal.py). The one place the trail applies the rule."""
    return data if contacts else flags.redact(data, schema)


@dataclass(frozen=True)
class Read:
    """The case's rows, read once: what every section is built from."""

    instance: ProcessInstance
    source: object
    events: list[AuditEvent]
    tasks: list[HumanTask]
    notifications: list[Notification]
    users: dict[int, object]


def _read(instance: ProcessInstance) -> Read:
    events = list(
        AuditEvent.objects.filter(instance=instance)
        .select_related("actor", "task").order_by("seq")
    )  # fmt: skip
    tasks = list(
        HumanTask.objects.filter(instance=instance)
        .select_related("assignee", "completed_by").order_by("created_at", "pk")
    )  # fmt: skip
    notifications = list(
        Notification.objects.filter(instance=instance).select_related("recipient")
        .prefetch_related(Prefetch("deliveries", NotificationDelivery.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )  # fmt: skip
    users = {e.actor.pk: e.actor for e in events if e.actor is not None}
    for t in tasks:
        users.update({u.pk: u for u in (t.assignee, t.completed_by) if u is not None})
    missing = {e.data.get(k) for e in events if e.kind == Kind.TASK_ASSIGNED
               for k in ("from", "to")} - users.keys() - {None}  # fmt: skip
    if missing:
        users.update({u.pk: u for u in User.objects.filter(pk__in=missing)})
    return Read(instance, source_for(instance.definition_id), events, tasks, notifications, users)


def trail(instance: ProcessInstance, *, language: str, contacts: bool) -> dict:
    """Everything an auditor reads of ``instance``, in ``language``: the case, its steps
    against their limits, its events, escalations, notifications and path."""
    with translation.override(normalise(language)):
        return _trail(instance, language=language, contacts=contacts)


def _trail(instance: ProcessInstance, *, language: str, contacts: bool) -> dict:
    read = _read(instance)
    instance.refresh_from_db(fields=["state"])  # as of now, beside the events just read
    try:
        engine_trail = get_engine().trail(read.source, instance.engine_state)
    except EngineError:  # a state this build cannot read: the rows still tell the rest
        engine_trail = CaseTrail(path=(), limits=(), data={})
    steps = limits.steps(read.tasks, engine_trail, read.source, language)
    return {
        "case": _case(read, steps, language),
        "steps": steps,
        "events": _events(read, language, contacts=contacts),
        "escalations": _escalations(read, language),
        "notifications": [_notification(n, language) for n in read.notifications],
        "path": _path(read, engine_trail, language),
        # Whether the events hold a personal value: a reader who gets them unmasked and
        # whose reads count (an auditor) leaves a PersonalDataRead; no second read of them.
        "holds_personal": _holds_personal(read),
    }


def _holds_personal(read: Read) -> bool:
    masker = Masker()
    definition_id = read.instance.definition_id
    return any(masker.holds_personal(e, definition_id=definition_id) for e in read.events)


# -- the case ------------------------------------------------------------------------------


def _case(read: Read, steps: list[dict], language: str) -> dict:
    i = read.instance
    outcomes = [s["outcome"] for s in steps]
    missed = outcomes.count("missed") + outcomes.count("overdue")
    return {
        "id": i.pk, "process": i.process_key, "process_name": dict(read.source.names),
        "version": i.definition.version, "unit": i.business_key, "status": i.status,
        "status_label": words.status_label(i.status), "started_at": i.started_at,
        "started_by": words.person(i.started_by), "completed_at": i.completed_at,
        "escalation_level": i.escalation_level,
        "sla": {"steps": len(steps), "with_limit": sum(s["limit"] is not None for s in steps),
                "met": outcomes.count("met"), "missed": missed,
                "late": missed > 0,
                "text": _sla_text(outcomes.count("met"), missed)},
    }  # fmt: skip


def _sla_text(met: int, missed: int) -> str:
    if missed:
        return _("%(missed)s step(s) missed their limit, %(met)s met it") % {
            "missed": missed, "met": met,
        }  # fmt: skip
    return _("Every step within its limit (%(met)s)") % {"met": met}


# -- events, with what each changed --------------------------------------------------------


def _form(event: AuditEvent, source) -> dict | None:
    """The form whose data an event recorded: the start form, or the completed task's."""
    if event.kind == Kind.INSTANCE_STARTED and source.start_form:
        return source.forms.get(source.start_form)
    if event.kind == Kind.TASK_COMPLETED and event.task and event.task.form:
        return source.forms.get(event.task.form)
    return None


def _events(read: Read, language: str, *, contacts: bool) -> list[dict]:
    known: dict = {}  # the case's data as recorded so far (as this reader may see it)
    out = []
    for event in read.events:
        data = dict(event.data or {})
        schema = _form(event, read.source)
        changes = []
        if isinstance(data.get("data"), dict):
            data["data"] = personal(data["data"], schema, contacts=contacts)
            changes = _changes(data["data"], known, schema, language)
            known.update(data["data"])
        title, detail, _important = words.describe(event, language, read.source)
        out.append({
            "seq": event.seq, "kind": event.kind, "label": title, "detail": detail,
            "at": event.at, "actor": words.person(event.actor), "task": str(event.task_id or "")
            or None, "task_name": words.task_name(event.task, language), "data": data,
            "changes": changes + _moves(event, read, language),
        })  # fmt: skip
    return out


def _changes(recorded: dict, known: dict, schema: dict | None, language: str) -> list[dict]:
    """Every value a form submitted, labelled by the form, with the case's value before it
    (as recorded earlier; None if never) and whether it changed it."""
    props = (schema or {}).get("properties") or {}
    out = []
    for key, value in recorded.items():
        node = props.get(key) if isinstance(props.get(key), dict) else {}
        before = known.get(key)
        out.append({
            "field": key, "label": _title(node, key, language), "before": before,
            "after": value, "changed": before != value,
            "before_text": _shown(before, node, language),
            "after_text": _shown(value, node, language),
        })  # fmt: skip
    return out


def _shown(value, node: dict, language: str) -> str:
    """A recorded value as a person reads it: a choice by its title, a flag as yes or no,
    a file by its name, a person by name."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    titles = (node.get("x-enum-titles") or {}).get(str(value)) if node else None
    if titles:
        return pick(titles, language)
    if isinstance(value, dict) and "file" in value:
        return str(value.get("name") or value["file"])
    if isinstance(value, dict) and "username" in value:
        return str(value.get("name") or value["username"])
    if isinstance(value, list):
        items = node.get("items") if isinstance(node.get("items"), dict) else {}
        return ", ".join(_shown(v, items, language) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v, {}, language)}" for k, v in value.items())
    return str(value)


def _title(node, key: str, language: str) -> str:
    node = node if isinstance(node, dict) else {}
    return pick([node.get("title") or "", node.get("x-title-en")], language, key)


def _moves(event: AuditEvent, read: Read, language: str) -> list[dict]:
    """What a reassignment, a move to another version, or a service call changed."""
    data = event.data or {}
    if event.kind == Kind.TASK_ASSIGNED:
        before, after = (words.person(read.users.get(data.get(k))) for k in ("from", "to"))
        return [_move("assignee", _("Holder"), before, after, language)]
    if event.kind == Kind.INSTANCE_MIGRATED:
        return [_move("version", _("Version"), data.get("from"), data.get("to"), language)]
    if event.kind == Kind.UNIT_STATUS_CHANGED:
        return [_move("status", _("Unit status"), data.get("from"), data.get("to"), language,
                      titles=_unit_statuses)]  # fmt: skip
    if event.kind == Kind.OWNER_FILE_UPDATED:
        return [_move(k, _owner_file_label(k), None, data[k], language)
                for k in ("added", "updated", "moved_out") if k in data]  # fmt: skip
    return []


def _move(field: str, label: str, before, after, language: str, titles=None) -> dict:
    node = {"x-enum-titles": titles() if titles else {}}
    return {"field": field, "label": label, "before": before, "after": after,
            "changed": before != after, "before_text": _shown(before, node, language),
            "after_text": _shown(after, node, language)}  # fmt: skip


def _owner_file_label(key: str) -> str:
    return {"added": _("Residents added"), "updated": _("Residents updated"),
            "moved_out": _("Residents moved out")}[key]  # fmt: skip


# -- escalations, notifications, path -------------------------------------------------------


def _escalations(read: Read, language: str) -> list[dict]:
    """Each escalation and notice the case threw: level, when, to which role, who was told."""
    told: dict = {}
    for n in read.notifications:
        told.setdefault((n.created_at, n.data.get("role")), []).append(words.person(n.recipient))
    return [
        {"seq": e.seq, "level": e.data.get("level"), "role": e.data.get("role", ""),
         "role_label": words.role_label(e.data.get("role", ""), language), "at": e.at,
         "name": e.data.get("name", ""), "name_en": e.data.get("name_en", ""),
         "notified": told.get((e.at, e.data.get("role")), [])}
        for e in read.events if e.kind in (Kind.ESCALATED, Kind.NOTIFIED)
    ]  # fmt: skip


def _notification(n: Notification, language: str) -> dict:
    return {
        "id": n.pk, "recipient": words.person(n.recipient), "kind": n.kind,
        "kind_label": _("Escalation") if n.kind == Notification.Kind.ESCALATION else _("Notice"),
        "level": n.data.get("level"), "task": str(n.task_id or "") or None,
        "created_at": n.created_at, "read_at": n.read_at,
        "deliveries": [{"channel": d.channel, "channel_label": _channel(d.channel),
                        "sent_at": d.sent_at, "attempts": d.attempts, "error": d.error}
                       for d in n.deliveries.all()],
    }  # fmt: skip


CHANNELS = {"email": gettext_noop("email")}  # the channels' names, for the catalogue


def _channel(name: str) -> str:
    """A delivery channel's name in the reader's language (its key if it has no words)."""
    return _(CHANNELS[name]) if name in CHANNELS else name


def _path(read: Read, engine_trail, language: str) -> list[dict]:
    glossary = read.source.glossary
    return [
        {"bpmn_id": p.bpmn_id, "name": p.name, "name_en": glossary.get(p.bpmn_id) or p.name,
         "label": pick([p.name, glossary.get(p.bpmn_id)], language), "kind": p.kind}
        for p in engine_trail.path
    ]  # fmt: skip
