"""``/api/instances/{id}/reads/``: who read a case's personal data, when, and where.

Every time an auditor (or a superuser) receives a case's personal values unmasked (its
page, a page of its events, a personal file, its trail, an export), a row is recorded
(append-only, like the audit trail). The events stay the case's own; this list is apart.
Auditors, supervisors and managers may read it; anyone else who may see the case gets
403 (a case one may not see is the 404 of a missing one, as everywhere).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from server.flows import access
from server.flows.cases import selectors
from server.flows.errors import Forbidden
from server.flows.models import PersonalDataRead

from .base import CASE_ID, Api, valid
from .errors import answers
from .fields import TimeField, UserRefSerializer
from .pagination import PageQuery, page_of, paginate


class ReadSerializer(serializers.Serializer):
    """One read of a case's personal data."""

    reader = UserRefSerializer()
    at = TimeField()
    what = serializers.ChoiceField(
        PersonalDataRead.What.values,
        help_text="Where the values were read: the case page, a task page, the events API, "
        "a file, the trail, an export.",
    )

    class Meta:
        ref_name = "PersonalDataRead"


class InstanceReadsApi(Api):
    OutputSerializer = page_of(ReadSerializer, "PersonalDataRead")

    @extend_schema(
        operation_id="instances_reads",
        summary="Who read a case's personal data, oldest first",
        description="For auditors, supervisors and managers. A row is an auditor's (or a "
        "superuser's) answer that held personal values unmasked.",
        tags=["instances"],
        parameters=[CASE_ID, PageQuery],
        responses=answers(OutputSerializer, 403, 404),
    )
    def get(self, request, instance_id: str):
        query = valid(PageQuery, request.query_params)
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
        if not access.can_see_personal_reads(request.user):
            raise Forbidden(
                _("Only auditors, supervisors and managers may see who read personal data.")
            )
        reads = selectors.instance_personal_reads(user=request.user, instance=instance)
        return Response(self.OutputSerializer(paginate(reads, query)).data)
