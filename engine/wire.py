"""Task data to and from the isolated interpreter, as JSON only.

JSON both ways, never pickle: a value that code escaping the sandbox in the
isolated interpreter made must not become an object in the server process. The
few non-JSON types task data holds (SpiffWorkflow's serializer stores
datetimes, timedeltas and UUIDs) travel tagged, as do tuples and dicts whose
keys are not all text, so a value comes back as it went; anything else is
refused with the field's name.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from uuid import UUID

from .errors import ScriptRefused

TAG = "\x00propflow"  # a key no form sends: the API refuses NUL characters

_FROM_TEXT = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "uuid": UUID,
}
_PLAIN = frozenset({str, int, float, bool, type(None)})
_MAX_DEPTH = 200


class Unsendable(ScriptRefused):
    """A value of a type task data cannot hold."""


def encode(value, where: str = "value", depth: int = 0):
    """``value`` as plain JSON data; raises :class:`Unsendable` naming ``where``."""
    if type(value) in _PLAIN:
        return value
    if depth > _MAX_DEPTH:
        raise Unsendable(f"{where} is nested more than {_MAX_DEPTH} levels deep")
    if type(value) is list:
        return [encode(v, where, depth + 1) for v in value]
    if type(value) is dict:
        if all(type(k) is str for k in value) and TAG not in value:
            return {k: encode(v, where, depth + 1) for k, v in value.items()}
        pairs = [[encode(k, where, depth + 1), encode(v, where, depth + 1)]
                 for k, v in value.items()]  # fmt: skip
        return {TAG: "dict", "v": pairs}
    if type(value) is tuple:
        return {TAG: "tuple", "v": [encode(v, where, depth + 1) for v in value]}
    if type(value) is timedelta:
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    for name, kind in (("datetime", datetime), ("date", date), ("time", time), ("uuid", UUID)):
        if type(value) is kind:
            return {TAG: name, "v": str(value) if kind is UUID else value.isoformat()}
    raise Unsendable(
        f"{where} holds a {type(value).__name__}, which task data cannot hold (text, numbers, "
        "true/false, lists, dicts, dates and times only)"
    )


def _decode_object(obj: dict):
    kind = obj.get(TAG)
    if kind is None:
        return obj
    if kind == "tuple":
        return tuple(obj["v"])
    if kind == "dict":
        return {k: v for k, v in obj["v"]}  # tuple keys were decoded first, as tuples
    if kind == "timedelta":
        return timedelta(*obj["v"])
    return _FROM_TEXT[kind](obj["v"])


def dumps(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def loads(line: bytes):
    return json.loads(line, object_hook=_decode_object)


def encode_mapping(mapping: dict) -> dict:
    """A namespace of task data, each value encoded under its own name."""
    return {name: encode(value, name) for name, value in mapping.items()}
