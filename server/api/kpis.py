"""``/api/kpis/``: the centre's seven KPIs for a period (server/reports/kpis.py), each with
its value, target, numerator, denominator and the cases behind its complement. Managers,
supervisors, the vice GM and auditors (superusers hold every role); 403 for everyone else,
in the reader's language."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from server.audit import search
from server.reports import kpi_filters, kpis

from .audit import QueryDateField
from .base import Api, valid
from .errors import answers
from .fields import QueryChoiceField, QueryIntegerField, QueryTextField


class KpiQuery(serializers.Serializer):
    site = QueryIntegerField(
        required=False, min_value=1,
        help_text="Only the cases of this site's units (its id); its targets apply. Left "
        "out: every site, and the only site's targets when there is exactly one.",
    )  # fmt: skip
    process = QueryTextField(help_text="Only this process's cases (its key).")
    category = QueryTextField(
        help_text="Only cases of this complaint category or repair trade (the forms' "
        "values, e.g. `water_electric`)."
    )
    handler = QueryTextField(help_text="Only the cases in which this user (username) "
                             "completed a task.")  # fmt: skip

    class Meta:
        ref_name = "KpiQuery"

    def get_fields(self):
        found = super().get_fields()
        found["from"] = QueryDateField(
            help_text="The first day (site time); left out, the first of this month."
        )
        found["to"] = QueryDateField(
            help_text="The last day, inclusive (site time); left out, today (or the end of "
            "`from`'s month)."
        )
        return found


class KpiSerializer(serializers.Serializer):
    value = serializers.FloatField(
        allow_null=True, help_text="numerator / denominator; null when the denominator is 0 "
        "(escalations: the number of cases escalated).",
    )  # fmt: skip
    target = serializers.FloatField(
        allow_null=True, help_text="The site's target, else the sources' (null: none)."
    )
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    below_target = serializers.BooleanField(help_text="The value is below its target.")
    missed = serializers.ListField(
        child=serializers.IntegerField(), help_text="The case ids behind the complement."
    )

    class Meta:
        ref_name = "Kpi"


class EscalationsSerializer(KpiSerializer):
    levels = serializers.DictField(
        child=serializers.IntegerField(), help_text="Level -> cases that reached it."
    )

    class Meta:
        ref_name = "KpiEscalations"


class KpisSerializer(serializers.Serializer):
    repair_timeliness = KpiSerializer(help_text="零修、急修及时率 (repairs done on time).")
    repair_first_time_pass = KpiSerializer(help_text="一次合格率 (first-time pass).")
    complaints_closed = KpiSerializer(help_text="有效投诉办结率 (valid complaints closed).")
    return_visit_rate = KpiSerializer(help_text="回访率 (return-visit rate).")
    satisfaction = KpiSerializer(help_text="满意率 (owner satisfaction).")
    escalations = EscalationsSerializer(help_text="Cases escalated, by level.")
    renovation_review_on_time = KpiSerializer(help_text="Renovation reviews within 3 working days.")

    class Meta:
        ref_name = "KpiSet"


class KpisAnswerSerializer(serializers.Serializer):
    kpis = KpisSerializer()
    # "from" is a Python keyword: declared below.
    to = serializers.DateField(help_text="The last day counted, inclusive.")
    filters = serializers.DictField(
        child=serializers.CharField(), help_text="The filters applied, as read."
    )

    class Meta:
        ref_name = "KpisAnswer"

    def get_fields(self):
        found = super().get_fields()
        found["from"] = serializers.DateField(help_text="The first day counted.")
        return {"kpis": found["kpis"], "from": found["from"], "to": found["to"],
                "filters": found["filters"]}  # fmt: skip


def read(query) -> kpi_filters.Query:
    """The query read and checked against the deployed processes and categories."""
    processes, categories = search.catalogue()
    return kpi_filters.parse(query, processes, categories)


class KpiListApi(Api):
    @extend_schema(
        operation_id="kpis",
        summary="The seven KPIs for a period (managers, supervisors, auditors)",
        description="Each KPI with its value, target, numerator, denominator and the cases "
        "behind its complement (definitions: server/reports/kpis.py). A site, process, "
        "category or handler that names nothing is a 400 naming it; so is `from` after `to`.",
        tags=["kpis"],
        parameters=[KpiQuery],
        responses=answers(KpisAnswerSerializer, 403),
    )
    def get(self, request):
        kpi_filters.check_can_read_kpis(request.user)
        valid(KpiQuery, request.query_params)
        query = read(request.query_params)
        found = kpis.kpis(query.start, query.end, query.scope)
        for figure in found.values():
            target, value = figure["target"], figure["value"]
            figure["below_target"] = target is not None and value is not None and value < target
        filters = {k: v for k, v in query.given.items() if k not in ("from", "to")}
        return Response({"kpis": found, "from": query.first.isoformat(),
                         "to": query.last.isoformat(), "filters": filters})  # fmt: skip


class SeriesQuery(KpiQuery):
    by = QueryChoiceField(
        kpis.SERIES, required=False,
        help_text="`week` (from Monday, the default) or `month`, in site time.",
    )  # fmt: skip

    class Meta:
        ref_name = "KpiSeriesQuery"


class BucketSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The bucket's first day (clipped to `from`).")
    end = serializers.DateField(help_text="Its last day, inclusive (clipped to `to`).")
    kpis = KpisSerializer()

    class Meta:
        ref_name = "KpiBucket"


class SeriesAnswerSerializer(KpisAnswerSerializer):
    class Meta:
        ref_name = "KpiSeriesAnswer"

    def get_fields(self):
        found = super().get_fields()
        found.pop("kpis")
        found["by"] = serializers.ChoiceField(kpis.SERIES)
        found["buckets"] = BucketSerializer(
            many=True, help_text="Every week or month of the period, in order."
        )
        return found


def _answer(kpi: kpis.Kpi) -> dict:
    return {**kpi.answer(), "below_target": kpi.below}


class KpiSeriesApi(Api):
    @extend_schema(
        operation_id="kpis_series",
        summary="The seven KPIs by week or month (managers, supervisors, auditors)",
        description="The same figures as `/api/kpis/`, for each week (from Monday) or month "
        "the period touches, empty ones too: what the dashboard's trends draw.",
        tags=["kpis"],
        parameters=[SeriesQuery],
        responses=answers(SeriesAnswerSerializer, 403),
    )
    def get(self, request):
        kpi_filters.check_can_read_kpis(request.user)
        by = valid(SeriesQuery, request.query_params).get("by") or "week"
        query = read(request.query_params)
        found = kpis.report(query.start, query.end, query.scope, breakdown=())
        buckets = []
        for i, (day, _kpi) in enumerate(found.series["repair_timeliness"][by]):
            last = day + timedelta(days=6) if by == "week" else kpi_filters.month_end(day)
            buckets.append({
                "start": max(day, query.first).isoformat(),
                "end": min(last, query.last).isoformat(),
                "kpis": {name: _answer(found.series[name][by][i][1]) for name in kpis.FACTS},
            })  # fmt: skip
        filters = {k: v for k, v in query.given.items() if k not in ("from", "to")}
        return Response({"from": query.first.isoformat(), "to": query.last.isoformat(),
                         "filters": filters, "by": by, "buckets": buckets})  # fmt: skip
