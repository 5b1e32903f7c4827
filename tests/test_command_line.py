"""The checkout's command line as the README writes it: ``./manage.py`` whatever ``python3``
comes first on PATH, and ``fire_timers --as-of`` only where it is asked for by name."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.test_production import ROOT, production, run, settings_of

VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def python3_without_django(tmp_path) -> str:
    """A PATH whose ``python3`` cannot import Django: this interpreter without site-packages."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    (bin_dir / "python3").chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.skipif(not VENV_PYTHON.exists(), reason="needs the checkout's .venv (make setup)")
def test_manage_py_runs_itself_with_the_checkouts_venv_when_path_has_no_django(tmp_path):
    env = production(tmp_path, PATH=python3_without_django(tmp_path), PROPFLOW_DEBUG="1",
                     PROPFLOW_SECRET_KEY=None)  # fmt: skip

    done = subprocess.run([str(ROOT / "manage.py"), "check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_manage_py_without_django_or_a_venv_says_to_run_make_setup(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(ROOT / "manage.py", checkout)
    env = {"PATH": python3_without_django(tmp_path)}

    done = subprocess.run([str(checkout / "manage.py"), "check"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip

    assert done.returncode == 1
    assert "Django is not installed for" in done.stderr and "Run `make setup`" in done.stderr


def test_as_of_is_allowed_by_its_own_variable_only_whatever_debug(tmp_path):
    development = {"PROPFLOW_DEBUG": "1", "PROPFLOW_SECRET_KEY": None}
    assert settings_of(production(tmp_path, **development))["PROPFLOW_ALLOW_AS_OF"] is False
    assert settings_of(production(tmp_path))["PROPFLOW_ALLOW_AS_OF"] is False
    for env in (production(tmp_path, **development, PROPFLOW_ALLOW_AS_OF="1"),
                production(tmp_path, PROPFLOW_ALLOW_AS_OF="1")):  # fmt: skip
        assert settings_of(env)["PROPFLOW_ALLOW_AS_OF"] is True


def test_fire_timers_as_of_is_refused_in_development_mode_without_the_variable(tmp_path):
    env = production(tmp_path, PROPFLOW_DEBUG="1", PROPFLOW_SECRET_KEY=None)

    done = run(env, "manage.py", "fire_timers", "--as-of", "2026-12-01T09:00")

    assert done.returncode == 1
    assert "runs only on a rehearsal copy of the data with PROPFLOW_ALLOW_AS_OF=1" in done.stderr


def test_compile_translations_refuses_a_message_translated_twice(tmp_path, settings):
    from django.core.management import CommandError, call_command

    folder = tmp_path / "zh_Hans" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Show"\nmsgstr "显示"\n\nmsgid "Show"\nmsgstr "查看"\n\n'
        'msgctxt "handover"\nmsgid "From"\nmsgstr "交班"\n\nmsgid "From"\nmsgstr "自"\n',
        encoding="utf-8",
    )
    settings.LOCALE_PATHS = [tmp_path]
    with pytest.raises(CommandError, match="translated twice.*'Show'"):
        call_command("compile_translations")
    assert not (folder / "django.mo").exists()
