"""The site roster: who works here, in which trade, and who is on duty now.

Roles stay Django groups (engine.roles); a profile adds what a dispatcher needs to choose
a person: a name people use, a trade, a phone and whether they are on shift.
"""

from django.conf import settings
from django.db import models


class Trade(models.TextChoices):
    # The repair request's trades (processes/repair/forms/repair_request.json), plus none.
    WATER_ELECTRIC = "water_electric", "水电"
    BUILDING = "building", "土建"
    SMART = "smart", "智能化"
    LIFT = "lift", "电梯"
    OTHER = "other", "其他"
    NONE = "", "—"


TRADE_NAMES = {
    "water_electric": ("水电", "Water / electric"),
    "building": ("土建", "Building"),
    "smart": ("智能化", "Smart systems"),
    "lift": ("电梯", "Lift"),
    "other": ("其他", "Other"),
    "": ("", ""),
}


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    display_name = models.CharField(max_length=50, blank=True)  # e.g. 王建国
    display_name_en = models.CharField(max_length=50, blank=True)  # e.g. Wang Jianguo
    trade = models.CharField(max_length=20, choices=Trade.choices, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    # On shift now: offered first when dispatching. Kept by supervisors on the roster page.
    on_duty = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.display_name or self.user.get_username()
