"""The desk's Celery tasks: the end-of-shift check ten minutes before each shift ends."""
