from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "server.files"
    label = "files"
    verbose_name = "Attachments"
    default_auto_field = "django.db.models.BigAutoField"
