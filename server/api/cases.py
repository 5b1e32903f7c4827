"""``/api/instances/``: cases; start one, read it, its audit trail and diagram, cancel it;
suspend, resume, terminate it and move it (or several) to another version of its process.

A case the caller may not see answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from server.flows import presenters
from server.flows.cases import selectors, services
from server.flows.definitions import selectors as definitions
from server.flows.definitions.cache import source_for
from server.flows.models import AuditEvent
from server.i18n import current_language

from .base import CASE_ID, Api, body, valid
from .errors import answers
from .fields import (
    INSTANCE_STATUSES,
    ROLES,
    TASK_STATUSES,
    Int64Field,
    NamesSerializer,
    QueryChoiceField,
    QueryTextField,
    ReasonSerializer,
    TextField,
    TimeField,
    UserRefSerializer,
)
from .pagination import PageQuery, page_of, paginate
from .tasks import SummaryFields


class CaseRowSerializer(serializers.Serializer):
    """A case in a list: no tasks, no timers."""

    # context: "names" (definitions.process_names()).

    id = serializers.IntegerField()
    process = serializers.CharField(source="process_key")
    process_name = serializers.SerializerMethodField()
    business_key = serializers.CharField()
    status = serializers.ChoiceField(INSTANCE_STATUSES)
    started_at = TimeField()
    completed_at = TimeField(allow_null=True)
    escalation_level = serializers.IntegerField()

    class Meta:
        ref_name = "InstanceRow"

    @extend_schema_field(NamesSerializer)
    def get_process_name(self, instance) -> dict:
        return dict(self.context["names"].get(instance.process_key, {}))


class CaseTaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    name_en = serializers.SerializerMethodField()
    role = serializers.ChoiceField(ROLES, allow_blank=True, help_text="Blank: no role.")
    assignee = UserRefSerializer(allow_null=True)
    status = serializers.ChoiceField(TASK_STATUSES)
    due_at = TimeField(allow_null=True)

    class Meta:
        ref_name = "InstanceTask"

    def get_name_en(self, task) -> str:
        return task.name_en or task.name


class TimerSerializer(serializers.Serializer):
    # context: "glossary" (the version's English names).
    name = serializers.CharField(help_text="In Chinese.")
    name_en = serializers.SerializerMethodField()
    due_at = TimeField()
    reminder = serializers.BooleanField(help_text="A reminder leaves the task open.")

    class Meta:
        ref_name = "Timer"

    def get_name_en(self, timer) -> str:
        return self.context["glossary"].get(timer.bpmn_id) or timer.name


class MilestoneSerializer(serializers.Serializer):
    key = serializers.CharField(source="milestone.key")
    name = serializers.SerializerMethodField(help_text="In the reader's language.")
    state = serializers.ChoiceField(
        ["done", "current", "todo"], help_text="current: one of its tasks is open now."
    )
    at = TimeField(allow_null=True, help_text="When it was last reached.")
    by = UserRefSerializer(source="actor", allow_null=True, help_text="Who reached it.")

    class Meta:
        ref_name = "Milestone"

    def get_name(self, step) -> str:
        return step["milestone"].name(current_language())


class CaseSerializer(SummaryFields):
    """A case, with its open tasks, the time limits it waits on and its milestones."""

    # context: "tasks" (its open tasks), "timers" and "milestones", read with the case;
    # "contacts".

    id = serializers.IntegerField()
    process = serializers.CharField(source="process_key")
    process_name = serializers.SerializerMethodField()
    version = serializers.IntegerField(
        source="definition.version", help_text="The process version the case runs."
    )
    business_key = serializers.CharField()
    status = serializers.ChoiceField(INSTANCE_STATUSES)
    started_by = UserRefSerializer(allow_null=True)
    started_at = TimeField()
    completed_at = TimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    tasks = serializers.SerializerMethodField(help_text="Its open tasks.")
    timers = serializers.SerializerMethodField(help_text="The time limits it waits on.")
    milestones = serializers.SerializerMethodField(
        help_text="The process's milestones in order (its package's step bar), each with "
        "when and by whom it was reached."
    )

    class Meta:
        ref_name = "Instance"

    @extend_schema_field(NamesSerializer)
    def get_process_name(self, instance) -> dict:
        return dict(source_for(instance.definition_id).names)

    @extend_schema_field(CaseTaskSerializer(many=True))
    def get_tasks(self, instance) -> list:
        return CaseTaskSerializer(self.context["tasks"], many=True).data

    @extend_schema_field(TimerSerializer(many=True))
    def get_timers(self, instance) -> list:
        glossary = source_for(instance.definition_id).glossary
        return TimerSerializer(self.context["timers"], many=True,
                               context={"glossary": glossary}).data  # fmt: skip

    @extend_schema_field(MilestoneSerializer(many=True))
    def get_milestones(self, instance) -> list:
        return MilestoneSerializer(self.context["milestones"], many=True).data


def _case(request, instance_id):
    """The case, if the caller may see it: 404 alike for a case hidden or missing."""
    return selectors.instance_get_for_user(user=request.user, instance_id=instance_id)


def _case_answer(request, instance, *, status_code: int = status.HTTP_200_OK) -> Response:
    def contacts(case) -> bool:
        return selectors.can_see_contacts(user=request.user, instance=case)

    tasks = selectors.instance_open_tasks(instance=instance)
    events = selectors.instance_milestone_events(instance=instance)
    context = {
        "tasks": tasks,
        "timers": selectors.instance_timers(instance=instance),
        "milestones": presenters.progress(source_for(instance.definition_id), events, tasks),
        "contacts": contacts,
    }
    return Response(CaseSerializer(instance, context=context).data, status=status_code)


class EventSerializer(serializers.Serializer):
    """One entry of a case's audit trail."""

    # context: "masker" (None when the caller sees the case's personal data), "definition".

    seq = serializers.IntegerField(help_text="1, 2, 3... within the case.")
    kind = serializers.ChoiceField(AuditEvent.Kind.values)
    at = TimeField()
    actor = UserRefSerializer(allow_null=True)
    task = serializers.UUIDField(source="task_id", allow_null=True)
    data = serializers.SerializerMethodField(
        help_text="What happened. Recorded form data is under `data`; its personal fields "
        "(`x-personal` in the form, at any depth) read `***` unless the caller has a task in "
        "the case (or started it, was escalated to it, or audits). "
        "A file is a reference (`file`, `name`, `type`, `size`, `sha256`): "
        "`GET /api/files/{file}/` serves it."
    )

    class Meta:
        ref_name = "Event"

    def get_data(self, event) -> dict:
        masker = self.context["masker"]
        if masker is None:
            return event.data
        return masker.event_data(event, definition_id=self.context["definition"])


class DiagramSerializer(serializers.Serializer):
    """A case's BPMN and its open and completed tasks."""

    # Serializes presenters.diagram(), which the case page draws too.

    bpmn = serializers.CharField(help_text="The BPMN 2.0 XML of the case's process version.")
    active = serializers.ListField(
        child=serializers.CharField(), help_text="BPMN ids of the open tasks."
    )
    done = serializers.ListField(
        child=serializers.CharField(), help_text="BPMN ids of the completed tasks."
    )

    class Meta:
        ref_name = "Diagram"


class InstanceListApi(Api):
    class FilterSerializer(PageQuery):
        process = QueryTextField(help_text="Only this process (its key).")
        status = QueryChoiceField(
            INSTANCE_STATUSES, required=False, help_text="Only cases in this state."
        )
        q = QueryTextField(help_text="Search: part of the unit, or the name of its current owner.")

    class InputSerializer(serializers.Serializer):
        process = TextField(trim_whitespace=False, help_text="The key of the process to start.")
        data = serializers.DictField(
            required=False,
            help_text="The start form's data (checked against its JSON Schema). Files as data "
            "URLs, kept as references: see `tasks_complete`.",
        )

        class Meta:
            ref_name = "Start"

    OutputSerializer = page_of(CaseRowSerializer, "Instance")

    @extend_schema(
        operation_id="instances_list",
        summary="The cases you may open, newest first",
        tags=["instances"],
        parameters=[FilterSerializer],
        responses=answers(OutputSerializer),
    )
    def get(self, request):
        query = valid(self.FilterSerializer, request.query_params)
        found = selectors.instance_list_for_user(
            user=request.user,
            process=query.get("process", ""),
            status=query.get("status", ""),
            search=query.get("q", ""),
        )
        page = paginate(found, query)
        names = definitions.process_names()
        return Response(self.OutputSerializer(page, context={"names": names}).data)

    @extend_schema(
        operation_id="instances_create",
        summary="Start a case",
        description="Starts the newest version of the process with its start form's data.",
        tags=["instances"],
        request=InputSerializer,
        responses=answers(CaseSerializer, 403, 404, 415, 422, created=True),
    )
    def post(self, request):
        start = body(request, self.InputSerializer)
        instance = services.instance_start(
            process_key=start["process"], started_by=request.user, data=start.get("data")
        )
        return _case_answer(request, instance, status_code=status.HTTP_201_CREATED)


class InstanceDetailApi(Api):
    @extend_schema(
        operation_id="instances_retrieve",
        summary="A case, with its open tasks and timers",
        tags=["instances"],
        parameters=[CASE_ID],
        responses=answers(CaseSerializer, 404),
    )
    def get(self, request, instance_id: str):
        return _case_answer(request, _case(request, instance_id))


class InstanceEventsApi(Api):
    OutputSerializer = page_of(EventSerializer, "Event")

    @extend_schema(
        operation_id="instances_events",
        summary="A case's audit trail, in order",
        description="Personal fields (`x-personal`) in recorded form data read `***` unless "
        "you have a task in the case, started it, were escalated to it, or audit. An "
        "auditor's read of personal values is recorded: see `instances_reads`.",
        tags=["instances"],
        parameters=[CASE_ID, PageQuery],
        responses=answers(OutputSerializer, 404),
    )
    def get(self, request, instance_id: str):
        query = valid(PageQuery, request.query_params)
        instance = _case(request, instance_id)
        page = paginate(selectors.instance_events(instance=instance), query)
        user = request.user
        masker = selectors.event_masker(user=user, instance=instance)
        if masker is None and selectors.personal_values_read(
            user=user, instance=instance, events=page.object_list
        ):
            services.record_personal_read(user=user, instance=instance, what="events_api")
        context = {"masker": masker, "definition": instance.definition_id}
        return Response(self.OutputSerializer(page, context=context).data)


class InstanceDiagramApi(Api):
    @extend_schema(
        operation_id="instances_diagram",
        summary="A case's BPMN diagram, its open and completed tasks",
        tags=["instances"],
        parameters=[CASE_ID],
        responses=answers(DiagramSerializer, 404),
    )
    def get(self, request, instance_id: str):
        instance = _case(request, instance_id)
        diagram = presenters.diagram(
            source_for(instance.definition_id),
            selectors.instance_open_tasks(instance=instance),
            selectors.instance_done_steps(instance=instance),
            current_language(),
        )
        return Response(DiagramSerializer(diagram).data)


class InstanceCancelApi(Api):
    class InputSerializer(serializers.Serializer):
        # Recorded as given; only a reason of nothing but spaces is refused.
        reason = TextField(trim_whitespace=False, help_text="Why the case is cancelled (recorded).")

        class Meta:
            ref_name = "Cancel"

        def validate_reason(self, reason: str) -> str:
            if not reason.strip():
                raise serializers.ValidationError(self.fields["reason"].error_messages["blank"])
            return reason

    @extend_schema(
        operation_id="instances_cancel",
        summary="Cancel a running case (supervisors and managers)",
        tags=["instances"],
        parameters=[CASE_ID],
        request=InputSerializer,
        responses=answers(CaseSerializer, 403, 404, 409, 415, 422),
    )
    def post(self, request, instance_id: str):
        cancel = body(request, self.InputSerializer)
        # Looked up first, for the same reason as assigning a task: a case one may not see
        # answers 404 before the service refuses a non-supervisor.
        instance = _case(request, instance_id)
        services.instance_cancel(
            instance_id=instance.pk, user=request.user, reason=cancel["reason"]
        )
        return _case_answer(
            request, _case(request, instance.pk)
        )  # read again: its tasks and timers went


VERSION_MAX = 2**31 - 1  # the column's range: a larger number names no version


def _version_field() -> Int64Field:
    return Int64Field(max_value=VERSION_MAX, help_text="The process version to move to.")


def _controlled(request, instance_id, service, **values) -> Response:
    """Look the case up first (404 alike for hidden and missing, before the service refuses
    a non-supervisor), act on it, answer it as it is now."""
    instance = _case(request, instance_id)
    service(instance_id=instance.pk, user=request.user, **values)
    return _case_answer(request, _case(request, instance.pk))


class InstanceSuspendApi(Api):
    InputSerializer = ReasonSerializer

    @extend_schema(
        operation_id="instances_suspend",
        summary="Suspend a running case (supervisors and managers)",
        description="Its timers wait and its tasks cannot be claimed, assigned or completed "
        "(409) until it is resumed.",
        tags=["instances"],
        parameters=[CASE_ID],
        request=InputSerializer,
        responses=answers(CaseSerializer, 403, 404, 409, 415),
    )
    def post(self, request, instance_id: str):
        suspend = body(request, self.InputSerializer)
        return _controlled(request, instance_id, services.instance_suspend,
                           reason=suspend["reason"])  # fmt: skip


class InstanceResumeApi(Api):
    @extend_schema(
        operation_id="instances_resume",
        summary="Resume a suspended case (supervisors and managers)",
        description="The time limits that fell due while it was suspended fire now.",
        tags=["instances"],
        parameters=[CASE_ID],
        request=None,
        responses=answers(CaseSerializer, 403, 404, 409),
    )
    def post(self, request, instance_id: str):
        return _controlled(request, instance_id, services.instance_resume)


class InstanceTerminateApi(Api):
    InputSerializer = ReasonSerializer

    @extend_schema(
        operation_id="instances_terminate",
        summary="Terminate a running or suspended case (supervisors and managers)",
        description="The same as cancelling: its open tasks close, its timers go, and the "
        "reason is recorded (`instance_cancelled`).",
        tags=["instances"],
        parameters=[CASE_ID],
        request=InputSerializer,
        responses=answers(CaseSerializer, 403, 404, 409, 415, 422),
    )
    def post(self, request, instance_id: str):
        terminate = body(request, self.InputSerializer)
        return _controlled(request, instance_id, services.instance_terminate,
                           reason=terminate["reason"])  # fmt: skip


class InstanceMigrateApi(Api):
    class InputSerializer(serializers.Serializer):
        version = _version_field()

        class Meta:
            ref_name = "Migrate"

    @extend_schema(
        operation_id="instances_migrate",
        summary="Move a case to another version of its process (supervisors and managers)",
        description="Refused (409, the reasons under `errors.version`) when an open task or "
        "a waited event of the case is missing from that version or of another kind. Open "
        "tasks keep their ids, waiting time limits their due times.",
        tags=["instances"],
        parameters=[CASE_ID],
        request=InputSerializer,
        responses=answers(CaseSerializer, 403, 404, 409, 415),
    )
    def post(self, request, instance_id: str):
        move = body(request, self.InputSerializer)
        return _controlled(request, instance_id, services.instance_migrate,
                           to_version=move["version"])  # fmt: skip


class MigrationResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The case's id.")
    migrated = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why it did not move; blank when it did.")

    class Meta:
        ref_name = "MigrationResult"


class InstancesMigrateApi(Api):
    class InputSerializer(serializers.Serializer):
        instances = serializers.ListField(
            child=Int64Field(), min_length=1, max_length=100,
            help_text="The ids of cases of one process (1 to 100).",
        )  # fmt: skip
        version = _version_field()

        class Meta:
            ref_name = "MigrateMany"

    @extend_schema(
        operation_id="instances_migrate_many",
        summary="Move several cases of one process to another version (supervisors and managers)",
        description="Each case moves in its own step; the answer says per case whether it "
        "moved and, if not, why. An id that names no case you may see is a 404 and nothing "
        "moves.",
        tags=["instances"],
        request=InputSerializer,
        responses=answers(MigrationResultSerializer(many=True), 403, 404, 415),
    )
    def post(self, request):
        move = body(request, self.InputSerializer)
        results = services.instances_migrate(
            instance_ids=move["instances"], to_version=move["version"], user=request.user
        )
        return Response(MigrationResultSerializer(results, many=True).data)
