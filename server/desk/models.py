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

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
