from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "server.flows"
    label = "flows"
    verbose_name = "Processes"

    def ready(self):
        from .definitions import checks  # noqa: F401  (registers the system checks)
        from .notifications import channels

        channels.discover()  # email, and any other module in notifications/channels/
