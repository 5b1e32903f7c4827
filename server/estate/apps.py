from django.apps import AppConfig


class EstateConfig(AppConfig):
    name = "server.estate"
    label = "estate"
    verbose_name = "Units and owners"
