"""Which database errors answer 503 (try again) and which stay a 500 (a bug to log)."""

import sqlite3

import psycopg2
import pytest
from django import db

from server.db.transient import transient


def wrapped(django_error, cause):
    error = django_error(str(cause))
    error.__cause__ = cause
    return error


class _PgError(psycopg2.OperationalError):
    def __init__(self, message, code):
        super().__init__(message)
        self._code = code

    @property
    def pgcode(self):
        return self._code


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (wrapped(db.InterfaceError, psycopg2.InterfaceError("connection already closed")), True),
        (wrapped(db.OperationalError, _PgError("server closed the connection", None)), True),
        (wrapped(db.OperationalError, _PgError("terminating connection", "57P01")), True),
        (wrapped(db.OperationalError, _PgError("too many clients already", "53300")), True),
        (wrapped(db.OperationalError, _PgError("could not obtain lock", "55P03")), True),
        (wrapped(db.OperationalError, _PgError("deadlock detected", "40P01")), True),
        (wrapped(db.OperationalError, sqlite3.OperationalError("database is locked")), True),
        (wrapped(db.OperationalError, sqlite3.OperationalError("no such table: x")), False),
        (wrapped(db.ProgrammingError, psycopg2.ProgrammingError("relation does not exist")), False),
        (ValueError("not a database error"), False),
    ],
)
def test_only_errors_that_pass_with_time_are_transient(error, expected):
    assert transient(error) is expected
