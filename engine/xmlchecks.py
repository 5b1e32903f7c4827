"""The checks of a package's XML before anything parses it: well-formed, the BPMN schema
(every error, in words, where libxml2's and SpiffWorkflow's stop at the first), the
references between elements, the ids SpiffWorkflow keeps for itself; and where each
element sits (file and line), for every finding to say."""

from __future__ import annotations

import dataclasses
import re

from lxml import etree

from .finding import Finding, say
from .registry import ProcessSource
from .text import gettext_noop

BPMN_PREFIX = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_ID_TYPE = re.compile(
    r"attribute '(\w+)': '([^']*)' is not a valid value of the atomic type 'xs:ID'"
)


def _xsd_finding(message: str, counts: dict[str, int], element, file, line) -> Finding:
    """libxml2's schema error in words a manager can act on."""
    message = message.replace(BPMN_PREFIX, "bpmn:")
    where = {"element": element, "file": file}
    match = _ID_TYPE.search(message)
    found = None
    if match:
        value = match.group(2)
        if counts.get(value, 0) > 1:
            found = say(
                value,
                gettext_noop("duplicate id %(id)r: every element needs an id of its own"),
                file,
                id=value,
            )
        else:
            found = say(
                value,
                gettext_noop(
                    "%(id)r is not a valid id: an id starts with a letter or _ and "
                    "holds letters, digits, _, - and ."
                ),
                file,
                id=value,
            )
    else:
        tag = re.match(r"Element '([^']+)'", message)
        what = tag.group(1) if tag else "?"
        missing = re.search(r"The attribute '(\w+)' is required but missing", message)
        unknown = re.search(r"The attribute '(\w+)' is not allowed", message)
        if "This element is not expected" in message:
            found = say(
                element,
                gettext_noop(
                    "%(tag)s is not allowed here (BPMN's schema orders and limits what goes where)"
                ),
                file,
                tag=what,
            )
        elif missing:
            found = say(
                element,
                gettext_noop("%(tag)s needs the attribute %(attribute)r"),
                file,
                tag=what,
                attribute=missing.group(1),
            )
        elif unknown:
            found = say(
                element,
                gettext_noop("%(tag)s cannot have the attribute %(attribute)r"),
                file,
                tag=what,
                attribute=unknown.group(1),
            )
    if found is None:
        return Finding(message.rstrip("."), where["element"], file, line)
    return dataclasses.replace(found, line=line)


def places(files: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Each element id -> (file, line), for the findings to say where."""
    found = {}
    for name, text in files.items():
        try:
            root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
        except (etree.XMLSyntaxError, ValueError):
            continue
        for el in root.iter():
            if isinstance(el.tag, str) and el.get("id"):
                found.setdefault(el.get("id"), (name, el.sourceline))
    return found


def xml_findings(source: ProcessSource) -> list[Finding]:
    """Every file that is not XML, and every schema error of those that are (the parser
    itself stops at the first)."""
    from SpiffWorkflow.spiff.parser.process import VALIDATOR

    found = []
    for name, text in {source.bpmn_name: source.bpmn, **source.files}.items():
        try:
            root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
        except (etree.XMLSyntaxError, ValueError) as err:
            line = getattr(err, "lineno", None)
            found.append(
                dataclasses.replace(
                    say(None, gettext_noop("is not well-formed XML: %(error)s"), name, error=err),
                    line=line,
                )
            )
            continue
        if name.lower().endswith(".dmn"):
            continue
        found += _reference_findings(root, name)
        if VALIDATOR.validator.validate(root):
            continue
        counts: dict[str, int] = {}
        at_line: dict[int, str] = {}
        for el in root.iter():
            if isinstance(el.tag, str) and el.get("id"):
                counts[el.get("id")] = counts.get(el.get("id"), 0) + 1
                at_line.setdefault(el.sourceline, el.get("id"))
        for error in VALIDATOR.validator.error_log:
            match = _ID_TYPE.search(error.message)
            element = match.group(2) if match else at_line.get(error.line)
            found.append(_xsd_finding(error.message, counts, element, name, error.line))
    return found


RESERVED = {"Start", "End"}  # SpiffWorkflow names its own start and end task specs so
REFERENCES = {
    "sequenceFlow": ("sourceRef", "targetRef"),
    "boundaryEvent": ("attachedToRef",),
    "messageFlow": ("sourceRef", "targetRef"),
}


def _reference_findings(root, file: str) -> list[Finding]:
    """A flow or boundary event naming an element the file does not have (the schema's
    IDREF type is not checked by libxml2, and SpiffWorkflow's message is about forms)."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    found = [
        dataclasses.replace(
            say(
                el.get("id"),
                gettext_noop(
                    "the id %(id)r is the engine's own name for a process's beginning or "
                    "end: rename the element (e.g. StartEvent_1)"
                ),
                file,
                id=el.get("id"),
            ),
            line=el.sourceline,
        )
        for el in root.iter()
        if isinstance(el.tag, str)
        and el.get("id") in RESERVED
        and etree.QName(el).localname not in ("process", "definitions")
    ]
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_PREFIX[1:-1]:
            continue
        for attr in REFERENCES.get(etree.QName(el).localname, ()):
            ref = el.get(attr)
            if ref and ref not in ids:
                found.append(
                    dataclasses.replace(
                        say(
                            el.get("id"),
                            gettext_noop(
                                "%(attribute)s names %(ref)r, which is no element of the file"
                            ),
                            file,
                            attribute=attr,
                            ref=ref,
                        ),
                        line=el.sourceline,
                    )
                )
    return found
