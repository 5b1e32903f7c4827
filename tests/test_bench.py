"""The benchmark still runs: it is not timed here, only kept from rotting."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import BROKER_HINT, database_url

ROOT = Path(__file__).resolve().parent.parent


def test_the_step_benchmark_runs_and_prints_its_ratios(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/bench.sqlite3",
           "PROPFLOW_VAR_DIR": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "bench/step.py", "--instances", "2", "--rounds", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ratio (c)/(a)" in done.stdout and "stored state per instance" in done.stdout


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason=BROKER_HINT)
def test_the_timer_benchmark_runs_and_counts_no_duplicates_and_drops_its_database(tmp_path):
    # The bench makes test_<name> on the configured server and drops it: a name unique to
    # this run, so two runs never meet and no database the operator named is touched.
    name = f"propflow_timers_smoke_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "PROPFLOW_VAR_DIR": str(tmp_path), "DATABASE_URL": database_url(name)}
    done = subprocess.run(
        [sys.executable, "bench/timers.py", "--burst", "20", "--steady", "10", "--window", "3",
         "--floor", "5"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "duplicates 0" in done.stdout and "(3) floor, 5 fired" in done.stdout
    assert "notifications 30, emailed 30" in done.stdout
    assert f"database test_{name} dropped" in done.stdout


@pytest.mark.postgres
@pytest.mark.parametrize("debug", ["1", "0"], ids=["make bench-inbox", "production"])
def test_the_inbox_benchmark_asks_every_page_and_drops_its_database(tmp_path, debug):
    # make bench-inbox once failed with DisallowedHost: the bench's client must be let in
    # under development settings as under production's.
    name = f"propflow_inbox_smoke_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": database_url(name), "PROPFLOW_VAR_DIR": str(tmp_path),
           "PROPFLOW_DEBUG": debug, "PROPFLOW_SECRET_KEY": uuid.uuid4().hex * 2,
           "PROPFLOW_ALLOWED_HOSTS": "propflow.example.com"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "bench/inbox.py", "--open", "400", "--done", "100", "--units", "50",
         "--runs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "inbox, first page" in done.stdout and "API task list" in done.stdout


def test_the_load_benchmarks_form_generator_fills_every_form_validly():
    import random

    from bench.formdata import Filler
    from engine.forms import validate_form

    forms = sorted((ROOT / "processes").glob("*/forms/*.json"))
    assert forms
    for path in forms:
        schema = json.loads(path.read_text())
        for seed in range(40):
            data, problems = Filler(random.Random(seed), ["1-101"]).form(schema)
            assert problems == {}, (path.name, seed, problems)
            assert validate_form(schema, data) == {}


def test_the_form_generator_reports_a_schema_it_cannot_fill_instead_of_guessing():
    import random

    from bench.formdata import Filler

    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
              "oneOf": [{"required": ["a"]}]}  # fmt: skip
    _, problems = Filler(random.Random(1), []).form(schema)
    assert "oneOf" in problems["generator"][0]


@pytest.mark.postgres
def test_the_load_benchmark_runs_staff_against_gunicorn_and_finds_no_fault(tmp_path):
    """Six staff of six different roles, so no two compete for one task: a fault here is
    not the known claim race, and the bench's own mistakes (a 400 for its data) fail too."""
    from django.db import connection

    url = database_url(connection.settings_dict["NAME"])
    # The bench makes and drops its own database; this name is unique to the run.
    name = f"propflow_load_smoke_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": url, "PROPFLOW_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--staff", "6", "--duration", "8", "--ramp", "1",
         "--think", "0.3", "--database", name],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "requests " in done.stdout and "staff (the clients)" in done.stdout
    assert "integrity faults 0; failed requests 0" in done.stdout
    assert f"database {name} dropped" in done.stdout


@pytest.mark.postgres
def test_the_completions_benchmark_completes_every_task_once_through_gunicorn(tmp_path):
    from django.db import connection

    url = database_url(connection.settings_dict["NAME"])
    name = f"propflow_load_smoke_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": url, "PROPFLOW_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "bench/completions.py", "--clients", "4", "--cases", "60",
         "--duration", "30", "--database", name],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completions 60 in" in done.stdout and "statuses {200: 60}" in done.stdout
    assert "completed tasks not recorded exactly once: 0" in done.stdout


@pytest.mark.postgres
def test_the_audit_export_benchmark_streams_every_size(tmp_path):
    name = f"propflow_audit_smoke_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "PROPFLOW_VAR_DIR": str(tmp_path), "DATABASE_URL": database_url(name),
           "PROPFLOW_DEBUG": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "bench/audit_export.py", "--events", "200"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "csv 100%      200 rows:" in done.stdout and "xlsx 100%      200 rows:" in done.stdout


@pytest.mark.postgres
def test_the_kpi_benchmark_builds_the_roll_up_and_reads_it_through_the_api(tmp_path):
    name = f"propflow_kpis_smoke_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": database_url(name), "PROPFLOW_VAR_DIR": str(tmp_path),
           "PROPFLOW_DEBUG": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "bench/kpis.py", "--cases", "300", "--runs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "300 cases" in done.stdout and "roll-up built whole" in done.stdout
    assert "GET /api/kpis/, the year" in done.stdout, done.stdout
