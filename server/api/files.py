"""``/api/files/{file_id}/``: a file a case recorded (a photo, a drawing, a signature).

A form's file field takes a data URL; the case's data and its events keep a reference
(``file``, ``name``, ``type``, ``size``, ``sha256``), and this path serves the bytes to those
who may see the case, and a signature or a contact field's file only to those who may see
its contacts. Anyone else gets the 404 of a file that does not exist.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from engine.forms import FILE_TYPES
from server.files import services as files
from server.flows.cases import selectors, services

from .base import FILE_ID, Api
from .errors import answers

_BYTES = OpenApiResponse(OpenApiTypes.BINARY, "The file's bytes, of the type it was checked as.")


class FileApi(Api):
    def perform_content_negotiation(self, request, force=False):
        # An Accept of image/* is how a browser asks for a picture; errors still answer JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="files_retrieve",
        summary="A file recorded in a case",
        tags=["files"],
        parameters=[FILE_ID],
        responses={
            **{(200, media_type): _BYTES for media_type in FILE_TYPES},
            **{code: answer for code, answer in answers(None, 404).items() if code != 200},
        },
    )
    def get(self, request, file_id: str):
        found = selectors.attachment_get_for_user(user=request.user, attachment_id=file_id)
        services.attachment_served(user=request.user, attachment=found)
        return files.response(found)
