"""Every error the API answers, as ``{"detail": "...", "errors": {field: [messages]}}`` in
the reader's language (``Accept-Language``; zh-hans by default, en).

DRF's own messages (a missing field, a wrong type, an unknown method) come translated from
its catalogue; ours go through gettext into server/web/locale.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from server.db.transient import transient
from server.flows.errors import ServiceError

log = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """Every error: a message, and the messages of each field that was wrong."""

    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field name → its messages (only when fields were wrong).",
    )

    class Meta:
        ref_name = "Error"


ERRORS = {
    400: "The request is malformed, or fields are wrong (see `errors`).",
    401: "Not authenticated: send `Authorization: Token <key>`.",
    403: "Authenticated, but your roles do not allow this.",
    404: "It does not exist, or you may not see it (the two answer alike).",
    409: "The state changed: already done, claimed by someone else, or not running.",
    415: "The body is not JSON (its Content-Type says otherwise, or says nothing).",
    422: "The process definition itself failed; nothing was changed.",
}


def answers(ok, *errors: int, created: bool = False) -> dict:
    """The documented responses of an operation: ``ok`` and its error statuses (401 always,
    400 always: every operation reads query parameters or a body it may refuse)."""
    return {
        201 if created else 200: ok,
        **{
            code: OpenApiResponse(ErrorSerializer, ERRORS[code])
            for code in sorted({400, 401, *errors})
        },
    }


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
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        # Django's own limits on a request, raised while DRF reads it: JSON, as every error.
        return Response({"detail": _("The request is too large: %(error)s") % {"error": exc}},
                        status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # DRF's words, translated, whatever Django's said
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ParseError):
        message = _("The request body is not valid JSON: %(error)s") % {"error": exc.detail}
        response.data = {"detail": message}
    elif response is not None and isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        first = errors.get("non_field_errors") or [_("The request has errors; see each field.")]
        response.data = {"detail": first[0], "errors": errors}
    return response


def field_errors(detail) -> dict[str, list[str]]:
    """DRF's errors as field → messages: the messages of a list's items or a mapping's
    values go under the field itself, the shape the document declares."""
    if not isinstance(detail, dict):
        return {"non_field_errors": _messages(detail)}
    return {str(name): _messages(value) for name, value in detail.items()}


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]
