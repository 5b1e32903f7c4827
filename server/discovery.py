"""Modules found by being there: an operations or channels package's own files."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType


def modules(package: str) -> Iterator[ModuleType]:
    """Every module of ``package``, imported, in name order; ``_private`` ones hold what
    several share and are left out."""
    for info in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__)):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package}.{info.name}")
