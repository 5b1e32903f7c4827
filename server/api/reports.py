"""``/api/reports/`` and ``/api/registers/``: the daily complaint report, the monthly
service statistics and the repair and complaint registers, as JSON or as files (CSV, JSON,
xlsx) written by the audit export's writers (server/audit/export.py), with Chinese and
English column headings.

Who: the reports for managers, supervisors, the vice GM, auditors and superusers; the
registers also for the front desk, dispatchers and customer relations; 403 for everyone
else in the reader's language. Residents' names and phones are masked for readers who may
not see a case's contacts (server/reports/registers.py); an auditor's unmasked reads go on
the record (PersonalDataRead, ``export``) after the answer went out.
"""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
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

from server.audit import export
from server.flows import access
from server.flows.cases import services as cases
from server.flows.errors import Invalid
from server.i18n import current_language
from server.reports import daily, monthly, registers
from server.reports.sheets import CELLS, MONTHLY_COLUMNS, Words, headings, value_titles

from .audit import QueryDateField
from .base import Api, valid
from .errors import ERRORS, ErrorSerializer
from .fields import FlagField, QueryChoiceField, QueryTextField, TimeField
from .pagination import PageQuery, paginate

_FILE = {"type": "string", "format": "binary"}
DAY_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"
STATUSES = registers.STATUSES


@extend_schema_field({"type": "string", "format": "date", "pattern": DAY_PATTERN})
class ReportDateField(QueryDateField):
    """A day in a query string, ``YYYY-MM-DD``, in the years a report can ask about (its
    next midnight in site time must be a time Python and the database hold)."""

    def to_internal_value(self, value):
        found = super().to_internal_value(value)
        if not registers.in_range(found):
            raise serializers.ValidationError(registers.out_of_range())
        return found


# -- what the JSON answers hold ---------------------------------------------------------------


class _Row(serializers.Serializer):
    case = serializers.IntegerField()
    unit = serializers.CharField(help_text="The case's business key (a unit's code).")
    description = serializers.CharField(help_text="What the resident reported.")
    status = serializers.ChoiceField(STATUSES)
    waiting = serializers.ListField(child=serializers.CharField(),
                                    help_text="The BPMN ids of its open steps.")  # fmt: skip
    satisfaction = serializers.CharField(help_text="The last return visit's answer, or empty.")
    closed_at = TimeField(allow_null=True, help_text="Completed or cancelled.")
    contacts = serializers.BooleanField(help_text="Names and phones unmasked for the reader.")


class RepairRowSerializer(_Row):
    """One line of the repair register (报修台账)."""

    location = serializers.CharField()
    reporter = serializers.CharField(help_text="Masked (`***`) for readers who may not see it.")
    phone = serializers.CharField(help_text="Masked (`***`) for readers who may not see it.")
    trade = serializers.CharField()
    urgent = serializers.BooleanField()
    reported_at = TimeField()
    dispatched_at = TimeField(allow_null=True, help_text="The last dispatch.")
    dispatcher = serializers.CharField()
    technician = serializers.CharField()
    accepted_at = TimeField(allow_null=True, help_text="The work order taken (its claim, "
                            "else the arrival).")  # fmt: skip
    arrived_at = TimeField(allow_null=True)
    done_at = TimeField(allow_null=True)
    fee = serializers.FloatField(allow_null=True, help_text="The fee charged, when any.")
    reworked = serializers.BooleanField(help_text="The work was done more than once.")

    class Meta:
        ref_name = "RepairRegisterRow"


class ComplaintRowSerializer(_Row):
    """One line of the complaint register and of the daily complaint report."""

    registered_at = TimeField()
    complainant = serializers.CharField(help_text="Masked (`***`) for readers who may not "
                                        "see it.")  # fmt: skip
    phone = serializers.CharField(help_text="Masked (`***`) for readers who may not see it.")
    channel = serializers.CharField()
    category = serializers.CharField()
    type = serializers.ChoiceField(("A", "B"), help_text="A: building quality or facilities; "
                                   "B: service quality.")  # fmt: skip
    major = serializers.BooleanField()
    valid = serializers.BooleanField(allow_null=True, help_text="Null until screened.")
    department = serializers.CharField()
    handler = serializers.CharField(help_text="Who handled it last, or holds it now.")
    handler_role = serializers.CharField()
    level = serializers.IntegerField(help_text="1, or the highest level it reached.")
    result = serializers.CharField(help_text="The reply, else the handling, else why invalid.")

    class Meta:
        ref_name = "ComplaintRegisterRow"


ROW_SERIALIZERS = {"repair": RepairRowSerializer, "complaint": ComplaintRowSerializer}


def _page_serializer(row, name: str):
    attrs = {
        "count": serializers.IntegerField(help_text="Rows matching, on all pages."),
        "page": serializers.IntegerField(),
        "pages": serializers.IntegerField(help_text="At least 1."),
        "results": row(many=True),
        "Meta": type("Meta", (), {"ref_name": f"{name}Page"}),
    }
    return type(f"{name}PageSerializer", (serializers.Serializer,), attrs)


RepairPage = _page_serializer(RepairRowSerializer, "RepairRegister")
ComplaintPage = _page_serializer(ComplaintRowSerializer, "ComplaintRegister")


class DailySerializer(serializers.Serializer):
    date = serializers.DateField()
    open_from_earlier = serializers.IntegerField(
        help_text="Complaints registered before the day and still open."
    )
    count = serializers.IntegerField()
    complaints = ComplaintRowSerializer(many=True)

    class Meta:
        ref_name = "ComplaintsDaily"


def _counts(help_text: str):
    return serializers.DictField(child=serializers.IntegerField(), help_text=help_text)


def _rate():
    return serializers.FloatField(allow_null=True, help_text="0 to 1; null when nothing "
                                  "to count.")  # fmt: skip


def _section(name: str, **fields):
    fields["Meta"] = type("Meta", (), {"ref_name": f"Monthly{name}"})
    return type(f"Monthly{name}Serializer", (serializers.Serializer,), fields)()


class MovesSerializer(serializers.Serializer):
    started = serializers.IntegerField(help_text="Cases started in the month.")
    completed = serializers.IntegerField(help_text="Of those, completed.")

    class Meta:
        ref_name = "MonthlyMoves"


class MonthlySerializer(serializers.Serializer):
    month = serializers.CharField(help_text="`YYYY-MM`.")
    repairs = _section(
        "Repairs", received=serializers.IntegerField(), urgent=serializers.IntegerField(),
        by_trade=_counts("Received, by trade."), completed=serializers.IntegerField(),
        on_time=serializers.IntegerField(), late=serializers.IntegerField(),
        reworked=serializers.IntegerField(), timeliness=_rate(), first_time_pass=_rate(),
    )  # fmt: skip
    complaints = _section(
        "Complaints", received=serializers.IntegerField(),
        by_category=_counts("Received, by category."), valid=serializers.IntegerField(),
        closed=serializers.IntegerField(), closed_rate=_rate(),
        escalated=_counts("Complaints escalated in the month, by the level reached."),
    )  # fmt: skip
    return_visits = _section(
        "Visits", done=serializers.IntegerField(), satisfied=serializers.IntegerField(),
        satisfaction=_rate(), due=serializers.IntegerField(),
        visited=serializers.IntegerField(), rate=_rate(),
        split=_counts("The visits' answers."),
    )  # fmt: skip
    renovations = _section(
        "Renovations", applications=serializers.IntegerField(),
        reviews=serializers.IntegerField(), reviews_on_time=serializers.IntegerField(),
        on_time_rate=_rate(),
    )  # fmt: skip
    move_ins = MovesSerializer()
    move_outs = MovesSerializer()
    escalations = _section("Escalations", cases=serializers.IntegerField(),
                           levels=_counts("Cases, by level."))  # fmt: skip
    hotline = _section(
        "Hotline", calls=serializers.IntegerField(), by_kind=_counts("Calls, by kind."),
        became_cases=serializers.IntegerField(),
    )  # fmt: skip

    class Meta:
        ref_name = "MonthlyStatistics"


def _responses(answer=None, rows=None, name: str = "") -> dict:
    json_answer = answer
    if rows is not None:
        json_answer = PolymorphicProxySerializer(
            component_name=f"{name}Answer", serializers=[answer, rows(many=True)],
            resource_type_field_name=None, many=False,
        )  # fmt: skip
    return {
        (200, "application/json"): json_answer,
        (200, "text/csv"): OpenApiTypes.STR,
        (200, export.MEDIA_TYPES["xlsx"]): _FILE,
        **{c: OpenApiResponse(ErrorSerializer, ERRORS[c]) for c in (400, 401, 403)},
    }


def _format_field():
    return QueryChoiceField(
        export.FORMATS, required=False,
        help_text="A file: `csv` (UTF-8, Chinese and English headings), `json` (one "
        "array) or `xlsx`. Left out, JSON.",
    )  # fmt: skip


# -- files ------------------------------------------------------------------------------------


def _record(user, found: list[dict] | None = None, seen: dict | None = None) -> None:
    """The cases whose residents' names and phones went out unmasked to an auditor (or a
    superuser), on the record (PersonalDataRead, one row per case)."""
    if not access.personal_reads_recorded(user):
        return
    ids = list(seen or {}) + [r["case"] for r in found or () if r["contacts"] and (
        r.get("reporter") or r.get("complainant") or r.get("phone"))]  # fmt: skip
    if ids:
        cases.record_personal_reads(user=user, instance_ids=ids, what="export")


def _noting(rows, seen: dict):
    """Each row, its case noted when it carried a resident's name or phone unmasked."""
    for row in rows:
        if row["contacts"] and (row.get("reporter") or row.get("complainant") or row.get("phone")):
            seen[row["case"]] = None
        yield row


def _recording(pieces, user, seen: dict):
    """The file's pieces, then its reads on the record (also when the reader stops)."""
    try:
        yield from pieces
    finally:
        pieces.close()
        _record(user, seen=seen)


def file_answer(rows, *, process: str, fmt: str, name: str, user,
                title: str) -> StreamingHttpResponse:  # fmt: skip
    """Rows (an iterator) as a streamed file of the register's columns."""
    columns, make = CELLS[process]
    cells = make(Words(process, current_language()))
    seen: dict[int, None] = {}
    noted = _noting(rows, seen)
    if fmt == "csv":
        pieces = export.as_csv(noted, headings=headings(columns), cells=cells)
    elif fmt == "xlsx":
        pieces = export.as_xlsx(noted, headings=headings(columns), cells=cells, title=title)
    else:
        row = ROW_SERIALIZERS[process]
        pieces = export.as_json(noted, encode=lambda r: row(r).data)
    response = StreamingHttpResponse(_recording(pieces, user, seen),
                                     content_type=export.MEDIA_TYPES[fmt])  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# -- the daily complaint report ---------------------------------------------------------------


class DailyQuery(serializers.Serializer):
    format = _format_field()

    def get_fields(self):
        found = super().get_fields()
        found["date"] = ReportDateField(help_text="The day (site time); today when left out.")
        return found


class ComplaintsDailyApi(Api):
    @extend_schema(
        operation_id="reports_complaints_daily",
        summary="The daily complaint report (客户投诉信息日报表)",
        description="Every complaint registered on the day (site time), with its handling "
        "status as it stands; `open_from_earlier` counts complaints of earlier days still "
        "open. Managers, supervisors, the vice GM and auditors.",
        tags=["reports"],
        parameters=[DailyQuery],
        responses=_responses(DailySerializer, ComplaintRowSerializer, "ComplaintsDaily"),
    )
    def get(self, request):
        registers.check_can_read_reports(request.user)
        query = valid(DailyQuery, request.query_params)
        day = query.get("date") or daily.parse_day(None)
        registers.check_range(date=day)
        found = daily.report(day, user=request.user)
        fmt = query.get("format")
        name = f"complaints-{day.isoformat()}"
        if fmt:
            return file_answer(iter(found.rows), process="complaint", fmt=fmt, name=name,
                               user=request.user, title=day.isoformat())  # fmt: skip
        _record(request.user, found.rows)
        return Response(DailySerializer({
            "date": day, "open_from_earlier": found.open_from_earlier,
            "count": len(found.rows), "complaints": found.rows,
        }).data)  # fmt: skip


# -- the monthly statistics -------------------------------------------------------------------


class MonthlyQuery(serializers.Serializer):
    month = serializers.RegexField(
        r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$", required=True,
        help_text="The month, `YYYY-MM`, in the years 1900 to 2999.",
        error_messages={"invalid": gettext_lazy("Must be a month as YYYY-MM.")},
    )  # fmt: skip
    format = _format_field()


class MonthlyApi(Api):
    @extend_schema(
        operation_id="reports_monthly",
        summary="The monthly service statistics",
        description="Repairs, complaints, return visits, renovations, move-ins and -outs "
        "and the hotline's calls of a month (site time); the KPI figures are the KPI "
        "module's over the same month. As a file: one line per figure.",
        tags=["reports"],
        parameters=[MonthlyQuery],
        responses=_responses(MonthlySerializer),
    )
    def get(self, request):
        registers.check_can_read_reports(request.user)
        query = valid(MonthlyQuery, request.query_params)
        month = monthly.parse_month(query["month"])
        stats = monthly.statistics(month, user=request.user)
        fmt = query.get("format")
        if not fmt:
            return Response(MonthlySerializer(stats).data)
        found = monthly.lines(stats, value_titles())
        rows = ({"section": s, "figure": f, "value": v} for s, f, v in found)
        cells = lambda r: [f"{r['section'][0]} / {r['section'][1]}",  # noqa: E731
                           f"{r['figure'][0]} / {r['figure'][1]}", r["value"]]  # fmt: skip
        if fmt == "csv":
            pieces = export.as_csv(rows, headings=headings(MONTHLY_COLUMNS), cells=cells)
        elif fmt == "xlsx":
            pieces = export.as_xlsx(rows, headings=headings(MONTHLY_COLUMNS), cells=cells,
                                    title=stats["month"])  # fmt: skip
        else:
            pieces = iter([json.dumps(MonthlySerializer(stats).data, ensure_ascii=False)])
        response = StreamingHttpResponse(pieces, content_type=export.MEDIA_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="monthly-{stats["month"]}.{fmt}"'
        return response


# -- the registers ----------------------------------------------------------------------------


class RegisterQuery(PageQuery):
    status = QueryChoiceField(STATUSES, required=False, help_text="The case's status.")
    unit = QueryTextField(help_text="Only this unit (the case's business key).")
    format = QueryChoiceField(
        export.FORMATS, required=False,
        help_text="A file of every row found (`page` and `page_size` ignored): `csv`, "
        "`json` or `xlsx`, streamed as read. Left out, a page of JSON.",
    )  # fmt: skip

    def get_fields(self):
        found = super().get_fields()
        found["from"] = ReportDateField(help_text="Reported on or after this day (site time).")
        found["to"] = ReportDateField(help_text="Reported on or before this day (site time).")
        return found


class RepairQuery(RegisterQuery):
    category = QueryTextField(help_text="The trade (`water_electric`, `building`, ...); an "
                              "unknown value is a 400.")  # fmt: skip
    urgent = FlagField(help_text="Only urgent repairs (急修).")


class ComplaintQuery(RegisterQuery):
    category = QueryTextField(help_text="The complaint's category (`service_attitude`, ...); "
                              "an unknown value is a 400.")  # fmt: skip


def _register_filters(process: str, query: dict) -> registers.Filters:
    registers.check_range(**{"from": query.get("from"), "to": query.get("to")})
    category = query.get("category", "").strip()
    if category and category not in dict(registers.categories(process)):
        values = ", ".join(dict(registers.categories(process)))
        raise Invalid(
            _("The request has errors; see each field."),
            {"category": [_("Must be one of: %(values)s.") % {"values": values}]},
        )
    return registers.Filters(
        start=query.get("from"), end=query.get("to"), status=query.get("status", ""),
        category=category, urgent=query.get("urgent", False), unit=query.get("unit", "").strip(),
    )  # fmt: skip


class _RegisterApi(Api):
    process = ""
    Query = RegisterQuery

    def get(self, request):
        registers.check_can_read_registers(request.user)
        query = valid(self.Query, request.query_params)
        filters = _register_filters(self.process, query)
        found = registers.cases(self.process, user=request.user, filters=filters)
        fmt = query.get("format")
        day = timezone.localdate().isoformat()
        if fmt:
            return file_answer(registers.stream(self.process, found), process=self.process,
                               fmt=fmt, name=f"{self.process}-register-{day}",
                               user=request.user, title=self.process)  # fmt: skip
        page = paginate(found, query)
        rows = registers.rows_of(self.process, page.object_list)
        _record(request.user, rows)
        answer = {"count": page.paginator.count, "page": page.number,
                  "pages": page.paginator.num_pages, "results": rows}  # fmt: skip
        page_answer = RepairPage if self.process == "repair" else ComplaintPage
        return Response(page_answer(answer).data)


class RepairRegisterApi(_RegisterApi):
    process = "repair"
    Query = RepairQuery

    @extend_schema(
        operation_id="registers_repairs",
        summary="The repair register (报修台账)",
        description="Who, where, what, when reported, dispatched, accepted, arrived, done, "
        "the fee and the return visit's answer, one row per repair, oldest first.",
        tags=["registers"], parameters=[RepairQuery],
        responses=_responses(RepairPage, RepairRowSerializer, "RepairRegister"),
    )  # fmt: skip
    def get(self, request):
        return super().get(request)


class ComplaintRegisterApi(_RegisterApi):
    process = "complaint"
    Query = ComplaintQuery

    @extend_schema(
        operation_id="registers_complaints",
        summary="The complaint register",
        description="Every complaint: when, unit, complainant, channel, category, type A/B, "
        "content, handler, level, status, result, return visit, closed at; oldest first.",
        tags=["registers"], parameters=[ComplaintQuery],
        responses=_responses(ComplaintPage, ComplaintRowSerializer, "ComplaintRegister"),
    )  # fmt: skip
    def get(self, request):
        return super().get(request)
