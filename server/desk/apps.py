from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "server.desk"
    label = "desk"
    verbose_name = "Service desk"
