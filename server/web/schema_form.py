"""HTML forms from the packages' JSON Schema documents, and the posted form back to data.

The schema stays the one source of truth: this module only decides widgets and turns
strings and uploads into JSON values; checking is the engine's (``engine.validate_form``),
so the API and the pages answer the same errors. Inputs are named by dotted paths
(``owner.phone``, ``household.0.name``), which are also the keys of those errors, so every
message lands beside its field. What was typed comes back as typed, even when it could
not be read as a number; uploaded files come back as kept attachments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from engine.forms import message
from engine.text import pick
from server.files.services import data_url

KEPT = ".kept"  # suffix of the inputs that carry files uploaded by an earlier submit
DRAWN = ".drawn"  # suffix of the input the signature pad writes its PNG into
BLANK_ROWS = 2  # empty rows offered under a list's filled ones
UNIT_LOOKUP = "/api/units/"  # what a unit field (x-lookup: units) searches as one types


def label(node: dict, language: str, key: str = "title") -> str:
    """A schema node's title (or description) in ``language``."""
    return pick([node.get(key) or "", node.get(f"x-{key}-en")], language)


def unit_label(node: dict, language: str) -> str:
    """What a number is counted in (元 / yuan), in ``language``."""
    return pick([node.get("x-unit") or "", node.get("x-unit-en")], language)


def enum_label(node: dict, value: Any, language: str) -> str:
    titles = (node.get("x-enum-titles") or {}).get(str(value))
    if titles:
        return pick(titles, language)
    return str(value)


def is_file(node: dict) -> bool:
    return node.get("format") == "data-url" or node.get("x-widget") in ("files", "signature")


def _is_file_list(node: dict) -> bool:
    items = node.get("items")
    return node.get("type") == "array" and isinstance(items, dict) and is_file(items)


def _is_row_list(node: dict) -> bool:
    items = node.get("items")
    return node.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object"


@dataclass
class Field:
    name: str  # the input's name: a dotted path
    label: str
    widget: str  # text textarea tel number checkbox select date datetime file files signature
    # group rows
    required: bool = False
    value: Any = ""  # the text to show; True/False for a checkbox; data-urls for files
    errors: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    suffix: str = ""  # a unit after the input (元, 张)
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)  # a group's fields
    rows: list[list[Field]] = field(default_factory=list)  # a list's rows of fields
    headers: list[str] = field(default_factory=list)


# -- to HTML ---------------------------------------------------------------------------------


def _widget(node: dict) -> str:
    kind, widget, fmt = node.get("type"), node.get("x-widget"), node.get("format")
    if _is_file_list(node):
        return "files"
    if widget == "signature":
        return "signature"
    if is_file(node):
        return "file"
    if kind == "object":
        return "group"
    if _is_row_list(node):
        return "rows"
    if kind == "boolean":
        return "checkbox"
    if "enum" in node:
        return "select"
    if kind in ("number", "integer"):
        return "number"
    if fmt == "date":
        return "date"
    if fmt == "date-time" or widget == "datetime":
        return "datetime"
    if widget in ("textarea", "tel"):
        return widget
    return "text"


def _attrs(node: dict, widget: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if widget in ("text", "textarea", "tel") and "maxLength" in node:
        attrs["maxlength"] = node["maxLength"]
    if widget == "number":
        attrs["step"] = "1" if node.get("type") == "integer" else "any"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in node:
                attrs[attr] = node[key]
        attrs["inputmode"] = "numeric" if node.get("type") == "integer" else "decimal"
    if widget == "tel":
        attrs["inputmode"] = "tel"
    if widget in ("file", "files", "signature"):
        attrs["accept"] = "image/*" if node.get("x-widget") == "signature" else "image/*,.pdf"
    if widget == "text" and node.get("x-lookup") == "units":
        # Search-as-you-type against GET /api/units/ (static/web/lookup.js); choosing a unit
        # fills the fields the form names from its owner file, which stay editable.
        attrs.update({"data-lookup": UNIT_LOOKUP, "autocomplete": "off", "role": "combobox",
                      "aria-autocomplete": "list", "aria-expanded": "false"})  # fmt: skip
        fills = node.get("x-lookup-fills")
        if isinstance(fills, dict):
            attrs["data-fills"] = json.dumps(fills)
    return attrs


def fields(
    schema: dict, raw: dict[str, Any], errors: dict[str, list[str]], language: str
) -> list[Field]:
    """The form's fields holding ``raw`` (input name -> text, or data-urls for files)."""
    return _fields(schema, "", raw, errors, language)


def properties(schema: dict) -> list[tuple[str, Any]]:
    """The schema's fields in the order the form shows them: its ``x-order`` first (a form
    stored as JSONB loses the order it was written in), then the rest as they come."""
    props = schema.get("properties") or {}
    order = [k for k in schema.get("x-order") or () if isinstance(k, str) and k in props]
    return [(k, props[k]) for k in order] + [(k, v) for k, v in props.items() if k not in order]


def _fields(schema, prefix, raw, errors, language) -> list[Field]:
    required = set(schema.get("required") or ())
    out = []
    for key, node in properties(schema):
        if not isinstance(node, dict):
            continue
        name = f"{prefix}{key}"
        widget = _widget(node)
        f = Field(
            name=name, label=label(node, language) or key, widget=widget,
            required=key in required or node.get("const") is True,
            errors=list(errors.get(name, ())), help=label(node, language, "description"),
            suffix=unit_label(node, language), attrs=_attrs(node, widget),
        )  # fmt: skip
        if widget == "group":
            f.children = _fields(node, f"{name}.", raw, errors, language)
        elif widget == "rows":
            item = node["items"]
            f.headers = [label(n, language) or k for k, n in item.get("properties", {}).items()]
            filled = sorted({int(k.split(".")[1]) for k in raw if _row_key(k, name)})
            count = min(max(len(filled) + BLANK_ROWS, 1), node.get("maxItems", 20))
            for row in range(count):
                # a row's errors carry the row's index, which is its position when posted
                f.rows.append(_fields(item, f"{name}.{row}.", raw, errors, language))
            for key_err, messages in errors.items():  # errors about the list itself
                if key_err.startswith(f"{name}.") and not key_err[len(name) + 1 :][:1].isdigit():
                    f.errors.extend(messages)
        elif widget == "select":
            f.choices = [(str(v), enum_label(node, v, language)) for v in node["enum"]]
            f.value = raw.get(name, "")
        elif widget == "checkbox":
            f.value = raw.get(name) in (True, "on", "true", "1")
        elif widget in ("file", "files", "signature"):
            kept = raw.get(name) or []
            f.value = [kept] if isinstance(kept, str) else list(kept)
            for key_err, messages in errors.items():  # a list's files are named by position
                if key_err.startswith(f"{name}."):
                    f.errors.extend(messages)
        else:
            f.value = raw.get(name, "")
        out.append(f)
    return out


def _row_key(key: str, name: str) -> bool:
    rest = key[len(name) + 1 :] if key.startswith(f"{name}.") else ""
    return rest.split(".")[0].isdigit()


def to_raw(schema: dict, data: dict) -> dict[str, Any]:
    """Stored data as the inputs show it (to fill a form from defaults or earlier data)."""
    raw: dict[str, Any] = {}
    _to_raw(schema, data or {}, "", raw)
    return raw


def _to_raw(schema, data, prefix, raw) -> None:
    for key, node in (schema.get("properties") or {}).items():
        name = f"{prefix}{key}"
        value = data.get(key, node.get("default") if isinstance(node, dict) else None)
        if value is None or not isinstance(node, dict):
            continue
        widget = _widget(node)
        if widget == "group" and isinstance(value, dict):
            _to_raw(node, value, f"{name}.", raw)
        elif widget == "rows" and isinstance(value, list):
            for i, row in enumerate(value):
                if isinstance(row, dict):
                    _to_raw(node["items"], row, f"{name}.{i}.", raw)
        elif widget == "datetime":
            raw[name] = _local_input(value)
        elif widget in ("file", "files", "signature", "checkbox"):
            raw[name] = value
        else:
            raw[name] = str(value)


# -- from the posted form ----------------------------------------------------------------


def parse(schema: dict, post, files, language: str) -> tuple[dict, dict[str, Any], dict]:
    """The posted form as (data for the engine, raw values to show again, reading errors).

    Reading errors are what could not even be turned into a value (a number that is not
    one, a file too large); the engine then checks the data against the schema.
    """
    form = _Posted(post, files, {}, {}, language)
    data = _parse(schema, "", form)
    return data, form.raw, form.errors


@dataclass
class _Posted:
    """A submitted form being read: its inputs, and what reading them gave back."""

    post: Any
    files: Any
    raw: dict[str, Any]  # what was typed, by dotted name, to show again
    errors: dict[str, list[str]]
    language: str


def _text(post, name: str) -> str:
    return (post.get(name) or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL


_NOTHING = object()  # an input left empty: no value in the data


def _parse(schema: dict, prefix: str, form: _Posted) -> dict:
    data: dict = {}
    for key, node in (schema.get("properties") or {}).items():
        if not isinstance(node, dict):
            continue
        widget = _widget(node)
        read = _READERS.get(widget, _read_text)
        value = read(node, f"{prefix}{key}", form, widget)
        if value is not _NOTHING:
            data[key] = value
    return data


def _read_group(node: dict, name: str, form: _Posted, widget: str):
    return _parse(node, f"{name}.", form) or _NOTHING


def _read_rows(node: dict, name: str, form: _Posted, widget: str):
    indexes = sorted({int(k.split(".")[1]) for k in form.post if _row_key(k, name)})
    indexes += sorted(
        {int(k.split(".")[1]) for k in form.files if _row_key(k, name)} - set(indexes)
    )
    rows = []
    for i in indexes:
        row_form = _Posted(form.post, form.files, {}, {}, form.language)
        row = _parse(node["items"], f"{name}.{i}.", row_form)
        if not any(v not in (False, [], "") for v in row.values()) and not row_form.errors:
            continue  # an empty row, left as offered
        # renumber: the row's position in the list is its index in the errors
        shift = f"{name}.{i}.", f"{name}.{len(rows)}."
        form.raw.update({k.replace(*shift, 1): v for k, v in row_form.raw.items()})
        form.errors.update({k.replace(*shift, 1): v for k, v in row_form.errors.items()})
        rows.append(row)
    return rows or _NOTHING


def _read_checkbox(node: dict, name: str, form: _Posted, widget: str):
    checked = form.post.get(name) in ("on", "true", "1")
    form.raw[name] = checked
    return checked


def _read_files(node: dict, name: str, form: _Posted, widget: str):
    kept = [v for v in form.post.getlist(name + KEPT) if v.startswith("data:")]
    drawn = form.post.get(name + DRAWN) or ""
    if widget == "signature" and drawn.startswith("data:image/png;base64,"):
        kept.append(drawn)  # the pad's, else the photo of a paper signature sent below
    for upload in form.files.getlist(name):
        # photos are scaled when the step stores them, so a phone's full-size one is taken
        if upload.size > settings.PROPFLOW_UPLOAD_MAX_BYTES:
            form.errors.setdefault(name, []).append(_too_big(upload.name, form.language))
            continue
        kind = upload.content_type or "application/octet-stream"
        kept.append(data_url(kind, upload.read(), upload.name or ""))
    if not kept:
        return _NOTHING
    form.raw[name] = kept if widget == "files" else kept[-1]
    return form.raw[name]


def _read_text(node: dict, name: str, form: _Posted, widget: str):
    text = _text(form.post, name)
    if not text:
        return _NOTHING
    form.raw[name] = text
    try:
        return _value(node, widget, text)
    except ValueError:
        expected = node.get("type") if widget == "number" else node.get("format", "")
        form.errors.setdefault(name, []).append(message("type", form.language, expected))
        return _NOTHING


_READERS = {
    "group": _read_group, "rows": _read_rows, "checkbox": _read_checkbox,
    "file": _read_files, "files": _read_files, "signature": _read_files,
}  # fmt: skip


def _too_big(filename: str, language: str) -> str:
    mb = settings.PROPFLOW_UPLOAD_MAX_BYTES // 1_000_000
    return pick([f"{filename} 超过 {mb} MB。", f"{filename} is larger than {mb} MB."], language)


def _value(node: dict, widget: str, text: str) -> Any:
    if widget == "number":
        if node.get("type") == "integer":
            return int(text)
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if widget == "datetime":
        local = datetime.fromisoformat(text)
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        return local.isoformat()
    if widget == "select":
        for option in node["enum"]:
            if str(option) == text:
                return option
    return text


def _local_input(value) -> str:
    """An ISO date-time as a ``datetime-local`` input shows it, in the site's time zone."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    return moment.strftime("%Y-%m-%dT%H:%M")


# -- showing recorded data ---------------------------------------------------------------


@dataclass
class Shown:
    label: str
    text: str = ""
    files: list[dict] = field(default_factory=list)  # the references kept (file, name, type)
    hidden: bool = False  # confidential and not for this reader


def describe(
    schema: dict | None, data: dict, language: str, *, hide: frozenset[str] = frozenset()
) -> list[Shown]:
    """Recorded form data as labelled lines in ``language``; fields in ``hide`` (top-level
    names) show as withheld."""
    props = (schema or {}).get("properties") or {}
    rank = {key: i for i, (key, _node) in enumerate(properties(schema or {}))}
    out = []
    for key, value in sorted(data.items(), key=lambda kv: rank.get(kv[0], len(rank))):
        node = props.get(key) if isinstance(props.get(key), dict) else {}
        shown = Shown(label=label(node, language) or key)
        if key in hide:
            shown.hidden = True
        elif is_file(node) or _is_file_list(node):
            values = value if isinstance(value, list) else [value]
            shown.files = [
                {**v, "image": str(v.get("type", "")).startswith("image/")}
                for v in values if isinstance(v, dict) and "file" in v
            ]  # fmt: skip
        else:
            shown.text = _text_of(node, value, language)
        out.append(shown)
    return out


def _text_of(node: dict, value: Any, language: str) -> str:
    if isinstance(value, bool):
        return pick(["是", "Yes"] if value else ["否", "No"], language)
    if "enum" in node:
        return enum_label(node, value, language)
    if isinstance(value, dict):
        props = node.get("properties") or {}
        return "；".join(
            f"{label(props.get(k, {}), language) or k}: {_text_of(props.get(k, {}), v, language)}"
            for k, v in value.items()
        )
    if isinstance(value, list):
        item = node.get("items") if isinstance(node.get("items"), dict) else {}
        return " | ".join(_text_of(item, v, language) for v in value)
    if node.get("format") == "date-time" or node.get("x-widget") == "datetime":
        return _local_input(value).replace("T", " ")
    suffix = unit_label(node, language)
    return f"{value}{suffix}" if suffix else str(value)
