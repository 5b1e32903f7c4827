"""Propflow's engine: SpiffWorkflow behind plain data, with no Django import.

Callers load :class:`ProcessSource` packages, check them with
:func:`validate`, and step instances with an :class:`Engine`.

The names below load on first use (PEP 562), so the isolated script
interpreter (``python -m engine.sandbox_child``) starts without importing
SpiffWorkflow, lxml and jsonschema it never uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "EngineError": "errors", "HandBackUnavailable": "errors", "MigrationRefused": "errors",
    "ProcessInvalid": "errors",
    "ScriptFailed": "errors",
    "ScriptRefused": "errors", "ScriptStopped": "errors", "StateVersionUnsupported": "errors",
    "TaskNotReady": "errors", "schema_problems": "forms", "validate_form": "forms",
    "with_defaults": "forms", "ProcessSource": "registry", "discover": "registry",
    "load_package": "registry", "SERIALIZER_VERSION": "runtime", "Engine": "runtime",
    "ReadyTask": "types", "StepResult": "types", "WaitingTimer": "types",
    "problems": "validation", "validate": "validation", "findings": "validation",
    "Finding": "finding", "load_files": "registry", "package_files": "registry",
    "package_zip": "registry",
}  # fmt: skip
__all__ = [
    "SERIALIZER_VERSION", "Engine", "EngineError", "HandBackUnavailable", "MigrationRefused",
    "ProcessInvalid",
    "ProcessSource",
    "ReadyTask", "ScriptFailed", "ScriptRefused", "ScriptStopped", "StateVersionUnsupported",
    "StepResult", "TaskNotReady", "WaitingTimer", "discover", "load_package", "problems",
    "schema_problems", "validate", "validate_form", "with_defaults", "findings", "Finding",
    "load_files", "package_files", "package_zip",
]  # fmt: skip


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .errors import (
        EngineError,
        HandBackUnavailable,
        MigrationRefused,
        ProcessInvalid,
        ScriptFailed,
        ScriptRefused,
        ScriptStopped,
        StateVersionUnsupported,
        TaskNotReady,
    )
    from .finding import Finding
    from .forms import schema_problems, validate_form, with_defaults
    from .registry import (
        ProcessSource,
        discover,
        load_files,
        load_package,
        package_files,
        package_zip,
    )
    from .runtime import SERIALIZER_VERSION, Engine
    from .types import ReadyTask, StepResult, WaitingTimer
    from .validation import findings, problems, validate
