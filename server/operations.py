"""The service-task operations the server offers: one declaration each, and their handlers.

A declaration (:class:`ServiceOperation`) says in one place what a diagram may call
(name, parameters, a check of their values), what the call changes (``apply``, which
queues rows on the step's write batch inside the step's transaction), the audit kind it
records and how a timeline describes that event. Each lives in a module of its own in a
package that an app's ``ready()`` hands to :func:`discover` (the estate's:
``server/estate/operations/``), so adding an operation is adding a file.

:func:`register` gives the engine the declaration (validation and the recording of calls
read it there; the engine cannot import this module) and keeps the handler here, where
the write path (``server/flows/cases/step.py``) and the timeline find it. The system
check :func:`handlers_match` fails the start if the two registries disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from engine import operations as engine_operations
from engine.operations import Effect, Operation
from engine.text import normalise

from .discovery import modules


class EffectRefused(Exception):
    """The call cannot be applied to what the database holds (a unit that does not exist):
    the step fails and changes nothing."""


@dataclass(frozen=True)
class ServiceOperation:
    name: str
    summary: str  # one line in English on what it does, for whoever writes diagrams
    audit_kind: str  # the AuditEvent.kind its calls record: any short name, no migration
    # (params, *, batch, today) -> the audit event's data; queues its rows on ``batch``.
    apply: Callable[..., dict[str, Any]]
    # (audit data, language) -> the timeline's line, called with that language active.
    describe: Callable[[dict[str, Any], str], str]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    check: Callable[[dict[str, Any]], list[str]] | None = None

    @cached_property
    def declaration(self) -> Operation:
        """What the engine is told: one object, so the system check can compare by identity."""
        return Operation(self.name, self.required, self.optional, self.summary, self.check)


_handlers: dict[str, ServiceOperation] = {}
_describers: dict[str, Callable[[dict[str, Any], str], str]] = {}


def register(operation: ServiceOperation) -> None:
    """Offer ``operation`` to diagrams and to the write path."""
    known = _describers.get(operation.audit_kind)
    if known is not None and known is not operation.describe:
        raise ImproperlyConfigured(
            f"Audit kind {operation.audit_kind!r} of {operation.name!r} is already described "
            "differently by another operation: share one describe function"
        )
    engine_operations.register(operation.declaration)
    _handlers[operation.name] = operation
    _describers[operation.audit_kind] = operation.describe


def unregister(name: str) -> None:
    """Take an operation back (tests that register their own)."""
    operation = _handlers.pop(name, None)
    engine_operations.unregister(name)
    if operation is not None and not any(
        o.audit_kind == operation.audit_kind for o in _handlers.values()
    ):
        _describers.pop(operation.audit_kind, None)


def discover(package: str) -> list[ServiceOperation]:
    """Register the ``OPERATION`` of every module in ``package`` (``_private`` ones aside)."""
    found = []
    for module in modules(package):
        operation = getattr(module, "OPERATION", None)
        if not isinstance(operation, ServiceOperation):
            raise ImproperlyConfigured(f"{module.__name__} declares no OPERATION")
        register(operation)
        found.append(operation)
    return found


def apply(effect: Effect, *, batch, today: date) -> tuple[str, dict[str, Any]]:
    """Queue the rows of one service call on ``batch``; returns (audit kind, audit data)."""
    operation = _handlers.get(effect.operation)
    if operation is None:  # the system check makes this a start-up error, not a step's
        raise LookupError(f"No handler for service operation {effect.operation!r}")
    return operation.audit_kind, operation.apply(effect.params, batch=batch, today=today)


def describe(kind: str, data: dict[str, Any], language: str) -> str | None:
    """The timeline's line for an audit event an operation recorded; None for other kinds."""
    describer = _describers.get(kind)
    if describer is None:
        return None
    with translation.override(normalise(language)):
        return describer(data, language)


def handlers_match(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every operation the engine offers has a handler here, and every handler is offered."""
    offered = engine_operations.OPERATIONS
    found = [
        checks.Error(
            f"Service operation {name!r} is offered to diagrams but has no handler",
            hint="Declare it with server.operations.ServiceOperation in a module "
            "of an operations package",
            id="propflow.E010",
        )
        for name in sorted(offered.keys() - _handlers.keys())
    ]
    found += [
        checks.Error(
            f"Service operation {name!r} has a handler but the engine does not "
            "offer it (or offers another declaration)",
            id="propflow.E011",
        )
        for name, operation in sorted(_handlers.items())
        if offered.get(name) is not operation.declaration
    ]
    return found
