"""``/api/units/``: the unit registry as an intake form looks it up while the caller speaks.

A start form's ``unit`` field says ``"x-lookup": "units"``: its values are the ``code``
of this list. The owner's name and phone show to those who take owners' calls (and to
auditors); others see the unit without them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from server.estate import selectors as estate
from server.estate.models import Unit
from server.flows import access
from server.flows.errors import Forbidden

from .base import Api, valid
from .errors import answers
from .fields import QueryTextField
from .pagination import PageQuery, page_of, paginate


class OwnerSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()

    class Meta:
        ref_name = "UnitOwner"


class UnitSerializer(serializers.Serializer):
    """A unit, with its owners when the caller may see them."""

    # context: "contacts" (whether the caller sees owners).

    code = serializers.CharField(help_text="What a start form's `unit` takes.")
    building = serializers.CharField(source="building.name")
    site = serializers.CharField(source="building.site.name")
    floor = serializers.IntegerField()
    status = serializers.ChoiceField(Unit.Status.values)
    status_name = serializers.SerializerMethodField(help_text="In the reader's language.")
    owners = serializers.SerializerMethodField(
        help_text="Current owners; null when the caller's roles do not see contact data."
    )

    class Meta:
        ref_name = "Unit"

    def get_status_name(self, unit) -> str:
        return str(unit.get_status_display())  # the labels are translated

    @extend_schema_field(OwnerSerializer(many=True, allow_null=True))
    def get_owners(self, unit):
        if not self.context["contacts"]:
            return None
        return [{"name": o.name, "phone": o.phone} for o in unit.owners]


class UnitListApi(Api):
    class FilterSerializer(PageQuery):
        q = QueryTextField(help_text="Part of the unit code, the building, or an owner's name.")

    OutputSerializer = page_of(UnitSerializer, "Unit")

    @extend_schema(
        operation_id="units_list",
        summary="Look units up (as an intake form does)",
        tags=["units"],
        parameters=[FilterSerializer],
        responses=answers(OutputSerializer, 403),
    )
    def get(self, request):
        if not access.user_roles(request.user):
            raise Forbidden(_("Only staff with a role may look units up."))
        query = valid(self.FilterSerializer, request.query_params)
        page = paginate(estate.unit_search(q=query.get("q", "")), query)
        context = {"contacts": access.sees_owner_contacts(request.user)}
        return Response(self.OutputSerializer(page, context=context).data)
