"""Django's PostgreSQL backend, with a transaction's BEGIN sent along with its first statement.

Django starts a transaction by switching psycopg2 out of autocommit; psycopg2 then sends
``BEGIN`` on a round trip of its own before the first statement. Here psycopg2 stays in
autocommit and Django's hook for databases that begin transactions explicitly
(``_start_transaction_under_autocommit``, the one SQLite uses) marks a BEGIN as pending;
the first statement of the transaction carries it, and COMMIT or ROLLBACK go as
statements. Everything above the wire is Django's own: ``transaction.atomic`` (durable
blocks, savepoints for nested blocks, ``on_commit`` after the COMMIT) is unchanged. A step
costs one round trip less (see docs/performance.md); set
``PROPFLOW_PG_DEFERRED_BEGIN=0`` to use Django's stock backend instead.
"""

from __future__ import annotations

import psycopg2.extensions
from django.db.backends.postgresql import base


class _Connection(psycopg2.extensions.connection):
    """psycopg2's connection with the state of a transaction begun by SQL text."""

    begin_pending = False  # Django began a transaction; no statement has carried BEGIN yet
    began = False  # the server is in that transaction

    def begin_now(self) -> None:
        """Send a pending BEGIN on its own (before statements that cannot carry it)."""
        if self.begin_pending:
            with psycopg2.extensions.cursor(self) as cursor:
                cursor.execute("BEGIN")
            self.begin_pending, self.began = False, True

    def finish(self, sql: str) -> None:
        """End the transaction with ``sql`` (COMMIT or ROLLBACK) if the server began it."""
        began, self.begin_pending, self.began = self.began, False, False
        if began:
            with psycopg2.extensions.cursor(self) as cursor:
                cursor.execute(sql)


class _Cursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):
        conn = self.connection
        if conn.begin_pending:
            conn.begin_pending, conn.began = False, True
            if not isinstance(query, str | bytes):  # psycopg2.sql.Composed
                query = query.as_string(conn)
            query = (b"BEGIN;\n" + query) if isinstance(query, bytes) else "BEGIN;\n" + query
        return super().execute(query, vars)

    def executemany(self, query, vars_list):
        self.connection.begin_now()
        return super().executemany(query, vars_list)

    def callproc(self, procname, parameters=None):
        self.connection.begin_now()
        return super().callproc(procname, parameters)

    def copy_expert(self, sql, file, size=8192):
        self.connection.begin_now()
        return super().copy_expert(sql, file, size)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        params = {**conn_params, "connection_factory": _Connection, "cursor_factory": _Cursor}
        return super().get_new_connection(params)

    def _start_transaction_under_autocommit(self):
        self.connection.begin_pending = True

    def create_cursor(self, name=None):
        if name and self.connection.begin_pending:
            self.connection.begin_now()  # a server-side cursor's DECLARE is psycopg2's own
        return super().create_cursor(name)

    def _explicit(self) -> bool:
        raw = self.connection
        return raw is not None and (raw.begin_pending or raw.began)

    def _commit(self):
        if not self._explicit():
            return super()._commit()
        with self.wrap_database_errors:
            self.connection.finish("COMMIT")

    def _rollback(self):
        if not self._explicit():
            return super()._rollback()
        with self.wrap_database_errors:
            self.connection.finish("ROLLBACK")
