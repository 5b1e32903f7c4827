"""Writes of the desk's records: a shift checked, its items annotated, a hand-over written and
acknowledged; a call logged or turned into a case."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from engine import clock
from server.estate.models import Unit
from server.flows import access
from server.flows.errors import Conflict, Forbidden, Invalid, NotFound
from server.flows.models import Notification, ProcessInstance
from server.flows.notifications import delivery

from . import selectors
from .models import Handover, HotlineCall, ShiftCheck, ShiftCheckItem


def _required(**fields: str) -> None:
    """400 naming each of ``fields`` left blank."""
    if blank := [name for name, value in fields.items() if not (value or "").strip()]:
        raise Invalid(
            _("The form has errors; nothing was saved."),
            {name: [_("This field is required.")] for name in blank},
        )


# -- the end-of-shift check ----------------------------------------------------------------------


def shift_checks_run(*, now: datetime | None = None) -> list[ShiftCheck]:
    """Write each site's due end-of-shift checks not yet written, and tell the dispatchers
    on duty and the supervisors. Safe to run twice at once: a check is written once."""
    now = now or clock.now()
    due = selectors.shifts_due(now=now)
    written = selectors.checks_written(due)
    made = []
    for shift in due:
        if (shift.site.pk, shift.ends_at) in written:
            continue
        if check := shift_check_create(shift=shift, now=now):
            made.append(check)
    return made


def shift_check_create(*, shift: selectors.Shift, now: datetime) -> ShiftCheck | None:
    """The check of ``shift`` with its items and notifications, in one transaction; None when
    another worker wrote it first (the unique constraint says so)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                check = ShiftCheck.objects.create(
                    site=shift.site, shift=shift.label, starts_at=shift.starts_at,
                    ends_at=shift.ends_at, created_at=now,
                )  # fmt: skip
        except IntegrityError:
            return None
        items = selectors.open_items(site=shift.site, now=now)
        ShiftCheckItem.objects.bulk_create([
            ShiftCheckItem(
                shift_check=check, kind=i.kind, instance_id=i.instance_id,
                process_key=i.process_key, unit=i.unit, step=i.step, step_en=i.step_en,
                due_at=i.due_at, late=i.late,
            ) for i in items
        ])  # fmt: skip
        _notify(check, items, now)
    return check


def _notify(check: ShiftCheck, items: list[selectors.OpenItem], now: datetime) -> None:
    """The list to each dispatcher on duty, the counts to each supervisor: by unit and step,
    never an owner's name or phone."""
    facts = {
        "check": check.pk, "site": check.site.name, "shift": check.shift,
        "ends_at": check.ends_at.isoformat(), "open": len(items),
        "late": sum(1 for i in items if i.late),
    }  # fmt: skip
    listed = [
        {"case": i.instance_id, "unit": i.unit, "step": [i.step, i.step_en], "late": i.late,
         "kind": i.kind}
        for i in items
    ]  # fmt: skip
    dispatchers = list(selectors.dispatchers_on_duty())
    told = {u.pk for u in dispatchers}
    rows = [_notice(u, {**facts, "items": listed}, now) for u in dispatchers]
    rows += [
        _notice(u, {**facts, "summary": True}, now)
        for u in selectors.supervisors() if u.pk not in told
    ]  # fmt: skip
    Notification.objects.bulk_create(rows)
    if delivery.queue_saved(rows):
        transaction.on_commit(delivery.kick)


def _notice(user: User, data: dict, now: datetime) -> Notification:
    return Notification(
        recipient=user, instance=None, task=None, kind=Notification.Kind.SHIFT_CHECK,
        data=data, created_at=now,
    )  # fmt: skip


def _open_check(check_id) -> ShiftCheck:
    check = ShiftCheck.objects.select_for_update().filter(pk=check_id).first()
    if check is None:
        raise NotFound(_("Shift check %(id)s does not exist.") % {"id": check_id})
    if check.status != ShiftCheck.Status.OPEN:
        raise Conflict(_("This shift check is already completed; nothing was changed."))
    return check


def item_annotate(*, user, item_id, reason: str) -> ShiftCheckItem:
    """Say why an item is unfinished (again, while its check is open)."""
    selectors.check_writes_shifts(user)
    key = selectors.parse_id(item_id)
    item = ShiftCheckItem.objects.filter(pk=key).first() if key else None
    if item is None:
        raise NotFound(_("Item %(id)s of a shift check does not exist.") % {"id": item_id})
    _required(reason=reason)
    with transaction.atomic():
        _open_check(item.shift_check_id)
        item.reason, item.annotated_by, item.annotated_at = reason.strip(), user, clock.now()
        item.save(update_fields=["reason", "annotated_by", "annotated_at"])
    return item


def check_complete(*, user, check_id) -> ShiftCheck:
    """Complete a check whose every item says why it is unfinished."""
    selectors.check_writes_shifts(user)
    key = selectors.parse_id(check_id)
    with transaction.atomic():
        check = _open_check(key) if key else None
        if check is None:
            raise NotFound(_("Shift check %(id)s does not exist.") % {"id": check_id})
        if missing := list(check.items.filter(reason="").values_list("pk", flat=True)):
            raise Invalid(
                _("Say why each item is unfinished before completing the check."),
                {"reason": [_("Item %(id)s has no reason.") % {"id": i} for i in missing]},
            )
        check.status, check.completed_by = ShiftCheck.Status.COMPLETED, user
        check.completed_at = clock.now()
        check.save(update_fields=["status", "completed_by", "completed_at"])
    return check


def handover_create(*, user, check_id, to_user: str, pending: str, reasons: str = "",
                    remarks: str = "") -> Handover:  # fmt: skip
    """The leaving dispatcher's hand-over of a completed check to the next shift's."""
    selectors.check_writes_shifts(user)
    key = selectors.parse_id(check_id)
    check = ShiftCheck.objects.filter(pk=key).first() if key else None
    if check is None:
        raise NotFound(_("Shift check %(id)s does not exist.") % {"id": check_id})
    _required(pending=pending, to_user=to_user)
    receiver = selectors.dispatcher_choices().filter(username=to_user).first()
    if receiver is None or receiver.pk == user.pk:
        raise Invalid(
            _("The form has errors; nothing was saved."),
            {"to_user": [_("Choose another dispatcher on the roster.")]},
        )
    if check.status != ShiftCheck.Status.COMPLETED:
        raise Conflict(_("Complete the shift check before writing its hand-over."))
    try:
        with transaction.atomic():
            return Handover.objects.create(
                shift_check=check, site_id=check.site_id, written_by=user, to_user=receiver,
                written_at=clock.now(), pending=pending.strip(), reasons=reasons.strip(),
                remarks=remarks.strip(),
            )  # fmt: skip
    except IntegrityError:
        already = _("This shift's hand-over is already written; it is kept as written.")
        raise Conflict(already) from None


def handover_acknowledge(*, user, handover_id) -> Handover:
    """The next shift has read it: who and when, once. The dispatcher it was written to, or
    another dispatcher standing in; never its writer."""
    handover = selectors.handover_get(user=user, handover_id=handover_id)
    if user.pk != handover.to_user_id and (
        selectors.DISPATCHER not in access.user_roles(user) or user.pk == handover.written_by_id
    ):
        raise Forbidden(_("Only the next shift's dispatcher may acknowledge this hand-over."))
    now = clock.now()
    done = Handover.objects.filter(pk=handover.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=now
    )
    if not done:
        raise Conflict(_("This hand-over is already acknowledged; nothing was changed."))
    handover.acknowledged_by, handover.acknowledged_at = user, now
    return handover


# -- the hotline log -----------------------------------------------------------------------------

CONVERSION_LEASE = timedelta(minutes=2)


def call_create(*, user, kind: str, summary: str, channel: str = HotlineCall.Channel.PHONE,
                unit: str = "", caller: str = "", phone: str = "",
                reply: str = "") -> HotlineCall:  # fmt: skip
    """Log a call or visit (值班接待纪录), at the desk's clock."""
    selectors.check_writes_hotline(user)
    _required(summary=summary)
    errors = {}
    if kind not in HotlineCall.Kind.values:
        errors["kind"] = [_("Unknown kind of call.")]
    if channel not in HotlineCall.Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    site_id = None
    if unit := unit.strip():
        found = Unit.objects.filter(code=unit).values_list("building__site_id", flat=True)
        if not found:
            errors["unit"] = [_("No such unit on the register.")]
        else:
            site_id = found[0]
    if errors:
        raise Invalid(_("The form has errors; nothing was saved."), errors)
    return HotlineCall.objects.create(
        site_id=site_id, at=clock.now(), kind=kind, channel=channel, unit=unit,
        caller=caller.strip(), phone=phone.strip(), summary=summary.strip(),
        reply=reply.strip(), taken_by=user,
    )  # fmt: skip


def call_claim(*, user, call_id) -> tuple[HotlineCall, str]:
    """Take a complaint or repair call for conversion: a lease that refuses a second
    conversion (409) while this one starts its case. Returns the call and its process."""
    selectors.check_writes_hotline(user)
    call = selectors.call_get(user=user, call_id=call_id)
    process = selectors.CONVERTIBLE.get(call.kind)
    if process is None:
        raise Conflict(_("Only a complaint or a repair call becomes a case."))
    now = clock.now()
    claimed = (
        HotlineCall.objects.filter(pk=call.pk, case__isnull=True)
        .exclude(converting_until__gt=now).update(converting_until=now + CONVERSION_LEASE)
    )  # fmt: skip
    if not claimed:
        raise Conflict(_("This call is already a case; nothing was started."))
    return call, process


def call_release(*, call: HotlineCall) -> None:
    """The case did not start: the call may be converted again."""
    HotlineCall.objects.filter(pk=call.pk, case__isnull=True).update(converting_until=None)


def call_link(*, call: HotlineCall, instance: ProcessInstance) -> None:
    """The case the call became: set once."""
    HotlineCall.objects.filter(pk=call.pk, case__isnull=True).update(
        case=instance, converting_until=None
    )
    call.case = instance
