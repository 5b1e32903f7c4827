"""Deploying a process version (validated, immutable, unchanged content a no-op), retiring
a process, rolling back to an earlier version, and the managers' drafts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext as _

import engine
from engine import ProcessSource
from engine.registry import KEY_PATTERN

from .. import access
from ..errors import Conflict, Invalid, NotFound
from ..models import ProcessDefinition, ProcessDraft, ProcessRetirement
from .cache import get_engine

REMOVED_FROM_DISK = "removed from processes/"


@dataclass(frozen=True)
class Checked:
    """A package that may be deployed, and what importing it assumed or ignored."""

    source: ProcessSource
    warnings: list[dict]


def process_check(*, source: ProcessSource) -> Checked:
    """Validate ``source``: Invalid lists every problem (file, line, element), else the
    warnings. Nothing is stored."""
    found = engine.findings(source, get_engine())
    problems = [f for f in found if not f.warning]
    warnings = [f.as_dict(gettext) for f in found if f.warning]  # in the reader's language
    if problems:
        raise Invalid(
            _("The package has %(count)d problem(s); nothing was stored.")
            % {"count": len(problems)},
            {"problems": [str(f) for f in problems],
             "errors": [f.as_dict(gettext) for f in problems], "warnings": warnings},
        )  # fmt: skip
    return Checked(source, warnings)


def process_deploy(
    *, source: ProcessSource, deployed_by=None, note: str = "", origin: str = "disk",
    reinstate: bool = True,
) -> tuple[ProcessDefinition, bool]:  # fmt: skip
    """Validate and store ``source``; unchanged content is a no-op. Returns (definition, new).

    A person deploying must manage processes (the command line deploys as nobody). A new
    version takes a retired process back into service; unchanged content does not, unless
    it was retired only because its folder had gone (``reinstate``)."""
    if deployed_by is not None:
        access.check_can_manage_processes(deployed_by)
    checked = process_check(source=source)
    content_hash = source.content_hash
    with transaction.atomic():
        latest = (
            ProcessDefinition.objects.select_for_update().filter(key=source.key)
            .order_by("-version").first()
        )  # fmt: skip
        if latest is not None and latest.content_hash == content_hash:
            if reinstate:
                ProcessRetirement.objects.filter(key=source.key, reason=REMOVED_FROM_DISK).delete()
            return latest, False
        try:
            definition = ProcessDefinition.objects.create(
                key=source.key, version=(latest.version + 1) if latest else 1,
                content_hash=content_hash, process_id=source.process_id,
                manifest=source.manifest(), bpmn=source.bpmn, forms=source.forms,
                files=source.files, deployed_by=deployed_by, note=note[:2000], origin=origin,
                warnings=checked.warnings,
            )  # fmt: skip
        except IntegrityError as err:
            raise Conflict(
                _("Process %(key)r was deployed by someone else just now.") % {"key": source.key}
            ) from err
        ProcessRetirement.objects.filter(key=source.key).delete()
    return definition, True


def process_retire(*, key: str, user=None, reason: str = "") -> ProcessRetirement:
    """No new cases of ``key``; its running cases finish on their versions."""
    if user is not None:
        access.check_can_manage_processes(user)
    if not ProcessDefinition.objects.filter(key=key).exists():
        raise NotFound(_("There is no deployed process %(key)s.") % {"key": repr(key)})
    retirement, _created = ProcessRetirement.objects.get_or_create(
        key=key, defaults={"retired_by": user, "reason": reason[:2000]}
    )
    return retirement


def process_rollback(*, key: str, version: int, user, note: str = "") -> ProcessDefinition:
    """Deploy version ``version`` of ``key`` again, as its newest version."""
    access.check_can_manage_processes(user)
    old = ProcessDefinition.objects.filter(key=key, version=version).first()
    if old is None:
        raise NotFound(
            _("Process %(key)r has no version %(version)d.") % {"key": key, "version": version}
        )
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if latest.content_hash == old.content_hash:
        raise Conflict(
            _("Version %(version)d is already what %(key)r runs.")
            % {"version": version, "key": key}
        )
    note = note or _("Rolled back to version %(version)d.") % {"version": version}
    definition, _created = process_deploy(
        source=old.source, deployed_by=user, note=note, origin=latest.origin
    )
    return definition


def processes_retire_removed(*, present: set[str]) -> list[str]:
    """Retire every process deployed from ``processes/`` whose folder is gone."""
    newest: dict[str, str] = {}
    for key, origin in ProcessDefinition.objects.order_by("key", "-version").values_list(
        "key", "origin"
    ):
        newest.setdefault(key, origin)
    retired = ProcessRetirement.objects.values_list("key", flat=True)
    gone = sorted(k for k, o in newest.items() if o == "disk" and k not in present)
    gone = [k for k in gone if k not in set(retired)]
    for key in gone:
        process_retire(key=key, reason=REMOVED_FROM_DISK)
    return gone


def draft_save(*, key: str, user, files: dict, mapping: dict, note: str = "") -> ProcessDraft:
    access.check_can_manage_processes(user)
    if not KEY_PATTERN.match(key):
        raise Invalid(_("A process key is lower-case letters, digits and _, starting with a "
                        "letter."), {"key": [_("Not a process key.")]})  # fmt: skip
    draft, _created = ProcessDraft.objects.update_or_create(
        key=key, defaults={"files": files, "mapping": mapping, "note": note[:2000],
                           "updated_by": user},
    )  # fmt: skip
    return draft


def draft_delete(*, key: str, user) -> None:
    access.check_can_manage_processes(user)
    deleted, _kinds = ProcessDraft.objects.filter(key=key).delete()
    if not deleted:
        raise NotFound(_("Process %(key)r has no draft.") % {"key": key})


def rehearse(*, key: str, user, script, version: int | None = None, draft: bool = False):
    """Play ``script`` on a version of ``key`` (the newest by default) or on its draft, in
    memory on a virtual clock: no case, task, timer or notice is written."""
    from engine import rehearsal

    from .selectors import draft_get, latest_definition, version_get

    access.check_can_manage_processes(user)
    if draft:
        saved = draft_get(key=key)
        files = {name: text.encode() for name, text in saved.files.items()}
        source = engine.load_files(files, saved.mapping or None, default_key=key)
        process_check(source=dataclasses.replace(source, rehearsals={}))
    else:
        definition = (version_get(key=key, version=version) if version
                      else latest_definition(key))  # fmt: skip
        source = definition.source
    try:
        return rehearsal.run(get_engine(), source, script)
    except rehearsal.RehearsalInvalid as err:
        raise Invalid(_("The rehearsal cannot be played."), {"script": err.problems}) from err
