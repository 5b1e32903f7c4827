"""The managers' process studio over HTTP: upload a package, its versions, download one,
retire a process, roll back, and the editor's draft.

``POST /api/processes/`` takes multipart/form-data: ``files`` (repeatable: ``.bpmn``,
``.dmn``, form ``.json``, ``process.toml``, or one ``.zip`` of them), an optional
``mapping`` (JSON: key, name, start_roles, roles, default_role, forms, operations), a
``note`` and ``dry_run``. A refused package answers 400 with every problem by file, line
and element, and nothing is stored.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

import engine
from server.flows import access
from server.flows.definitions import selectors as definitions
from server.flows.definitions import services
from server.flows.errors import Forbidden, Invalid

from .base import Api, JsonParser, body, valid
from .errors import ERRORS, ErrorSerializer, answers
from .fields import TimeField, UserRefSerializer

MAPPING_KEYS = {
    "key": str, "name": (dict, str), "start_roles": list, "roles": dict, "lanes": dict,
    "default_role": str, "forms": dict, "operations": dict, "process_id": str,
    "business_key": str, "en": dict, "start_form": str, "bpmn": str,
}  # fmt: skip


def _check_reader(user) -> None:
    if not (access.can_manage_processes(user) or access.is_supervisor(user)
            or access.is_auditor(user)):  # fmt: skip
        raise Forbidden(_("Only managers, supervisors and auditors may read process packages."))


def _mapping(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise Invalid(_("The mapping is not valid JSON: %(error)s") % {"error": err}) from None
    if not isinstance(value, dict):
        raise Invalid(_("The mapping must be a JSON object."))
    wrong = []
    for name, item in value.items():
        kind = MAPPING_KEYS.get(name)
        if kind is None:
            wrong.append(_("unknown key %(key)r") % {"key": name})
        elif item is not None and not isinstance(item, kind):
            wrong.append(_("%(key)r has the wrong type") % {"key": name})
        elif isinstance(item, dict) and not all(isinstance(v, str | dict) for v in item.values()):
            wrong.append(_("%(key)r must map names to text") % {"key": name})
        elif isinstance(item, list) and not all(isinstance(v, str) for v in item):
            wrong.append(_("%(key)r must be a list of text") % {"key": name})
    if wrong:
        raise Invalid(_("The mapping has errors."), {"mapping": wrong})
    return value


class FindingSerializer(serializers.Serializer):
    file = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    element = serializers.CharField(allow_null=True, help_text="The BPMN id, when one.")
    message = serializers.CharField()

    class Meta:
        ref_name = "Finding"


class RefusalSerializer(serializers.Serializer):
    """A refused package: every problem found, and the warnings; nothing was stored."""

    detail = serializers.CharField()
    errors = FindingSerializer(many=True)
    warnings = FindingSerializer(many=True)

    class Meta:
        ref_name = "PackageRefused"


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        help_text="Repeatable: .bpmn, .dmn, .json, process.toml, .zip",
    )
    mapping = serializers.CharField(
        required=False, allow_blank=True, help_text="JSON: key, name, start_roles, roles, ..."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    dry_run = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "PackageUpload"


class DeployedSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="Null for a dry run.")
    created = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    warnings = FindingSerializer(many=True)

    class Meta:
        ref_name = "Deployed"


def as_refusal(response) -> None:
    """An upload's 400 always has the refusal's shape: a malformed request's field errors
    become findings with no file, so a client reads one shape."""
    data = response.data if response.status_code == 400 else None
    if not isinstance(data, dict) or isinstance(data.get("errors"), list):
        return
    errors = data.get("errors") or {}
    findings = [{"file": None, "line": None, "element": None, "message": f"{name}: {message}"}
                for name, messages in errors.items() for message in messages]  # fmt: skip
    if not findings:
        findings = [{"file": None, "line": None, "element": None,
                     "message": str(data.get("detail", ""))}]  # fmt: skip
    response.data = {"detail": data.get("detail", ""), "errors": findings, "warnings": []}


def _refused(err: Invalid) -> Response:
    errors = err.errors.get("errors")
    if errors is None:  # a malformed request, not a package's problems
        raise err
    return Response({"detail": err.message, "errors": errors,
                     "warnings": err.errors.get("warnings", [])},
                    status=status.HTTP_400_BAD_REQUEST)  # fmt: skip


def deploy_files(request, files: dict[str, bytes], mapping, note: str, dry_run: bool):
    """Read, check and (unless a dry run) deploy the package; the answer either way."""
    access.check_can_manage_processes(request.user)
    source = engine.load_files(files, mapping)
    try:
        if dry_run:
            checked = services.process_check(source=source)
            answer = {"key": source.key, "version": None, "created": False, "dry_run": True,
                      "warnings": checked.warnings}  # fmt: skip
            return Response(answer)
        definition, created = services.process_deploy(
            source=source, deployed_by=request.user, note=note, origin="studio"
        )
    except Invalid as err:
        return _refused(err)
    answer = {"key": definition.key, "version": definition.version, "created": created,
              "dry_run": False, "warnings": definition.warnings}  # fmt: skip
    return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


UPLOAD_RESPONSES = {
    201: DeployedSerializer,
    200: OpenApiResponse(DeployedSerializer, "Unchanged content (created: false), or a dry run."),
    400: OpenApiResponse(RefusalSerializer, "The package is refused: every problem, by file, "
                                            "line and element; nothing was stored."),
    **{code: OpenApiResponse(ErrorSerializer, ERRORS[code]) for code in (401, 403, 415)},
}  # fmt: skip


def upload(view, request):
    form = valid(UploadSerializer, request.data)
    files = {}
    for upload_file in form["files"]:
        files[upload_file.name] = upload_file.read()
    return deploy_files(request, files, _mapping(form.get("mapping")), form.get("note", ""),
                        form["dry_run"])  # fmt: skip


# -- versions ---------------------------------------------------------------------------------

KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The process key.")
VERSION = OpenApiParameter("version", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                           OpenApiParameter.PATH, description="The version number.")  # fmt: skip


class VersionSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    content_hash = serializers.CharField()
    deployed_at = TimeField()
    deployed_by = UserRefSerializer(allow_null=True)
    note = serializers.CharField()
    origin = serializers.ChoiceField(["disk", "studio"])
    running = serializers.IntegerField(help_text="Running cases on this version.")
    finished = serializers.IntegerField(help_text="Completed or cancelled cases.")

    class Meta:
        ref_name = "ProcessVersion"


class VersionListSerializer(serializers.Serializer):
    key = serializers.CharField()
    retired = serializers.BooleanField()
    results = VersionSerializer(many=True)

    class Meta:
        ref_name = "ProcessVersions"


def package_text(source) -> dict[str, str]:
    return {name: data.decode() for name, data in engine.package_files(source).items()}


class VersionDetailSerializer(VersionSerializer):
    files = serializers.DictField(
        child=serializers.CharField(),
        source="package_files",
        help_text="File name → text: the package as it downloads.",
    )
    warnings = FindingSerializer(many=True)
    mapping = serializers.SerializerMethodField(
        help_text="The mapping an upload of these files takes (as POST /api/processes/ reads it)."
    )

    class Meta:
        ref_name = "ProcessVersionDetail"

    def get_mapping(self, definition) -> dict:
        source = definition.source
        mapping = {"key": source.key, "name": source.names, "start_roles": source.start_roles,
                   "roles": source.lanes, "default_role": source.default_role,
                   "forms": source.form_keys, "operations": source.operations}  # fmt: skip
        return {k: v for k, v in mapping.items() if v not in (None, {}, [])}


class VersionListApi(Api):
    @extend_schema(
        operation_id="processes_versions_list",
        tags=["studio"],
        summary="Every version of a process, with its cases",
        parameters=[KEY],
        responses=answers(VersionListSerializer, 403, 404),
    )
    def get(self, request, key: str):
        _check_reader(request.user)
        versions = definitions.version_list(key=key)
        return Response(VersionListSerializer({
            "key": key, "retired": definitions.is_retired(key), "results": versions,
        }).data)  # fmt: skip


def _version(key: str, version: int):
    definition = definitions.version_get(key=key, version=version)
    definition.running = definition.finished = 0
    return definition


class VersionDetailApi(Api):
    @extend_schema(
        operation_id="processes_versions_retrieve",
        tags=["studio"],
        summary="A version with its package's files as text",
        parameters=[KEY, VERSION],
        responses=answers(VersionDetailSerializer, 403, 404),
    )
    def get(self, request, key: str, version: int):
        _check_reader(request.user)
        definition = definitions.version_list(key=key)  # counts; 404 for an unknown key
        found = next((d for d in definition if d.version == version), None) or _version(
            key, version
        )
        found.package_files = package_text(found.source)
        return Response(VersionDetailSerializer(found).data)


class VersionPackageApi(Api):
    @extend_schema(operation_id="processes_versions_package", tags=["studio"],
                   summary="A version's package, as a zip", parameters=[KEY, VERSION],
                   responses={(200, "application/zip"): OpenApiTypes.BINARY,
                              **{c: OpenApiResponse(ErrorSerializer, ERRORS[c])
                                 for c in (400, 401, 403, 404)}})  # fmt: skip
    def get(self, request, key: str, version: int):
        _check_reader(request.user)
        definition = _version(key, version)
        response = HttpResponse(engine.package_zip(definition.source),
                                content_type="application/zip")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="{key}-v{version}.zip"'
        return response


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class Meta:
        ref_name = "StudioNote"


class RedeployApi(Api):
    @extend_schema(
        operation_id="processes_versions_redeploy",
        tags=["studio"],
        summary="Deploy this version again as the newest (a rollback)",
        parameters=[KEY, VERSION],
        request=NoteSerializer,
        responses=answers(DeployedSerializer, 403, 404, 409, created=True),
    )
    def post(self, request, key: str, version: int):
        note = body(request, NoteSerializer).get("note", "")
        definition = services.process_rollback(key=key, version=version, user=request.user,
                                               note=note)  # fmt: skip
        return Response({"key": key, "version": definition.version, "created": True,
                         "dry_run": False, "warnings": definition.warnings},
                        status=status.HTTP_201_CREATED)  # fmt: skip


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class Meta:
        ref_name = "Retire"


class RetiredSerializer(serializers.Serializer):
    key = serializers.CharField()
    retired_at = TimeField()

    class Meta:
        ref_name = "Retired"


class RetireApi(Api):
    @extend_schema(
        operation_id="processes_retire",
        tags=["studio"],
        summary="Retire a process: no new cases; running ones finish",
        parameters=[KEY],
        request=RetireSerializer,
        responses=answers(RetiredSerializer, 403, 404),
    )
    def post(self, request, key: str):
        reason = body(request, RetireSerializer).get("reason", "")
        retirement = services.process_retire(key=key, user=request.user, reason=reason)
        return Response(RetiredSerializer(retirement).data)


class RehearseSerializer(serializers.Serializer):
    script = serializers.DictField(help_text="Start data, steps (complete, advance, expect).")
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="Default: the newest."
    )
    draft = serializers.BooleanField(
        required=False, default=False, help_text="Rehearse the saved draft instead."
    )

    class Meta:
        ref_name = "RehearseInput"


class RehearsalSerializer(serializers.Serializer):
    """What happened on the virtual clock: ``timeline`` (tasks with roles and due times,
    timers fired, escalations, notices, service calls not applied) and ``outcomes``."""

    status = serializers.CharField()
    escalation = serializers.IntegerField()
    passed = serializers.BooleanField()
    timeline = serializers.ListField(child=serializers.DictField())
    expectations = serializers.ListField(child=serializers.DictField())

    class Meta:
        ref_name = "Rehearsal"


class RehearseApi(Api):
    @extend_schema(
        operation_id="processes_rehearse",
        tags=["studio"],
        summary="Rehearse a version or the draft on a virtual clock (nothing stored)",
        parameters=[KEY],
        request=RehearseSerializer,
        responses=answers(RehearsalSerializer, 403, 404),
    )
    def post(self, request, key: str):
        data = body(request, RehearseSerializer)
        played = services.rehearse(
            key=key,
            user=request.user,
            script=data["script"],
            version=data.get("version"),
            draft=data["draft"],
        )
        return Response(played.as_dict(gettext))  # the expectations in the reader's language


# -- the editor's draft -----------------------------------------------------------------------


class DraftInputSerializer(serializers.Serializer):
    files = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=5_000_000, trim_whitespace=False)
    )
    mapping = serializers.DictField(required=False, default=dict)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class Meta:
        ref_name = "DraftInput"

    def validate_files(self, files: dict) -> dict:
        from engine.registry import MAX_FILES, MAX_PACKAGE_BYTES

        if len(files) > MAX_FILES or sum(len(t) for t in files.values()) > MAX_PACKAGE_BYTES:
            raise serializers.ValidationError(
                _("A package holds at most %(files)d files and %(mb)d MB.")
                % {"files": MAX_FILES, "mb": MAX_PACKAGE_BYTES // 1_000_000}
            )
        return files


class DraftSerializer(serializers.Serializer):
    key = serializers.CharField()
    files = serializers.DictField(child=serializers.CharField())
    mapping = serializers.DictField()
    note = serializers.CharField()
    updated_at = TimeField()
    updated_by = UserRefSerializer(allow_null=True)

    class Meta:
        ref_name = "Draft"


class DraftApi(Api):
    parser_classes = [JsonParser]

    @extend_schema(
        operation_id="processes_draft_retrieve",
        tags=["studio"],
        summary="The manager's draft of a process",
        parameters=[KEY],
        responses=answers(DraftSerializer, 403, 404),
    )
    def get(self, request, key: str):
        access.check_can_manage_processes(request.user)
        return Response(DraftSerializer(definitions.draft_get(key=key)).data)

    @extend_schema(
        operation_id="processes_draft_update",
        tags=["studio"],
        summary="Save the draft (the package's files as text)",
        parameters=[KEY],
        request=DraftInputSerializer,
        responses=answers(DraftSerializer, 403, 404),
    )
    def put(self, request, key: str):
        access.check_can_manage_processes(request.user)
        data = body(request, DraftInputSerializer)
        _mapping(json.dumps(data.get("mapping") or {}))
        draft = services.draft_save(
            key=key,
            user=request.user,
            files=data["files"],
            mapping=data.get("mapping") or {},
            note=data.get("note", ""),
        )
        return Response(DraftSerializer(draft).data)

    @extend_schema(operation_id="processes_draft_destroy", tags=["studio"],
                   summary="Throw the draft away", parameters=[KEY],
                   responses={204: None, **{c: OpenApiResponse(ErrorSerializer, ERRORS[c])
                                            for c in (400, 401, 403, 404)}})  # fmt: skip
    def delete(self, request, key: str):
        services.draft_delete(key=key, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
