"""The REST API: each view parses input, calls one service or selector, renders.

Every error answers JSON ``{"detail": "...", "errors": {field: [messages]}}``.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import translation
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import access, notifications, presenters, selectors, services
from .errors import Invalid, ServiceError


def exception_handler(exc, context):
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
    return response


def _body(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise Invalid("The request body must be a JSON object.")
    return request.data


def _form_data(body: dict):
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise Invalid("The form data must be a JSON object.", {"data": ["Must be an object."]})
    return data


class ProcessListApi(APIView):
    def get(self, request):
        roles = access.user_roles(request.user)
        return Response([
            presenters.process(d, can_start=bool(roles & set(d.start_roles)))
            for d in selectors.process_list()
        ])  # fmt: skip


class ProcessDetailApi(APIView):
    def get(self, request, key: str):
        definition = selectors.process_get(key=key)
        can_start = bool(access.user_roles(request.user) & set(definition.start_roles))
        return Response(presenters.process(definition, can_start=can_start, detail=True))


class InstanceListApi(APIView):
    def post(self, request):
        body = _body(request)
        process_key = body.get("process")
        if not isinstance(process_key, str) or not process_key:
            raise Invalid("Name the process to start.", {"process": ["This field is required."]})
        instance = services.instance_start(
            process_key=process_key, started_by=request.user, data=_form_data(body)
        )
        return Response(self._render(request, instance.pk), status=status.HTTP_201_CREATED)

    @staticmethod
    def _render(request, instance_id: str) -> dict:
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
        return presenters.instance(
            instance,
            selectors.instance_open_tasks(instance=instance),
            selectors.instance_timers(instance=instance),
        )


class InstanceDetailApi(APIView):
    def get(self, request, instance_id: str):
        return Response(InstanceListApi._render(request, instance_id))


class InstanceEventsApi(APIView):
    def get(self, request, instance_id: str):
        instance = selectors.instance_get_for_user(user=request.user, instance_id=instance_id)
        return Response([presenters.event(e) for e in selectors.instance_events(instance=instance)])


class TaskListApi(APIView):
    def get(self, request):
        scope = request.query_params.get("scope", "mine")
        tasks = selectors.task_list_for_user(user=request.user, scope=scope)
        return Response([presenters.task(t) for t in tasks[:500]])


class TaskDetailApi(APIView):
    def get(self, request, task_id: str):
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
        return Response(presenters.task(task, detail=True))


def _task_response(request, task_id: str) -> Response:
    task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    return Response(presenters.task(task))


class TaskClaimApi(APIView):
    def post(self, request, task_id: str):
        services.task_claim(task_id=task_id, user=request.user)
        return _task_response(request, task_id)


class TaskUnclaimApi(APIView):
    def post(self, request, task_id: str):
        services.task_unclaim(task_id=task_id, user=request.user)
        return _task_response(request, task_id)


class TaskCompleteApi(APIView):
    def post(self, request, task_id: str):
        services.task_complete(task_id=task_id, user=request.user, data=_form_data(_body(request)))
        return _task_response(request, task_id)


class NotificationListApi(APIView):
    """The caller's notifications, newest first (``?unread=1``: unread only), in the
    request's language, with the unread count."""

    def get(self, request):
        unread_only = request.query_params.get("unread") in ("1", "true")
        found = selectors.notification_list_for_user(user=request.user, unread_only=unread_only)
        language = translation.get_language() or "zh-hans"
        return Response({
            "unread": selectors.notification_unread_count(user=request.user),
            "results": [presenters.notification(n, language) for n in found[:100]],
        })  # fmt: skip


class NotificationReadApi(APIView):
    """Mark notifications read: ``{"ids": [1, 2]}``, or ``{}`` for all of the caller's."""

    def post(self, request):
        ids = _body(request).get("ids")
        if ids is not None and (
            not isinstance(ids, list) or not all(type(i) is int and 0 < i < 2**63 for i in ids)
        ):
            raise Invalid(
                "Give the notifications as a list of ids.",
                {"ids": ["Must be a list of notification ids."]},
            )
        marked = notifications.mark_read(user=request.user, notification_ids=ids)
        return Response(
            {"marked": marked, "unread": selectors.notification_unread_count(user=request.user)}
        )
