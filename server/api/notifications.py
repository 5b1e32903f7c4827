"""``/api/notifications/``: the caller's escalations and reminders, in their language."""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from server.flows.models import Notification
from server.flows.notifications import messages
from server.flows.notifications import selectors as notifications
from server.flows.notifications.services import mark_read

from .base import Api, body, valid
from .errors import answers
from .fields import FlagField, Int64Field, TimeField
from .pagination import PageQuery, PageSerializer, page_of, paginate

MAX_IDS = 1000  # notifications marked read at once


class NotificationSerializer(serializers.Serializer):
    """An escalation or a reminder, in the reader's language."""

    # context: "language", the request's.

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(Notification.Kind.values)
    level = serializers.SerializerMethodField(help_text="2 or 3 for an escalation.")
    instance = serializers.IntegerField(
        source="instance_id", allow_null=True, help_text="None for an end-of-shift check."
    )
    task = serializers.UUIDField(source="task_id", allow_null=True)
    subject = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField(help_text="Where the page opens it.")
    created_at = TimeField()
    read_at = TimeField(allow_null=True)

    class Meta:
        ref_name = "Notification"

    _rendered: tuple[Notification | None, messages.Message | None] = (None, None)

    def _words(self, n: Notification) -> messages.Message:
        """The words of ``n``, rendered once for the three fields that show them."""
        if self._rendered[0] is not n:
            self._rendered = (n, messages.render(n, self.context["language"]))
        return self._rendered[1]

    def get_subject(self, n) -> str:
        return self._words(n).subject

    def get_body(self, n) -> str:
        return self._words(n).body

    def get_link(self, n) -> str:
        return self._words(n).link

    def get_level(self, n) -> int | None:
        return n.data.get("level")


class UnreadPageSerializer(PageSerializer):
    """One page of a list, with how many are unread in all."""

    unread = serializers.SerializerMethodField(help_text="All your unread ones, on all pages.")

    def get_unread(self, page) -> int:
        return self.context["unread"]


class NotificationListApi(Api):
    class FilterSerializer(PageQuery):
        unread = FlagField(help_text="Only the unread ones.")

    OutputSerializer = page_of(NotificationSerializer, "Notification", base=UnreadPageSerializer)

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first, in your language",
        description="A page of them, with how many of yours are unread in all.",
        tags=["notifications"],
        parameters=[FilterSerializer],
        responses=answers(OutputSerializer),
    )
    def get(self, request):
        query = valid(self.FilterSerializer, request.query_params)
        found = notifications.for_user(user=request.user, unread_only=query["unread"])
        context = {
            "language": translation.get_language() or "zh-hans",
            "unread": notifications.unread_count(user=request.user),
        }
        return Response(self.OutputSerializer(paginate(found, query), context=context).data)


class NotificationReadApi(Api):
    """Mark notifications read: ``{"ids": [1, 2]}``, or ``{}`` for all of the caller's."""

    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(
            child=Int64Field(), required=False, max_length=MAX_IDS,
            help_text="The notifications to mark read; leave it out to mark all of yours.",
        )  # fmt: skip

        class Meta:
            ref_name = "MarkRead"

    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField()
        unread = serializers.IntegerField()

        class Meta:
            ref_name = "NotificationsMarked"

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark notifications read (the ones named, or all of yours)",
        tags=["notifications"],
        request=InputSerializer,
        responses=answers(OutputSerializer, 404, 415),
    )
    def post(self, request):
        mark = body(request, self.InputSerializer)
        marked = mark_read(user=request.user, notification_ids=mark.get("ids"))
        unread = notifications.unread_count(user=request.user)
        return Response(self.OutputSerializer({"marked": marked, "unread": unread}).data)
