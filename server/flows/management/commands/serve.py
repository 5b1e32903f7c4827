"""`runserver` on a fixed pool of threads, plus the embedded timer sweep: the whole product
in one process, no broker.

`make run` uses it. Django's own `runserver` starts a thread per request, and each
thread opens a database connection of its own that lives until the thread is collected:
50 browsers at once held 50 PostgreSQL backends. Here ``PROPFLOW_SERVE_THREADS`` threads
(8) take the requests in turn and each keeps one connection (``PROPFLOW_CONN_MAX_AGE``),
so the server holds at most that many however many clients come; the others wait in
the listen queue. The sweeper also writes the end-of-shift checks once a minute (beat's
job with a broker). With ``CELERY_BROKER_URL`` set, timers belong to Celery's beat and
workers instead and no sweeper runs here.
"""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.commands.runserver import Command as RunServer
from django.core.servers.basehttp import WSGIServer

from server.desk.tasks import shift_checks
from server.flows.tasks import EmbeddedSweeper


class PooledWSGIServer(WSGIServer):
    """Each request on one of a fixed number of threads. Not a ``ThreadingMixIn``, so Django
    answers ``Connection: close`` and an idle browser does not keep a thread."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = ThreadPoolExecutor(settings.PROPFLOW_SERVE_THREADS, "propflow-http")

    def process_request(self, request, client_address):
        self.pool.submit(self._handle, request, client_address)

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self):
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


class Command(RunServer):
    help = (
        "Serve the site on a fixed pool of threads and, with no broker configured, sweep "
        "and fire timers in-process."
    )
    server_cls = PooledWSGIServer

    def handle(self, *args, **options):
        options["use_threading"] = False  # the pool is the threading
        super().handle(*args, **options)

    def inner_run(self, *args, **options):
        threads = settings.PROPFLOW_SERVE_THREADS
        self.stdout.write(f"Requests: {threads} threads, one database connection each.")
        if not settings.CELERY_BROKER_URL:
            periodic = [(60.0, shift_checks)]  # beat's entry (settings.CELERY_BEAT_SCHEDULE)
            EmbeddedSweeper(settings.PROPFLOW_SWEEP_SECONDS, periodic).start()
            where = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]  # console, smtp, filebased...
            self.stdout.write(
                f"Timers: swept every {settings.PROPFLOW_SWEEP_SECONDS:g} s in this process "
                f"(no broker); notification email: {where}."
            )
        super().inner_run(*args, **options)
