"""Validation of a process package before it may be deployed.

Each finding is one sentence naming the element id and what is wrong, so a
manager can fix the diagram without reading a traceback.
"""

from __future__ import annotations

import ast
import re

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import casecard, dialects, personal
from .errors import ProcessInvalid, ScriptRefused, ScriptStopped
from .finding import Finding, problem, say
from .forms import schema_problems
from .guards import restricted_globals
from .operations import OPERATIONS, UNCHECKED
from .policy import ESCALATION_CODES, ESCALATION_LEVELS
from .registry import KEY_PATTERN, REHEARSALS_FOLDER, ProcessSource, is_form_name
from .roles import ROLE_KEYS
from .runtime import CompiledProcess, Engine, parse, translated
from .sandbox import compile_expression, compile_script
from .text import LANGUAGES, gettext_noop
from .text import gettext_noop as T
from .xmlchecks import places, xml_findings


def _sentence(text: str) -> str:
    """SpiffWorkflow's message as one sentence ("... type.. " -> "... type.")."""
    text = text.strip().rstrip(".").strip()
    if "unexpected keyword argument" in text:  # a bug of the library's own error path
        return "the engine cannot read this element (SpiffWorkflow failed on it)"
    return text + "." if text else text


def _parse(source: ProcessSource, found: list) -> CompiledProcess | None:
    try:
        return parse(source)
    except ValidationException as err:
        where = err.id or None
        message = _sentence(str(err).splitlines()[0])
        found.append(
            Finding(message, where, err.file_name or source.bpmn_name, err.line_number or None)
        )
    except SpiffWorkflowException as err:
        found.append(Finding(str(err).splitlines()[0], None, source.bpmn_name))
    except Exception as err:  # lxml and the parser raise many kinds on broken files
        found.append(
            Finding(f"cannot be parsed ({type(err).__name__}: {err})", None, source.bpmn_name)
        )
    return None


def _manifest_problems(source: ProcessSource) -> list:
    def toml(template: str, **params) -> Finding:
        return say(None, template, "process.toml", **params)

    problems: list = list(source.load_problems)
    if not KEY_PATTERN.match(source.key):
        problems.append(
            toml(gettext_noop("key %(key)r must be lower-case letters, digits, _"), key=source.key)
        )
    for lang in LANGUAGES:
        if not source.names.get(lang):
            problems.append(toml(gettext_noop("[name] needs a %(language)r entry"), language=lang))
    if not source.start_roles:
        problems.append(toml(gettext_noop("start_roles must name the roles that may start it")))
    for role in source.start_roles:
        if role not in ROLE_KEYS:
            problems.append(
                toml(gettext_noop("start_roles names unknown role %(role)r"), role=role)
            )
    for lane, role in source.lanes.items():
        if role not in ROLE_KEYS:
            problems.append(
                toml(
                    gettext_noop("lane %(lane)r maps to unknown role %(role)r"),
                    lane=lane,
                    role=role,
                )
            )
    if source.default_role and source.default_role not in ROLE_KEYS:
        problems.append(
            toml(gettext_noop("default_role names unknown role %(role)r"), role=source.default_role)
        )
    for form_key, name in source.form_keys.items():
        if name not in source.forms:
            problems.append(
                toml(
                    gettext_noop(
                        "form key %(key)r maps to %(form)r, but the package has no "
                        "file forms/%(form)s"
                    ),
                    key=form_key,
                    form=name,
                )
            )
    known = ", ".join(sorted(OPERATIONS))
    for task, name in source.operations.items():
        if not name.startswith(dialects.MANUAL_PREFIX) and name not in OPERATIONS:
            problems.append(
                toml(
                    gettext_noop(
                        "operations maps %(task)r to unknown operation %(name)r (known: %(known)s)"
                    ),
                    task=task,
                    name=name,
                    known=known,
                )
            )
    return problems


def _form_problems(
    source: ProcessSource, element: str, name: str, helpers, named_by: str, ui: bool = False
):
    """``named_by`` says who names the form (a task, or the manifest), for the manager to fix.
    ``ui``: a UI schema (layout and widgets, as SpiffArena writes them), not JSON Schema."""
    if not is_form_name(name):
        return [
            say(
                element,
                gettext_noop(
                    "%(who)s names form %(form)r: give the file name alone, as the "
                    "file sits in the package's forms/ folder"
                ),
                who=named_by,
                form=name,
            )
        ]
    if name not in source.forms:
        return [
            say(
                element,
                gettext_noop(
                    "%(who)s names form %(form)r, but the package has no file forms/%(form)s"
                ),
                who=named_by,
                form=name,
            )
        ]
    schema = source.forms[name]
    if ui:
        if isinstance(schema, dict):
            return []
        return [say(element, gettext_noop("UI schema %(form)r must be a JSON object"), form=name)]
    found = [
        say(element, gettext_noop("form %(form)r %(problem)s"), form=name, problem=p)
        for p in schema_problems(schema)
    ]
    if not found:
        clashes = sorted(set(schema["properties"]).intersection(helpers))
        found += [
            say(
                element,
                gettext_noop("form %(form)r field %(field)r hides a script function"),
                form=name,
                field=c,
            )
            for c in clashes
        ]
    return found


LIMIT_HELPERS = ("deadline", "reminder", "limit")


def _limit_problems(element: str, what: str, code: str, engine: Engine) -> list[str]:
    """Time-limit names in calls such as ``deadline("repair.urgent_arrival")`` must exist."""
    known = {limit.key for limit in engine.limits}
    problems = []
    for node in ast.walk(ast.parse(code.strip())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in LIMIT_HELPERS
        ):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value not in known:
                    problems.append(
                        say(
                            element,
                            gettext_noop("%(what)s names unknown time limit %(limit)r"),
                            what=what,
                            limit=arg.value,
                        )
                    )
    return problems


def _dry_run(element: str, what: str, code: str, is_expression: bool, engine: Engine) -> list:
    """Run ``code`` on no data: code that reads data fails at once (and is checked when it
    runs); code that the sandbox stops at a limit without any data is a problem now."""
    env = engine.script_engine.environment
    compiled = env.compile(code, is_expression)
    if compiled.bounded and compiled.names & env.extra_names:
        return []  # the site's own functions may have effects: not called at validation
    try:
        env.evaluate(code, {}) if is_expression else env.execute(code, {})
    except ScriptStopped as err:
        return [f"{element}: {what}: {err}"]
    except ScriptRefused as err:
        return [f"{element}: {what} refused by the sandbox: {err}"]
    except RecursionError as err:
        return [f"{element}: {what}: stopped: {err}"]
    except Exception:
        pass
    return []


def _script_problems(
    element: str,
    sources: list[tuple[str, str, bool]],
    engine: Engine | None = None,
    dry_run: bool = True,
) -> list[str]:
    problems = []
    for what, code, is_expression in sources:
        try:
            (compile_expression if is_expression else compile_script)(code)
        except ScriptRefused as err:
            problems.append(f"{element}: {what} refused by the sandbox: {err}")
        except SyntaxError as err:
            problems.append(f"{element}: {what} is not valid Python: {err.msg}")
        else:
            if engine is not None:
                problems += _call_problems(element, what, code, engine)
                problems += _limit_problems(element, what, code, engine)
                if dry_run:
                    problems += _dry_run(element, what, code, is_expression, engine)
    return problems


def _callable_names(engine: Engine) -> frozenset[str]:
    env = engine.script_engine.environment
    return frozenset(env.globals) | frozenset(restricted_globals(strict=True)["__builtins__"])


def _call_problems(element: str, what: str, code: str, engine: Engine) -> list[str]:
    """A call of a name the sandbox does not provide (``print``) fails whatever the data:
    case data is JSON and holds no function, so it is refused now, not when it runs."""
    callables = _callable_names(engine)
    unknown = sorted(
        {
            node.func.id
            for node in ast.walk(ast.parse(code.strip()))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in callables
        }
    )
    if not unknown:
        return []
    offered = ", ".join(
        sorted(n for n in engine.script_engine.environment.globals if not n.startswith("_"))
    )
    return [
        say(
            element,
            gettext_noop(
                "%(what)s calls %(names)s, which scripts cannot call (the functions "
                "they can: %(offered)s, and Python's safe built-ins)"
            ),
            what=what,
            names=", ".join(unknown),
            offered=offered,
        )
    ]


def _service_problems(element: str, task_spec, engine: Engine) -> list[str]:
    operation = OPERATIONS.get(task_spec.operation_name)
    if operation is None:
        return [
            say(
                element,
                gettext_noop("unknown service operation %(name)r (known: %(known)s)"),
                name=task_spec.operation_name,
                known=", ".join(sorted(OPERATIONS)),
            )
        ]
    params, problems = {}, []
    for name, param in task_spec.operation_params.items():
        expression = param["value"]
        found = _script_problems(element, [(f"parameter {name}", expression, True)], engine)
        problems += found
        try:
            params[name] = ast.literal_eval(expression.strip()) if not found else UNCHECKED
        except (ValueError, SyntaxError):
            params[name] = UNCHECKED  # reads process data: checked when it runs
    return problems + [f"{element}: {problem}" for problem in operation.problems(params)]


def _caught_codes(compiled: CompiledProcess) -> set[str]:
    """The escalation codes some boundary event or event subprocess of the package catches
    (an empty code catches every one)."""
    codes = set()
    for spec in compiled.all_task_specs():
        event = getattr(spec, "event_definition", None)
        if isinstance(event, EscalationEventDefinition) and not isinstance(spec, ThrowingEvent):
            codes.add(event.code or "")
    return codes


def _throw_problems(element: str, task_spec, caught: set[str]) -> list[Finding]:
    """An escalation code outside the product's (levels, role keys) is BPMN's own: fine when
    the package catches it; said as a warning when nothing does (it is only recorded)."""
    event = getattr(task_spec, "event_definition", None)
    if (
        isinstance(task_spec, ThrowingEvent)
        and isinstance(event, EscalationEventDefinition)
        and event.code not in ESCALATION_CODES
        and event.code not in caught
        and "" not in caught
    ):
        return [
            say(
                element,
                gettext_noop(
                    "escalation code %(code)r is caught by nothing in the process and "
                    "is not one of the product's (%(levels)s or a role key to "
                    "notify): it is only recorded"
                ),
                warning=True,
                code=event.code,
                levels=", ".join(ESCALATION_LEVELS),
            )
        ]
    return []


def _timer_problems(element: str, event: TimerEventDefinition, engine: Engine) -> list[str]:
    problems = _script_problems(
        element, [("timer expression", event.expression, True)], engine, dry_run=False
    )
    if problems:
        return problems
    try:
        value = engine.script_engine.environment.evaluate(event.expression, {})
    except ScriptStopped as err:
        return [f"{element}: timer expression {event.expression!r}: {err}"]
    except ScriptRefused as err:
        return [f"{element}: timer expression refused by the sandbox: {err}"]
    except NameError:
        return []  # reads process data: checked when the timer starts
    except Exception as err:
        return [f"{element}: timer expression {event.expression!r} fails: {err}"]
    try:
        if isinstance(event, CycleTimerEventDefinition):
            cycles = TimerEventDefinition.parse_iso_recurring_interval(value)[0]
            if cycles < 0 or cycles > engine.max_timer_cycles:
                return [_unbounded(element, value, cycles, engine)]
        elif isinstance(event, DurationTimerEventDefinition):
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        fixed = _suggestion(value)
        template = (
            gettext_noop(
                "timer %(expression)r gives %(value)r, which is not an ISO 8601 %(kind)s: "
                "did you mean %(fixed)r?"
            )
            if fixed
            else gettext_noop(
                "timer %(expression)r gives %(value)r, which is not an ISO 8601 %(kind)s"
            )
        )
        return [
            say(
                element,
                template,
                expression=event.expression,
                value=value,
                kind=_timer_kind(event),
                fixed=fixed,
            )
        ]
    return []


def _unbounded(element: str, value, cycles: int, engine: Engine) -> Finding:
    most = engine.max_timer_cycles
    if cycles < 0:
        return say(
            element,
            gettext_noop(
                "timer cycle %(value)r repeats for ever: give the number of "
                "repetitions, R<n>/... with n at most %(most)d"
            ),
            value=value,
            most=most,
        )
    return say(
        element,
        gettext_noop(
            "timer cycle %(value)r repeats %(cycles)d times: at most %(most)d are "
            "allowed (PROPFLOW_MAX_TIMER_CYCLES)"
        ),
        value=value,
        cycles=cycles,
        most=most,
    )


def _timer_kind(event) -> str:
    if isinstance(event, CycleTimerEventDefinition):
        return gettext_noop("cycle (R3/PT1H: three times, hourly)")
    if isinstance(event, DurationTimerEventDefinition):
        return gettext_noop("duration (PT4H, P2D)")
    return gettext_noop("date (2026-12-01T09:00:00+08:00)")


def _suggestion(value) -> str:
    """``P1H`` -> ``PT1H``: the time part of a duration needs its T."""
    if not isinstance(value, str):
        return ""
    fixed = re.sub(r"^(R\d*/)?P(\d+[HMS].*)$", r"\1PT\2", value.strip())
    fixed = re.sub(r"^(R\d*/)?P(\d+D)(\d+[HMS].*)$", r"\1P\2T\3", fixed)
    return fixed if fixed != value.strip() else ""


def _condition_text(condition) -> str | None:
    if isinstance(condition, str):
        return condition
    args = getattr(condition, "args", ())
    return args[0] if args and isinstance(args[0], str) else None


def _task_problems(source: ProcessSource, task_spec, engine: Engine, caught) -> list:
    element = getattr(task_spec, "bpmn_id", None)
    if element is None:
        return []
    problems = []
    helpers = engine.script_engine.environment.globals
    if task_spec.manual:
        if source.glossary and not source.glossary.get(element):
            problems.append(
                say(
                    element,
                    gettext_noop(
                        "the task has no English name (process.toml [en]): "
                        "the English interface shows its name as drawn"
                    ),
                    warning=True,
                )
            )
        props = (task_spec.extensions or {}).get("properties", {})
        task = f"task {task_spec.bpmn_name!r}" if task_spec.bpmn_name else "the task"
        for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
            if props.get(key):
                problems += _form_problems(
                    source, element, props[key], helpers, f"{task} ({key})",
                    ui=key == "formUiSchemaFilename",
                )  # fmt: skip
    scripts = [
        ("script", getattr(task_spec, "script", None), False),
        ("pre-script", getattr(task_spec, "prescript", None), False),
        ("post-script", getattr(task_spec, "postscript", None), False),
    ]
    scripts += [
        (f"condition to {target.split('.')[0]}", _condition_text(cond), True)
        for cond, target in getattr(task_spec, "cond_task_specs", ())
        if cond is not None
    ]
    problems += _script_problems(element, [s for s in scripts if s[1]], engine)
    if hasattr(task_spec, "operation_name"):
        problems += _service_problems(element, task_spec, engine)
    problems += _throw_problems(element, task_spec, caught)
    event = getattr(task_spec, "event_definition", None)
    if isinstance(event, TimerEventDefinition):
        problems += _timer_problems(element, event, engine)
    return [p if isinstance(p, Finding) else _finding(p, element) for p in problems]


def _finding(text, element: str | None) -> Finding:
    """A sentence written as ``"<where>: <what>"`` as a finding placed at ``<where>``."""
    if isinstance(text, Finding):
        return text
    where, _, what = text.partition(": ")
    if what and where == element:
        return problem(element, what)
    if what and where in ("process.toml", "start"):
        return problem(
            None if where == "process.toml" else where,
            what,
            "process.toml" if where == "process.toml" else None,
        )
    return problem(None, text)


def _milestone_elements(compiled: CompiledProcess) -> dict[str, bool]:
    """What a milestone may name: human tasks (True) and start events (False), by id."""
    return {
        spec.bpmn_id: bool(spec.manual)
        for spec in compiled.all_task_specs()
        if getattr(spec, "bpmn_id", None) and (spec.manual or isinstance(spec, StartEvent))
    }


def _rehearsal_findings(source: ProcessSource, engine: Engine) -> list[Finding]:
    """Every rehearsal saved in the package is replayed: a deploy that breaks what a manager
    wrote down as the process's expected behaviour is refused, saying which and where."""
    from . import rehearsal

    found = []
    for name, script in sorted(source.rehearsals.items()):
        file = f"{REHEARSALS_FOLDER}/{name}"
        try:
            played = rehearsal.run(engine, source, script)
        except rehearsal.RehearsalInvalid as err:
            before = err.rehearsal.outcomes if err.rehearsal is not None else ()
            failed = [o for o in before if not o.passed]
            sentences = err.problems
        else:
            failed, sentences = [o for o in played.outcomes if not o.passed], []
        for outcome in failed:  # each in the reader's language, through its phrase
            found.append(say(None, T("rehearsal %(name)r: step %(step)d: %(sentence)s"), file,
                             name=name, step=outcome.step,
                             sentence=outcome.phrase or outcome.message))  # fmt: skip
        for sentence in sentences:
            found.append(problem(None, f"rehearsal {name!r}: {sentence}", file))
    return found


def findings(source: ProcessSource, engine: Engine | None = None) -> list[Finding]:
    """Every problem and warning on ``source``, each with its file and line where known."""
    engine = engine or Engine()
    found = [_finding(p, None) for p in _manifest_problems(source)]
    if source.start_form:
        found += [
            _finding(p, "start")
            for p in _form_problems(
                source,
                "start",
                source.start_form,
                engine.script_engine.environment.globals,
                "process.toml start_form",
            )
        ]
    found += casecard.summary_problems(source)
    found += personal.findings(source)
    xml = xml_findings(source)
    found += xml
    if not xml:
        found += translated(source).findings
        refused = {f.element for f in found if not f.warning and f.element}
        compiled = _parse(source, parsed := [])
        found += [f for f in parsed if f.element not in refused]
        if compiled is not None:
            found += casecard.milestone_problems(source, _milestone_elements(compiled))
            caught = _caught_codes(compiled)
            for task_spec in compiled.all_task_specs():
                found += _task_problems(source, task_spec, engine, caught)
            if not any(not f.warning for f in found):
                found += _rehearsal_findings(source, engine)
    if not source.glossary:
        found.append(
            say(
                None,
                gettext_noop(
                    "the package gives no English names of its tasks "
                    "(process.toml [en]): the English interface shows them as "
                    "drawn"
                ),
                "process.toml",
                warning=True,
            )
        )
    where = places({source.bpmn_name: source.bpmn, **source.files})
    return [f.placed(where, source.bpmn_name if f.element else None) for f in found]


def problems(source: ProcessSource, engine: Engine | None = None) -> list[str]:
    """Every problem on ``source`` as a sentence; empty when it may be deployed."""
    return [str(f) for f in findings(source, engine) if not f.warning]


def validate(source: ProcessSource, engine: Engine | None = None) -> None:
    """Raise :class:`ProcessInvalid` listing every problem, or return."""
    found = findings(source, engine)
    if any(not f.warning for f in found):
        raise ProcessInvalid(source.key, [str(f) for f in found if not f.warning], found)
