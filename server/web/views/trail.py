"""The auditor's pages: one case's trail, printable (issue 15, item 3)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from engine import clock
from server.audit import trail
from server.flows import access, presenters
from server.flows.cases import selectors, services
from server.flows.definitions.cache import source_for
from server.flows.errors import Forbidden, NotFound
from server.i18n import current_language

from .common import not_found


@login_required
def audit_case(request, instance_id: str):
    try:
        instance = trail.case_for_auditor(user=request.user, instance_id=instance_id)
    except Forbidden as err:
        raise PermissionDenied(err.message) from err
    except NotFound as err:
        not_found(err)
    lang = current_language()
    found = trail.trail(instance, language=lang, contacts=True)
    if found["holds_personal"] and access.personal_reads_recorded(request.user):
        services.record_personal_read(user=request.user, instance=instance, what="trail")
    passed = list(dict.fromkeys(p["bpmn_id"] for p in found["path"]))
    open_tasks = selectors.instance_open_tasks(instance=instance)
    return render(request, "web/audit_case.html", {
        **found, "instance": instance, "process": source_for(instance.definition_id).name(lang),
        "diagram": presenters.diagram(source_for(instance.definition_id), open_tasks, passed,
                                      lang),
        "printed_at": clock.now(),
    })  # fmt: skip
