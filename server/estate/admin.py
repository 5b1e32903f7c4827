from django.contrib import admin

from .models import Building, Resident, Site, Unit


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "site")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "building", "floor", "status")
    list_filter = ("status", "building")
    search_fields = ("code",)


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "unit")
    search_fields = ("name", "unit__code")
