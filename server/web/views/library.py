"""The process library (property managers): every version of a process with its cases,
download, retire, roll back; and uploading a package from the browser, its problems listed
by file, line and element (the same path as ``POST /api/processes/``)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import engine
from engine.registry import KEY_PATTERN
from server.flows import access
from server.flows.definitions import selectors as definitions
from server.flows.definitions import services
from server.flows.errors import Forbidden, Invalid, NotFound, ServiceError
from server.i18n import current_language

from .common import not_found

MAX_UPLOAD_FILES = 200


def _manager(request):
    try:
        access.check_can_manage_processes(request.user)
    except Forbidden as err:
        raise PermissionDenied(err.message) from err


@login_required
def library_process(request, key: str):
    _manager(request)
    try:
        versions = definitions.version_list(key=key)
    except NotFound as err:
        not_found(err)
    return render(request, "web/studio_process.html", {
        "key": key, "name": versions[0].name(current_language()), "versions": versions,
        "newest": versions[0].version, "retired": definitions.is_retired(key),
    })  # fmt: skip


@login_required
@require_POST
def library_retire(request, key: str):
    _manager(request)
    try:
        services.process_retire(key=key, user=request.user,
                                reason=request.POST.get("reason", "")[:2000])  # fmt: skip
    except NotFound as err:
        not_found(err)
    messages.success(request, _("Retired: no new cases; running ones finish."))
    return redirect("web:studio_process", key=key)


@login_required
@require_POST
def library_redeploy(request, key: str, version: int):
    _manager(request)
    try:
        definition = services.process_rollback(
            key=key, version=version, user=request.user, note=request.POST.get("note", "")[:2000]
        )
    except NotFound as err:
        not_found(err)
    except ServiceError as err:
        messages.error(request, err.message)
        return redirect("web:studio_process", key=key)
    messages.success(request, _("Version %(old)d deployed again as version %(new)d.")
                     % {"old": version, "new": definition.version})  # fmt: skip
    return redirect("web:studio_process", key=key)


def _keep_as_draft(request, source) -> str | None:
    """A refused package kept as the process's draft, so the editor opens it with each
    problem marked on the diagram; None when it has no usable key or is not text."""
    if not KEY_PATTERN.match(source.key) or not source.bpmn:
        return None
    files = {name: data.decode("utf-8", "replace")
             for name, data in engine.package_files(source).items()}  # fmt: skip
    mapping = {"roles": source.lanes} if source.lanes else {}
    services.draft_save(key=source.key, user=request.user, files=files, mapping=mapping,
                        note=_("A refused upload, kept to fix in the editor."))  # fmt: skip
    return source.key


@login_required
@require_POST
def library_upload(request):
    """A package from the browser: files (or a zip), the mapping as JSON, a note."""
    _manager(request)
    uploads = request.FILES.getlist("files")
    context = {"mapping": request.POST.get("mapping", ""), "note": request.POST.get("note", "")}
    problems: list[dict] = []
    warnings: list[dict] = []
    if not uploads or len(uploads) > MAX_UPLOAD_FILES:
        problems = [{"message": _("Choose the package's files (.bpmn, .dmn, .json, "
                                  "process.toml) or one .zip.")}]  # fmt: skip
    mapping = None
    if not problems and context["mapping"].strip():
        try:
            mapping = json.loads(context["mapping"])
            if not isinstance(mapping, dict):
                raise ValueError(_("it is not a JSON object"))
        except ValueError as err:
            problems = [{"message": _("The mapping is not valid JSON: %(error)s")
                         % {"error": err}}]  # fmt: skip
    if not problems:
        files = {f.name: f.read() for f in uploads}
        source = engine.load_files(files, mapping)
        try:
            if request.POST.get("dry_run"):
                warnings = services.process_check(source=source).warnings
                messages.success(request, _("The package is valid; nothing was deployed."))
            else:
                definition, created = services.process_deploy(
                    source=source, deployed_by=request.user, note=context["note"][:2000],
                    origin="studio",
                )  # fmt: skip
                if created:
                    messages.success(request, _("Deployed as version %(n)d.")
                                     % {"n": definition.version})  # fmt: skip
                else:
                    messages.info(request, _("Unchanged: version %(n)d already holds it.")
                                  % {"n": definition.version})  # fmt: skip
                return redirect("web:studio_process", key=definition.key)
        except Invalid as err:
            problems = err.errors.get("errors") or [{"message": err.message}]
            warnings = err.errors.get("warnings", [])
            context["draft_key"] = _keep_as_draft(request, source)
    status = 400 if problems else 200
    return render(
        request,
        "web/studio_upload.html",
        {**context, "problems": problems, "warnings": warnings},
        status=status,
    )
