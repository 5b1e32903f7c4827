from django.contrib import admin

from .models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance


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
    list_display = ("id", "process_key", "business_key", "status", "started_by", "started_at",
                    "next_due_at")  # fmt: skip
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
