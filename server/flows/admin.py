from django.contrib import admin

from .models import (
    AuditEvent,
    HumanTask,
    Notification,
    NotificationDelivery,
    ProcessDefinition,
    ProcessInstance,
    Timer,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Changes go through the services, never straight into rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("key", "version", "content_hash", "deployed_at", "deployed_by")
    list_filter = ("key",)


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(ReadOnlyAdmin):
    list_display = ("id", "process_key", "business_key", "status", "started_by", "started_at")
    list_filter = ("process_key", "status")
    search_fields = ("business_key",)
    exclude = ("state",)


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "process_key", "instance", "role", "assignee", "status", "due_at")
    list_filter = ("status", "role", "process_key")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("instance", "seq", "kind", "at", "actor", "task")
    list_filter = ("kind",)


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    """What is scheduled, what a worker holds now, and what keeps failing (last_error)."""

    list_display = ("instance", "name", "reminder", "due_at", "claimed_until", "attempts",
                    "last_error")  # fmt: skip
    list_filter = ("reminder",)
    ordering = ("due_at",)


class DeliveryInline(admin.TabularInline):
    """Where each channel stands for this notification: sent, or why not yet."""

    model = NotificationDelivery
    fields = ("channel", "address", "sent_at", "attempts", "next_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "recipient", "kind", "instance", "task", "created_at", "read_at")
    list_filter = ("kind",)
    inlines = (DeliveryInline,)


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    """The outbox of every channel: what is unsent (Sent at: empty), and the last error."""

    list_display = ("notification", "channel", "address", "sent_at", "attempts", "next_at",
                    "error")  # fmt: skip
    list_filter = ("channel", ("sent_at", admin.EmptyFieldListFilter))
    list_select_related = ("notification",)
    search_fields = ("address",)
