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
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .errors import ProcessInvalid, ScriptRefused, ScriptStopped
from .forms import schema_problems
from .operations import OPERATIONS, UNCHECKED
from .policy import ESCALATION_CODES, ESCALATION_LEVELS
from .registry import FORMS_FOLDER, KEY_PATTERN, ProcessSource, is_form_name
from .roles import ROLE_KEYS
from .runtime import CompiledProcess, Engine, parse
from .sandbox import compile_expression, compile_script
from .text import LANGUAGES

ISO_LIKE = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.]+$|^\d{4}-\d{2}-\d{2}")


def _parse(source: ProcessSource, problems: list[str]) -> CompiledProcess | None:
    try:
        return parse(source)
    except ValidationException as err:
        where = f"{err.id} ({err.tag})" if err.id else (err.tag or source.bpmn_name)
        line = f" (line {err.line_number})" if err.line_number else ""
        problems.append(f"{where}{line}: {str(err).splitlines()[0]}")
    except SpiffWorkflowException as err:
        problems.append(f"{source.bpmn_name}: {str(err).splitlines()[0]}")
    except Exception as err:  # lxml and the parser raise many kinds on broken files
        problems.append(f"{source.bpmn_name}: cannot be parsed ({type(err).__name__}: {err})")
    return None


def _manifest_problems(source: ProcessSource) -> list[str]:
    problems = list(source.load_problems)
    if not KEY_PATTERN.match(source.key):
        problems.append(f"process.toml: key {source.key!r} must be lower-case letters, digits, _")
    for lang in LANGUAGES:
        if not source.names.get(lang):
            problems.append(f"process.toml: [name] needs a {lang!r} entry")
    if not source.start_roles:
        problems.append("process.toml: start_roles must name the roles that may start it")
    for role in source.start_roles:
        if role not in ROLE_KEYS:
            problems.append(f"process.toml: start_roles names unknown role {role!r}")
    for lane, role in source.lanes.items():
        if role not in ROLE_KEYS:
            problems.append(f"process.toml: lane {lane!r} maps to unknown role {role!r}")
    return problems


def _form_problems(source: ProcessSource, element: str, name: str, helpers, named_by: str):
    """``named_by`` says who names the form (a task, or the manifest), for the manager to fix."""
    if not is_form_name(name):
        return [f"{element}: {named_by} names form {name!r}: give the file name alone, "
                f"as the file sits in the package's {FORMS_FOLDER}/ folder"]  # fmt: skip
    if name not in source.forms:
        return [f"{element}: {named_by} names form {name!r}, but the package has no file "
                f"{FORMS_FOLDER}/{name}"]  # fmt: skip
    schema = source.forms[name]
    found = [f"{element}: form {name!r} {p}" for p in schema_problems(schema)]
    if not found:
        clashes = sorted(set(schema["properties"]).intersection(helpers))
        found += [f"{element}: form {name!r} field {c!r} hides a script function" for c in clashes]
    return found


LIMIT_HELPERS = ("deadline", "reminder", "limit")


def _limit_problems(element: str, what: str, code: str, engine: Engine) -> list[str]:
    """Time-limit names in calls such as ``deadline("repair.urgent_arrival")`` must exist."""
    known = {limit.key for limit in engine.limits}
    problems = []
    for node in ast.walk(ast.parse(code.strip())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in LIMIT_HELPERS):  # fmt: skip
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value not in known:
                    problems.append(f"{element}: {what} names unknown time limit {arg.value!r}")
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
                problems += _limit_problems(element, what, code, engine)
                if dry_run:
                    problems += _dry_run(element, what, code, is_expression, engine)
    return problems


def _service_problems(element: str, task_spec, engine: Engine) -> list[str]:
    operation = OPERATIONS.get(task_spec.operation_name)
    if operation is None:
        return [
            f"{element}: unknown service operation {task_spec.operation_name!r} "
            f"(known: {', '.join(sorted(OPERATIONS))})"
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


def _throw_problems(element: str, task_spec) -> list[str]:
    event = getattr(task_spec, "event_definition", None)
    if (
        isinstance(task_spec, ThrowingEvent)
        and isinstance(event, EscalationEventDefinition)
        and event.code not in ESCALATION_CODES
    ):
        return [
            f"{element}: escalation code {event.code!r} must be {', '.join(ESCALATION_LEVELS)} "
            "or the role key "
            f"to notify ({', '.join(ROLE_KEYS)})"
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
        if ISO_LIKE.match(event.expression.strip()):
            return [
                f"{element}: timer expression {event.expression} must be quoted, "
                f'as in "{event.expression.strip()}"'
            ]
        return []  # reads process data: checked when the timer starts
    except Exception as err:
        return [f"{element}: timer expression {event.expression!r} fails: {err}"]
    try:
        if isinstance(event, CycleTimerEventDefinition):
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif isinstance(event, DurationTimerEventDefinition):
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return [
            f"{element}: timer expression {event.expression!r} gives {value!r}, which is not an "
            'ISO 8601 date, duration or cycle (durations need quotes: "PT4H")'
        ]
    return []


def _condition_text(condition) -> str | None:
    if isinstance(condition, str):
        return condition
    args = getattr(condition, "args", ())
    return args[0] if args and isinstance(args[0], str) else None


def _task_problems(source: ProcessSource, task_spec, engine: Engine) -> list[str]:
    element = getattr(task_spec, "bpmn_id", None)
    if element is None:
        return []
    problems = []
    helpers = engine.script_engine.environment.globals
    if task_spec.manual:
        if not task_spec.lane:
            problems.append(f"{element}: human task is in no lane")
        elif task_spec.lane not in source.lanes:
            problems.append(f"{element}: lane {task_spec.lane!r} is not mapped to a role")
        if not source.glossary.get(element):
            problems.append(f"{element}: human task has no English name in process.toml [en]")
        props = (task_spec.extensions or {}).get("properties", {})
        task = f"task {task_spec.bpmn_name!r}" if task_spec.bpmn_name else "the task"
        for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
            if props.get(key):
                problems += _form_problems(source, element, props[key], helpers, f"{task} ({key})")
    scripts = [("script", getattr(task_spec, "script", None), False),
               ("pre-script", getattr(task_spec, "prescript", None), False),
               ("post-script", getattr(task_spec, "postscript", None), False)]  # fmt: skip
    scripts += [
        (f"condition to {target.split('.')[0]}", _condition_text(cond), True)
        for cond, target in getattr(task_spec, "cond_task_specs", ())
        if cond is not None
    ]
    problems += _script_problems(element, [s for s in scripts if s[1]], engine)
    if hasattr(task_spec, "operation_name"):
        problems += _service_problems(element, task_spec, engine)
    problems += _throw_problems(element, task_spec)
    event = getattr(task_spec, "event_definition", None)
    if isinstance(event, TimerEventDefinition):
        problems += _timer_problems(element, event, engine)
    return problems


def problems(source: ProcessSource, engine: Engine | None = None) -> list[str]:
    """Every finding on ``source``; empty when it may be deployed."""
    engine = engine or Engine()
    found = _manifest_problems(source)
    if source.start_form:
        found += _form_problems(
            source, "start", source.start_form, engine.script_engine.environment.globals,
            "process.toml start_form",
        )  # fmt: skip
    compiled = _parse(source, found)
    if compiled is not None:
        for task_spec in compiled.all_task_specs():
            found += _task_problems(source, task_spec, engine)
    return found


def validate(source: ProcessSource, engine: Engine | None = None) -> None:
    """Raise :class:`ProcessInvalid` listing every finding, or return."""
    found = problems(source, engine)
    if found:
        raise ProcessInvalid(source.key, found)
