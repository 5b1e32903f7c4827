"""``/api/audit/cases/{id}/``: one case's trail for auditors (issue 15, item 3), and its
whole record as a file (item 4): JSON, CSV (the events) or a workbook (a sheet per section).

Auditors and superusers only: anyone else gets 403 in their language; a case that does not
exist 404. What is answered is :func:`server.audit.trail.trail`, which the page draws too.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from server.audit import record, trail
from server.flows import access
from server.flows.cases import services
from server.i18n import current_language

from .base import CASE_ID, Api, valid
from .errors import answers
from .fields import (
    INSTANCE_STATUSES,
    ROLES,
    TASK_STATUSES,
    NamesSerializer,
    QueryChoiceField,
    TimeField,
)


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(help_text="Full name, else the username.")

    class Meta:
        ref_name = "AuditPerson"


class SlaSerializer(serializers.Serializer):
    steps = serializers.IntegerField(help_text="Human tasks the case had.")
    with_limit = serializers.IntegerField(help_text="Of those, with a time limit.")
    met = serializers.IntegerField()
    missed = serializers.IntegerField(help_text="Finished late, or open past their limit.")
    late = serializers.BooleanField(help_text="Late on any step.")
    text = serializers.CharField(help_text="In the reader's language.")

    class Meta:
        ref_name = "TrailSla"


class TrailCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    process = serializers.CharField()
    process_name = NamesSerializer()
    version = serializers.IntegerField()
    unit = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(INSTANCE_STATUSES)
    status_label = serializers.CharField()
    started_at = TimeField()
    started_by = PersonSerializer(allow_null=True)
    completed_at = TimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    sla = SlaSerializer()

    class Meta:
        ref_name = "TrailCase"


class LimitSerializer(serializers.Serializer):
    timer = serializers.CharField(allow_blank=True, help_text="The boundary timer's BPMN id.")
    name = serializers.CharField(allow_blank=True, help_text="In Chinese.")
    name_en = serializers.CharField(allow_blank=True)
    label = serializers.CharField(help_text="In the reader's language.")
    key = serializers.CharField(
        allow_blank=True, help_text="The named time limit it counts (engine/limits.py), if known."
    )
    unit = serializers.CharField(allow_blank=True, help_text="minutes, days, working_days...")

    class Meta:
        ref_name = "AuditLimit"


OUTCOMES = ["met", "missed", "open", "overdue", "none"]


class StepSerializer(serializers.Serializer):
    task = serializers.UUIDField()
    bpmn_id = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    label = serializers.CharField(help_text="The task's name in the reader's language.")
    role = serializers.ChoiceField(ROLES, allow_blank=True)
    role_label = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(TASK_STATUSES)
    who = PersonSerializer(allow_null=True, help_text="Who did it (else who holds it).")
    started_at = TimeField()
    finished_at = TimeField(allow_null=True)
    due_at = TimeField(allow_null=True)
    spent_minutes = serializers.IntegerField(help_text="Until finished, or until now.")
    spent_text = serializers.CharField()
    limit = LimitSerializer(allow_null=True)
    outcome = serializers.ChoiceField(
        OUTCOMES, help_text="met / missed (finished), open / overdue (still open), none."
    )
    by_minutes = serializers.IntegerField(help_text="How far from the limit, either way.")
    by_text = serializers.CharField(allow_blank=True, help_text="As the limit is counted.")
    outcome_text = serializers.CharField()

    class Meta:
        ref_name = "AuditStep"


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.JSONField(allow_null=True, help_text="Null: no value before.")
    after = serializers.JSONField(allow_null=True)
    changed = serializers.BooleanField()
    before_text = serializers.CharField(help_text="As a person reads it.")
    after_text = serializers.CharField()

    class Meta:
        ref_name = "AuditChange"


class TrailEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField(help_text="What happened, in the reader's language.")
    detail = serializers.CharField(allow_blank=True)
    at = TimeField()
    actor = PersonSerializer(allow_null=True)
    task = serializers.UUIDField(allow_null=True)
    task_name = serializers.CharField(allow_blank=True)
    data = serializers.DictField(help_text="What was recorded, form data under `data`.")
    changes = ChangeSerializer(many=True, help_text="What it changed: before and after.")

    class Meta:
        ref_name = "TrailEvent"


class EscalationSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    level = serializers.IntegerField(allow_null=True, help_text="2 or 3; null for a notice.")
    role = serializers.CharField()
    role_label = serializers.CharField()
    at = TimeField()
    name = serializers.CharField(allow_blank=True)
    name_en = serializers.CharField(allow_blank=True)
    notified = PersonSerializer(many=True)

    class Meta:
        ref_name = "AuditEscalation"


class DeliverySerializer(serializers.Serializer):
    channel = serializers.CharField()
    channel_label = serializers.CharField(help_text="In the reader's language.")
    sent_at = TimeField(allow_null=True)
    attempts = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "AuditDelivery"


class TrailNotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    recipient = PersonSerializer()
    kind = serializers.CharField(help_text="escalation or notice.")
    kind_label = serializers.CharField()
    level = serializers.IntegerField(allow_null=True)
    task = serializers.UUIDField(allow_null=True)
    created_at = TimeField()
    read_at = TimeField(allow_null=True)
    deliveries = DeliverySerializer(many=True)

    class Meta:
        ref_name = "AuditNotification"


class PathSerializer(serializers.Serializer):
    bpmn_id = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    label = serializers.CharField(help_text="In the reader's language.")
    kind = serializers.CharField(help_text="The element's type: UserTask, ExclusiveGateway...")

    class Meta:
        ref_name = "AuditPathStep"


class TrailSerializer(serializers.Serializer):
    """One case as an auditor reads it."""

    case = TrailCaseSerializer()
    steps = StepSerializer(many=True, help_text="Each human task against its time limit.")
    events = TrailEventSerializer(many=True)
    escalations = EscalationSerializer(many=True)
    notifications = TrailNotificationSerializer(many=True)
    path = PathSerializer(many=True, help_text="The diagram's elements, in the order passed.")

    class Meta:
        ref_name = "AuditTrail"


def _read(request, instance_id: str, what: str = "trail") -> dict:
    instance = trail.case_for_auditor(user=request.user, instance_id=instance_id)
    found = trail.trail(instance, language=current_language(), contacts=True)
    if found["holds_personal"] and access.personal_reads_recorded(request.user):
        services.record_personal_read(user=request.user, instance=instance, what=what)
    return TrailSerializer(found).data


class CaseTrailApi(Api):
    @extend_schema(
        operation_id="audit_cases_trail",
        summary="A case's trail for auditors: steps against limits, events, notices, path",
        tags=["audit"],
        parameters=[CASE_ID],
        responses=answers(TrailSerializer, 403, 404),
    )
    def get(self, request, instance_id: str):
        return Response(_read(request, instance_id))


_FILE = OpenApiResponse(OpenApiTypes.BINARY, "The record as a file (Content-Disposition).")


class CaseRecordApi(Api):
    class FilterSerializer(serializers.Serializer):
        format = QueryChoiceField(
            record.FORMATS, required=False, default="json",
            help_text="json (the trail), csv (its events) or xlsx (a sheet per section).",
        )  # fmt: skip

    def perform_content_negotiation(self, request, force=False):
        # The file's type is the query's choice; errors still answer JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="audit_cases_record",
        summary="A case's whole record as a file: JSON, CSV (events) or a workbook",
        tags=["audit"],
        parameters=[CASE_ID, FilterSerializer],
        responses={
            (200, "application/json"): TrailSerializer,
            (200, "text/csv"): _FILE,
            (200, record.XLSX): _FILE,
            **{code: answer for code, answer in answers(None, 403, 404).items() if code != 200},
        },
    )
    def get(self, request, instance_id: str):
        query = valid(self.FilterSerializer, request.query_params)
        found = _read(request, instance_id, "export")
        fmt = query.get("format") or "json"
        content, media_type = record.render(found, fmt)
        response = HttpResponse(content, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="case-{found["case"]["id"]}.{fmt}"'
        return response
