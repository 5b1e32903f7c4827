"""``POST /api/auth/token/``: a username and password for the user's API token."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from server import lockout

from .base import JsonParser, body
from .errors import ErrorSerializer
from .fields import TextField


class TokenApi(APIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [FormParser, MultiPartParser, JsonParser]

    class InputSerializer(AuthTokenSerializer):
        # No longer than a username can be: what was tried is recorded (django-axes), in 255.
        username = TextField(max_length=150, write_only=True)
        password = TextField(
            trim_whitespace=False, write_only=True, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "Login"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(
            source="key", help_text="Send it as `Authorization: Token <token>` with every request."
        )

        class Meta:
            ref_name = "Token"

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get your API token",
        description="The same token each time; send it as `Authorization: Token <token>`.",
        tags=["auth"],
        auth=[],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(ErrorSerializer, "Wrong username or password."),
            415: OpenApiResponse(
                ErrorSerializer, "The body is neither JSON nor a form (see its Content-Type)."
            ),
            429: OpenApiResponse(
                ErrorSerializer,
                "Too many wrong passwords for this username or from this address: "
                "refused, even with the right password, for the seconds in `Retry-After`.",
            ),
        },
    )
    def post(self, request):
        try:
            login = body(request, self.InputSerializer, {"request": request})
        except exceptions.ValidationError:
            # django-axes marked this DRF request, which its middleware never sees.
            if lockout.locked_out(request):
                raise lockout.LockedOut(request) from None
            raise
        token, _ = Token.objects.get_or_create(user=login["user"])
        return Response(self.OutputSerializer(token).data)
