"""The process studio (property managers): the editor of a process package, a form's
preview, and two versions side by side.

The pages are shells for the studio's JavaScript (``server/web/frontend/src``, bundled by
``make setup``), which reads and writes the package through ``/api/processes/``; the
server renders only what is already its own: a form drawn from its JSON Schema
(``web/_form.html``, as the task pages draw it) and the changes in words.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import get_script_prefix
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engine.forms import schema_problems
from engine.roles import ROLES
from server.flows import access
from server.flows.definitions import selectors as definitions
from server.flows.definitions.changes import version_changes
from server.flows.errors import Forbidden, NotFound
from server.i18n import current_language

from .. import schema_form, timeline
from .common import form_context, not_found

# The longest form schema the preview reads (the biggest shipped form is about 4 kB).
PREVIEW_LIMIT = 200_000


def _manager(request):
    try:
        access.check_can_manage_processes(request.user)
    except Forbidden as err:
        raise PermissionDenied(err.message) from err


def _newest(key: str):
    try:
        return definitions.latest_definition(key)
    except NotFound as err:
        not_found(err)


def _roles(lang: str) -> list[tuple[str, str]]:
    return [(r.key, timeline.role_label(r.key, lang)) for r in ROLES]


def _shell(definition) -> dict:
    """What both pages hand their script besides the CSRF token (the template's: the cookie
    is HttpOnly): the process and where the API's processes are."""
    return {
        "key": definition.key,
        "name": definition.name(current_language()),
        "api": get_script_prefix() + "api/processes/",
    }


@login_required
def studio_index(request):
    """Every deployed process, to open in the editor or to compare with its version before."""
    _manager(request)
    lang = current_language()
    rows = [
        {
            "key": d.key,
            "name": d.name(lang),
            "version": d.version,
            "deployed_at": d.deployed_at,
            "retired": d.retired,
        }
        for d in definitions.process_list(include_retired=True)
    ]
    return render(request, "web/studio.html", {"processes": rows})


@login_required
def studio_edit(request, key: str):
    """The editor on the process's draft, or its newest version; a process never deployed
    opens when it has a draft (a refused upload kept as one)."""
    _manager(request)
    try:
        definition = definitions.latest_definition(key)
    except NotFound as err:
        try:
            definitions.draft_get(key=key)
        except NotFound:
            not_found(err)
        definition = None
    lang = current_language()
    shell = _shell(definition) if definition is not None else {
        "key": key, "name": key, "api": get_script_prefix() + "api/processes/"}  # fmt: skip
    context = {
        **shell,
        "version": definition.version if definition is not None else "",
        "roles": _roles(lang),
        "text": _editor_text(),
    }
    return render(request, "web/studio_edit.html", context)


@login_required
@require_POST
def studio_form_preview(request, key: str):
    """The form a JSON Schema draws (the ``schema`` field of an htmx POST), or why it
    cannot be drawn."""
    _manager(request)
    text = request.POST.get("schema", "")
    problems, form = [], None
    if len(text) > PREVIEW_LIMIT:
        problems = [_("The form is longer than %(n)d characters.") % {"n": PREVIEW_LIMIT}]
    else:
        try:
            schema = json.loads(text)
        except ValueError as err:
            problems = [_("Not JSON: %(error)s") % {"error": err}]
        else:
            problems = schema_problems(schema)
            if not problems:
                lang = current_language()
                form = form_context(schema, schema_form.to_raw(schema, {}), {}, lang)
    return render(
        request, "web/studio_form_preview.html", {"form": form, "problems": problems, "key": key}
    )


@login_required
def studio_diff(request, key: str, a: int, b: int):
    _manager(request)
    definition = _newest(key)
    if not (1 <= a <= definition.version and 1 <= b <= definition.version):
        missing = b if a <= definition.version else a
        not_found(NotFound(_("Process %(key)s has no version %(n)d.") % {"key": key, "n": missing}))
    context = {
        **_shell(definition),
        "a": a,
        "b": b,
        "newest": definition.version,
        "changes_in_words": changes_in_words(definition.key, a, b),
        "text": _diff_text(),
    }
    return render(request, "web/studio_diff.html", context)


def changes_in_words(key: str, a: int, b: int) -> list[str] | None:
    """The changed time limits, roles, forms and tasks between versions ``a`` and ``b`` in
    the reader's language, one sentence each, listed above the diagrams."""
    return version_changes(key=key, a=a, b=b, language=current_language())


def _editor_text() -> dict[str, str]:
    """The editor script's words, in the page's language."""
    return {
        "load_failed": _("The process could not be loaded (HTTP %(status)s)."),
        "import_failed": _("The diagram could not be read: %(message)s"),
        "loaded_draft": _("Your saved draft is open."),
        "loaded_version": _("Version %(version)s is open; nothing is saved until you save."),
        "draft_saved": _("Draft saved."),
        "failed": _("The server refused it (HTTP %(status)s): %(detail)s"),
        "validating": _("Validating…"),
        "deploying": _("Deploying…"),
        "has_problems": _("The package has problems; see the list."),
        "valid": _("No problems found: it can be deployed."),
        "deployed": _("Deployed as version %(version)s."),
        "unchanged": _("Nothing changed: version %(version)s is the same."),
        "see_diff": _("See the changes from version %(a)s to %(b)s"),
        "line": _("line"),
        "no_form": _("— no form —"),
        "unmapped": _("— not mapped —"),
        "lane": _("lane"),
        "group": _("candidate group"),
        "bad_form_name": _("A form's name has letters, digits, - and _ only."),
        **_rehearsal_text(),
    }


def _rehearsal_text() -> dict[str, str]:
    """The words of the editor's rehearsals: the run, its timeline, its expectations."""
    return {
        "rehearsing": _("Saving the draft and rehearsing…"),
        "no_rehearsal": _("The package has no rehearsal: add one as rehearsals/<name>.json."),
        "rehearsal_not_json": _("%(file)s is not JSON: %(error)s"),
        "rehearsal_invalid": _("The rehearsal cannot be played:"),
        "draft_invalid": _("The draft has problems, so it cannot be rehearsed; see the list."),
        "rehearsal_passed": _("%(file)s: every expectation met (%(count)s)."),
        "rehearsal_failed": _("%(file)s: %(failed)s of %(count)s expectations not met."),
        "rehearsal_summary": _("At the end the case is %(status)s, at escalation level %(level)s."),
        "rehearsal_no_level": _("At the end the case is %(status)s and was never escalated."),
        "status_running": _("still running"),
        "status_completed": _("completed"),
        "col_at": _("Time"),
        "col_step": _("Step"),
        "col_what": _("What happened"),
        "col_task": _("Task"),
        "col_role": _("Role"),
        "col_due": _("Due"),
        "col_level": _("Level"),
        "col_told": _("Who is told"),
        "start": _("start"),
        "kind_started": _("The case starts"),
        "kind_advanced": _("The clock moves on from %(from)s"),
        "kind_task_appeared": _("Task opens"),
        "kind_task_completed": _("Task completed"),
        "kind_task_cancelled": _("Task cancelled"),
        "kind_timer_fired": _("Time limit reached: %(name)s"),
        "kind_reminder_fired": _("Reminder: %(name)s"),
        "kind_escalated": _("Escalated to level %(level)s: %(role)s"),
        "kind_notified": _("Notice: %(name)s"),
        "kind_effect": _("Would call %(operation)s"),
        "kind_ended": _("The case ends: %(status)s"),
        "expectations": _("Expectations"),
        "passed": _("met"),
        "failed_expectation": _("not met"),
        "expect_tasks": _("open tasks"),
        "expect_status": _("status"),
        "expect_escalation": _("escalation level"),
        "expect_notified": _("who is told"),
        "expect_fired": _("time limits fired"),
        "expect_due": _("due times"),
        "expect_data": _("process data"),
    }


def _diff_text() -> dict[str, str]:
    return {
        "load_failed": _("The versions could not be loaded (HTTP %(status)s)."),
        "added": _("added"),
        "removed": _("removed"),
        "changed": _("changed"),
        "layout": _("moved"),
    }
