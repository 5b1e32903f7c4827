"""A system check: every package in processes/ must validate before the server starts."""

from django.conf import settings
from django.core import checks

import engine


@checks.register()
def processes_validate(app_configs, **kwargs):
    from .cache import get_engine  # the site's limits; reads models, so not at import

    found = []
    for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
        for problem in engine.problems(source, get_engine()):
            found.append(checks.Error(f"{source.key}: {problem}", id="propflow.E001"))
    return found
