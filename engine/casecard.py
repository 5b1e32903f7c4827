"""What a case is about in one line, and the milestones it passes: package data.

A package says, in its ``process.toml``, which of its form fields make a case's one-line
summary and its tags (``[summary]``), and which tasks reach each milestone of the
process (``[[milestones]]``)::

    [summary]
    zh-hans = ["{location}", "{description}"]   # pieces joined by " · "
    en = ["{location}", "{description}"]        # a piece with no value is left out
    tags = ["urgency", "trade"]                 # enum or boolean fields, shown as tags
    alert = ["urgency=urgent"]                  # a tag with this value is an alert (red)
    caller = "reporter"                         # whom to call back, and their phone
    phone = "phone"

    [[milestones]]
    key = "dispatch"                            # also the inbox tab's key
    name = "派工"
    en = "Dispatched"
    waiting = "待派工"                          # the inbox tab of its open tasks
    waiting_en = "To dispatch"
    tasks = ["dispatch", "dispatch_urgent"]     # completing one reaches the milestone
    also = []                                   # other tasks of the stage (same tab)

The write path keeps the named fields' values with the case (:func:`values`); readers
render them in their language (:func:`render`), enum values with their titles. The
summary never shows personal fields (``x-personal``; validation refuses them): it is on
every row of every inbox, while the caller and phone show only under the contact rules.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from .finding import Finding, say
from .personal import flagged
from .text import LANGUAGES, pick
from .text import gettext_noop as T

SEPARATOR = " · "
KEPT_CHARACTERS = 120  # of a text value: the summary is one line
MILESTONE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Tag:
    field: str
    label: dict[str, str]  # language -> text
    alert: bool


@dataclass(frozen=True)
class Rendered:
    """A case's summary in one language: the line (tags first), its tags and text apart,
    the caller and phone (contact data: shown only to whom the contact rules allow)."""

    line: str
    text: str
    tags: tuple[Tag, ...]
    caller: str
    phone: str


@dataclass(frozen=True)
class Milestone:
    key: str
    names: dict[str, str]
    waiting: dict[str, str]  # empty: its tasks have no tab of their own
    tasks: tuple[str, ...]  # element ids that reach it (the start event for the first)
    also: tuple[str, ...]  # other tasks of its stage

    def name(self, language: str) -> str:
        return pick(self.names, language, self.key)


def _fields_of(piece: str) -> list[str]:
    return [name for _text, name, _spec, _conv in string.Formatter().parse(piece) if name]


def pieces(source, language: str) -> list[str]:
    spec = source.summary.get(language) or source.summary.get("zh-hans") or []
    return [spec] if isinstance(spec, str) else [p for p in spec if isinstance(p, str)]


def named_fields(source) -> list[str]:
    """Every field the summary names, in order: its pieces', tags, caller and phone (kept
    per version: the write path asks on every step)."""
    found = _NAMED.get(source.content_hash)
    if found is None:
        found = _NAMED[source.content_hash] = _named_fields(source)
    return found


_NAMED: dict[str, list[str]] = {}


def _named_fields(source) -> list[str]:
    names: list[str] = []
    for language in LANGUAGES:
        for piece in pieces(source, language):
            names += _fields_of(piece)
    spec = source.summary
    names += [t for t in spec.get("tags", []) if isinstance(t, str)]
    names += [spec[k] for k in ("caller", "phone") if isinstance(spec.get(k), str)]
    return list(dict.fromkeys(names))


def field_schema(source, name: str) -> dict:
    """The field's JSON Schema: from the start form, else the first form declaring it."""
    forms = [source.forms.get(source.start_form)] + [
        source.forms[k] for k in sorted(source.forms) if k != source.start_form
    ]
    for form in forms:
        props = (form or {}).get("properties") if isinstance(form, dict) else None
        if isinstance(props, dict) and isinstance(props.get(name), dict):
            return props[name]
    return {}


def values(source, data: dict, kept: dict | None = None) -> dict:
    """What the case keeps for its summary: the named fields' values in ``data`` (text
    cut to one line's worth), over those ``kept`` before (a step whose data lacks a field
    keeps its value). Only the plain values a summary can show: no files, no objects."""
    out = dict(kept or {})
    for name in named_fields(source):
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, str):
            out[name] = value[:KEPT_CHARACTERS]
        elif isinstance(value, bool | int | float):
            out[name] = value
    return out


def _shown(source, name: str, value, language: str) -> str:
    """A value as a reader sees it: an enum value by its title, a true flag by the field's
    title, text as it is."""
    schema = field_schema(source, name)
    if isinstance(value, bool):
        title = [schema.get("title", name), schema.get("x-title-en")]
        return pick(title, language) if value else ""
    titles = schema.get("x-enum-titles")
    if isinstance(titles, dict) and str(value) in titles:
        return pick(titles[str(value)], language, str(value))
    return str(value).replace("\n", " ").strip()


def _alerts(source) -> set[tuple[str, str]]:
    found = set()
    for entry in source.summary.get("alert", []):
        name, _sep, value = str(entry).partition("=")
        found.add((name.strip(), value.strip()))
    return found


def _tags(source, kept: dict) -> tuple[Tag, ...]:
    alerts, tags = _alerts(source), []
    for name in source.summary.get("tags", []):
        value = kept.get(name)
        if value is None or value == "" or value is False:
            continue
        label = {lang: _shown(source, name, value, lang) for lang in LANGUAGES}
        raw = "true" if value is True else str(value)
        tags.append(Tag(field=name, label=label, alert=(name, raw) in alerts))
    return tuple(tags)


def render(source, kept: dict | None, language: str) -> Rendered:
    """The case's summary in ``language`` from what it kept (:func:`values`)."""
    kept = kept or {}
    shown = []
    for piece in pieces(source, language):
        names = _fields_of(piece)
        filled = {n: _shown(source, n, kept[n], language) for n in names if n in kept}
        if names and not any(filled.values()):
            continue  # nothing to say in this piece yet
        shown.append(piece.format_map({n: filled.get(n, "") for n in names}).strip())
    tags = _tags(source, kept)
    text = SEPARATOR.join(p for p in shown if p)
    line = SEPARATOR.join([*(pick(t.label, language) for t in tags), *([text] if text else [])])
    spec = source.summary
    return Rendered(
        line=line, text=text, tags=tags,
        caller=str(kept.get(spec.get("caller"), "")) if spec.get("caller") else "",
        phone=str(kept.get(spec.get("phone"), "")) if spec.get("phone") else "",
    )  # fmt: skip


def milestones(source) -> tuple[Milestone, ...]:
    out = []
    for entry in source.milestones:
        if not isinstance(entry, dict):
            continue
        out.append(Milestone(
            key=str(entry.get("key", "")),
            names={"zh-hans": str(entry.get("name", "")), "en": str(entry.get("en", ""))},
            waiting={k: str(entry[f]) for k, f in (("zh-hans", "waiting"), ("en", "waiting_en"))
                     if entry.get(f)},
            tasks=tuple(str(t) for t in entry.get("tasks", []) if isinstance(t, str)),
            also=tuple(str(t) for t in entry.get("also", []) if isinstance(t, str)),
        ))  # fmt: skip
    return tuple(out)


@dataclass(frozen=True)
class Reached:
    """A milestone on a case's step bar: when and by whom it was last reached (None: not
    yet), and whether one of its tasks is open now (the case is at this stage)."""

    milestone: Milestone
    at: object = None  # the moment, as the caller's events give it
    actor: object = None
    current: bool = False


def progress(source, events, open_task_ids) -> list[Reached]:
    """The step bar of a case: ``events`` are (kind, task id or None, moment, actor) in
    order, where kind is ``started`` or ``completed``; ``open_task_ids`` the ids of the
    tasks open now. A milestone is reached by the last completion of one of its tasks
    (the start, for those naming the start event); rework reaches it again."""
    stones = milestones(source)
    by_task = {t: m.key for m in stones for t in m.tasks}
    starts = {m.key for m in stones if set(m.tasks) & start_events(source)}
    reached: dict[str, tuple] = {}
    for kind, task, at, actor in events:
        keys = starts if kind == "started" else {by_task[task]} if task in by_task else ()
        for key in keys:
            reached[key] = (at, actor)
    now = set(open_task_ids)
    return [
        Reached(m, *reached.get(m.key, (None, None)), current=bool(now & {*m.tasks, *m.also}))
        for m in stones
    ]


def start_events(source) -> frozenset[str]:
    """The ids of the start events of the package's main diagram."""
    found = _STARTS.get(source.content_hash)
    if found is None:
        ids = re.findall(r"<(?:[\w-]+:)?startEvent\b[^>]*?\bid=\"([^\"]+)\"", source.bpmn)
        found = _STARTS[source.content_hash] = frozenset(ids)
    return found


_STARTS: dict[str, frozenset[str]] = {}


def stage_of(source) -> dict[str, str]:
    """Each task id of a milestone (reaching it or on the way) -> the milestone's key."""
    return {t: m.key for m in milestones(source) for t in (*m.tasks, *m.also)}


# -- validation (engine.validation calls these with the parsed process) ----------------------


def _toml(template: str, **params) -> Finding:
    return say(None, template, "process.toml", **params)


def summary_problems(source) -> list[Finding]:
    """What is wrong with ``[summary]``, one finding each."""
    if not source.summary:
        return []
    found = []
    for language in LANGUAGES:
        raw = source.summary.get(language)
        listed = isinstance(raw, list) and raw and all(isinstance(p, str) for p in raw)
        if not (isinstance(raw, str) or listed):
            found.append(_toml(T('[summary] needs %(language)r: a list of pieces such as '
                                 '"{location}"'), language=language))  # fmt: skip
            continue
        for piece in [raw] if isinstance(raw, str) else raw:
            try:
                _fields_of(piece)
            except ValueError as err:
                found.append(_toml(T("[summary] piece %(piece)r cannot be read (%(error)s)"),
                                   piece=piece, error=str(err)))  # fmt: skip
    return found or _field_problems(source)


def _field_problems(source) -> list[Finding]:
    spec, found = source.summary, []
    for name in named_fields(source):
        if not field_schema(source, name):
            found.append(_toml(T("[summary] names field %(field)r, which no form of the "
                                 "package has"), field=name))  # fmt: skip
    shown = {n for lang in LANGUAGES for p in pieces(source, lang) for n in _fields_of(p)}
    for name in sorted(shown):
        if flagged(field_schema(source, name)):
            found.append(_toml(T("[summary] shows personal field %(field)r on every inbox "
                                 "row: name it as caller or phone instead"),
                               field=name))  # fmt: skip
    for name in spec.get("tags", []):
        schema = field_schema(source, name)
        if schema and schema.get("type") != "boolean" and "enum" not in schema:
            found.append(_toml(T("[summary] tag %(field)r must be a choice or a yes/no field"),
                               field=name))  # fmt: skip
    for name, value in sorted(_alerts(source)):
        schema = field_schema(source, name)
        boolean = schema.get("type") == "boolean"
        allowed = ["true"] if boolean else [str(v) for v in schema.get("enum", [])]
        if name not in spec.get("tags", []) or value not in allowed:
            found.append(_toml(T("[summary] alert %(alert)r must be tag=value, one of the "
                                 "tag's values"), alert=f"{name}={value}"))  # fmt: skip
    return found


def milestone_problems(source, elements: dict[str, bool]) -> list[Finding]:
    """What is wrong with ``[[milestones]]``; ``elements``: every element id of the process
    that a milestone may name -> whether it is a human task (else the start event)."""
    found, seen, keys = [], {}, set()
    for n, m in enumerate(milestones(source), start=1):
        if not MILESTONE_KEY.match(m.key) or m.key in keys:
            found.append(_toml(T("milestone %(n)d: key %(key)r must be unique, lower-case "
                                 "letters, digits, _"), n=n, key=m.key))  # fmt: skip
        keys.add(m.key)
        if not all(m.names.values()):
            found.append(_toml(T("milestone %(n)d needs a name and an en name"), n=n))
        if len(m.waiting) == 1:
            found.append(_toml(T("milestone %(n)d needs waiting and waiting_en together"), n=n))
        if not m.tasks:
            found.append(_toml(T("milestone %(n)d names no task that reaches it"), n=n))
        for task in (*m.tasks, *m.also):
            found += _milestone_task_problems(n, m, task, elements, seen)
            seen.setdefault(task, n)
    if len(milestones(source)) != len(source.milestones):
        found.append(_toml(T("each [[milestones]] entry must be a table")))
    return found


def _milestone_task_problems(n: int, m: Milestone, task: str, elements, seen) -> list[Finding]:
    if task not in elements:
        return [_toml(T("milestone %(n)d names %(task)r, which is neither a human task nor "
                        "the start event"), n=n, task=task)]  # fmt: skip
    if task in seen:
        return [_toml(T("milestone %(n)d names %(task)r, which milestone %(other)d names "
                        "too"), n=n, task=task, other=seen[task])]  # fmt: skip
    if elements[task] and not m.waiting:
        return [_toml(T("milestone %(n)d names human task %(task)r but has no waiting name "
                        "for its inbox tab"), n=n, task=task)]  # fmt: skip
    return []
