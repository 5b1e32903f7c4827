from django.contrib import admin

from .models import StaffProfile


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "trade", "phone", "on_duty")
    list_filter = ("trade", "on_duty")
    search_fields = ("user__username", "display_name", "display_name_en", "phone")
