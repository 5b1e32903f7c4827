"""Reading deployed process definitions."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from engine import casecard

from ..errors import NotFound
from ..models import ProcessDefinition, ProcessDraft, ProcessInstance, ProcessRetirement


def retired_keys() -> set[str]:
    return set(ProcessRetirement.objects.values_list("key", flat=True))


def process_list(*, include_retired: bool = False) -> list[ProcessDefinition]:
    """The newest version of every deployed process, by key; retired ones only if asked
    (each then carries ``retired``)."""
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    retired = retired_keys()
    for definition in latest.values():
        definition.retired = definition.key in retired
    return [d for d in latest.values() if include_retired or not d.retired]


def is_retired(key: str) -> bool:
    return ProcessRetirement.objects.filter(key=key).exists()


def version_list(*, key: str) -> list[ProcessDefinition]:
    """Every version of ``key``, newest first, each with its ``running`` and ``finished``
    case counts (one query for the counts)."""
    versions = list(
        ProcessDefinition.objects.filter(key=key).select_related("deployed_by")
        .order_by("-version")
    )  # fmt: skip
    if not versions:
        raise NotFound(_("There is no deployed process %(key)s.") % {"key": repr(key)})
    counts = {
        row["definition"]: row
        for row in ProcessInstance.objects.filter(process_key=key).values("definition").annotate(
            running=Count("pk", filter=Q(status="running")),
            finished=Count("pk", filter=~Q(status="running")),
        )
    }  # fmt: skip
    for definition in versions:
        row = counts.get(definition.pk, {})
        definition.running, definition.finished = row.get("running", 0), row.get("finished", 0)
    return versions


def version_get(*, key: str, version: int) -> ProcessDefinition:
    definition = ProcessDefinition.objects.filter(key=key, version=version).first()
    if definition is None:
        raise NotFound(
            _("Process %(key)r has no version %(version)d.") % {"key": key, "version": version}
        )
    return definition


def draft_get(*, key: str) -> ProcessDraft:
    draft = ProcessDraft.objects.filter(key=key).select_related("updated_by").first()
    if draft is None:
        raise NotFound(_("Process %(key)r has no draft.") % {"key": key})
    return draft


def latest_definition(key: str) -> ProcessDefinition:
    """The newest version of the process ``key``."""
    definition = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if definition is None:
        raise NotFound(_("There is no deployed process %(key)s.") % {"key": repr(key)})
    return definition


def process_get(*, key: str) -> ProcessDefinition:
    return latest_definition(key)


@dataclass(frozen=True)
class Catalogue:
    """What the inbox needs of every deployed process, from its newest version: its names
    by language, and the stage (milestone key) of each of its tasks, with the stages'
    tab names in order (engine/casecard.py)."""

    names: dict[str, dict[str, str]]
    stages: dict[str, dict[str, str]]  # process key -> task id -> stage key
    tabs: dict[str, dict[str, str]]  # stage key -> its tab's name by language, in order


_kept: tuple[tuple, Catalogue] | None = None


def process_catalogue() -> Catalogue:
    """Kept for the set of newest versions (their ids and content hashes, read by one query
    without the manifests); manifests are read again only after a deploy, in any process."""
    global _kept
    newest: dict[str, tuple[int, str]] = {}
    for key, pk, content_hash in ProcessDefinition.objects.order_by("key", "-version").values_list(
        "key", "pk", "content_hash"
    ):
        newest.setdefault(key, (pk, content_hash))
    stamp = tuple(newest.items())
    kept = _kept
    if kept is not None and kept[0] == stamp:
        return kept[1]
    ids = [pk for pk, _hash in newest.values()]
    manifests = dict(ProcessDefinition.objects.filter(pk__in=ids).values_list("key", "manifest"))
    catalogue = Catalogue({}, {}, {})
    for key in newest:
        catalogue.names[key] = manifests[key].get("names") or {}
        listed = SimpleNamespace(milestones=manifests[key].get("milestones") or [])
        for milestone in casecard.milestones(listed):
            if milestone.waiting:
                catalogue.tabs.setdefault(milestone.key, milestone.waiting)
                for task in (*milestone.tasks, *milestone.also):
                    catalogue.stages.setdefault(key, {})[task] = milestone.key
    _kept = (stamp, catalogue)
    return catalogue


def process_names() -> dict[str, dict[str, str]]:
    """Each deployed process's names by language (``{"repair": {"zh-hans": ..., "en": ...}}``),
    from its newest version."""
    return process_catalogue().names
