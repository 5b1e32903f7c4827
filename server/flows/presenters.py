"""How a case's diagram and audit events look, for the pages and the API alike (the API's
other answers are its output serializers, server/api)."""

from __future__ import annotations

from lxml import etree

from engine import ProcessSource, casecard
from engine.roles import ROLES

from .definitions.cache import source_for
from .models import AuditEvent, HumanTask, ProcessInstance


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


def summary(instance: ProcessInstance, language: str) -> casecard.Rendered:
    """The case's one line, tags, caller and phone in ``language``, from the values it kept
    (its version's words: enum titles, the package's pieces). The caller and phone are
    contact data: show them only where the contact rules allow."""
    return casecard.render(source_for(instance.definition_id), instance.summary, language)


def summary_answer(instance: ProcessInstance, language: str, *, contacts: bool) -> dict:
    """The summary as the API answers it: ``caller`` is null unless ``contacts``."""
    shown = summary(instance, language)
    return {
        "summary": shown.line,
        "tags": [{"field": t.field, "label": t.label.get(language) or t.label["zh-hans"],
                  "alert": t.alert} for t in shown.tags],
        "caller": {"name": shown.caller, "phone": shown.phone} if contacts else None,
    }  # fmt: skip


def progress(source: ProcessSource, events, open_tasks) -> list[dict]:
    """The case's milestones in order, each ``{"milestone", "state", "at", "actor"}``
    (state: done, current or todo), from its audit trail's start and completions."""
    trail = [
        ("started" if e.kind == AuditEvent.Kind.INSTANCE_STARTED else "completed",
         e.task.bpmn_id if e.task_id else None, e.at, e.actor)
        for e in events
        if e.kind in (AuditEvent.Kind.INSTANCE_STARTED, AuditEvent.Kind.TASK_COMPLETED)
    ]  # fmt: skip
    out = []
    for r in casecard.progress(source, trail, [t.bpmn_id for t in open_tasks]):
        state = "current" if r.current else "done" if r.at is not None else "todo"
        out.append({"milestone": r.milestone, "state": state, "at": r.at, "actor": r.actor})
    return out
