"""Starting a case (新建): the processes my roles may start, and their start forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from server.desk import intake
from server.desk import selectors as hotline
from server.flows import access
from server.flows.cases import selectors, services
from server.flows.definitions import selectors as definitions
from server.flows.definitions.cache import source_for
from server.flows.errors import Invalid, NotFound, ServiceError
from server.i18n import current_language

from .. import schema_form
from .common import form_context, not_found


@login_required
def start_menu(request):
    roles = access.user_roles(request.user)
    lang = current_language()
    startable = [
        {"key": d.key, "name": d.name(lang),
         "help": schema_form.label(d.source.forms.get(d.source.start_form) or {}, lang,
                                   "description")}
        for d in definitions.process_list() if roles & set(d.start_roles)
    ]  # fmt: skip
    return render(request, "web/start.html", {"processes": startable})


@login_required
def start_form(request, key: str):
    try:
        definition = definitions.process_get(key=key)
    except NotFound as err:
        not_found(err)
    source = source_for(definition.pk)
    if not access.user_roles(request.user) & set(source.start_roles):
        raise Http404(_("There is no such process to start."))
    lang = current_language()
    schema = source.forms.get(source.start_form) if source.start_form else {}
    call = _call(request, key)
    initial = hotline.call_start_data(call) if call else {}
    raw, errors, status = schema_form.to_raw(schema, initial), {}, 200
    if request.method == "POST":
        data, raw, errors = schema_form.parse(schema, request.POST, request.FILES, lang)
        if not errors:
            try:
                instance = _start(request.user, key, data, call)
            except Invalid as err:
                errors = err.errors or {"non_field_errors": [err.message]}
            except ServiceError as err:
                errors = {"non_field_errors": [err.message]}
            else:
                return _after_start(request, instance, source.name(lang))
        status = 400
        messages.error(
            request, _("The form has errors; nothing was saved. See the fields marked below.")
        )
    context = {
        "process": source.name(lang), "key": key, "call": call,
        "form": form_context(schema, raw, errors, lang),
    }  # fmt: skip
    return render(request, "web/start_form.html", context, status=status)


def _call(request, key: str):
    """The hotline call this start turns into a case (``?call=``), when it is one of
    ``key``'s kind and may be read; else none (a plain start)."""
    call_id = request.GET.get("call") or request.POST.get("hotline_call")
    if not call_id:
        return None
    try:
        call = hotline.call_get(user=request.user, call_id=call_id)
    except ServiceError:
        return None
    return call if hotline.CONVERTIBLE.get(call.kind) == key else None


def _start(user, key: str, data: dict, call):
    if call is None:
        return services.instance_start(process_key=key, started_by=user, data=data)
    return intake.call_convert(user=user, call_id=call.pk, data=data)


def _after_start(request, instance, process: str):
    messages.success(
        request, _("Case #%(id)s started: %(process)s.") % {"id": instance.pk, "process": process}
    )
    nxt = selectors.next_task_for(user=request.user, instance=instance)
    if nxt is not None:
        return redirect("web:task", task_id=nxt.pk)
    return redirect("web:case", instance_id=instance.pk)
