"""The tests' settings: the site's own, read with development defaults.

The defaults go into the environment before server.settings reads it, so a variable given
on the command line still wins and the processes the tests start (Celery workers, the
benchmarks) inherit the same defaults. Django's test set-up then turns DEBUG off in this
process anyway; what the defaults keep is what DEBUG derives at start-up (the development
secret key, static files straight from the apps). Production's settings are tested in
their own processes (tests/test_production.py).
"""

import os
import tempfile

os.environ.setdefault("PROPFLOW_DEBUG", "1")
# Attachments the tests store go to a folder of their own, not the site's var/media.
os.environ.setdefault("PROPFLOW_MEDIA_ROOT", tempfile.mkdtemp(prefix="propflow-media-"))

from server.settings import *  # noqa: E402, F403
