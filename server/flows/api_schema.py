"""What the API's requests and answers look like, for the OpenAPI document only.

Request bodies are named for what they do (``Start``, ``Complete``...): the schema adds
``Request`` to their names.

The views never use these serializers: they parse input themselves and answer the dicts of
:mod:`server.flows.presenters`. Keep the two in step (tests/test_openapi.py checks the
schema; tests/test_api*.py check the answers).
"""

from __future__ import annotations

from rest_framework import serializers

from engine.roles import ROLE_KEYS

from .models import AuditEvent, HumanTask, Notification, ProcessInstance

# The choice sets that appear under more than one field or component, named once each in
# settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].
ROLES = sorted(ROLE_KEYS)
TASK_STATUSES = HumanTask.Status.values
INSTANCE_STATUSES = ProcessInstance.Status.values


class ErrorSerializer(serializers.Serializer):
    """Every error: a message, and the messages of each field that was wrong."""

    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field name → its messages (only when fields were wrong).",
    )


class NamesSerializer(serializers.Serializer):
    """A name in each language."""

    def get_fields(self):
        return {"zh-hans": serializers.CharField(), "en": serializers.CharField()}


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


# -- auth ----------------------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Token <token>` with every request."
    )


# -- processes -----------------------------------------------------------------------------


class ProcessSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField(help_text="The newest deployed version.")
    name = NamesSerializer()
    start_roles = serializers.ListField(child=serializers.ChoiceField(ROLES))
    can_start = serializers.BooleanField(help_text="Whether the caller's roles may start it.")
    deployed_at = serializers.DateTimeField()


class ProcessDetailSerializer(ProcessSerializer):
    start_form = serializers.DictField(
        allow_null=True, help_text="The start form as JSON Schema (null: no start form)."
    )


# -- tasks ---------------------------------------------------------------------------------


class TaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    instance = serializers.IntegerField(help_text="The case's id.")
    process = serializers.CharField(help_text="The process key.")
    process_name = NamesSerializer()
    business_key = serializers.CharField(help_text="The unit the case is about.")
    bpmn_id = serializers.CharField()
    name = serializers.CharField(help_text="In Chinese.")
    name_en = serializers.CharField()
    role = serializers.ChoiceField(ROLES, allow_blank=True, help_text="Blank: no role.")
    assignee = UserRefSerializer(allow_null=True)
    status = serializers.ChoiceField(TASK_STATUSES)
    due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    escalation_level = serializers.IntegerField(
        help_text="The highest escalation the case reached: 0 none, 2 客服主管, 3 主管副总经理."
    )
    overdue = serializers.BooleanField(help_text="Open and past its due time.")


class TaskDetailSerializer(TaskSerializer):
    documentation = serializers.CharField()
    form = serializers.DictField(allow_null=True, help_text="Its form as JSON Schema.")
    ui_form = serializers.DictField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by = UserRefSerializer(allow_null=True)


class TaskPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Tasks matching, on all pages.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField(help_text="At least 1.")
    results = TaskSerializer(many=True)


class CompleteSerializer(serializers.Serializer):
    data = serializers.DictField(
        required=False, help_text="The task's form data (checked against its JSON Schema)."
    )


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        min_value=1, help_text="The id of an active user holding the task's role."
    )


# -- instances (cases) ---------------------------------------------------------------------


class InstanceRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    process = serializers.CharField()
    process_name = NamesSerializer()
    business_key = serializers.CharField()
    status = serializers.ChoiceField(INSTANCE_STATUSES)
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()


class InstancePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = InstanceRowSerializer(many=True)


class InstanceTaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    role = serializers.ChoiceField(ROLES, allow_blank=True, help_text="Blank: no role.")
    assignee = UserRefSerializer(allow_null=True)
    status = serializers.ChoiceField(TASK_STATUSES)
    due_at = serializers.DateTimeField(allow_null=True)


class TimerSerializer(serializers.Serializer):
    name = serializers.CharField()
    due_at = serializers.DateTimeField()
    reminder = serializers.BooleanField(help_text="A reminder leaves the task open.")


class InstanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    process = serializers.CharField()
    process_name = NamesSerializer()
    version = serializers.IntegerField(help_text="The process version the case runs.")
    business_key = serializers.CharField()
    status = serializers.ChoiceField(INSTANCE_STATUSES)
    started_by = UserRefSerializer(allow_null=True)
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    tasks = InstanceTaskSerializer(many=True, help_text="Its open tasks.")
    timers = TimerSerializer(many=True, help_text="The time limits it waits on.")


class StartSerializer(serializers.Serializer):
    process = serializers.CharField(help_text="The key of the process to start.")
    data = serializers.DictField(
        required=False, help_text="The start form's data (checked against its JSON Schema)."
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the case is cancelled (recorded).")


class EventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="1, 2, 3... within the case.")
    kind = serializers.ChoiceField(AuditEvent.Kind.values)
    at = serializers.DateTimeField()
    actor = UserRefSerializer(allow_null=True)
    task = serializers.UUIDField(allow_null=True)
    data = serializers.DictField(
        help_text="What happened. Recorded form data is under `data`; its contact fields "
        "read `***` unless the caller has a task in the case (or started it, or audits)."
    )


class DiagramSerializer(serializers.Serializer):
    bpmn = serializers.CharField(help_text="The BPMN 2.0 XML of the case's process version.")
    active = serializers.ListField(
        child=serializers.CharField(), help_text="BPMN ids of the open tasks."
    )
    done = serializers.ListField(
        child=serializers.CharField(), help_text="BPMN ids of the completed tasks."
    )


# -- notifications -------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(Notification.Kind.values)
    level = serializers.IntegerField(allow_null=True, help_text="2 or 3 for an escalation.")
    instance = serializers.IntegerField()
    task = serializers.UUIDField(allow_null=True)
    subject = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField(help_text="Where the page opens it.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
    results = NotificationSerializer(many=True, help_text="The newest 100.")


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="The notifications to mark read; leave it out to mark all of the caller's.",
    )


class NotificationsMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()
