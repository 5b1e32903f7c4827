from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "server.staff"
    label = "staff"
    verbose_name = "Site roster"
