"""Reading what modelers write: Camunda 7 (and Activiti/Flowable), Zeebe and plain BPMN,
translated to the one dialect the engine runs (SpiffWorkflow's), with what was read,
assumed or ignored said as findings.

The package keeps the files as they were drawn, so they download and open again in
the modeler that made them; the translation runs each time a version is parsed, so
it is the same for every parse of the same content. What it does, element by element:

- a human task's role: its candidate group (``camunda:candidateGroups``, Zeebe's
  ``assignmentDefinition``), else its lane, each through the manifest's role map (a
  group or lane named as a role key needs no entry), else the default role; the role
  is written as the spiff property ``propflowRole``;
- ``camunda:assignee`` naming a user: the property ``propflowAssignee``; an expression
  (``${technician}``, Zeebe's ``=technician``) naming a variable that holds a username:
  the property ``propflowAssigneeExpression``, read when the task appears;
- ``camunda:initiator`` on the start event: the property ``propflowInitiator``, the
  variable that receives the username of who started the case;
- ``camunda:formKey`` / ``formRef`` / Zeebe's ``formDefinition``: the form file the
  manifest maps it to, or the package file of that name;
- timer values written bare, as the BPMN standard does (``PT5M``, ``R3/PT1H``, a
  date): quoted, because the engine reads them as expressions;
- JUEL conditions and timers (``${approved}``): :mod:`engine.juel`;
- a service task with no spiff operator: the operation the manifest names
  (parameters from ``camunda:inputParameter``), or a manual step for a role;
- a business rule task's ``camunda:decisionRef``: the spiff ``calledDecisionId``;
- listeners, Java classes and other hooks: ignored, each said as a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from . import juel
from .finding import Finding, say
from .roles import ROLE_KEYS
from .text import gettext_noop

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_LIKE = (
    "http://camunda.org/schema/1.0/bpmn",
    "http://activiti.org/bpmn",
    "http://flowable.org/bpmn",
)
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
ROLE_PROPERTY = "propflowRole"
DUE_IN = "propflowDueIn"  # an ISO duration from when the task appears
DUE_AT = "propflowDueAt"  # an ISO moment
DUE_JUEL = re.compile(
    r"^\$\{\s*dateTime\(\)\.plus(Minutes|Hours|Days|Weeks)\((\d{1,4})\)(\.toDate\(\))?\s*\}$"
)
ASSIGNEE_PROPERTY = "propflowAssignee"
ASSIGNEE_EXPRESSION = "propflowAssigneeExpression"  # Python, on the task's data
INITIATOR_PROPERTY = "propflowInitiator"  # on the start event: the starter's variable
FORM_PROPERTY = "formJsonSchemaFilename"
MANUAL_PREFIX = "manual:"

HUMAN = {"userTask", "manualTask"}
ISO_BARE = re.compile(
    r"^(R\d*/)?([+-]?P(?=\d|T\d)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?)$"
    r"|^(R\d*/)?\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?(/P[0-9YMWDTHS.]+)?$"
)
ISO_LOOSE = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.,]+$")  # quoted, so validation says what is wrong
PYTHON_LANGUAGES = {None, "", "python", "Python", "python3", "spiff"}
FORM_PREFIXES = ("embedded:app:", "embedded:deployment:", "camunda-forms:deployment:",
                 "camunda-forms:app:", "app:", "deployment:")  # fmt: skip
HOOKS = {  # camunda attributes that name Java or JavaScript code to run
    "class": "a Java class", "expression": "a Java expression",
    "delegateExpression": "a Java delegate", "topic": "an external worker topic",
    "type": "an external worker",
}  # fmt: skip


@dataclass
class Mapping:
    """How a package's names map to the product's: the manifest's part of the import."""

    roles: dict[str, str] = field(default_factory=dict)  # lane or candidate group -> role
    default_role: str | None = None
    form_keys: dict[str, str] = field(default_factory=dict)  # formKey -> form file
    operations: dict[str, str] = field(default_factory=dict)  # service task -> op | manual:role
    forms: frozenset[str] = frozenset()  # the package's form files
    known_operations: frozenset[str] = frozenset()
    process_id: str | None = None  # the process to run; other non-executable ones are pictures


@dataclass
class Translated:
    files: dict[str, bytes]  # the BPMN files in the engine's dialect
    findings: list[Finding]


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _ns(el) -> str:
    return etree.QName(el).namespace if isinstance(el.tag, str) else ""


def _camunda(el, name: str) -> str | None:
    for ns in CAMUNDA_LIKE:
        value = el.get(f"{{{ns}}}{name}")
        if value is not None:
            return value
    return None


def _camunda_children(el, name: str) -> list:
    return [c for c in el.iter() if _local(c) == name and _ns(c) in CAMUNDA_LIKE]


def _zeebe(el, name: str):
    ext = el.find(f"{{{BPMN}}}extensionElements")
    return None if ext is None else ext.find(f"{{{ZEEBE}}}{name}")


def _extensions(el):
    ext = el.find(f"{{{BPMN}}}extensionElements")
    if ext is None:
        ext = etree.Element(f"{{{BPMN}}}extensionElements")
        el.insert(_after_documentation(el), ext)
    return ext


def _after_documentation(el) -> int:
    """Where extensionElements goes: after any documentation, as the schema orders it."""
    index = 0
    for i, child in enumerate(el):
        if _local(child) == "documentation":
            index = i + 1
    return index


def _spiff_properties(el) -> dict[str, str]:
    ext = el.find(f"{{{BPMN}}}extensionElements")
    if ext is None:
        return {}
    return {p.get("name"): p.get("value") for p in ext.iter(f"{{{SPIFF}}}property")}


def _set_property(el, name: str, value: str) -> None:
    ext = _extensions(el)
    props = ext.find(f"{{{SPIFF}}}properties")
    if props is None:
        props = etree.SubElement(ext, f"{{{SPIFF}}}properties")
    for prop in props.findall(f"{{{SPIFF}}}property"):
        if prop.get("name") == name:
            prop.set("value", value)
            return
    etree.SubElement(props, f"{{{SPIFF}}}property", name=name, value=value)


def _lanes(root) -> dict[str, str]:
    """Element id -> the name of the innermost lane that holds it."""
    found = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        depth = sum(1 for _ in lane.iterancestors(f"{{{BPMN}}}lane"))
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            key = (ref.text or "").strip()
            if key and (key not in found or found[key][0] <= depth):
                found[key] = (depth, lane.get("name") or lane.get("id"))
    return {k: v[1] for k, v in found.items()}


def _lane_of(el, lanes: dict[str, str]) -> str | None:
    """An element's lane, or that of the subprocess holding it (as SpiffWorkflow reads it)."""
    while el is not None:
        if el.get("id") in lanes:
            return lanes[el.get("id")]
        el = el.getparent()
        if el is not None and _local(el) == "process":
            return None
    return None


class _Translator:
    def __init__(self, mapping: Mapping, file: str):
        self.mapping, self.file = mapping, file
        self.findings: list[Finding] = []

    def problem(self, el, template: str, **params) -> None:
        self.findings.append(say(el.get("id"), template, self.file, **params))

    def warn(self, el, template: str, **params) -> None:
        self.findings.append(say(el.get("id"), template, self.file, warning=True, **params))

    def data_stores(self, root) -> None:
        """Data stores are documentation here (a case keeps its data in the case):
        SpiffWorkflow refuses one it has no implementation for, so they are taken out of
        what it parses, with the associations that reach them."""
        stores = [el for el in root.iter(f"{{{BPMN}}}dataStore", f"{{{BPMN}}}dataStoreReference")]
        gone = {el.get("id") for el in stores}
        referenced = {el.get("dataStoreRef") for el in stores}
        for el in stores:
            if _local(el) == "dataStoreReference" or el.get("id") not in referenced:
                self.warn(
                    el,
                    gettext_noop(
                        "data store %(store)r is read as documentation: a case keeps its data "
                        "in the case"
                    ),
                    store=el.get("name") or el.get("id"),
                )
            el.getparent().remove(el)
        for tag in ("dataInputAssociation", "dataOutputAssociation"):
            for assoc in list(root.iter(f"{{{BPMN}}}{tag}")):
                refs = {(r.text or "").strip() for r in assoc
                        if _local(r) in ("sourceRef", "targetRef")}  # fmt: skip
                if refs & gone:
                    assoc.getparent().remove(assoc)

    def empty_lanes(self, root) -> None:
        """A lane holding nothing is fine, but one the mapping does not name is probably a
        manager's half-done change: said, so it is not a surprise later."""
        for lane in root.iter(f"{{{BPMN}}}lane"):
            name = lane.get("name") or lane.get("id")
            if (lane.find(f"{{{BPMN}}}flowNodeRef") is None
                    and lane.find(f"{{{BPMN}}}childLaneSet") is None
                    and name not in self.mapping.roles and name not in ROLE_KEYS):  # fmt: skip
                self.warn(
                    lane,
                    gettext_noop("lane %(lane)r holds no task and is mapped to no role"),
                    lane=name,
                )

    def executable(self, root) -> list:
        """The processes to translate. A non-executable pool is documentation (Signavio and
        the BPMN MIWG files draw partners so), except the one the package runs: a file whose
        only process is marked not executable (a modeler's default) runs it, said so."""
        out = []
        for process in root.iter(f"{{{BPMN}}}process"):
            if process.get("isExecutable", "true") != "true":
                if process.get("id") != self.mapping.process_id:
                    continue
                process.set("isExecutable", "true")
                self.warn(
                    process,
                    gettext_noop(
                        "the process is marked not executable; it runs as the package's process"
                    ),
                )
            out.append(process)
        return out

    def start_events(self, process) -> None:
        """A case is started by a person (or the API), so the running process's start event
        that waits for a message, signal, time or condition would never begin: it is read as
        a plain start, said so. Event subprocesses keep theirs."""
        for start in process.findall(f"{{{BPMN}}}startEvent"):
            self.initiator(start)
            for definition in list(start):
                kind = _local(definition)
                if kind in {"messageEventDefinition", "signalEventDefinition",
                            "timerEventDefinition", "conditionalEventDefinition"}:  # fmt: skip
                    start.remove(definition)
                    self.warn(
                        start,
                        gettext_noop(
                            "the start event's %(kind)s is read as a plain start: a case begins "
                            "when a person (or the API) starts it"
                        ),
                        kind=kind,
                    )

    def run(self, root) -> None:
        self.data_stores(root)
        processes = self.executable(root)
        lanes = _lanes(root)
        elements = [el for process in processes for el in process.iter()]
        for process in processes:
            self.empty_lanes(process)
            if process.get("id") == self.mapping.process_id:
                self.start_events(process)
        for el in elements:
            tag = _local(el)
            if _ns(el) != BPMN:
                continue
            if tag in HUMAN:
                self.human(el, lanes)
            elif tag in {"timeDuration", "timeDate", "timeCycle"}:
                self.timer(el)
            elif tag in {"conditionExpression", "completionCondition", "condition"}:
                self.condition(el)
            elif tag == "scriptTask":
                self.script(el)
            elif tag in {"serviceTask", "sendTask"}:
                self.service(el)
            elif tag == "businessRuleTask":
                self.business_rule(el)
            elif tag == "callActivity" and _camunda_children(el, "in") + _camunda_children(
                el, "out"
            ):
                self.warn(
                    el,
                    gettext_noop(
                        "camunda:in/out variable mappings are ignored: the called "
                        "process sees the whole case data and hands all of it back"
                    ),
                )
            self.hooks(el)

    # -- human tasks ---------------------------------------------------------------------
    def assignee(self, el) -> None:
        """A named user, or an expression naming the variable that holds one (the
        technician a dispatcher chose): the task goes to that person when it appears."""
        text = _camunda(el, "assignee")
        zeebe = _zeebe(el, "assignmentDefinition")
        text = (text or (zeebe.get("assignee") if zeebe is not None else None) or "").strip()
        if not text:
            return
        if not juel.is_juel(text) and not juel.is_feel(text):
            _set_property(el, ASSIGNEE_PROPERTY, text)
            return
        try:
            python = juel.to_python(text)
        except juel.NotTranslatable as err:
            self.warn(
                el,
                gettext_noop(
                    "assignee %(assignee)r cannot be read (%(reason)s) and is ignored: the "
                    "task goes to its role's inbox"
                ),
                assignee=text,
                reason=err,
            )
            return
        _set_property(el, ASSIGNEE_EXPRESSION, python)

    def initiator(self, start) -> None:
        variable = (_camunda(start, "initiator") or "").strip()
        if variable and INITIATOR_PROPERTY not in _spiff_properties(start):
            _set_property(start, INITIATOR_PROPERTY, variable)

    def role(self, el, lanes) -> str | None:
        groups = _camunda(el, "candidateGroups")
        zeebe = _zeebe(el, "assignmentDefinition")
        if zeebe is not None and zeebe.get("candidateGroups"):
            groups = zeebe.get("candidateGroups")
        names = [g.strip() for g in (groups or "").split(",") if g.strip()]
        lane = _lane_of(el, lanes)
        roles = self.mapping.roles
        for name in [*names, *([lane] if lane else [])]:
            if name in roles:
                return roles[name]
            if name in ROLE_KEYS:
                return name
        if self.mapping.default_role:
            if names or lane:
                by_group = gettext_noop(
                    "candidate group %(name)r is mapped to no role: the default role %(role)r "
                    "works it"
                )
                by_lane = gettext_noop(
                    "lane %(name)r is mapped to no role: the default role %(role)r works it"
                )
                template = by_group if names else by_lane
                self.warn(
                    el, template, name=names[0] if names else lane, role=self.mapping.default_role
                )
            return self.mapping.default_role
        if names:
            self.problem(
                el,
                gettext_noop(
                    "its candidate group %(name)r is mapped to no role: map it in "
                    "the mapping's roles (or name a default_role)"
                ),
                name=names[0],
            )
        elif lane:
            self.problem(
                el,
                gettext_noop(
                    "its lane %(name)r is mapped to no role: map it in the "
                    "mapping's roles (or name a default_role)"
                ),
                name=lane,
            )
        else:
            self.problem(
                el,
                gettext_noop(
                    "the task has no lane and no candidate group: give it one, "
                    "or name a default_role in the mapping"
                ),
            )
        return None

    def human(self, el, lanes) -> None:
        props = _spiff_properties(el)
        if ROLE_PROPERTY not in props:
            role = self.role(el, lanes)
            if role:
                _set_property(el, ROLE_PROPERTY, role)
        self.assignee(el)
        if FORM_PROPERTY not in props:
            self.form(el)
        if _camunda(el, "dueDate") and DUE_IN not in props and DUE_AT not in props:
            self.due(el, _camunda(el, "dueDate").strip())
        if _camunda(el, "followUpDate"):
            self.warn(el, gettext_noop("camunda:followUpDate is ignored"))
        if _camunda(el, "candidateUsers"):
            self.warn(el, gettext_noop("camunda:candidateUsers is ignored: tasks go to roles"))
        if _camunda_children(el, "formData") or _camunda_children(el, "formField"):
            self.warn(
                el,
                gettext_noop(
                    "camunda:formData fields are ignored: give the task a form file "
                    "(JSON Schema) through its form key"
                ),
            )

    def due(self, el, value: str) -> None:
        """``camunda:dueDate``: a date, a duration from when the task appears, or Camunda's
        ``${dateTime().plusDays(2).toDate()}``; the task's due time (no escalation: that is
        a boundary timer's)."""
        juel_due = DUE_JUEL.match(value)
        if juel_due:
            amount, unit = int(juel_due.group(2)), juel_due.group(1)
            _set_property(
                el,
                DUE_IN,
                {
                    "Minutes": f"PT{amount}M",
                    "Hours": f"PT{amount}H",
                    "Days": f"P{amount}D",
                    "Weeks": f"P{amount}W",
                }[unit],
            )
        elif re.match(r"^P(?=\d|T\d)[0-9YMWDTHS.]+$", value) and ISO_BARE.match(value):
            _set_property(el, DUE_IN, value)
        elif re.match(r"^\d{4}-\d{2}-\d{2}", value) and ISO_BARE.match(value):
            _set_property(el, DUE_AT, value)
        else:
            self.warn(
                el,
                gettext_noop(
                    "camunda:dueDate %(value)r is ignored: a date, a duration (P2D) "
                    "or ${dateTime().plusDays(2).toDate()} is read; a limit that "
                    "escalates is a boundary timer"
                ),
                value=value,
            )

    def form(self, el) -> None:
        key = _camunda(el, "formKey") or _camunda(el, "formRef")
        zeebe = _zeebe(el, "formDefinition")
        if zeebe is not None:
            key = key or zeebe.get("formKey") or zeebe.get("formId")
        if not key:
            return
        name = self.mapping.form_keys.get(key) or self.form_file(key)
        if name:
            _set_property(el, FORM_PROPERTY, name)
        else:
            self.warn(
                el,
                gettext_noop(
                    "form key %(key)r is mapped to no form file: the task has no "
                    "form (map it in the mapping's forms)"
                ),
                key=key,
            )

    def form_file(self, key: str) -> str | None:
        bare = key
        for prefix in FORM_PREFIXES:
            bare = bare.removeprefix(prefix)
        bare = bare.rsplit("/", 1)[-1]
        stem = bare.rsplit(".", 1)[0]
        for name in (bare, f"{bare}.json", f"{stem}.json", f"{stem}-schema.json"):
            if name in self.mapping.forms:
                return name
        return None

    # -- expressions ---------------------------------------------------------------------
    def _owner(self, el):
        """The flow element an expression belongs to (for the finding's id)."""
        for ancestor in el.iterancestors():
            if ancestor.get("id") and _local(ancestor) not in {
                "timerEventDefinition", "conditionalEventDefinition",
                "multiInstanceLoopCharacteristics",
            }:  # fmt: skip
                return ancestor
        return el

    def timer(self, el) -> None:
        text = (el.text or "").strip()
        owner = self._owner(el)
        if juel.is_juel(text):
            try:
                el.text = juel.translate(text)
            except juel.NotTranslatable as err:
                self.problem(
                    owner,
                    gettext_noop("timer %(text)r cannot be read: %(reason)s"),
                    text=text,
                    reason=err,
                )
        elif ISO_BARE.match(text) or ISO_LOOSE.match(text):
            el.text = f'"{text}"'
        elif text.startswith("=") and ISO_BARE.match(text[1:].strip().strip("\"'")):
            el.text = f'"{text[1:].strip().strip(chr(34) + chr(39))}"'  # FEEL's ="PT5M"

    def condition(self, el) -> None:
        text = (el.text or "").strip()
        owner = self._owner(el)
        language = el.get("language")
        if language not in PYTHON_LANGUAGES and not juel.is_juel(text) and not juel.is_feel(text):
            self.problem(
                owner,
                gettext_noop(
                    "the condition is written in %(language)r: conditions are "
                    "Python expressions here (e.g. approved == True)"
                ),
                language=language,
            )
        elif juel.is_juel(text) or juel.is_feel(text):  # Zeebe writes FEEL: the simple part
            try:
                el.text = juel.to_python(text)
            except juel.NotTranslatable as err:
                self.problem(
                    owner,
                    gettext_noop("condition %(text)r cannot be read: %(reason)s"),
                    text=text,
                    reason=err,
                )

    def script(self, el) -> None:
        language = el.get("scriptFormat")
        if language not in PYTHON_LANGUAGES:
            self.problem(
                el,
                gettext_noop(
                    "the script is written in %(language)r: scripts are Python, run in the sandbox"
                ),
                language=language,
            )
        elif _camunda(el, "resource"):
            self.problem(
                el, gettext_noop("the script is an external resource: put the Python in the task")
            )

    # -- service and rule tasks ------------------------------------------------------------
    def service(self, el) -> None:
        ext = el.find(f"{{{BPMN}}}extensionElements")
        if ext is not None and ext.find(f"{{{SPIFF}}}serviceTaskOperator") is not None:
            return
        if _local(el) == "sendTask" and el.find(f"{{{BPMN}}}messageEventDefinition") is not None:
            return
        task_type = _zeebe(el, "taskDefinition")
        names = [el.get("id"), _camunda(el, "topic"),
                 task_type.get("type") if task_type is not None else None]  # fmt: skip
        # By the task's id, or by the worker topic / job type the modeler gave it.
        chosen = next((self.mapping.operations[n] for n in names
                       if n and n in self.mapping.operations), None)  # fmt: skip
        if chosen is None:
            known = ", ".join(sorted(self.mapping.known_operations)) or "none"
            self.problem(
                el,
                gettext_noop(
                    "the service task has no operation: name one for it in the "
                    "mapping's operations (known: %(known)s), or 'manual:<role>' "
                    "to make it a person's step"
                ),
                known=known,
            )
            return
        if chosen.startswith(MANUAL_PREFIX):
            role = chosen.removeprefix(MANUAL_PREFIX)
            if role not in ROLE_KEYS:
                self.problem(
                    el,
                    gettext_noop("the mapping makes it a manual step for unknown role %(role)r"),
                    role=role,
                )
                return
            el.tag = f"{{{BPMN}}}manualTask"
            _set_property(el, ROLE_PROPERTY, role)
            return
        operator = etree.SubElement(_extensions(el), f"{{{SPIFF}}}serviceTaskOperator", id=chosen)
        params = etree.SubElement(operator, f"{{{SPIFF}}}parameters")
        for param in _camunda_children(el, "inputParameter"):
            text = (param.text or "").strip()
            if juel.is_juel(text):
                try:
                    text = juel.translate(text)
                except juel.NotTranslatable as err:
                    self.problem(
                        el,
                        gettext_noop("input parameter %(name)r: %(reason)s"),
                        name=param.get("name"),
                        reason=err,
                    )
                    continue
            else:
                text = repr(text)
            etree.SubElement(params, f"{{{SPIFF}}}parameter", id=param.get("name") or "",
                             type="any", value=text)  # fmt: skip

    def business_rule(self, el) -> None:
        ext = el.find(f"{{{BPMN}}}extensionElements")
        if ext is not None and ext.find(f"{{{SPIFF}}}calledDecisionId") is not None:
            return
        ref = _camunda(el, "decisionRef")
        zeebe = _zeebe(el, "calledDecision")
        ref = ref or (zeebe.get("decisionId") if zeebe is not None else None)
        if not ref:
            self.problem(
                el, gettext_noop("the business rule task names no decision (camunda:decisionRef)")
            )
            return
        etree.SubElement(_extensions(el), f"{{{SPIFF}}}calledDecisionId").text = ref
        if _camunda(el, "resultVariable"):
            self.warn(
                el,
                gettext_noop(
                    "camunda:resultVariable is ignored: the decision's outputs are "
                    "written to the case data under their own names"
                ),
            )

    def hooks(self, el) -> None:
        for child in el:
            if _local(child) == "extensionElements":
                for hook in child:
                    if _ns(hook) in CAMUNDA_LIKE and _local(hook) in {
                        "executionListener", "taskListener",
                    }:  # fmt: skip
                        self.warn(el, gettext_noop("camunda:%(hook)s is ignored: Java and "
                                         "JavaScript hooks do not run here"),
                                  hook=_local(hook))  # fmt: skip
        if _local(el) in {"serviceTask", "sendTask", "businessRuleTask"}:
            for attr, what in HOOKS.items():
                if _camunda(el, attr) and not (attr == "type" and _local(el) != "serviceTask"):
                    self.warn(
                        el,
                        gettext_noop("camunda:%(attr)s (%(what)s) is ignored"),
                        attr=attr,
                        what=what,
                    )


def translate(files: dict[str, str], mapping: Mapping) -> Translated:
    """The BPMN files in the engine's dialect, and what was assumed or could not be read.
    A file that is not XML is left for the parser to report."""
    out, findings = {}, []
    for name, text in files.items():
        try:
            root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError:
            out[name] = text.encode()
            continue
        translator = _Translator(mapping, name)
        translator.run(root)
        findings += translator.findings
        out[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Translated(out, findings)
