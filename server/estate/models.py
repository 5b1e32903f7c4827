"""The registry the processes work on: sites, buildings, units and their people.

Owner data is confidential (业主资料属保密事项): it is read through selectors
that check who is asking, never straight from a view.
"""

from django.db import models
from django.utils.translation import pgettext_lazy


class Site(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # The site's own settings (issue 16); blank or empty means the installation's default.
    # Service hours as "08:00-18:00" (PROPFLOW_SERVICE_HOURS when blank).
    service_hours = models.CharField(max_length=11, blank=True)
    # The shifts' hours, comma-separated, e.g. "08:00-18:00,18:00-08:00" (the 24-hour duty
    # desk); blank: one shift, the service hours. Each shift's end-of-shift check runs ten
    # minutes before it ends.
    shifts = models.CharField(max_length=200, blank=True)
    # KPI targets by name (server/reports/kpis.py TARGETS), e.g. {"satisfaction": 0.92}; a
    # KPI not named keeps the sources' figure.
    kpi_targets = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return self.name


class Building(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="building_name")]

    def __str__(self):
        return f"{self.site} {self.name}"


class Unit(models.Model):
    class Status(models.TextChoices):
        # Labels in the reader's language (the Chinese in the pages' catalogue).
        NOT_HANDED_OVER = "not_handed_over", pgettext_lazy("unit", "Not handed over")
        HANDED_OVER = "handed_over", pgettext_lazy("unit", "Handed over")
        RENOVATING = "renovating", pgettext_lazy("unit", "Renovating")
        OCCUPIED = "occupied", pgettext_lazy("unit", "Occupied")
        VACANT = "vacant", pgettext_lazy("unit", "Vacant")

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    code = models.CharField(max_length=32, unique=True)  # e.g. "1-2-301": building-entrance-room
    floor = models.IntegerField()
    area_m2 = models.DecimalField(max_digits=8, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_HANDED_OVER)

    def __str__(self):
        return self.code


class Resident(models.Model):
    class Kind(models.TextChoices):
        OWNER = "owner", pgettext_lazy("resident", "Owner")
        TENANT = "tenant", pgettext_lazy("resident", "Tenant")
        HOUSEHOLD = "household", pgettext_lazy("resident", "Household member")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="residents")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OWNER)
    name = models.CharField(max_length=100)
    phone = models.CharField(max_length=32)
    id_number = models.CharField(max_length=32, blank=True)
    moved_in = models.DateField(null=True, blank=True)
    moved_out = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.unit})"
