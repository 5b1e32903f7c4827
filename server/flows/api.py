"""The REST API: each view parses input, calls one service or selector, renders.

Every error answers JSON ``{"detail": "...", "errors": {field: [messages]}}``. Lists answer
a page: ``{"count", "page", "pages", "results"}``. The OpenAPI document (``/api/schema/``,
``/api/docs/``) is built from the ``extend_schema`` of each view and :mod:`.api_schema`.
"""

from __future__ import annotations

import logging

from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from engine import clock
from server import lockout
from server.db.transient import transient
from server.i18n import current_language

from . import access, presenters
from . import api_schema as doc
from .cases import selectors, services
from .definitions import selectors as definitions
from .definitions.cache import source_for
from .errors import Invalid, NotFound, ServiceError
from .models import ProcessInstance
from .notifications import selectors as notifications
from .notifications.services import mark_read

log = logging.getLogger(__name__)
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_IDS = 1000  # notifications marked read at once


def exception_handler(exc, context):
    if transient(exc):
        # A lost or restarted database, a backend an operator terminated: the step rolled
        # back (or never began) and the connection is replaced on the next request.
        log.warning("Database unavailable for %s: %s", context["request"].path, exc)
        return Response(
            {"detail": _("The database is not answering just now; try again in a moment.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"},
        )  # fmt: skip
    if isinstance(exc, ServiceError):
        body = {"detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, drf_exceptions.ParseError):
        response.data = {"detail": f"The request body is not valid JSON: {exc.detail}"}
    elif response is not None and isinstance(exc, drf_exceptions.ValidationError):
        errors = response.data
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        first = errors.get("non_field_errors") or ["The request has errors; see each field."]
        response.data = {"detail": str(first[0]), "errors": errors}
    return response


# -- input ---------------------------------------------------------------------------------


class JsonParser(JSONParser):
    """Bad JSON is a 400 however it is bad (nested too deep, an unknown charset too)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except (RecursionError, LookupError) as err:
            raise drf_exceptions.ParseError(str(err)) from None


NOT_STORABLE = "Text may not contain NUL characters or unpaired surrogates."


def _storable(value) -> bool:
    """No NUL character and no lone surrogate in any text: the database refuses both."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _utf8(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class Api(APIView):
    # JSON in, JSON out; text the database cannot store is refused before a view reads it.
    parser_classes = [JsonParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not _storable(kwargs):
            raise NotFound("Not found.")
        if not _storable(dict(request.query_params.lists())):
            raise Invalid(NOT_STORABLE)


def _body(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise Invalid("The request body must be a JSON object.")
    if not _storable(request.data):
        raise Invalid(NOT_STORABLE)
    return request.data


def _form_data(body: dict):
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise Invalid("The form data must be a JSON object.", {"data": ["Must be an object."]})
    return data


def _number(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10 and 1 <= int(raw) <= maximum):
        raise Invalid(
            f"{name} must be a whole number from 1 to {maximum}.",
            {name: [f"Must be a whole number from 1 to {maximum}."]},
        )
    return int(raw)


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "")
    if raw not in ("", "0", "1", "false", "true"):
        raise Invalid(f"{name} must be 1 or 0.", {name: ["Must be 1, true, 0 or false."]})
    return raw in ("1", "true")


def _text(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:100]


def _page(request: Request, found, render) -> dict:
    """One page of the queryset ``found``, each row through ``render``."""
    size = _number(request, "page_size", PAGE_SIZE, MAX_PAGE_SIZE)
    paginator = Paginator(found, size)
    number = _number(request, "page", 1, paginator.num_pages)
    return {
        "count": paginator.count,
        "page": number,
        "pages": paginator.num_pages,
        "results": [render(row) for row in paginator.page(number).object_list],
    }


# -- documentation -------------------------------------------------------------------------

ERRORS = {
    400: "The request is malformed, or fields are wrong (see `errors`).",
    401: "Not authenticated: send `Authorization: Token <key>`.",
    403: "Authenticated, but your roles do not allow this.",
    404: "It does not exist, or you may not see it (the two answer alike).",
    409: "The state changed: already done, claimed by someone else, or not running.",
    422: "The process definition itself failed; nothing was changed.",
}


def _answers(ok, *errors: int, created: bool = False) -> dict:
    """The documented responses: ``ok`` and the error statuses (401 always)."""
    return {
        201 if created else 200: ok,
        **{
            code: OpenApiResponse(doc.ErrorSerializer, ERRORS[code])
            for code in sorted({401, *errors})
        },
    }


def _path(name: str, kind, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.PATH, description=description)


def _query(name: str, kind, description: str, **more) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, **more)


TASK_ID = _path("task_id", OpenApiTypes.UUID, "The task's id.")
INSTANCE_ID = _path("instance_id", OpenApiTypes.INT, "The case's id.")
PAGING = [
    _query("page", OpenApiTypes.INT, "The page, from 1 (the default) to `pages`."),
    _query("page_size", OpenApiTypes.INT, f"Rows a page, 1 to {MAX_PAGE_SIZE} (default 25)."),
]
SEARCH = _query("q", str, "Search: part of the unit, or the name of its current owner.")


# -- auth ----------------------------------------------------------------------------------


class _TokenInput(AuthTokenSerializer):
    # No longer than a username can be: what was tried is recorded (django-axes), in 255.
    username = serializers.CharField(max_length=150, write_only=True)


class TokenApi(ObtainAuthToken):
    parser_classes = [FormParser, MultiPartParser, JsonParser]
    serializer_class = _TokenInput

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get your API token",
        description="The same token each time; send it as `Authorization: Token <token>`.",
        tags=["auth"],
        auth=[],
        request=doc.LoginSerializer,
        responses={
            200: doc.TokenSerializer,
            400: OpenApiResponse(doc.ErrorSerializer, "Wrong username or password."),
            429: OpenApiResponse(
                doc.ErrorSerializer,
                "Too many wrong passwords for this username or from this address: "
                "refused, even with the right password, for the seconds in `Retry-After`.",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        if not _storable(request.data):
            raise Invalid(NOT_STORABLE)
        try:
            return super().post(request, *args, **kwargs)
        except drf_exceptions.ValidationError:
            # django-axes marked this DRF request, which its middleware never sees.
            if lockout.locked_out(request):
                raise lockout.LockedOut(request) from None
            raise


# -- processes -----------------------------------------------------------------------------


class ProcessListApi(Api):
    @extend_schema(
        operation_id="processes_list",
        summary="The deployed processes (newest version of each)",
        tags=["processes"],
        responses=_answers(doc.ProcessSerializer(many=True)),
    )
    def get(self, request):
        roles = access.user_roles(request.user)
        return Response([
            presenters.process(d, can_start=bool(roles & set(d.start_roles)))
            for d in definitions.process_list()
        ])  # fmt: skip


class ProcessDetailApi(Api):
    @extend_schema(
        operation_id="processes_retrieve",
        summary="A process, with its start form",
        tags=["processes"],
        parameters=[_path("key", str, "The process key, e.g. `repair`.")],
        responses=_answers(doc.ProcessDetailSerializer, 404),
    )
    def get(self, request, key: str):
        definition = definitions.process_get(key=key)
        can_start = bool(access.user_roles(request.user) & set(definition.start_roles))
        return Response(presenters.process(definition, can_start=can_start, detail=True))


# -- instances (cases) ---------------------------------------------------------------------


def _case(request, instance_id) -> ProcessInstance:
    """The case, if the user may see it: 404 alike for a case that is hidden or missing."""
    return selectors.instance_get_for_user(user=request.user, instance_id=instance_id)


def _instance_response(request, instance_id, *, status_code: int = 200) -> Response:
    instance = _case(request, instance_id)
    body = presenters.instance(
        instance,
        selectors.instance_open_tasks(instance=instance),
        selectors.instance_timers(instance=instance),
    )
    return Response(body, status=status_code)


class InstanceListApi(Api):
    @extend_schema(
        operation_id="instances_list",
        summary="The cases you may open, newest first",
        tags=["instances"],
        parameters=[
            _query("process", str, "Only this process (its key)."),
            _query("status", str, "Only cases in this state.", enum=ProcessInstance.Status.values),
            SEARCH,
            *PAGING,
        ],
        responses=_answers(doc.InstancePageSerializer, 400),
    )
    def get(self, request):
        found = selectors.instance_list_for_user(
            user=request.user,
            process=_text(request, "process"),
            status=_text(request, "status"),
            search=_text(request, "q"),
        )
        names = definitions.process_names()
        return Response(_page(request, found, lambda i: presenters.instance_row(i, names)))

    @extend_schema(
        operation_id="instances_create",
        summary="Start a case",
        description="Starts the newest version of the process with its start form's data.",
        tags=["instances"],
        request=doc.StartSerializer,
        responses=_answers(doc.InstanceSerializer, 400, 403, 404, 422, created=True),
    )
    def post(self, request):
        body = _body(request)
        process_key = body.get("process")
        if not isinstance(process_key, str) or not process_key:
            problem = "This field is required." if process_key in (None, "") else "Must be text."
            raise Invalid("Name the process to start.", {"process": [problem]})
        instance = services.instance_start(
            process_key=process_key, started_by=request.user, data=_form_data(body)
        )
        return _instance_response(request, instance.pk, status_code=status.HTTP_201_CREATED)


class InstanceDetailApi(Api):
    @extend_schema(
        operation_id="instances_retrieve",
        summary="A case, with its open tasks and timers",
        tags=["instances"],
        parameters=[INSTANCE_ID],
        responses=_answers(doc.InstanceSerializer, 404),
    )
    def get(self, request, instance_id: str):
        return _instance_response(request, instance_id)


class InstanceEventsApi(Api):
    @extend_schema(
        operation_id="instances_events",
        summary="A case's audit trail, in order",
        description="Contact fields in recorded form data read `***` unless you have a task "
        "in the case, started it, or audit.",
        tags=["instances"],
        parameters=[INSTANCE_ID],
        responses=_answers(doc.EventSerializer(many=True), 404),
    )
    def get(self, request, instance_id: str):
        instance = _case(request, instance_id)
        events = selectors.instance_events(instance=instance)
        hide = None
        if not selectors.can_see_contacts(user=request.user, instance=instance):
            hide = source_for(instance.definition_id)
        return Response([presenters.event(e, withhold_contacts_of=hide) for e in events])


class InstanceDiagramApi(Api):
    @extend_schema(
        operation_id="instances_diagram",
        summary="A case's BPMN diagram, its open and completed tasks",
        tags=["instances"],
        parameters=[INSTANCE_ID],
        responses=_answers(doc.DiagramSerializer, 404),
    )
    def get(self, request, instance_id: str):
        instance = _case(request, instance_id)
        return Response(
            presenters.diagram(
                source_for(instance.definition_id),
                selectors.instance_open_tasks(instance=instance),
                selectors.instance_done_steps(instance=instance),
            )
        )


class InstanceCancelApi(Api):
    @extend_schema(
        operation_id="instances_cancel",
        summary="Cancel a running case (supervisors and managers)",
        tags=["instances"],
        parameters=[INSTANCE_ID],
        request=doc.CancelSerializer,
        responses=_answers(doc.InstanceSerializer, 400, 403, 404, 409, 422),
    )
    def post(self, request, instance_id: str):
        instance = _case(request, instance_id)
        reason = _body(request).get("reason", "")
        if not isinstance(reason, str):
            raise Invalid("Say why the case is cancelled.", {"reason": ["Must be text."]})
        services.instance_cancel(instance_id=instance.pk, user=request.user, reason=reason)
        return _instance_response(request, instance.pk)


# -- tasks ---------------------------------------------------------------------------------


class TaskListApi(Api):
    @extend_schema(
        operation_id="tasks_list",
        summary="Open tasks, overdue first, then by due time",
        description="`inbox` (the default): assigned to you, and your roles' unclaimed ones; "
        "`mine`: assigned to you; `available`: your roles' unclaimed; `all`: every open task "
        "you may see (supervisors and auditors: everyone's).",
        tags=["tasks"],
        parameters=[
            _query("scope", str, "Whose tasks.", enum=selectors.TASK_SCOPES, default="inbox"),
            _query("process", str, "Only this process (its key)."),
            _query("unit", str, "Only this unit (exactly)."),
            _query("overdue", OpenApiTypes.BOOL, "Only tasks past their due time."),
            SEARCH,
            *PAGING,
        ],
        responses=_answers(doc.TaskPageSerializer, 400),
    )
    def get(self, request):
        found = selectors.task_list_for_user(
            user=request.user,
            scope=request.query_params.get("scope") or "inbox",
            process=_text(request, "process"),
            unit=_text(request, "unit"),
            overdue=_flag(request, "overdue"),
            search=_text(request, "q"),
        )
        names, now = definitions.process_names(), clock.now()
        return Response(
            _page(request, found, lambda t: presenters.task(t, process_names=names, now=now))
        )


class TaskDetailApi(Api):
    @extend_schema(
        operation_id="tasks_retrieve",
        summary="A task, with its form",
        tags=["tasks"],
        parameters=[TASK_ID],
        responses=_answers(doc.TaskDetailSerializer, 404),
    )
    def get(self, request, task_id: str):
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return Response(
            presenters.task(task, detail=True, process_names=definitions.process_names())
        )


def _task_act(request, task_id: str, action, **arguments) -> Response:
    """Do ``action`` on a task the user may see (a task they may not see answers 404 exactly
    like a missing one), then answer the task as it is now."""
    task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    action(task_id=task.pk, user=request.user, **arguments)
    task = selectors.task_get_for_user(user=request.user, task_id=task.pk)
    return Response(presenters.task(task, process_names=definitions.process_names()))


class TaskClaimApi(Api):
    @extend_schema(
        operation_id="tasks_claim",
        summary="Claim a task of your role",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=None,
        responses=_answers(doc.TaskSerializer, 403, 404, 409),
    )
    def post(self, request, task_id: str):
        return _task_act(request, task_id, services.task_claim)


class TaskUnclaimApi(Api):
    @extend_schema(
        operation_id="tasks_unclaim",
        summary="Hand back a task you claimed",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=None,
        responses=_answers(doc.TaskSerializer, 404, 409),
    )
    def post(self, request, task_id: str):
        return _task_act(request, task_id, services.task_unclaim)


class TaskAssignApi(Api):
    @extend_schema(
        operation_id="tasks_assign",
        summary="Give a task to a holder of its role (supervisors and managers)",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=doc.AssignSerializer,
        responses=_answers(doc.TaskSerializer, 400, 403, 404, 409),
    )
    def post(self, request, task_id: str):
        assignee = _body(request).get("assignee")
        return _task_act(request, task_id, services.task_assign, assignee_id=assignee)


class TaskCompleteApi(Api):
    @extend_schema(
        operation_id="tasks_complete",
        summary="Complete a task with its form's data",
        tags=["tasks"],
        parameters=[TASK_ID],
        request=doc.CompleteSerializer,
        responses=_answers(doc.TaskSerializer, 400, 403, 404, 409, 422),
    )
    def post(self, request, task_id: str):
        data = _form_data(_body(request))
        return _task_act(request, task_id, services.task_complete, data=data)


# -- notifications -------------------------------------------------------------------------


class NotificationListApi(Api):
    """The caller's notifications, newest first (``?unread=1``: unread only), in the
    request's language, with the unread count."""

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first, in your language",
        tags=["notifications"],
        parameters=[_query("unread", OpenApiTypes.BOOL, "Only the unread ones.")],
        responses=_answers(doc.NotificationListSerializer, 400),
    )
    def get(self, request):
        unread_only = _flag(request, "unread")
        found = notifications.for_user(user=request.user, unread_only=unread_only)
        language = current_language()
        return Response({
            "unread": notifications.unread_count(user=request.user),
            "results": [presenters.notification(n, language) for n in found[:100]],
        })  # fmt: skip


class NotificationReadApi(Api):
    """Mark notifications read: ``{"ids": [1, 2]}``, or ``{}`` for all of the caller's."""

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark notifications read (the ones named, or all of yours)",
        tags=["notifications"],
        request=doc.MarkReadSerializer,
        responses=_answers(doc.NotificationsMarkedSerializer, 400, 404),
    )
    def post(self, request):
        ids = _body(request).get("ids")
        if ids is not None and (
            not isinstance(ids, list)
            or len(ids) > MAX_IDS
            or not all(type(i) is int and 0 < i < 2**63 for i in ids)
        ):
            raise Invalid(
                "Give the notifications as a list of ids.",
                {"ids": [f"Must be a list of at most {MAX_IDS} notification ids."]},
            )
        marked = mark_read(user=request.user, notification_ids=ids)
        return Response(
            {
                "marked": marked,
                "unread": notifications.unread_count(user=request.user),
            }
        )
