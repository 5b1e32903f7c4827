"""Deploying a process version: validated, immutable, unchanged content a no-op."""

from __future__ import annotations

from django.db import IntegrityError, transaction

import engine
from engine import ProcessSource

from ..errors import Conflict, Invalid
from ..models import ProcessDefinition
from .cache import get_engine


def process_deploy(*, source: ProcessSource, deployed_by=None) -> tuple[ProcessDefinition, bool]:
    """Validate and store ``source``; unchanged content is a no-op. Returns (definition, new)."""
    try:
        engine.validate(source, get_engine())
    except engine.ProcessInvalid as err:
        raise Invalid(str(err), {"problems": err.problems}) from err
    content_hash = source.content_hash
    with transaction.atomic():
        latest = (
            ProcessDefinition.objects.select_for_update().filter(key=source.key)
            .order_by("-version").first()
        )  # fmt: skip
        if latest is not None and latest.content_hash == content_hash:
            return latest, False
        try:
            definition = ProcessDefinition.objects.create(
                key=source.key, version=(latest.version + 1) if latest else 1,
                content_hash=content_hash, process_id=source.process_id,
                manifest=source.manifest(), bpmn=source.bpmn, forms=source.forms,
                deployed_by=deployed_by,
            )  # fmt: skip
        except IntegrityError as err:
            raise Conflict(
                f"Process {source.key!r} was deployed by someone else just now."
            ) from err
    return definition, True
