"""``/api/tasks/``: the inbox, a task with its form, and working it (claim, put back,
hand back, reassign, complete).

A task the caller may not see answers 404 exactly like one that does not exist; the
services check that under the case's lock, and each action answers the task as the
service handed it back, not read again.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from engine import clock
from server.flows import access, presenters
from server.flows.cases import selectors, services
from server.flows.definitions import selectors as definitions
from server.flows.definitions.cache import source_for, sources_for
from server.flows.models import HumanTask
from server.i18n import current_language
from server.staff import selectors as staff

from .base import TASK_ID, Api, body, valid
from .errors import answers
from .fields import (
    ROLES,
    TASK_STATUSES,
    FlagField,
    Int64Field,
    NamesSerializer,
    QueryChoiceField,
    QueryTextField,
    ReasonSerializer,
    TimeField,
    UserRefSerializer,
)
from .pagination import PageQuery, page_of, paginate


class TagSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The form field the tag shows.")
    label = serializers.CharField(help_text="In the reader's language.")
    alert = serializers.BooleanField(help_text="Its value calls for attention (急修: red).")

    class Meta:
        ref_name = "Tag"


class CallerSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Who called (the caller is often not the owner).")
    phone = serializers.CharField()

    class Meta:
        ref_name = "Caller"


class SummaryFields(serializers.Serializer):
    """What the case is about, on a task or a case: its package's [summary] in the reader's
    language (Accept-Language), from the values the case kept; the caller is contact data."""

    # context: "contacts", a function (row -> may the reader see its case's contacts?).

    summary = serializers.SerializerMethodField(
        help_text="The case in one line, in the reader's language: its tags (急修, the "
        "trade...), then what is wrong and where. Empty for a case of a version before "
        "summaries."
    )
    tags = serializers.SerializerMethodField()
    caller = serializers.SerializerMethodField(
        help_text="Whom to call back; null when you may not see the case's contact data."
    )

    def _shown(self, row) -> dict:
        kept = self.context.setdefault("shown", {})
        if row.pk not in kept:
            instance = getattr(row, "instance", row)
            kept[row.pk] = presenters.summary_answer(
                instance, current_language(), contacts=self.context["contacts"](row)
            )
        return kept[row.pk]

    def get_summary(self, row) -> str:
        return self._shown(row)["summary"]

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, row) -> list:
        return self._shown(row)["tags"]

    @extend_schema_field(CallerSerializer(allow_null=True))
    def get_caller(self, row) -> dict | None:
        return self._shown(row)["caller"]


class TaskSerializer(SummaryFields):
    """A task, as the inbox and every action on a task answer it."""

    # context: "names" (definitions.process_names()), "now" (for `overdue`), "contacts".

    id = serializers.UUIDField()
    instance = serializers.IntegerField(source="instance_id", help_text="The case's id.")
    process = serializers.CharField(source="process_key", help_text="The process key.")
    process_name = serializers.SerializerMethodField()
    business_key = serializers.CharField(
        source="instance.business_key", help_text="The unit the case is about."
    )
    bpmn_id = serializers.CharField()
    name = serializers.CharField(help_text="In Chinese.")
    name_en = serializers.SerializerMethodField()
    role = serializers.ChoiceField(ROLES, allow_blank=True, help_text="Blank: no role.")
    assignee = UserRefSerializer(allow_null=True)
    status = serializers.ChoiceField(TASK_STATUSES)
    due_at = TimeField(allow_null=True)
    created_at = TimeField()
    escalation_level = serializers.IntegerField(
        source="instance.escalation_level",
        help_text="The highest escalation the case reached: 0 none, 2 客服主管, 3 主管副总经理.",
    )
    overdue = serializers.SerializerMethodField(help_text="Open and past its due time.")
    dispatched = serializers.BooleanField(
        help_text="Given to its assignee by name by the process (the technician a dispatcher "
        "chose, a complaint's first receiver): it stays theirs and never goes back to the pool."
    )
    hand_back = serializers.BooleanField(
        help_text="Its process gives it a way back (`POST .../hand-back/` with a reason: a job "
        "goes back to dispatch)."
    )

    class Meta:
        ref_name = "Task"

    @extend_schema_field(NamesSerializer)
    def get_process_name(self, task) -> dict:
        return dict(self.context["names"].get(task.process_key, {}))

    def get_name_en(self, task) -> str:
        return task.name_en or task.name

    def get_overdue(self, task) -> bool:
        due = task.due_at
        return (
            task.status == HumanTask.Status.OPEN and due is not None and due < self.context["now"]
        )


class TaskDetailSerializer(TaskSerializer):
    """A task with its instructions and its form."""

    documentation = serializers.CharField(help_text="Its instructions, in Chinese.")
    documentation_en = serializers.SerializerMethodField(help_text="Its instructions in English.")
    form = serializers.SerializerMethodField(help_text="Its form as JSON Schema.")
    ui_form = serializers.SerializerMethodField()
    completed_at = TimeField(allow_null=True)
    completed_by = UserRefSerializer(allow_null=True)

    class Meta:
        ref_name = "TaskDetail"

    def get_documentation_en(self, task) -> str:
        source = source_for(task.instance.definition_id)
        return source.instructions(task.bpmn_id, task.documentation, "en")

    def get_form(self, task) -> dict | None:
        """The form, its staff pickers (``x-lookup: staff``) filled from today's roster."""
        if not task.form:
            return None
        return staff.with_choices(source_for(task.instance.definition_id).forms.get(task.form))

    def get_ui_form(self, task) -> dict | None:
        if not task.ui_form:
            return None
        return source_for(task.instance.definition_id).forms.get(task.ui_form)


def task_context(user) -> dict:
    roles = access.user_roles(user)

    def contacts(task) -> bool:
        return selectors.task_contacts_visible(user=user, roles=roles, task=task)

    return {"names": definitions.process_names(), "now": clock.now(), "contacts": contacts}


def task_answer(request, task: HumanTask, serializer=TaskSerializer) -> Response:
    return Response(serializer(task, context=task_context(request.user)).data)


class TaskListApi(Api):
    class FilterSerializer(PageQuery):
        scope = QueryChoiceField(
            sorted(selectors.TASK_SCOPES), default="inbox", help_text="Whose tasks."
        )
        process = QueryTextField(help_text="Only this process (its key).")
        unit = QueryTextField(help_text="Only this unit (exactly).")
        overdue = FlagField(help_text="Only tasks past their due time.")
        q = QueryTextField(help_text="Search: part of the unit, or the name of its current owner.")

    OutputSerializer = page_of(TaskSerializer, "Task")

    @extend_schema(
        operation_id="tasks_list",
        summary="Open tasks, overdue first, then by due time",
        description="`inbox` (the default): assigned to you, and your roles' unclaimed ones; "
        "`mine`: assigned to you; `available`: your roles' unclaimed; `all`: every open task "
        "you may see (supervisors and auditors: everyone's).",
        tags=["tasks"],
        parameters=[FilterSerializer],
        responses=answers(OutputSerializer),
    )
    def get(self, request):
        query = valid(self.FilterSerializer, request.query_params)
        found = selectors.task_list_for_user(
            user=request.user, scope=query["scope"], process=query.get("process", ""),
            unit=query.get("unit", ""), overdue=query["overdue"], search=query.get("q", ""),
        )  # fmt: skip
        page = paginate(found, query)
        page.object_list = list(page.object_list)
        sources_for({t.instance.definition_id for t in page.object_list})  # one read at most
        return Response(self.OutputSerializer(page, context=task_context(request.user)).data)


class TaskDetailApi(Api):
    @extend_schema(
        operation_id="tasks_retrieve",
        summary="A task, with its form",
        tags=["tasks"],
        parameters=[TASK_ID],
        responses=answers(TaskDetailSerializer, 404),
    )
    def get(self, request, task_id: str):
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return task_answer(request, task, TaskDetailSerializer)


class TaskClaimApi(Api):
    @extend_schema(
        operation_id="tasks_claim",
        summary="Claim a task of your role",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=None,
        responses=answers(TaskSerializer, 403, 404, 409),
    )
    def post(self, request, task_id: str):
        return task_answer(request, services.task_claim(task_id=task_id, user=request.user))


class TaskUnclaimApi(Api):
    @extend_schema(
        operation_id="tasks_unclaim",
        summary="Put a task you claimed back in its role's pool",
        description="Not for a task given to you by name (`dispatched`): hand that back with a "
        "reason (`.../hand-back/`).",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=None,
        responses=answers(TaskSerializer, 404, 409),
    )
    def post(self, request, task_id: str):
        return task_answer(request, services.task_unclaim(task_id=task_id, user=request.user))


class TaskHandBackApi(Api):
    InputSerializer = ReasonSerializer  # the reason is recorded; one of only spaces refused

    @extend_schema(
        operation_id="tasks_hand_back",
        summary="Hand back a task you hold, saying why (退回)",
        description="A task whose process gives it a way back (`hand_back`: a technician's job) "
        "goes back that way, to dispatch, with the reason on the case's timeline and in its "
        "data; a task you claimed from your role's pool goes back to the pool; a task given to "
        "you by name with no way back answers 409. A work order is never refused, only "
        "handed back.",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=InputSerializer,
        responses=answers(TaskSerializer, 400, 404, 409, 415, 422),
    )
    def post(self, request, task_id: str):
        hand = body(request, self.InputSerializer)
        done = services.task_hand_back(task_id=task_id, user=request.user, reason=hand["reason"])
        return task_answer(request, done)


class TaskAssignApi(Api):
    class InputSerializer(serializers.Serializer):
        assignee = Int64Field(help_text="The id of an active user holding the task's role.")

        class Meta:
            ref_name = "Assign"

    @extend_schema(
        operation_id="tasks_assign",
        summary="Give a task to a holder of its role (supervisors and managers)",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=InputSerializer,
        responses=answers(TaskSerializer, 403, 404, 409, 415),
    )
    def post(self, request, task_id: str):
        assign = body(request, self.InputSerializer)
        # Looked up first: the service refuses a non-supervisor before it looks for the task,
        # and a task one may not see must answer 404 like a missing one.
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        done = services.task_assign(
            task_id=task.pk, user=request.user, assignee_id=assign["assignee"]
        )
        return task_answer(request, done)


class TaskCompleteApi(Api):
    class InputSerializer(serializers.Serializer):
        data = serializers.DictField(
            required=False,
            help_text="The task's form data (checked against its JSON Schema). A file field "
            "takes a data URL (`data:image/jpeg;name=photo.jpg;base64,...`: PNG, JPEG, GIF, "
            "WebP or PDF); the case keeps a reference to it (`file`, `name`, `type`, `size`, "
            "`sha256`), its bytes at `/api/files/{file}/`.",
        )

        class Meta:
            ref_name = "Complete"

    @extend_schema(
        operation_id="tasks_complete",
        summary="Complete a task with its form's data",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=InputSerializer,
        responses=answers(TaskSerializer, 403, 404, 409, 415, 422),
    )
    def post(self, request, task_id: str):
        complete = body(request, self.InputSerializer)
        done = services.task_complete(
            task_id=task_id, user=request.user, data=complete.get("data", {})
        )
        return task_answer(request, done)
