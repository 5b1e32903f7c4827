"""The checkout's command line as the README writes it: ``./manage.py`` whatever ``python3``
comes first on PATH."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.test_production import ROOT, production

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
