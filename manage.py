#!/usr/bin/env python3
"""Django's command line for this checkout: ``./manage.py check``, ``./manage.py migrate``, ...

Run as ``./manage.py`` it starts with whichever ``python3`` comes first on PATH, which is
rarely the checkout's own: when that one has no Django, it runs again with ``.venv``'s
(``make setup`` makes it), so the README's commands work without activating anything.
"""

import os
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def _with_django() -> None:
    """Return if Django imports here; else re-execute with .venv's Python, or exit saying how."""
    try:
        import django  # noqa: F401
    except ImportError:
        pass
    else:
        return
    in_venv = Path(sys.prefix).resolve() == VENV.resolve()  # never re-execute in a loop
    if VENV_PYTHON.exists() and not in_venv:
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
    sys.exit(
        f"manage.py: Django is not installed for {sys.executable}"
        + ("" if VENV_PYTHON.exists() else f" and there is no {VENV_PYTHON}")
        + ". Run `make setup` in the checkout first (it makes .venv with every dependency)."
    )


if __name__ == "__main__":
    _with_django()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
