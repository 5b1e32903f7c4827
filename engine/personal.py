"""Which form fields hold personal data: the form says so, field by field.

Owner data is confidential ("業主資料…屬保密事項", shared domain.md). A form's JSON Schema
marks each field that holds a person's data (a name, a phone, an ID number, a signature, a
vehicle, a scanned document) with ``"x-personal": true``. A flag covers everything below
it (an object's properties, an array's items); a field deeper down may carry its own flag
(``{"vehicles": {"type": "array", "items": {"properties": {"plate": {"x-personal":
true}}}}}`` masks the plates and leaves the models). Nothing else decides: no field name,
no widget. A field that looks personal (a ``tel`` or ``signature`` widget) without the flag
is a warning at validation (:func:`unflagged`), never a guess.

Paths (:func:`personal_paths`) are dotted field names, ``*`` standing for an array's items:
``owner`` (the whole object), ``household`` (every member), ``vehicles.*.plate``. A flagged
node's own descendants are not listed: its path covers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .finding import Finding, say
from .text import gettext_noop as T

FLAG = "x-personal"
MASK = "***"
LOOKS_PERSONAL = frozenset({"tel", "signature"})  # widgets: see unflagged()
ITEMS = "*"


def flagged(node: Any) -> bool:
    return isinstance(node, dict) and node.get(FLAG) is True


def _children(node: dict) -> Iterator[tuple[str, dict]]:
    """The schema nodes right below ``node``: its properties by name, its items as ``*``."""
    props = node.get("properties")
    if isinstance(props, dict):
        for name, child in props.items():
            if isinstance(child, dict):
                yield name, child
    items = node.get("items")
    if isinstance(items, dict):
        yield ITEMS, items


def _walk(node: dict, path: str) -> Iterator[tuple[str, dict, bool]]:
    """Every node below ``node`` with its path and whether a flag covers it."""
    for name, child in _children(node):
        at = f"{path}.{name}" if path else name
        yield at, child, flagged(child)
        if not flagged(child):
            yield from _walk(child, at)


def personal_paths(schema: dict | None) -> frozenset[str]:
    """Every flagged field's path (see the module's text): what the form holds that is a
    person's. The audit chain's digest and the retention sweep ask here too."""
    if not isinstance(schema, dict):
        return frozenset()
    return frozenset(path for path, _node, is_flagged in _walk(schema, "") if is_flagged)


def personal_fields(schema: dict | None) -> frozenset[str]:
    """The top-level fields the form flags as personal (all of each is masked)."""
    return frozenset(p for p in personal_paths(schema) if "." not in p)


def redact(data: dict, schema: dict | None, mask: Any = MASK) -> dict:
    """``data`` with every value a flag covers replaced by ``mask`` (``"***"``), at any
    depth; ``mask`` may be a function of the value (a digest, for the audit chain)."""
    if not isinstance(data, dict):
        return data
    if flagged(schema):
        return {k: _mask(mask, v) for k, v in data.items()}
    return _redacted(data, schema if isinstance(schema, dict) else {}, mask)


def _mask(mask: Any, value: Any) -> Any:
    return mask(value) if callable(mask) else mask


def _redacted(value: Any, node: dict, mask: Any) -> Any:
    if isinstance(value, dict):
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        return {k: _covered(v, props.get(k), mask) for k, v in value.items()}
    items = node.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [_covered(v, items, mask) for v in value]
    return value


def _covered(value: Any, node: Any, mask: Any) -> Any:
    if not isinstance(node, dict):
        return value
    return _mask(mask, value) if flagged(node) else _redacted(value, node, mask)


def holds_personal(data: dict, schema: dict | None) -> bool:
    """Whether ``data`` holds a personal value (one a flag covers that is not empty):
    whether a reader of it received personal data."""
    found: list[bool] = []

    def seen(value: Any) -> Any:
        found.append(value not in (None, "", [], {}))
        return value

    redact(data, schema, seen)
    return any(found)


def unflagged(schema: dict | None) -> list[str]:
    """Paths of fields whose widget says "personal" (``tel``, ``signature``) but that no
    flag covers: a mistake in the form, said as a warning."""
    if not isinstance(schema, dict) or flagged(schema):
        return []
    return sorted(
        path
        for path, node, is_flagged in _walk(schema, "")
        if not is_flagged and node.get("x-widget") in LOOKS_PERSONAL
    )


def misused(schema: dict | None) -> list[str]:
    """Paths where ``x-personal`` is something other than true or false."""
    if not isinstance(schema, dict):
        return []
    return sorted(
        path for path, node, _f in _walk(schema, "")
        if FLAG in node and not isinstance(node[FLAG], bool)
    )  # fmt: skip


def findings(source) -> list[Finding]:
    """What is amiss with the flags in ``source``'s forms: a field that looks personal
    without the flag (a warning: the package may be deployed, and its values show to every
    reader of the case); a flag that is not true or false, a personal business key (which
    inbox rows and notifications show to all) (problems)."""
    found: list[Finding] = []
    start = source.forms.get(source.start_form) if source.start_form else None
    if source.business_key in personal_fields(start):
        found.append(say(None, T("business_key %(field)r is a personal field: it names the "
                                 "case on every inbox row and notification"), "process.toml",
                         field=source.business_key))  # fmt: skip
    for name in sorted(source.forms):
        schema, file = source.forms[name], f"forms/{name}"
        found += [
            say(None, T("form %(form)r field %(field)r must say \"x-personal\": true or "
                        "false"), file, form=name, field=path)
            for path in misused(schema)
        ]  # fmt: skip
        found += [
            say(None, T("form %(form)r field %(field)r looks personal (a phone or signature "
                        "widget) but has no \"x-personal\": true: its values show to every "
                        "reader of the case"), file, warning=True, form=name, field=path)
            for path in unflagged(schema)
        ]  # fmt: skip
    return found
