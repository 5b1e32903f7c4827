"""``/api/staff/``: the site roster, as a dispatcher chooses a person for a job.

Every staff member may read it (names, trades, duty, open jobs: what dispatch needs);
supervisors and managers change who is on duty and each person's trade. A form's staff
picker (``"x-lookup": "staff"``) offers the same people, by username.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from server.flows import access
from server.flows.errors import Forbidden, NotFound
from server.i18n import current_language
from server.staff import selectors as roster
from server.staff import services
from server.staff.models import TRADE_NAMES, Trade

from .base import Api, body, valid
from .errors import answers
from .fields import ROLES, QueryChoiceField, TextField
from .pagination import PageQuery, page_of, paginate


class MemberSerializer(serializers.Serializer):
    # context: "language".
    id = serializers.IntegerField()
    username = serializers.CharField(help_text="What a staff picker's field takes.")
    name = serializers.SerializerMethodField(help_text="In the reader's language.")
    roles = serializers.ListField(child=serializers.ChoiceField(ROLES))
    trade = serializers.ChoiceField(Trade.values, help_text="Blank: none recorded.")
    trade_name = serializers.SerializerMethodField(help_text="In the reader's language.")
    phone = serializers.CharField()
    on_duty = serializers.BooleanField()
    open_jobs = serializers.IntegerField(help_text="Open tasks assigned to them.")

    class Meta:
        ref_name = "StaffMember"

    def get_name(self, member) -> str:
        return member.name_en if self.context["language"] == "en" else member.name

    def get_trade_name(self, member) -> str:
        zh, en = TRADE_NAMES.get(member.trade, ("", ""))
        return en if self.context["language"] == "en" else zh


def _check_staff(user) -> None:
    if not access.user_roles(user):
        raise Forbidden(_("Only staff with a role may read the roster."))


class StaffListApi(Api):
    class FilterSerializer(PageQuery):
        role = QueryChoiceField(ROLES, required=False, help_text="Only holders of this role.")

    OutputSerializer = page_of(MemberSerializer, "StaffMember")

    @extend_schema(
        operation_id="staff_list",
        summary="The roster: on duty first, then by open jobs",
        tags=["staff"],
        parameters=[FilterSerializer],
        responses=answers(OutputSerializer, 403),
    )
    def get(self, request):
        _check_staff(request.user)
        query = valid(self.FilterSerializer, request.query_params)
        page = paginate(roster.roster(role=query.get("role")), query)
        context = {"language": current_language()}
        return Response(self.OutputSerializer(page, context=context).data)


class StaffDetailApi(Api):
    class InputSerializer(serializers.Serializer):
        on_duty = serializers.BooleanField(required=False)
        trade = serializers.ChoiceField(Trade.values, required=False)
        phone = TextField(required=False, allow_blank=True, max_length=20)
        display_name = TextField(required=False, allow_blank=True, max_length=50)
        display_name_en = TextField(required=False, allow_blank=True, max_length=50)

        class Meta:
            ref_name = "StaffChange"

    def _answer(self, username: str) -> Response:
        member = roster.member_get(username=username)
        if member is None:
            raise NotFound(_("%(name)s is not on the roster.") % {"name": username})
        return Response(MemberSerializer(member, context={"language": current_language()}).data)

    @extend_schema(
        operation_id="staff_retrieve",
        summary="One person on the roster",
        tags=["staff"],
        responses=answers(MemberSerializer, 403, 404),
    )
    def get(self, request, username: str):
        _check_staff(request.user)
        return self._answer(username)

    @extend_schema(
        operation_id="staff_update",
        summary="Put someone on or off duty, record their trade (supervisors and managers)",
        tags=["staff"],
        request=InputSerializer,
        responses=answers(MemberSerializer, 403, 404, 415),
    )
    def post(self, request, username: str):
        changes = body(request, self.InputSerializer)
        services.staff_update(user=request.user, username=username, changes=changes)
        return self._answer(username)
