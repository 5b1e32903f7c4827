"""``/api/audit/``: search across every case for auditors, and their events as a page or a
file (CSV, JSON, xlsx) streamed in constant memory. Auditors and superusers only: 403 for
everyone else, in the reader's language.
"""

from __future__ import annotations

import re

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.response import Response

from engine import clock
from server.audit import export, search
from server.flows import access
from server.flows.cases import services as cases
from server.flows.definitions import selectors as definitions

from .base import Api, valid
from .errors import ERRORS, ErrorSerializer, answers
from .fields import (
    FlagField,
    NamesSerializer,
    QueryChoiceField,
    QueryTextField,
    TimeField,
    _AsSent,
)
from .pagination import PageQuery, page_of, paginate

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class QueryDateField(_AsSent, serializers.DateField):
    """A day in a query string: ``YYYY-MM-DD`` exactly."""

    default_error_messages = {"invalid": gettext_lazy("Must be a date as YYYY-MM-DD.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not (isinstance(value, str) and DAY.match(value)):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class SearchQuery(PageQuery):
    """The search's filters; every one left out asks nothing."""

    process = QueryTextField(help_text="Only this process (its key); an unknown key is a 400.")
    unit = QueryTextField(help_text="Only this unit (the case's business key).")
    owner = QueryTextField(help_text="Part of the name of the unit's current owner.")
    actor = QueryTextField(help_text="Only cases this user (username) acted in; on events, "
                           "only their events. An unknown user is a 400.")  # fmt: skip
    status = QueryChoiceField(
        search.STATUSES, required=False,
        help_text="The case's status, or `invalid`: complaints screened as not valid.",
    )  # fmt: skip
    escalated = QueryChoiceField(
        search.ESCALATED, required=False,
        help_text="`1`: escalated (level 2 or 3); `2` or `3`: that level exactly.",
    )  # fmt: skip
    late = FlagField(help_text="Only cases with a step done after its limit or open past it.")
    urgent = FlagField(help_text="Only urgent repairs (急修).")
    category = QueryTextField(
        help_text="A complaint's category or a repair's trade (the forms' values, e.g. "
        "`water_electric`); an unknown value is a 400."
    )

    def get_fields(self):
        found = super().get_fields()
        # Python keywords, so declared here rather than as attributes.
        found["from"] = QueryDateField(help_text="Started on or after this day (site time).")
        found["to"] = QueryDateField(help_text="Started on or before this day (site time).")
        return found


def _filters(query: dict) -> search.Filters:
    return search.Filters(
        process=query.get("process", "").strip(), unit=query.get("unit", "").strip(),
        owner=query.get("owner", "").strip(), actor=query.get("actor", "").strip(),
        status=query.get("status", ""), started_from=query.get("from"),
        started_to=query.get("to"), escalated=query.get("escalated", ""),
        late=query.get("late", False), urgent=query.get("urgent", False),
        category=query.get("category", "").strip(), kind=query.get("kind", "").strip(),
    )  # fmt: skip


class SlaSerializer(serializers.Serializer):
    limited = serializers.IntegerField(help_text="Steps with a time limit.")
    met = serializers.IntegerField(help_text="Of those, done within it.")
    missed = serializers.IntegerField(help_text="Done after it, or still open past it.")
    worst_late_minutes = serializers.IntegerField(
        allow_null=True, help_text="The largest lateness, in minutes; null when none was late."
    )

    class Meta:
        ref_name = "AuditSla"


class AuditCaseSerializer(serializers.Serializer):
    """A case found, with its SLA outcome."""

    # context: "names" (definitions.process_names()).

    id = serializers.IntegerField()
    process = serializers.CharField(source="process_key")
    process_name = serializers.SerializerMethodField()
    business_key = serializers.CharField()
    status = serializers.ChoiceField(search.STATUSES[:-1])
    invalid = serializers.BooleanField(help_text="A complaint screened as not valid.")
    started_at = TimeField()
    completed_at = TimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    sla = serializers.SerializerMethodField()

    class Meta:
        ref_name = "AuditCase"

    @extend_schema_field(NamesSerializer)
    def get_process_name(self, instance) -> dict:
        return dict(self.context["names"].get(instance.process_key, {}))

    @extend_schema_field(SlaSerializer)
    def get_sla(self, instance) -> dict:
        return {"limited": instance.limited, "met": instance.met, "missed": instance.missed,
                "worst_late_minutes": search.late_minutes(instance.worst_late)}  # fmt: skip


class AuditTaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    name_en = serializers.CharField()

    class Meta:
        ref_name = "AuditTask"


class AuditEventSerializer(serializers.Serializer):
    """One event of a case found (a row of :func:`server.audit.export.rows`)."""

    case = serializers.IntegerField()
    process = serializers.CharField()
    unit = serializers.CharField(help_text="The case's business key.")
    seq = serializers.IntegerField(help_text="1, 2, 3... within the case.")
    kind = serializers.CharField(help_text="What happened (`task_completed`, `escalated`...).")
    at = TimeField()
    actor = serializers.CharField(allow_null=True, help_text="Who acted (a username).")
    task = AuditTaskSerializer(allow_null=True)
    data = serializers.DictField(help_text="What it recorded, form data under `data`.")

    class Meta:
        ref_name = "AuditEvent"


class AuditCaseListApi(Api):
    FilterSerializer = SearchQuery
    OutputSerializer = page_of(AuditCaseSerializer, "AuditCase")

    @extend_schema(
        operation_id="audit_cases",
        summary="Search every case (auditors)",
        description="Cases matching every filter given, newest first, each with its SLA "
        "outcome. A process, category or actor that names nothing is a 400 naming it.",
        tags=["audit"],
        parameters=[SearchQuery],
        responses=answers(OutputSerializer, 403),
    )
    def get(self, request):
        search.check_can_audit(request.user)
        query = valid(self.FilterSerializer, request.query_params)
        found = search.case_search(user=request.user, filters=_filters(query))
        page = paginate(found, query)
        names = definitions.process_names()
        return Response(self.OutputSerializer(page, context={"names": names}).data)


class EventQuery(SearchQuery):
    kind = QueryTextField(help_text="Only events of this kind.")
    format = QueryChoiceField(
        export.FORMATS, required=False,
        help_text="A file of every event found (`page` and `page_size` ignored): `csv` "
        "(UTF-8, English and Chinese headings), `json` (one array) or `xlsx`. Left out, a "
        "page of JSON.",
    )  # fmt: skip


EventPage = page_of(AuditEventSerializer, "AuditEvent")
_FILE = {"type": "string", "format": "binary"}


def _record_reads(user, masker: export.Masker) -> None:
    """The cases whose personal values an answer carried, on the record as the auditor's
    reads (one row per case; PersonalDataRead)."""
    if masker.seen and access.personal_reads_recorded(user):
        cases.record_personal_reads(user=user, instance_ids=list(masker.seen), what="export")
    masker.seen.clear()


def _recording(pieces, user, masker: export.Masker):
    """The file's pieces, then the reads it made on the record: also when the reader stops
    half-way (what left went out), and after the export's own transaction has ended."""
    try:
        yield from pieces
    finally:
        pieces.close()
        _record_reads(user, masker)


class AuditEventListApi(Api):
    FilterSerializer = EventQuery

    @extend_schema(
        operation_id="audit_events",
        summary="The events of the cases found, as a page or a file (auditors)",
        description="With `format`, every event found is streamed as a file as it is read "
        "(memory does not grow with the number of rows); recorded form data carries its "
        "values, which auditors may see.",
        tags=["audit"],
        parameters=[EventQuery],
        responses={
            (200, "application/json"): PolymorphicProxySerializer(
                component_name="AuditEventsAnswer",
                serializers=[EventPage, AuditEventSerializer(many=True)],
                resource_type_field_name=None, many=False,
            ),
            (200, "text/csv"): OpenApiTypes.STR,
            (200, export.MEDIA_TYPES["xlsx"]): _FILE,
            **{c: OpenApiResponse(ErrorSerializer, ERRORS[c]) for c in (400, 401, 403)},
        },
    )  # fmt: skip
    def get(self, request):
        search.check_can_audit(request.user)
        query = valid(self.FilterSerializer, request.query_params)
        events = search.event_search(user=request.user, filters=_filters(query))
        masker = export.Masker(reveal=search.can_audit(request.user))
        fmt = query.get("format")
        if not fmt:
            page = paginate(events, query)
            page.object_list = list(export.rows(list(page.object_list), masker))
            _record_reads(request.user, masker)
            return Response(EventPage(page).data)
        response = StreamingHttpResponse(
            _recording(export.export(events, fmt=fmt, masker=masker), request.user, masker),
            content_type=export.MEDIA_TYPES[fmt],
        )
        day = clock.now().date().isoformat()
        response["Content-Disposition"] = f'attachment; filename="audit-events-{day}.{fmt}"'
        return response
