from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "server.flows"
    label = "flows"
    verbose_name = "Processes"

    def ready(self):
        from .definitions import checks  # noqa: F401  (registers the system checks)
