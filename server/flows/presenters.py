"""How a case's diagram and audit events look, for the pages and the API alike (the API's
other answers are its output serializers, server/api)."""

from __future__ import annotations

from lxml import etree

from engine import ProcessSource, policy
from engine.roles import ROLES

from .models import AuditEvent, HumanTask


def _user(user) -> dict | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


def diagram(
    source: ProcessSource, open_tasks: list[HumanTask], completed: list[str], language="zh-hans"
) -> dict:
    """The case's BPMN with its open tasks (``active``) and completed ones (``done``) by id,
    its labels in ``language``."""
    return {
        "bpmn": labelled(source, language),
        "active": sorted({t.bpmn_id for t in open_tasks}),
        "done": sorted(set(completed)),
    }


def event(event: AuditEvent, *, withhold_contacts_of: ProcessSource | None = None) -> dict:
    """An audit event; with ``withhold_contacts_of`` (the case's source), the contact fields
    of the form data it recorded are withheld (for readers who may not see them)."""
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": _time(event.at),
        "actor": _user(event.actor),
        "task": str(event.task_id) if event.task_id else None,
        "data": event_data(event, withhold_contacts_of=withhold_contacts_of),
    }


def event_data(event: AuditEvent, *, withhold_contacts_of: ProcessSource | None = None) -> dict:
    """What an event recorded, its form data's contact fields withheld with
    ``withhold_contacts_of`` (the case's source)."""
    data = event.data
    recorded = data.get("data")
    if withhold_contacts_of is not None and isinstance(recorded, dict):
        schema = recorded_form(event, withhold_contacts_of)
        data = {**data, "data": policy.redact(recorded, schema)}
    return data


def recorded_form(event: AuditEvent, source: ProcessSource) -> dict | None:
    """The form whose data an event recorded: the start form, or the completed task's."""
    if event.kind == AuditEvent.Kind.INSTANCE_STARTED and source.start_form:
        return source.forms.get(source.start_form)
    if event.kind == AuditEvent.Kind.TASK_COMPLETED and event.task and event.task.form:
        return source.forms.get(event.task.form)
    return None


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ROLE_EN = {r.key: r.name_en for r in ROLES}


def labelled(source: ProcessSource, language: str) -> str:
    """The BPMN as drawn (its labels Chinese), or with every label the package names in
    English (its glossary; lanes by their roles, pools by the process) for English readers."""
    if not str(language).startswith("en"):
        return source.bpmn
    return _english(source)


_ENGLISH: dict[str, str] = {}  # content hash -> the relabelled BPMN (versions never change)


def _english(source: ProcessSource) -> str:
    found = _ENGLISH.get(source.content_hash)
    if found is None:
        found = _ENGLISH[source.content_hash] = _relabel(source)
    return found


def _relabel(source: ProcessSource) -> str:
    try:
        root = etree.fromstring(source.bpmn.encode())
    except (etree.XMLSyntaxError, ValueError):
        return source.bpmn
    name_en = source.name("en")
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        local = etree.QName(el).localname
        english = source.glossary.get(el.get("id") or "")
        if local == "lane":
            english = english or ROLE_EN.get(source.lanes.get(el.get("name") or "", ""))
        elif local in ("participant", "process"):
            english = english or name_en
        if english and el.get("name") is not None:
            el.set("name", english)
    text = etree.tostring(root, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + text
        if source.bpmn.startswith("<?xml")
        else text
    )
