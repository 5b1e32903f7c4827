"""An attachment of a case: a photo, a drawing, a signature."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required

from server.files import services as files
from server.flows.cases import selectors, services
from server.flows.errors import NotFound

from .common import not_found


@login_required
def attachment(request, file_id: str):
    """The file, to whoever may see its case (and its contacts, for a signature); a 404
    page like a missing file's to anyone else."""
    try:
        found = selectors.attachment_get_for_user(user=request.user, attachment_id=file_id)
    except NotFound as err:
        not_found(err)
    services.attachment_served(user=request.user, attachment=found)
    return files.response(found)
