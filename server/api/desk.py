"""The desk's records: ``/api/shift-checks/`` (the end-of-shift check: list, one, annotate an
item, complete), ``/api/handovers/`` (list, write, acknowledge) and ``/api/hotline/calls/``
(the hotline log: list, log a call, turn one into a case)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from server.desk import intake, services
from server.desk import selectors as desk
from server.desk.models import HotlineCall
from server.i18n import current_language

from .base import Api, body, valid
from .errors import answers
from .fields import (
    CALL_KINDS,
    SHIFT_CHECK_ITEM_KINDS,
    SHIFT_CHECK_STATUSES,
    Int64Field,
    QueryChoiceField,
    QueryDateField,
    TextField,
    TimeField,
)
from .pagination import PageQuery, page_of, paginate


def _path(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT64, OpenApiParameter.PATH, description=what)


CHECK_ID = _path("check_id", "The shift check's id.")
ITEM_ID = _path("item_id", "The item's id (in its check's `items`).")
HANDOVER_ID = _path("handover_id", "The hand-over's id.")
CALL_ID = _path("call_id", "The call's id.")


def _username(user) -> str | None:
    return user.get_username() if user else None


class ShiftCheckItemSerializer(serializers.Serializer):
    """An unfinished work order or late task as the check found it; no owner's contacts."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(SHIFT_CHECK_ITEM_KINDS)
    case = serializers.IntegerField(source="instance_id")
    process = serializers.CharField(source="process_key")
    unit = serializers.CharField()
    step = serializers.SerializerMethodField(help_text="Its open steps, in your language.")
    due_at = TimeField(allow_null=True)
    late = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why it is unfinished; blank until annotated.")
    annotated_by = serializers.SerializerMethodField()
    annotated_at = TimeField(allow_null=True)

    class Meta:
        ref_name = "ShiftCheckItem"

    def get_step(self, item) -> str:
        return item.step_en if current_language() == "en" else item.step

    def get_annotated_by(self, item) -> str | None:
        return _username(item.annotated_by)


class ShiftCheckSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    shift = serializers.CharField(help_text='Its hours, e.g. "18:00-08:00".')
    starts_at = TimeField()
    ends_at = TimeField()
    created_at = TimeField(help_text="When it was written: ten minutes before the end.")
    status = serializers.ChoiceField(SHIFT_CHECK_STATUSES)
    completed_by = serializers.SerializerMethodField()
    completed_at = TimeField(allow_null=True)
    open_count = serializers.IntegerField(help_text="Items: what was still open.")
    annotated_count = serializers.IntegerField(help_text="Items with a reason.")
    late_count = serializers.IntegerField(help_text="Items past their limit.")

    class Meta:
        ref_name = "ShiftCheck"

    def get_completed_by(self, check) -> str | None:
        return _username(check.completed_by)


class ShiftCheckDetailSerializer(ShiftCheckSerializer):
    items = ShiftCheckItemSerializer(many=True, source="item_rows")

    class Meta:
        ref_name = "ShiftCheckDetail"


class ShiftCheckListApi(Api):
    OutputSerializer = page_of(ShiftCheckSerializer, "ShiftCheck")

    @extend_schema(
        operation_id="shift_checks_list",
        summary="End-of-shift checks, newest first, with their counts (the supervisors' summary)",
        tags=["desk"],
        parameters=[PageQuery],
        responses=answers(OutputSerializer, 403),
    )
    def get(self, request):
        found = desk.check_list(user=request.user)
        query = valid(PageQuery, request.query_params)
        return Response(self.OutputSerializer(paginate(found, query)).data)


def _check_answer(user, check_id) -> Response:
    check = desk.check_get(user=user, check_id=check_id)
    check.item_rows = desk.check_items(check=check)
    return Response(ShiftCheckDetailSerializer(check).data)


class ShiftCheckDetailApi(Api):
    @extend_schema(
        operation_id="shift_checks_retrieve",
        summary="One check with each item",
        tags=["desk"],
        parameters=[CHECK_ID],
        responses=answers(ShiftCheckDetailSerializer, 403, 404),
    )
    def get(self, request, check_id: str):
        return _check_answer(request.user, check_id)


class ShiftCheckItemAnnotateApi(Api):
    class InputSerializer(serializers.Serializer):
        reason = TextField(allow_blank=True, help_text="Why it is unfinished.")

        class Meta:
            ref_name = "ShiftCheckAnnotation"

    @extend_schema(
        operation_id="shift_checks_annotate",
        summary="Say why an item is unfinished (dispatchers, while its check is open)",
        tags=["desk"],
        parameters=[ITEM_ID],
        request=InputSerializer,
        responses=answers(ShiftCheckItemSerializer, 403, 404, 409, 415),
    )
    def post(self, request, item_id: str):
        given = body(request, self.InputSerializer)
        item = services.item_annotate(user=request.user, item_id=item_id, reason=given["reason"])
        return Response(ShiftCheckItemSerializer(item).data)


class ShiftCheckCompleteApi(Api):
    @extend_schema(
        operation_id="shift_checks_complete",
        summary="Complete a check whose every item says why it is unfinished (dispatchers)",
        tags=["desk"],
        parameters=[CHECK_ID],
        request=None,
        responses=answers(ShiftCheckDetailSerializer, 403, 404, 409),
    )
    def post(self, request, check_id: str):
        check = services.check_complete(user=request.user, check_id=check_id)
        return _check_answer(request.user, check.pk)


class HandoverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    check = serializers.IntegerField(source="shift_check_id")
    site = serializers.CharField(source="site.name")
    written_by = serializers.CharField(source="written_by.username")
    to_user = serializers.CharField(source="to_user.username")
    written_at = TimeField()
    pending = serializers.CharField()
    reasons = serializers.CharField()
    remarks = serializers.CharField()
    acknowledged_by = serializers.SerializerMethodField()
    acknowledged_at = TimeField(allow_null=True)

    class Meta:
        ref_name = "Handover"

    def get_acknowledged_by(self, handover) -> str | None:
        return _username(handover.acknowledged_by)


class HandoverListApi(Api):
    class InputSerializer(serializers.Serializer):
        check = Int64Field(help_text="The completed shift check it hands over.")
        to_user = TextField(max_length=150, help_text="The next shift's dispatcher's username.")
        pending = TextField(allow_blank=True, help_text="What is pending.")
        reasons = TextField(required=False, allow_blank=True, default="", help_text="Why.")
        remarks = TextField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "HandoverWrite"

    OutputSerializer = page_of(HandoverSerializer, "Handover")

    @extend_schema(
        operation_id="handovers_list",
        summary="Hand-over records, newest first",
        tags=["desk"],
        parameters=[PageQuery],
        responses=answers(OutputSerializer, 403),
    )
    def get(self, request):
        found = desk.handover_list(user=request.user)
        query = valid(PageQuery, request.query_params)
        return Response(self.OutputSerializer(paginate(found, query)).data)

    @extend_schema(
        operation_id="handovers_create",
        summary="Write the hand-over of a completed check to the next shift (kept as written)",
        tags=["desk"],
        request=InputSerializer,
        responses=answers(HandoverSerializer, 403, 404, 409, 415, created=True),
    )
    def post(self, request):
        given = body(request, self.InputSerializer)
        handover = services.handover_create(
            user=request.user, check_id=given["check"], to_user=given["to_user"],
            pending=given["pending"], reasons=given["reasons"], remarks=given["remarks"],
        )  # fmt: skip
        found = desk.handover_get(user=request.user, handover_id=handover.pk)
        return Response(HandoverSerializer(found).data, status=status.HTTP_201_CREATED)


class HandoverAcknowledgeApi(Api):
    @extend_schema(
        operation_id="handovers_acknowledge",
        summary="The next shift has read the hand-over (once: who and when)",
        tags=["desk"],
        parameters=[HANDOVER_ID],
        request=None,
        responses=answers(HandoverSerializer, 403, 404, 409),
    )
    def post(self, request, handover_id: str):
        handover = services.handover_acknowledge(user=request.user, handover_id=handover_id)
        return Response(HandoverSerializer(handover).data)


class CallSerializer(serializers.Serializer):
    """A call; ``caller`` and ``phone`` are ``***`` for a reader who may not see them."""

    id = serializers.IntegerField(source="call.pk")
    at = TimeField(source="call.at")
    kind = serializers.ChoiceField(CALL_KINDS, source="call.kind")
    channel = serializers.ChoiceField(HotlineCall.Channel.values, source="call.channel")
    unit = serializers.CharField(source="call.unit")
    caller = serializers.CharField()
    phone = serializers.CharField()
    summary = serializers.CharField(source="call.summary")
    reply = serializers.CharField(source="call.reply")
    taken_by = serializers.CharField(source="call.taken_by.username")
    case = serializers.IntegerField(source="call.case_id", allow_null=True)

    class Meta:
        ref_name = "HotlineCall"


class CallListApi(Api):
    class FilterSerializer(PageQuery):
        day = QueryDateField(required=False, help_text="A local day, YYYY-MM-DD.")
        kind = QueryChoiceField(CALL_KINDS, required=False)

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(CALL_KINDS)
        channel = serializers.ChoiceField(HotlineCall.Channel.values, default="phone")
        unit = TextField(required=False, allow_blank=True, default="", max_length=32)
        caller = TextField(required=False, allow_blank=True, default="", max_length=100)
        phone = TextField(required=False, allow_blank=True, default="", max_length=32)
        summary = TextField(allow_blank=True)
        reply = TextField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "HotlineCallWrite"

    OutputSerializer = page_of(CallSerializer, "HotlineCall")

    @extend_schema(
        operation_id="hotline_calls_list",
        summary="The hotline log, newest first: of a day, of a kind",
        tags=["desk"],
        parameters=[FilterSerializer],
        responses=answers(OutputSerializer, 403),
    )
    def get(self, request):
        desk.check_reads_hotline(request.user)
        query = valid(self.FilterSerializer, request.query_params)
        calls = desk.call_list(user=request.user, day=query.get("day"), kind=query.get("kind", ""))
        page = paginate(calls, query)
        page.object_list = desk.call_rows(user=request.user, calls=page.object_list)
        return Response(self.OutputSerializer(page).data)

    @extend_schema(
        operation_id="hotline_calls_create",
        summary="Log a call or visit (the front desk)",
        tags=["desk"],
        request=InputSerializer,
        responses=answers(CallSerializer, 403, 415, created=True),
    )
    def post(self, request):
        desk.check_writes_hotline(request.user)
        call = services.call_create(user=request.user, **body(request, self.InputSerializer))
        row = desk.call_rows(user=request.user, calls=[call])[0]
        return Response(CallSerializer(row).data, status=status.HTTP_201_CREATED)


class CallConvertApi(Api):
    class InputSerializer(serializers.Serializer):
        data = serializers.DictField(
            required=False, default=dict,
            help_text="The start form's other fields (urgency, trade, category, ...); what the "
            "call says (unit, caller, phone, summary, channel) is filled in.",
        )  # fmt: skip

        class Meta:
            ref_name = "HotlineCallConvert"

    class OutputSerializer(serializers.Serializer):
        call = serializers.IntegerField()
        case = serializers.IntegerField(help_text="The case it became: /api/instances/{case}/.")

        class Meta:
            ref_name = "HotlineCallConverted"

    @extend_schema(
        operation_id="hotline_calls_convert",
        summary="Turn a complaint or repair call into its case (once)",
        tags=["desk"],
        parameters=[CALL_ID],
        request=InputSerializer,
        responses=answers(OutputSerializer, 403, 404, 409, 415, 422, created=True),
    )
    def post(self, request, call_id: str):
        given = body(request, self.InputSerializer)
        instance = intake.call_convert(user=request.user, call_id=call_id, data=given["data"])
        answer = {"call": int(call_id), "case": instance.pk}
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_201_CREATED)
