"""Which database errors mean "try again in a moment" (an HTTP 503) rather than a bug (a 500).

A lost connection, a server shutting down or refusing more clients, a lock or statement
timeout, a deadlock or serialization failure: the step rolled back and the same request
can succeed a moment later. A missing table or a syntax error is a 500 and is logged.
"""

from __future__ import annotations

from django import db

# PostgreSQL error classes and codes (appendix A of its manual) that pass with time.
_PG_CLASSES = ("08", "40", "53", "57")  # connection, rollback, resources, operator
_PG_CODES = ("55P03",)  # lock_not_available (lock_timeout, NOWAIT)


def transient(error: BaseException) -> bool:
    if isinstance(error, db.InterfaceError):
        return True  # the connection was already closed under us
    if not isinstance(error, db.OperationalError):
        return False
    cause = error.__cause__
    code = getattr(cause, "pgcode", "")
    if code is None:  # psycopg2 found the connection lost: no server error code
        return True
    if code:
        return code.startswith(_PG_CLASSES) or code in _PG_CODES
    return "locked" in str(error) or "busy" in str(error)  # SQLite's writers queue
