"""What every API view shares: JSON in and out, text the database can store, the token
read with the user's roles, and validation through an operation's own serializers."""

from __future__ import annotations

import math

from django.db.models import F
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from server.flows import access
from server.flows.errors import Invalid

from .fields import INT64_MAX


class JsonParser(JSONParser):
    """Bad JSON is a 400 however it is bad (nested too deep, an unknown charset too)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except (RecursionError, LookupError) as err:
            raise exceptions.ParseError(str(err)) from None


def storable(value) -> bool:
    """No NUL character or lone surrogate in any text, no infinite number (``1e999``): the
    database refuses all three, so they are refused before anything reads them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _utf8(item):
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
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


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check, with the user's roles read in the same query (one row per group)
    instead of a second one when the view first asks for them."""

    def authenticate_credentials(self, key):
        rows = list(
            Token.objects.filter(key=key).select_related("user")
            .annotate(group_name=F("user__groups__name"))
        )  # fmt: skip
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = rows[0].user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        access.user_roles_known(user, [r.group_name for r in rows if r.group_name])
        return user, rows[0]


class Api(APIView):
    """JSON in, JSON out; a path with text the database cannot store names nothing that
    exists (404), like any other unknown id."""

    parser_classes = [JsonParser]
    authentication_classes = [TokenAuthentication, authentication.SessionAuthentication]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not storable(kwargs):
            raise exceptions.NotFound()


def valid(serializer_class, data, context: dict | None = None) -> dict:
    """``data`` (a query string or a body) checked by ``serializer_class``: its validated
    data, or a 400 naming each field that was wrong. What it does not declare is ignored."""
    serializer = serializer_class(data=data, context=context or {})
    serializer.is_valid(raise_exception=True)
    found = serializer.validated_data
    # Text fields refuse NUL and lone surrogates themselves; free-form data (a form's) here.
    if not storable(found):
        raise Invalid(
            _("Text may not contain NUL characters or unpaired surrogates."),
            {name: [_("Must be text the database can store.")] for name in found
             if not storable(found[name])},
        )  # fmt: skip
    return found


def body(request, serializer_class, context: dict | None = None) -> dict:
    """The request's JSON body checked by ``serializer_class``."""
    return valid(serializer_class, request.data, context)


def _path(name: str, kind, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.PATH, description=description)


TASK_ID = _path("task_id", OpenApiTypes.UUID, "The task's id.")
FILE_ID = _path("file_id", OpenApiTypes.UUID, "The file's id: `file` in its reference.")
CASE_ID = _path(
    "instance_id",
    {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64_MAX},
    "The case's id.",
)
