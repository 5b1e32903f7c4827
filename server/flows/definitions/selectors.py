"""Reading deployed process definitions."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..errors import NotFound
from ..models import ProcessDefinition


def process_list() -> list[ProcessDefinition]:
    """The newest version of every deployed process, by key."""
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    return list(latest.values())


def latest_definition(key: str) -> ProcessDefinition:
    """The newest version of the process ``key``."""
    definition = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if definition is None:
        raise NotFound(_("There is no deployed process %(key)s.") % {"key": repr(key)})
    return definition


def process_get(*, key: str) -> ProcessDefinition:
    return latest_definition(key)


def process_names() -> dict[str, dict[str, str]]:
    """Each deployed process's names by language (``{"repair": {"zh-hans": ..., "en": ...}}``),
    from its newest version, in one query."""
    names: dict[str, dict[str, str]] = {}
    for key, manifest in ProcessDefinition.objects.order_by("key", "-version").values_list(
        "key", "manifest"
    ):
        names.setdefault(key, manifest.get("names") or {})
    return names
