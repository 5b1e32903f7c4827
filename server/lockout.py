"""Repeated wrong passwords: django-axes counts them, this module decides and answers.

Failures are counted per username (``AXES_FAILURE_LIMIT``, 5) and per client address
(``PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT``, 30) within the cool-off
(``AXES_COOLOFF_TIME``, 15 minutes). The address's limit is the higher one because a
service centre's desks reach the site through one address: one person's typos lock that
person, not the desk next to them, while a run of guesses at many names from one address
still stops. During a lockout even the right password is refused, and each refused attempt
starts the cool-off again.

Both ways in answer 429 with ``Retry-After`` (seconds) and the reason in the reader's
language: the sign-in pages (ours and the admin's) through ``AxesMiddleware`` and
:func:`page_response`; ``POST /api/auth/token/`` with :class:`LockedOut`, because axes
marks the request ``authenticate()`` was given, which for DRF is its ``Request`` wrapper
that the middleware never sees. ``manage.py axes_reset_username <name>``,
``axes_reset_ip <address>`` or ``axes_reset`` (everything) end lockouts at once. Axes logs
each failure and each lockout (logger ``axes``, WARNING) with the username and address.
"""

from __future__ import annotations

import ipaddress
from math import ceil

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.shortcuts import render
from django.utils.translation import ngettext
from rest_framework.exceptions import APIException


def _failures(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class LockoutHandler(AxesDatabaseHandler):
    """Axes's database handler with a limit of its own for the address."""

    def get_failures(self, request, credentials=None) -> int:
        """The username's failures; an address past its own limit counts as the username's
        limit reached (axes compares this one number with ``AXES_FAILURE_LIMIT``)."""
        by_user, by_address = map(_failures, self.get_user_attempts(request, credentials))
        if by_address >= settings.PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(by_user, get_failure_limit(request, credentials))
        return by_user


def locked_out(request) -> bool:
    return bool(getattr(request, "axes_locked_out", False))


def retry_after(request=None) -> int:
    """Seconds until the lockout ends at the latest: each refused attempt restarts it."""
    return ceil(get_cool_off(request).total_seconds())


def message(seconds: int) -> str:
    minutes = max(1, ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)s minute; "
        "an administrator can unlock the account sooner.",
        "Too many failed sign-in attempts. Try again in %(minutes)s minutes; "
        "an administrator can unlock the account sooner.",
        minutes,
    ) % {"minutes": minutes}


def client_address(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the address failures are counted against.

    Behind proxies the address is ``PROPFLOW_PROXY_COUNT`` entries from the right of
    ``PROPFLOW_CLIENT_IP_HEADER``: what the outermost of the site's own proxies saw. Entries
    further left come from the client and could say anything. A request without the header
    (one that bypassed the proxy) or with something that is no address counts against
    ``REMOTE_ADDR``.
    """
    remote = request.META.get("REMOTE_ADDR")
    header = settings.PROPFLOW_CLIENT_IP_HEADER
    if header == "REMOTE_ADDR":
        return remote
    entries = [e.strip() for e in request.META.get(header, "").split(",")]
    count = settings.PROPFLOW_PROXY_COUNT
    if len(entries) < count:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-count]))
    except ValueError:
        return remote


def page_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page again, saying why, as 429."""
    seconds = retry_after(request)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "lockout": message(seconds),
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


class LockedOut(APIException):
    """The token endpoint's answer during a lockout: the API's error body, 429, and
    ``Retry-After`` (DRF's exception handler sends ``wait`` as that header)."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self, request):
        self.wait = retry_after(request)
        super().__init__(message(self.wait))
