from django.apps import AppConfig
from django.core import checks


class EstateConfig(AppConfig):
    name = "server.estate"
    label = "estate"
    verbose_name = "Units and owners"

    def ready(self):
        from server import operations

        operations.discover("server.estate.operations")  # what processes may ask of it
        checks.register(operations.handlers_match)
