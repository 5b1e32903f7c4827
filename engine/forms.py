"""Forms are JSON Schema documents (draft 2020-12) kept in each package's ``forms/``.

A form's top level is an object with ``properties``; submitted data is checked
against it and may hold no field the form does not declare, so a form can never
overwrite process variables it does not own.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .text import pick

_FORMAT_CHECKER = FormatChecker()

# A file in a form (``"format": "data-url"``): an image or a PDF whose bytes are what its
# type says. No HTML, SVG or script: a file staff open must not run anything.
FILE_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",), "application/pdf": (b"%PDF",),
}  # fmt: skip
_DATA_URL = re.compile(r"^data:([a-z]+/[a-z0-9.+-]+)(?:;[a-z]+=[^;,]*)*;base64,([A-Za-z0-9+/]*=*)$")


def data_url_parts(value: str) -> tuple[str, str, str] | None:
    """(media type, the ``name`` parameter or "", base64 body) of a file's data URL."""
    match = _DATA_URL.match(value)
    if match is None:
        return None
    name = re.search(r";name=([^;,]*)", value[: match.start(2)])
    return match.group(1), name.group(1) if name else "", match.group(2)


@_FORMAT_CHECKER.checks("data-url")
def is_file(value: object) -> bool:
    """A data URL of an allowed type, in base64, whose first bytes match the type."""
    if not isinstance(value, str):
        return True  # the type keyword judges other values
    match = _DATA_URL.match(value)
    if match is None or match.group(1) not in FILE_TYPES:
        return False
    try:
        head = base64.b64decode(match.group(2)[:64] + "=" * (-len(match.group(2)[:64]) % 4))
    except (ValueError, binascii.Error):
        return False
    magic = FILE_TYPES[match.group(1)]
    if not any(head.startswith(m) for m in magic):
        return False
    return match.group(1) != "image/webp" or head[8:12] == b"WEBP"


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


# Each message in English and Simplified Chinese: (en, zh).
_MESSAGES = {
    "required": ("This field is required.", "此项必填。"),
    "enum": ("Must be one of: {}.", "必须是以下之一：{}。"),
    "type": ("Must be of type {}.", "类型应为 {}。"),
    "blank": ("This field may not be blank.", "此项不能为空。"),
    "minLength": ("Must have at least {} characters.", "至少 {} 个字符。"),
    "maxLength": ("Must have at most {} characters.", "最多 {} 个字符。"),
    "minimum": ("Must be at least {}.", "不能小于 {}。"),
    "maximum": ("Must be at most {}.", "不能大于 {}。"),
    "format": ("Must be a valid {}.", "格式应为有效的 {}。"),
    "file": (
        "Must be an image (PNG, JPEG, GIF, WebP) or a PDF.",
        "必须是图片（PNG、JPEG、GIF、WebP）或 PDF。",
    ),
    "file_size": ("The file is larger than {} MB.", "文件超过 {} MB。"),
    "pattern": ("Has the wrong format.", "格式不正确。"),
    "const": ("Must be confirmed.", "必须确认此项。"),
    "minItems": ("Needs at least {} items.", "至少需要 {} 项。"),
    "maxItems": ("Takes at most {} items.", "最多 {} 项。"),
    "extra": ("This field is not part of the form.", "此项不属于本表单。"),
    "object": ("The form data must be a JSON object.", "表单数据必须是 JSON 对象。"),
}


def message(key: str, language: str = "en", *args) -> str:
    """One of the form messages above in ``language`` (``zh-hans`` or ``en``)."""
    en, zh = _MESSAGES[key]
    return pick((zh, en), language).format(*args)


def _message(error, language: str) -> str:
    value = error.validator_value
    match error.validator:
        case "required" | "pattern":
            return message(error.validator, language)
        case "enum":
            return message("enum", language, ", ".join(map(str, value)))
        case "minLength" if value == 1:
            return message("blank", language)
        case "minimum" | "exclusiveMinimum":
            return message("minimum", language, value)
        case "maximum" | "exclusiveMaximum":
            return message("maximum", language, value)
        case "format" if value == "data-url":
            return message("file", language)
        case "maxLength" if error.schema.get("format") == "data-url":
            # a data URL's length in characters is not what its sender knows: its bytes are
            return message("file_size", language, f"{value * 3 / 4 / 1_000_000:.1f}")
        case "type" | "minLength" | "maxLength" | "format" | "minItems" | "maxItems":
            return message(error.validator, language, value)
        case "const" if value is True:
            return message("const", language)
    return error.message


def _field(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # jsonschema reports a missing property on its parent object.
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(path) or "non_field_errors"


def validate_form(schema: dict, data: Any, language: str = "en") -> dict[str, list[str]]:
    """Field-level messages for ``data`` against ``schema`` in ``language``; empty when valid.

    Keys are dotted paths (``owner.phone``, ``household.0.name``).
    """
    if not isinstance(data, dict):
        return {"non_field_errors": [message("object", language)]}
    errors: dict[str, list[str]] = {}
    for name in data.keys() - schema.get("properties", {}).keys():
        errors.setdefault(name, []).append(message("extra", language))
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        errors.setdefault(_field(error), []).append(_message(error, language))
    return errors


def with_defaults(schema: dict, data: dict) -> dict:
    """``data`` with the form's top-level defaults filled in for fields left out."""
    filled = dict(data)
    for name, prop in schema.get("properties", {}).items():
        if name not in filled and isinstance(prop, dict) and "default" in prop:
            filled[name] = prop["default"]
    return filled
