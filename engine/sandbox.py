"""The script sandbox: every script, condition and timer expression runs here.

SpiffWorkflow evaluates BPMN expressions with plain ``eval``/``exec``. We compile
them with RestrictedPython instead (:mod:`engine.compiler`), which refuses
imports, names and attributes that start with an underscore (so
``__import__``, ``__class__`` and the ``__subclasses__`` escape), and guards
attribute, item and iteration access at run time; the operators that can make
a value huge (``**``, ``*``, ``<<``, ``+``, ``%``, f-strings) go through
:mod:`engine.guards`. Compiled code is cached by source.

Code the compiler finds *bounded* (no loops, only cheap calls: every real
script and condition in processes/) runs here, in the server process, at no
extra cost. Anything else runs in an isolated interpreter with a time and a
memory limit (:mod:`engine.isolation`), so ``while True: pass`` or
``sum(range(10**11))`` stops after ``script_seconds`` with the element's id
instead of hanging the worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import operations
from .compiler import CHEAP_FUNCTIONS, Compiled, compile_source
from .errors import ScriptRefused
from .guards import restricted_globals, script_results
from .isolation import Isolated


def compile_expression(source: str) -> Compiled:
    """Compile an expression for the sandbox, or raise :class:`ScriptRefused`."""
    return compile_source(source, True, CHEAP_FUNCTIONS)


def compile_script(source: str) -> Compiled:
    """Compile a script for the sandbox, or raise :class:`ScriptRefused`."""
    return compile_source(source, False, CHEAP_FUNCTIONS)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs everything through the sandbox.

    ``helpers`` are functions offered to scripts by name; task data may not
    shadow them. ``extra`` helpers (``Engine(extra_helpers=...)``) are offered to
    bounded code only: they cannot cross into the isolated interpreter.
    """

    def __init__(
        self,
        helpers: Mapping[str, Callable] | None = None,
        isolated: Isolated | None = None,
        extra: Mapping[str, Callable] | None = None,
    ):
        super().__init__({**(helpers or {}), **(extra or {})})
        self.extra_names = frozenset(extra or ())
        self._callables = CHEAP_FUNCTIONS | frozenset(self.globals)
        self._base = {**restricted_globals(strict=True), **self.globals}
        self.isolated = isolated or Isolated()

    def compile(self, source: str, is_expression: bool) -> Compiled:
        return compile_source(source, is_expression, self._callables)

    def _compiled(self, source: str, is_expression: bool) -> Compiled:
        compiled = self.compile(source, is_expression)
        if not compiled.bounded:
            crossing = sorted(compiled.names & self.extra_names)
            if crossing:
                raise ScriptRefused(
                    f"{', '.join(crossing)} cannot be called here: this code runs isolated "
                    "(it loops, defines functions or calls what the sandbox cannot bound), "
                    "and functions given as Engine(extra_helpers=...) stay in the server"
                )
        return compiled

    def evaluate(self, expression, context, external_context=None):
        compiled = self._compiled(expression, True)
        if not compiled.bounded:
            return self.isolated.evaluate(expression, {**context, **(external_context or {})})
        namespace = {**context, **(external_context or {}), **self._base}
        return eval(compiled.code, namespace)  # noqa: S307 (restricted code)

    def execute(self, script, context, external_context=None):
        clash = set(self.globals).intersection(context)
        if clash:
            raise ValueError(
                "Task data would hide the function(s) "
                + ", ".join(sorted(clash))
                + ": rename these fields"
            )
        compiled = self._compiled(script, False)
        if compiled.bounded:
            namespace = {**context, **(external_context or {}), **self._base}
            exec(compiled.code, namespace)  # noqa: S102 (restricted code)
            results = script_results(namespace, self._base, external_context)
        else:
            results = self.isolated.execute(
                script, {**context, **(external_context or {})}, external_context or {}
            )
        context.clear()
        context.update(results)
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **_):
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        return json.dumps(operations.call(operation_name, params), ensure_ascii=False)


class SandboxScriptEngine(PythonScriptEngine):
    """Reports a refused service call, and any script error, as an error of its task.

    SpiffWorkflow's own ``call_service`` error path names a variable it never
    set and hides the real message behind a ``NameError``.
    """

    def call_service(self, task, **kwargs):
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err

    def create_task_exec_exception(self, task, script, err):
        # SpiffWorkflow adds err.args[0] to a str: KeyError(5) would become a TypeError
        # that names no element
        if err.args and not isinstance(err.args[0], str):
            err.args = (repr(err.args[0]), *err.args[1:])
        return super().create_task_exec_exception(task, script, err)


def script_engine(
    helpers: Mapping[str, Callable] | None = None,
    isolated: Isolated | None = None,
    extra: Mapping[str, Callable] | None = None,
) -> PythonScriptEngine:
    return SandboxScriptEngine(environment=SandboxEnvironment(helpers, isolated, extra))
