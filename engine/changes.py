"""What changed between two versions of a process, in terms a manager reads: time limits
(timers), who works each task (roles), forms, and tasks added or removed.

The diagram's own changes (moved shapes, renamed flows) are the visual diff's
(bpmn-js-differ on the studio's page); this says what they mean for the staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .dialects import FORM_PROPERTY, ROLE_PROPERTY
from .registry import ProcessSource
from .runtime import translated

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
HUMAN = {"userTask", "manualTask"}
TIMERS = ("timeDuration", "timeCycle", "timeDate")


@dataclass(frozen=True)
class Change:
    """``kind``: timer, role, form, form_content, task_added, task_removed."""

    kind: str
    element: str
    name: str
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True)
class _Element:
    tag: str
    name: str
    role: str | None
    form: str | None
    timer: str | None


def _elements(source: ProcessSource) -> dict[str, _Element]:
    found = {}
    for text in translated(source).files.values():
        try:
            root = etree.fromstring(text, etree.XMLParser(resolve_entities=False))
        except (etree.XMLSyntaxError, ValueError):
            continue
        for el in root.iter():
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN or not el.get("id"):
                continue
            props = {p.get("name"): p.get("value") for p in el.iter(f"{{{SPIFF}}}property")}
            timer = None
            for kind in TIMERS:
                node = el.find(f".//{{{BPMN}}}{kind}")
                if node is not None:
                    timer = f"{kind}: {(node.text or '').strip()}"
            found[el.get("id")] = _Element(
                etree.QName(el).localname, el.get("name") or el.get("id"),
                props.get(ROLE_PROPERTY), props.get(FORM_PROPERTY), timer,
            )  # fmt: skip
    return found


def changes(old: ProcessSource, new: ProcessSource) -> list[Change]:
    """The changes from ``old`` to ``new`` that staff would notice, in element order."""
    before, after = _elements(old), _elements(new)
    out: list[Change] = []
    for element, was in before.items():
        now = after.get(element)
        if now is None:
            if was.tag in HUMAN:
                out.append(Change("task_removed", element, was.name))
            continue
        if was.timer != now.timer and (was.timer or now.timer):
            out.append(Change("timer", element, now.name, was.timer, now.timer))
        if now.tag in HUMAN or was.tag in HUMAN:
            if was.role != now.role:
                out.append(Change("role", element, now.name, was.role, now.role))
            if was.form != now.form:
                out.append(Change("form", element, now.name, was.form, now.form))
            elif now.form and old.forms.get(now.form) != new.forms.get(now.form):
                out.append(Change("form_content", element, now.name, now.form, now.form))
    for element, now in after.items():
        if element not in before and now.tag in HUMAN:
            out.append(Change("task_added", element, now.name, None, now.role))
    return out
