"""A task's page: what the case recorded, the task's form, completing it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from engine import clock
from server.flows import access
from server.flows.cases import selectors, services
from server.flows.definitions.cache import source_for
from server.flows.errors import Invalid, NotFound, ServiceError
from server.i18n import current_language
from server.staff import selectors as staff

from .. import schema_form
from .common import case_context, due, form_context, not_found, role_name, task_name


@login_required
def task_page(request, task_id):
    try:
        task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    except NotFound as err:
        not_found(err)
    source = source_for(task.instance.definition_id)
    schema = staff.with_choices(source.forms.get(task.form)) if task.form else None
    lang = current_language()
    raw, errors, status = schema_form.to_raw(schema or {}, {}), {}, 200
    if request.method == "POST":
        done, raw, errors = _submit(request, task, schema or {}, lang)
        if done is not None:
            return done
        status = 400
    context = {
        "task": task, "name": task_name(task), "instance": task.instance,
        "instructions": source.instructions(task.bpmn_id, task.documentation, lang),
        "process": source.name(lang), "role": role_name(task.role),
        "due": due(task, clock.now()), "can_act": access.can_act(request.user, task),
        "is_supervisor": access.is_supervisor(request.user),
        "form": schema and form_context(schema, raw, errors, lang),
        "candidates": selectors.assign_candidates(user=request.user, task=task),
        **case_context(request.user, task.instance, source, lang, page="task_page"),
    }  # fmt: skip
    return render(request, "web/task.html", context, status=status)


def _submit(request, task, schema: dict, lang: str):
    """Complete ``task`` with the posted form: (the page to go to, or None to show the form
    again with what was typed and the errors; raw values; errors)."""
    if not access.can_act(request.user, task):
        messages.error(request, _("This task is not yours to complete."))
        return redirect("web:task", task_id=task.pk), {}, {}
    data, raw, errors = schema_form.parse(schema, request.POST, request.FILES, lang)
    if not errors:
        try:
            services.task_complete(task_id=task.pk, user=request.user, data=data)
        except Invalid as err:
            errors = err.errors or {"non_field_errors": [err.message]}
        except NotFound as err:
            not_found(err)
        except ServiceError as err:
            messages.error(request, err.message)
            return redirect("web:task", task_id=task.pk), raw, errors
        else:
            return _after_complete(request, task), raw, errors
    messages.error(
        request, _("The form has errors; nothing was saved. See the fields marked below.")
    )
    return None, raw, errors


def _after_complete(request, task):
    """Straight on to the case's next task when it is the user's, else back to the inbox."""
    done = _("Done: “%(task)s”.") % {"task": task_name(task)}
    nxt = selectors.next_task_for(user=request.user, instance=task.instance)
    if nxt is not None:
        messages.success(request, done + " " + _("Next: “%(task)s”.") % {"task": task_name(nxt)})
        return redirect("web:task", task_id=nxt.pk)
    messages.success(request, done)
    return redirect("web:inbox")
