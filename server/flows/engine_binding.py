"""The one Engine of this process and the deployed sources it runs, cached by definition id.

Definitions are immutable, so a source read once stays right for the process's life.
"""

from __future__ import annotations

import threading

from engine import Engine, ProcessSource

from .models import ProcessDefinition

_engine = Engine()
_sources: dict[int, ProcessSource] = {}
_lock = threading.Lock()


def get_engine() -> Engine:
    return _engine


def source_for(definition_id: int) -> ProcessSource:
    source = _sources.get(definition_id)
    if source is None:
        definition = ProcessDefinition.objects.get(pk=definition_id)
        source = definition.source
        with _lock:
            _sources[definition_id] = source
    return source
