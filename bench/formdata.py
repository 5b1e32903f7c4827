"""Valid form data made from a form's JSON Schema, as the load benchmark's staff submit it.

The generator knows what the packages' forms use (processes/README.md, "Forms") and nothing
more: objects with ``properties`` and ``required``, ``if``/``then``/``else`` (also inside
``allOf``), ``const``, ``enum``, strings with lengths, the ``date``, ``date-time`` and
``data-url`` formats, the ``tel`` and ``unit`` widgets, numbers and integers with bounds,
arrays with item counts.
Optional fields are filled about half the time. A keyword it does not know raises
:class:`Unsupported` rather than being skipped, and :meth:`Filler.form` checks the result
with the server's own ``engine.validate_form``: a form the generator cannot fill shows up
as an error of the benchmark, never as a quiet 400 from the server.
"""

from __future__ import annotations

import math
import random
import re
from datetime import datetime, timedelta

from jsonschema import Draft202012Validator, FormatChecker

from engine.forms import validate_form

# A signature, a photo or a drawing: a real 1x1 PNG, since the server reads every image it
# is sent (its type, then the image itself, to scale it).
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhf"
    "DwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WORDS = ("业主来电反映情况", "已现场核实", "按规定处理完毕", "请尽快安排", "无异议")
# Keywords that only describe a field for people, or that the rest of this module reads.
KNOWN = {
    "$schema", "type", "title", "description", "default", "properties", "required", "if",
    "then", "else", "allOf", "const", "enum", "minLength", "maxLength", "format", "pattern",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "items", "minItems",
    "maxItems", "additionalProperties",
}  # fmt: skip
_FORMATS = FormatChecker()


class Unsupported(Exception):
    """The schema asks for something this generator does not make."""


def _check(schema: dict, where: str) -> None:
    unknown = {k for k in schema if k not in KNOWN and not k.startswith("x-")}
    if unknown:
        raise Unsupported(f"{where}: keywords {', '.join(sorted(unknown))}")


class Filler:
    def __init__(self, rng: random.Random, units: list[str]):
        self.rng = rng
        self.units = units

    def form(self, schema: dict | None) -> tuple[dict, dict]:
        """(data, problems): data for ``schema`` and what ``validate_form`` finds wrong."""
        if not schema:
            return {}, {}
        try:
            data = self.object(schema, "form")
        except Unsupported as err:
            return {}, {"generator": [str(err)]}
        return data, validate_form(schema, data)

    def object(self, schema: dict, where: str) -> dict:
        _check(schema, where)
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        data = {
            name: self.value(prop, f"{where}.{name}")
            for name, prop in props.items()
            if name in required or self.rng.random() < 0.5
        }
        # A branch's field can be what another condition reads: settle in a few passes.
        for _ in range(3):
            if not self.conditions(schema, props, data, where):
                break
        return data

    def conditions(self, schema: dict, props: dict, data: dict, where: str) -> bool:
        """Fill what the ``if``/``then``/``else`` rules that hold ask for; True if it did."""
        changed = False
        for rule in (schema, *schema.get("allOf", ())):
            if "if" not in rule:
                continue
            holds = Draft202012Validator(rule["if"], format_checker=_FORMATS).is_valid(data)
            branch = rule.get("then" if holds else "else")
            if not branch:
                continue
            _check(branch, f"{where} (conditional)")
            overrides = branch.get("properties", {})
            needed = set(branch.get("required", ()))
            for name in sorted(needed | overrides.keys()):
                prop = {**props.get(name, {}), **overrides.get(name, {})}
                if name not in data and name not in needed:
                    continue
                if name in data and Draft202012Validator(prop, format_checker=_FORMATS).is_valid(
                    data[name]
                ):
                    continue
                data[name] = self.value(prop, f"{where}.{name}")
                changed = True
        return changed

    def value(self, prop: dict, where: str):
        _check(prop, where)
        if "const" in prop:
            return prop["const"]
        if "enum" in prop:
            return self.rng.choice(prop["enum"])
        kind = prop.get("type")
        if kind == "object":
            return self.object(prop, where)
        if kind == "array":
            return self.array(prop, where)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind in ("number", "integer"):
            return self.number(prop, where)
        if kind == "string":
            return self.string(prop, where)
        raise Unsupported(f"{where}: type {kind!r}")

    def array(self, prop: dict, where: str) -> list:
        low = prop.get("minItems", 0)
        high = min(prop.get("maxItems", low + 2), low + 2)
        return [self.value(prop.get("items", {}), f"{where}[]") for _ in range(
            self.rng.randint(low, max(low, high))
        )]  # fmt: skip

    def number(self, prop: dict, where: str) -> int | float:
        """A whole amount within the bounds (money, counts): always valid for both types."""
        low = prop["minimum"] if "minimum" in prop else prop.get("exclusiveMinimum", -1) + 1
        if "maximum" in prop:
            high = prop["maximum"]
        else:
            high = prop.get("exclusiveMaximum", low + 5001) - 1
        low, high = math.ceil(low), math.floor(high)
        if low > high:
            raise Unsupported(f"{where}: no whole number between its bounds")
        return self.rng.randint(low, high)

    def string(self, prop: dict, where: str) -> str:
        fmt, widget, rng = prop.get("format"), prop.get("x-widget"), self.rng
        now = datetime.now().astimezone()
        if fmt == "date":
            text = (now + timedelta(days=rng.randint(-30, 90))).date().isoformat()
        elif fmt == "date-time":
            text = (now + timedelta(minutes=rng.randint(-600, 4320))).isoformat("T", "seconds")
        elif fmt == "data-url":
            text = PNG
        elif fmt is not None:
            raise Unsupported(f"{where}: format {fmt!r}")
        elif widget == "tel":
            text = "13" + "".join(rng.choice("0123456789") for _ in range(9))
        elif widget == "unit":
            text = rng.choice(self.units)
        else:
            text = rng.choice(WORDS)
            while len(text) < prop.get("minLength", 1):
                text += rng.choice(WORDS)
            text = text[: prop.get("maxLength", len(text))]
        if "pattern" in prop and not re.search(prop["pattern"], text):
            raise Unsupported(f"{where}: pattern {prop['pattern']!r}")
        if not prop.get("minLength", 0) <= len(text) <= prop.get("maxLength", len(text)):
            raise Unsupported(f"{where}: length {prop.get('minLength')}-{prop.get('maxLength')}")
        return text
