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


_names_kept: tuple[tuple, dict[str, dict[str, str]]] | None = None


def process_names() -> dict[str, dict[str, str]]:
    """Each deployed process's names by language (``{"repair": {"zh-hans": ..., "en": ...}}``),
    from its newest version.

    Kept for the set of newest versions (their ids and content hashes, read by one query
    without the manifests); manifests are read again only after a deploy, in any process.
    """
    global _names_kept
    newest: dict[str, tuple[int, str]] = {}
    for key, pk, content_hash in ProcessDefinition.objects.order_by("key", "-version").values_list(
        "key", "pk", "content_hash"
    ):
        newest.setdefault(key, (pk, content_hash))
    stamp = tuple(newest.items())
    kept = _names_kept
    if kept is not None and kept[0] == stamp:
        return kept[1]
    ids = [pk for pk, _hash in newest.values()]
    manifests = dict(ProcessDefinition.objects.filter(pk__in=ids).values_list("key", "manifest"))
    names = {key: manifests[key].get("names") or {} for key in newest}
    _names_kept = (stamp, names)
    return names
