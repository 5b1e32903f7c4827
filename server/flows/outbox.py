"""Asking for notification email to go out once a step that wrote some has committed.

The write path calls :func:`kick` through ``transaction.on_commit``. With a broker it
enqueues one ``propflow.deliver`` by name (the task module sits above the write path);
with none, the embedded sweeper delivers on its next round. Either way the sweep's own
outbox check is the safety net: a kick that is skipped or lost delays mail by one sweep.
"""

from __future__ import annotations

import threading
import time

from server.celery import app

# A burst of escalations (a worker firing hundreds of cases) asks once per interval per
# process: each delivery drains the whole outbox, so more messages would find nothing.
KICK_INTERVAL = 1.0
_last = 0.0
_lock = threading.Lock()


def kick() -> None:
    global _last
    if app.conf.task_always_eager:  # no broker: the embedded sweeper's next round delivers
        return
    with _lock:
        now = time.monotonic()
        if now - _last < KICK_INTERVAL:
            return
        _last = now
    app.send_task("propflow.deliver")
