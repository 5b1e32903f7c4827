"""Forms are JSON Schema documents (draft 2020-12) kept in ``forms/``.

A form's top level is an object with ``properties``; submitted data is checked
against it and may hold no field the form does not declare, so a form can never
overwrite process variables it does not own.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

_FORMAT_CHECKER = FormatChecker()


def schema_problems(schema: Any) -> list[str]:
    """What is wrong with a form schema; empty when it is usable."""
    if not isinstance(schema, dict):
        return ["is not a JSON object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "top level"
        return [f"is not valid JSON Schema at {where}: {err.message}"]
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return ['must be {"type": "object", "properties": {...}} at the top level']
    return []


def _message(error) -> str:
    match error.validator:
        case "required":
            return "This field is required."
        case "enum":
            return "Must be one of: " + ", ".join(map(str, error.validator_value)) + "."
        case "type":
            return f"Must be of type {error.validator_value}."
        case "minLength" if error.validator_value == 1:
            return "This field may not be blank."
        case "minLength":
            return f"Must have at least {error.validator_value} characters."
        case "maxLength":
            return f"Must have at most {error.validator_value} characters."
        case "minimum" | "exclusiveMinimum":
            return f"Must be at least {error.validator_value}."
        case "maximum" | "exclusiveMaximum":
            return f"Must be at most {error.validator_value}."
        case "format":
            return f"Must be a valid {error.validator_value}."
        case "pattern":
            return "Has the wrong format."
    return error.message


def _field(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # jsonschema reports a missing property on its parent object.
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(path) or "non_field_errors"


def validate_form(schema: dict, data: Any) -> dict[str, list[str]]:
    """Field-level messages for ``data`` against ``schema``; empty when it is valid."""
    if not isinstance(data, dict):
        return {"non_field_errors": ["The form data must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    for name in data.keys() - schema.get("properties", {}).keys():
        errors.setdefault(name, []).append("This field is not part of the form.")
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        errors.setdefault(_field(error), []).append(_message(error))
    return errors


def with_defaults(schema: dict, data: dict) -> dict:
    """``data`` with the form's top-level defaults filled in for fields left out."""
    filled = dict(data)
    for name, prop in schema.get("properties", {}).items():
        if name not in filled and isinstance(prop, dict) and "default" in prop:
            filled[name] = prop["default"]
    return filled
