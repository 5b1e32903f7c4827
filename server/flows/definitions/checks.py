"""A system check: every package in processes/ should validate. A failing one is a warning,
not an error: it is skipped by ``deploy_processes`` and must not stop the server or
migrations for the others."""

from django.conf import settings
from django.core import checks

import engine


@checks.register()
def processes_validate(app_configs, **kwargs):
    from .cache import get_engine  # the site's limits; reads models, so not at import

    found = []
    for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
        for problem in engine.problems(source, get_engine()):
            found.append(checks.Warning(
                f"{source.key}: {problem}", id="propflow.W001",
                hint="deploy_processes skips this package until it is fixed.",
            ))  # fmt: skip
    return found
