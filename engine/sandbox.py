"""The script sandbox: every script, condition and timer expression runs here.

SpiffWorkflow evaluates BPMN expressions with plain ``eval``/``exec``. We compile
them with RestrictedPython instead, which refuses imports, names and attributes
that start with an underscore (so ``__import__``, ``__class__`` and the
``__subclasses__`` escape), and guards attribute, item and iteration access at
run time. Compiled code is cached by source, so a condition evaluated on every
step is compiled once per process.

It does not bound CPU or memory: a script can still loop forever. Processes
come from managers, not from the public, and are validated before deployment.
"""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType, ModuleType

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import operations
from .errors import ScriptRefused

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "|=": operator.ior, "&=": operator.iand,
}  # fmt: skip

_EXTRA_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("min", "max", "sum", "any", "all", "enumerate", "sorted", "reversed",
                 "dict", "list", "set", "map", "filter")
}  # fmt: skip


def _inplacevar(op: str, x, y):
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptRefused(f"The operator {op} is not allowed in scripts") from None


_GUARDS = {
    "__builtins__": {**safe_builtins, **_EXTRA_BUILTINS},
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression for the sandbox, or raise :class:`ScriptRefused`."""
    result = compile_restricted_eval(source.strip(), "<expression>")
    if result.errors:
        raise ScriptRefused("; ".join(result.errors))
    return result.code


@lru_cache(maxsize=4096)
def compile_script(source: str) -> CodeType:
    """Compile a script for the sandbox, or raise :class:`ScriptRefused`."""
    result = compile_restricted_exec(source, "<script>")
    if not result.errors and any(
        isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(ast.parse(source))
    ):
        raise ScriptRefused("Imports are not allowed in scripts")
    if result.errors:
        raise ScriptRefused("; ".join(result.errors))
    return result.code


def _is_data(value) -> bool:
    return not callable(value) and not isinstance(value, ModuleType)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs everything through RestrictedPython.

    ``helpers`` are functions offered to scripts by name; task data may not
    shadow them.
    """

    def __init__(self, helpers: Mapping[str, Callable] | None = None):
        super().__init__(dict(helpers or {}))
        self._base = {**_GUARDS, **self.globals}

    def evaluate(self, expression, context, external_context=None):
        namespace = {**context, **(external_context or {}), **self._base}
        return eval(compile_expression(expression), namespace)  # noqa: S307 (restricted code)

    def execute(self, script, context, external_context=None):
        clash = set(self.globals).intersection(context)
        if clash:
            raise ValueError(
                "Task data would hide the function(s) "
                + ", ".join(sorted(clash))
                + ": rename these fields"
            )
        namespace = {**context, **(external_context or {}), **self._base}
        exec(compile_script(script), namespace)  # noqa: S102 (restricted code)
        context.clear()
        context.update(
            (k, v) for k, v in namespace.items()
            if k not in self._base and not k.startswith("_") and _is_data(v)
            and not (external_context and k in external_context)
        )  # fmt: skip
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **_):
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        return json.dumps(operations.call(operation_name, params), ensure_ascii=False)


class SandboxScriptEngine(PythonScriptEngine):
    """Reports a refused service call as an error of its task.

    SpiffWorkflow's own ``call_service`` error path names a variable it never
    set and hides the real message behind a ``NameError``.
    """

    def call_service(self, task, **kwargs):
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err


def script_engine(helpers: Mapping[str, Callable] | None = None) -> PythonScriptEngine:
    return SandboxScriptEngine(environment=SandboxEnvironment(helpers))
