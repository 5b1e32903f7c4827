"""A database connection lost under a request is a 503 to retry, never a 500, and the next
request gets a fresh connection; `manage.py serve` holds one connection per pool thread."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from server.flows.cases import selectors

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def terminate(pid: int) -> None:
    """End backend ``pid`` from a connection of another thread, as an operator would."""

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)


def own_pid() -> int:
    connection.ensure_connection()
    return connection.connection.get_backend_pid()


@pytest.fixture
def lost_mid_request(monkeypatch):
    """The inbox query's connection is terminated just before it runs."""
    real = selectors.task_list_for_user

    def dying(**kwargs):
        terminate(own_pid())
        return real(**kwargs)

    monkeypatch.setattr(selectors, "task_list_for_user", dying)
    yield
    connection.close()  # the test client skips the request-end housekeeping that would


def test_the_api_answers_503_with_retry_after(api, lost_mid_request):
    response = api("frontdesk").get("/api/tasks/")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "try again" in response.json()["detail"]


def test_a_page_answers_503_in_the_readers_language(users, lost_mid_request):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(users["frontdesk"])
    response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "数据库暂时没有响应" in response.content.decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backends(dbname: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname],
        )
        return cursor.fetchone()[0]


class Served:
    """`manage.py serve` in a subprocess on the test database."""

    def __init__(self, tmp_path, threads: int):
        db = connection.settings_dict
        self.db, self.port = db["NAME"], free_port()
        env = {
            **os.environ, "PROPFLOW_VAR_DIR": str(tmp_path),
            "PROPFLOW_SERVE_THREADS": str(threads),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # set, so no sweeper thread connects
        }  # fmt: skip
        self.log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--noreload", "--skip-checks",
             f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(150):
            try:
                self.get("/login/")
                return
            except OSError:
                time.sleep(0.1)

    def get(self, path: str, token: str | None = None) -> int:
        headers = {"Authorization": f"Token {token}"} if token else {}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code

    def wave(self, n: int, path: str, token=None, during=None) -> list[int]:
        """``n`` requests at once; ``during()`` is called until they are all answered."""
        codes: list[int] = []
        threads = [
            threading.Thread(target=lambda: codes.append(self.get(path, token))) for _ in range(n)
        ]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            if during:
                during()
            time.sleep(0.01)
        return sorted(codes)

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path, threads=4)
    yield server
    server.stop()


@pytest.fixture
def token(users):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=users["frontdesk"]).key


def test_serve_holds_one_connection_per_pool_thread_under_fifty_clients(served, token):
    peak = [0]

    def count():
        peak[0] = max(peak[0], backends(served.db))

    assert served.wave(50, "/api/tasks/", token, during=count) == [200] * 50
    assert 1 <= peak[0] <= 4, f"{peak[0]} backends for 4 threads"


def test_backends_terminated_under_load_cost_503s_not_500s_and_then_all_is_well(served, token):
    def kill_all():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [served.db],
            )

    assert served.wave(20, "/api/tasks/", token) == [200] * 20
    codes = served.wave(50, "/api/tasks/", token, during=kill_all)
    assert set(codes) <= {200, 503}, codes
    kill_all()  # idle connections too: the next requests replace them before use
    assert served.wave(20, "/api/tasks/", token) == [200] * 20
