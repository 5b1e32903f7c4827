"""Django's PostgreSQL backend, with a transaction's BEGIN sent along with its first statement.

Django starts a transaction by switching psycopg2 out of autocommit; psycopg2 then sends
``BEGIN`` on a round trip of its own before the first statement. Here psycopg2 stays in
autocommit and Django's hook for databases that begin transactions explicitly
(``_start_transaction_under_autocommit``, the one SQLite uses) marks a BEGIN as pending;
the first statement of the transaction carries it, and COMMIT or ROLLBACK go as
statements. The last statements of an outermost durable block may carry its COMMIT too
(:meth:`DatabaseWrapper.execute_last`, which the write path uses for its write batch):
Django's commit at the end of the block then has nothing left to send, and runs its
``on_commit`` callbacks as usual, after the COMMIT. Everything above the wire is Django's
own: ``transaction.atomic`` (durable blocks, savepoints for nested blocks, ``on_commit``)
is unchanged. What it saves a step: docs/performance.md; ``PROPFLOW_PG_DEFERRED_BEGIN=0``
uses Django's stock backend instead.
"""

from __future__ import annotations

import logging

import psycopg2.extensions
from django.db.backends.postgresql import base

log = logging.getLogger(__name__)


class StatementAfterCommit(psycopg2.ProgrammingError):
    """A statement in an atomic block whose COMMIT already went with an earlier statement."""


class _Connection(psycopg2.extensions.connection):
    """psycopg2's connection with the state of a transaction begun by SQL text."""

    begin_pending = False  # Django began a transaction; no statement has carried BEGIN yet
    began = False  # the server is in that transaction
    committed = False  # its COMMIT went with its last statements; Django's commit is to come

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
        if conn.committed:
            raise StatementAfterCommit("This atomic block already committed with its last write")
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

    def execute_last(self, cursor, sql: str, params) -> None:
        """Run the last statements of the outermost durable atomic block and its COMMIT in
        one round trip; anywhere else (a nested block, a test's transaction), only run them.
        Nothing may run in the block after them."""
        raw = self.connection
        last = (
            raw.began and not self.savepoint_ids and not self.needs_rollback
            and len(self.atomic_blocks) == 1 and self.atomic_blocks[0].durable
        )  # fmt: skip
        if not last:
            cursor.execute(sql, params)
            return
        cursor.execute(f"{sql};\nCOMMIT", params)
        raw.began, raw.committed = False, True

    def _explicit(self) -> bool:
        raw = self.connection
        return raw is not None and (raw.begin_pending or raw.began or raw.committed)

    def _commit(self):
        if not self._explicit():
            return super()._commit()
        if self.connection.committed:  # sent with the last statements
            self.connection.committed = False
            return
        with self.wrap_database_errors:
            self.connection.finish("COMMIT")

    def _rollback(self):
        if not self._explicit():
            return super()._rollback()
        if self.connection.committed:
            self.connection.committed = False
            log.error("An atomic block failed after its COMMIT was sent: its writes stand")
            return
        with self.wrap_database_errors:
            self.connection.finish("ROLLBACK")
