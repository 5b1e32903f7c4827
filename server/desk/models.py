"""The desk's records: each row is what a person at the desk wrote, kept as written."""

from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy


class HotlineCall(models.Model):
    """One call or visit at the desk (每日《客户服务部值班接待纪录》): enquiries, advice and
    praise stay here; a complaint or repair becomes a case and keeps its link."""

    class Kind(models.TextChoices):
        ENQUIRY = "enquiry", pgettext_lazy("call", "Enquiry")
        ADVICE = "advice", pgettext_lazy("call", "Advice")
        PRAISE = "praise", pgettext_lazy("call", "Praise")
        COMPLAINT = "complaint", pgettext_lazy("call", "Complaint")
        REPAIR = "repair", pgettext_lazy("call", "Repair")
        OTHER = "other", pgettext_lazy("call", "Other")

    class Channel(models.TextChoices):
        PHONE = "phone", pgettext_lazy("call", "Phone")
        WALK_IN = "walk_in", pgettext_lazy("call", "Walk-in")
        ONLINE = "online", pgettext_lazy("call", "Online")

    site = models.ForeignKey("estate.Site", null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PHONE)
    unit = models.CharField(max_length=32, blank=True)  # a unit's code, when the caller gave one
    # Personal data: shown only to who may see owners' contacts (estate's rule).
    caller = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    summary = models.TextField()
    reply = models.TextField(blank=True)  # what the desk answered, for an enquiry
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The case it became (a complaint or a repair), set once by the conversion.
    case = models.OneToOneField(
        "flows.ProcessInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # While a conversion is starting its case (a lease, not a lock held across the start):
    # a second conversion of the same call meanwhile is refused, not started twice.
    converting_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class ShiftCheck(models.Model):
    """The end-of-shift check of one site's shift (每天下班前十分鐘調度員應核查當天工作單完成
    情況): written once, ten minutes before the shift ends, listing what is still open; the
    dispatcher says why each item is unfinished, then completes it."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("shift check", "To check")
        COMPLETED = "completed", pgettext_lazy("shift check", "Checked")

    site = models.ForeignKey("estate.Site", on_delete=models.PROTECT, related_name="+")
    shift = models.CharField(max_length=11)  # "18:00-08:00", as the site's setting said
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # One check per shift and site: two beat workers, or a retry, find it written.
        constraints = [models.UniqueConstraint(fields=["site", "ends_at"], name="shift_check_once")]
        ordering = ["-ends_at", "-id"]

    def __str__(self):
        return f"{self.site_id} {self.shift} {self.ends_at:%Y-%m-%d}"


class ShiftCheckItem(models.Model):
    """One unfinished thing of a check: an open work order (a repair case) or a late task
    of another process, as it stood when the check was written."""

    class Kind(models.TextChoices):
        WORK_ORDER = "work_order", pgettext_lazy("shift check", "Open work order")
        LATE_TASK = "late_task", pgettext_lazy("shift check", "Late task")

    shift_check = models.ForeignKey(ShiftCheck, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    instance = models.ForeignKey(
        "flows.ProcessInstance", on_delete=models.PROTECT, related_name="+"
    )
    process_key = models.CharField(max_length=64)
    unit = models.CharField(max_length=128, blank=True)  # the case's business key
    step = models.CharField(max_length=200, blank=True)  # its open tasks' names, Chinese
    step_en = models.CharField(max_length=200, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)  # the earliest open task's limit
    late = models.BooleanField(default=False)
    reason = models.TextField(blank=True)  # why it is unfinished: the dispatcher's words
    annotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    annotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shift_check", "instance"], name="shift_check_item_once"
            )
        ]
        ordering = ["id"]

    def __str__(self):
        return f"{self.unit or self.instance_id}: {self.step}"


class Handover(models.Model):
    """The hand-over record (交接班记录) the leaving shift writes for the next one: kept as
    written; only who acknowledged it, and when, is added afterwards."""

    shift_check = models.OneToOneField(
        ShiftCheck, on_delete=models.PROTECT, related_name="handover"
    )
    site = models.ForeignKey("estate.Site", on_delete=models.PROTECT, related_name="+")
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(db_index=True)
    pending = models.TextField()  # what is pending
    reasons = models.TextField(blank=True)  # why
    remarks = models.TextField(blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-written_at", "-id"]

    def __str__(self):
        return f"{self.written_by_id} -> {self.to_user_id} {self.written_at:%Y-%m-%d %H:%M}"
