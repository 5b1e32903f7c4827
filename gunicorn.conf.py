"""gunicorn's settings: `gunicorn server.wsgi` reads this file from the checkout's top.

Why gthread workers, and these numbers: docs/operations.md ("The web process"). Each
setting can be changed from the environment without editing this file.
"""

import os

bind = os.environ.get("PROPFLOW_BIND", "127.0.0.1:8000")
# Processes for the CPU (an engine step holds the GIL), threads for the waits on
# PostgreSQL (every step ends in a durable commit); idle keep-alive connections wait in
# the worker's poller and hold no thread. Two processes a core, two threads each: a
# keep-alive connection stays with the worker that accepted it, so with one process a
# core one worker queues its clients while the other idles (measured: 250-280
# completions/s and a quarter of the CPU idle at 2 x 4, 320-365/s at 4 x 2; bench/
# completions.py, docs/performance.md). The same 8 database connections either way.
worker_class = "gthread"
workers = int(os.environ.get("PROPFLOW_WEB_WORKERS") or 2 * (os.cpu_count() or 1))
threads = int(os.environ.get("PROPFLOW_WEB_THREADS", "2"))
# Longer than gunicorn's 2 s: a person's next click, or a proxy's pooled connection,
# comes back within it and saves a TCP handshake.
keepalive = int(os.environ.get("PROPFLOW_WEB_KEEPALIVE", "20"))
timeout = 30
# A web process we start more of on one host (or a second site) must not fight over
# gunicorn's one default control-socket path; nothing here uses gunicornc.
control_socket_disable = True
