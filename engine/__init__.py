"""Propflow's engine: SpiffWorkflow behind plain data, with no Django import.

Callers load :class:`ProcessSource` packages, check them with
:func:`validate`, and step instances with an :class:`Engine`.
"""

from .errors import (
    EngineError,
    ProcessInvalid,
    ScriptFailed,
    ScriptRefused,
    StateVersionUnsupported,
    TaskNotReady,
)
from .forms import schema_problems, validate_form, with_defaults
from .registry import ProcessSource, discover, load_package
from .runtime import SERIALIZER_VERSION, Engine
from .types import ReadyTask, StepResult, WaitingTimer
from .validation import problems, validate

__all__ = [
    "SERIALIZER_VERSION", "Engine", "EngineError", "ProcessInvalid", "ProcessSource",
    "ReadyTask", "ScriptFailed", "ScriptRefused", "StateVersionUnsupported", "StepResult",
    "TaskNotReady", "WaitingTimer", "discover", "load_package", "problems", "schema_problems",
    "validate", "validate_form", "with_defaults",
]  # fmt: skip
