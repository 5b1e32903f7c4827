# The Celery app loads with Django, so the tasks' `.delay()` uses its settings.
from .celery import app as celery_app

__all__ = ("celery_app",)
