"""``/api/processes/``: the deployed processes, newest version of each."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from server.flows import access
from server.flows.definitions import selectors as definitions

from . import studio
from .base import Api, JsonParser, valid
from .errors import answers
from .fields import ROLES, NamesField, TimeField
from .pagination import PageQuery, page_of, paginate


class ProcessSerializer(serializers.Serializer):
    """A deployed process, as its newest version stands."""

    # context: "roles", the caller's.

    key = serializers.CharField()
    version = serializers.IntegerField(help_text="The newest deployed version.")
    name = NamesField(source="source.names")
    start_roles = serializers.ListField(
        child=serializers.ChoiceField(ROLES), source="source.start_roles"
    )
    can_start = serializers.SerializerMethodField(
        help_text="Whether the caller's roles may start it."
    )
    deployed_at = TimeField()

    class Meta:
        ref_name = "Process"

    def get_can_start(self, definition) -> bool:
        return bool(self.context["roles"] & set(definition.start_roles))


class ProcessDetailSerializer(ProcessSerializer):
    """A deployed process with its start form."""

    start_form = serializers.SerializerMethodField(
        help_text="The start form as JSON Schema (null: no start form)."
    )

    class Meta:
        ref_name = "ProcessDetail"

    def get_start_form(self, definition) -> dict | None:
        source = definition.source
        return source.forms.get(source.start_form) if source.start_form else None


KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description="The process key, e.g. `repair`."
)


class ProcessListApi(Api):
    OutputSerializer = page_of(ProcessSerializer, "Process")
    parser_classes = [MultiPartParser, FormParser, JsonParser]

    @extend_schema(
        operation_id="processes_list",
        summary="The deployed processes (newest version of each)",
        tags=["processes"],
        parameters=[PageQuery],
        responses=answers(OutputSerializer),
    )
    def get(self, request):
        query = valid(PageQuery, request.query_params)
        page = paginate(definitions.process_list(), query)
        roles = access.user_roles(request.user)
        return Response(self.OutputSerializer(page, context={"roles": roles}).data)

    @extend_schema(
        operation_id="processes_upload",
        summary="Upload a package: validate, and deploy it as the newest version",
        tags=["studio"],
        request={"multipart/form-data": studio.UploadSerializer},
        responses=studio.UPLOAD_RESPONSES,
    )
    def post(self, request):
        return studio.upload(self, request)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if self.request.method == "POST":
            studio.as_refusal(response)
        return response


class ProcessDetailApi(Api):
    @extend_schema(
        operation_id="processes_retrieve",
        summary="A process, with its start form",
        tags=["processes"],
        parameters=[KEY],
        responses=answers(ProcessDetailSerializer, 404),
    )
    def get(self, request, key: str):
        definition = definitions.process_get(key=key)
        roles = access.user_roles(request.user)
        return Response(ProcessDetailSerializer(definition, context={"roles": roles}).data)
