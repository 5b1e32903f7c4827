"""The site's own error answers: a database that is not answering is a 503 to retry, not a
500 (see :mod:`server.db.transient`); under ``/api/`` every one is the API's JSON.

Django calls :func:`server_error` for any exception nothing else handled (pages, and
middleware before or after the API's own handler), inside the ``except`` block, so the
exception is at hand; :func:`page_not_found` for a path no view answers.
"""

from __future__ import annotations

import logging
import sys

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

from server.db.transient import transient

log = logging.getLogger(__name__)


def server_error(request, *args, **kwargs):
    error = sys.exc_info()[1]
    if error is None or not transient(error):
        return django_server_error(request, *args, **kwargs)
    log.warning("Database unavailable for %s: %s", request.path, error)
    message = _("The database is not answering just now; try again in a moment.")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(
            f"<!doctype html><title>503</title><p>{message}</p>", status=503,
            content_type="text/html; charset=utf-8",
        )  # fmt: skip
    response["Retry-After"] = "1"
    return response


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        # DRF's words for a thing that is not there, which its catalogue translates.
        return JsonResponse({"detail": _("Not found.")}, status=404)
    # Our own 404s carry a sentence in the reader's language; a path no view answers
    # (Resolver404, a subclass) carries Django's English data: not shown.
    said = exception.args[0] if type(exception) is Http404 and exception.args else ""
    return _page(request, "404.html", said if isinstance(said, str) else "", 404)


def permission_denied(request, exception=None):
    said = exception.args[0] if exception is not None and exception.args else ""
    return _page(request, "403.html", said if isinstance(said, str) else "", 403)


def _page(request, template: str, message: str, status: int):
    """The site's error page in the reader's language; before ``collectstatic`` has run
    (production's manifest of static files missing), the same words on a plain page."""
    try:
        return render(request, template, {"message": message}, status=status)
    except ValueError:  # "Missing staticfiles manifest entry"
        return render(request, "error_plain.html", {"message": message, "status": status},
                      status=status)  # fmt: skip


def csrf_failure(request, reason: str = ""):
    """A form sent without its CSRF token (an old tab, cookies off): a page in the reader's
    language that says what to do, not Django's English one."""
    message = _("This form is out of date or your browser did not send its cookie. Go back, "
                "reload the page and send it again (nothing was saved).")  # fmt: skip
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    title = _("The form could not be sent")
    return HttpResponse(
        f"<!doctype html><title>403</title><h1>{title}</h1><p>{message}</p>", status=403,
        content_type="text/html; charset=utf-8",
    )  # fmt: skip
