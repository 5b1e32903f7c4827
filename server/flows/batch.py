"""Write many rows in as few round trips as the database allows.

On PostgreSQL the statements of one change go to the server in one call; on
SQLite (which takes one statement per call) they run one after another. Values
are prepared by the model fields themselves, so they land exactly as the ORM
would write them. Everything here runs inside the caller's ``transaction.atomic``
block and refuses to run outside one: a batch is one step's writes, never a commit.
"""

from __future__ import annotations

import functools
import hashlib
import weakref

from django.conf import settings
from django.db import connection, models


class OutsideTransaction(RuntimeError):
    """A step's write ran outside its atomic block: it would commit piecemeal."""


def check_in_transaction() -> None:
    if not connection.in_atomic_block:
        raise OutsideTransaction("A step writes only inside its transaction.atomic() block")


class Batch:
    def __init__(self):
        self.statements: list[tuple[str, list]] = []

    def insert(self, objs: list[models.Model], *, on_conflict: tuple[str, ...] = (),
               update: tuple[str, ...] = ()) -> None:  # fmt: skip
        """Insert ``objs``; with ``on_conflict`` (field names of a unique constraint), rows
        already there get the new values of the fields in ``update`` instead."""
        if not objs:
            return
        meta = objs[0]._meta
        fields = [f for f in meta.concrete_fields if not isinstance(f, models.AutoField)]
        qn = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES {', '.join([row] * len(objs))}"
        )
        if on_conflict:
            target = ", ".join(qn(meta.get_field(n).column) for n in on_conflict)
            columns = [qn(meta.get_field(n).column) for n in update]
            sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        params = [f.get_db_prep_save(f.pre_save(o, True), connection) for o in objs for f in fields]
        self.statements.append((sql, params))

    def delete(self, model, **equal) -> None:
        """Delete the rows of ``model`` whose fields equal the values given; a list value
        matches any of its items."""
        meta, qn = model._meta, connection.ops.quote_name
        clauses, params = [], []
        for name, value in equal.items():
            field = meta.get_field(name)
            values = value if isinstance(value, list | tuple | set) else [value]
            if not values:
                return
            prep = [field.get_db_prep_value(v, connection) for v in values]
            if len(prep) == 1:
                clauses.append(f"{qn(field.column)} = %s")
            else:
                clauses.append(f"{qn(field.column)} IN ({', '.join(['%s'] * len(prep))})")
            params += prep
        self.statements.append(
            (f"DELETE FROM {qn(meta.db_table)} WHERE {' AND '.join(clauses)}", params)
        )

    def update(self, obj: models.Model, names) -> None:
        meta = obj._meta
        fields = [meta.get_field(n) for n in sorted(names)]
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"
        params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
        params.append(meta.pk.get_db_prep_value(obj.pk, connection))
        self.statements.append((sql, params))

    def run(self) -> None:
        """Run the statements, in one call on PostgreSQL."""
        check_in_transaction()
        if not self.statements:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = ";\n".join(s for s, _ in self.statements)
                cursor.execute(sql, [p for _, params in self.statements for p in params])
            else:
                for sql, params in self.statements:
                    cursor.execute(sql, params)


@functools.cache
def _columns(model, alias: str, vendor: str):
    """The model's concrete fields with their select expressions and the ORM's converters."""
    qn = connection.ops.quote_name
    out = []
    for field in model._meta.concrete_fields:
        col = field.get_col(alias)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        out.append((field, f"{alias}.{qn(field.column)}", col, converters))
    return out


def _build(model, columns, values):
    converted = []
    for (_, _, col, converters), value in zip(columns, values, strict=True):
        for converter in converters:
            value = converter(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f, *_ in columns], converted)


_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _prepared(sql: str, params: list):
    """With ``PROPFLOW_PG_PREPARE``, run ``sql`` as a server-side prepared statement, planned
    once per connection instead of once per step. Off by default: a pooler in transaction
    mode (PgBouncer) hands each transaction another server connection, where the statement
    does not exist. Returns the SQL to send, its parameters and a callback for once it ran."""
    if connection.vendor != "postgresql" or not settings.PROPFLOW_PG_PREPARE:
        return sql, params, lambda: None
    raw = connection.connection
    done = _PREPARED.setdefault(raw, set())
    name = "propflow_" + hashlib.sha1(sql.encode()).hexdigest()[:16]
    placeholders = ", ".join(["%s"] * len(params))
    execute = f"EXECUTE {name}({placeholders})"
    if name in done:
        return execute, params, lambda: None
    numbered = sql
    for i in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${i}", 1)
    return f"PREPARE {name} AS {numbered}; {execute}", params, lambda: done.add(name)


def lock_then_read(parent, child, *, fk: str, child_filter: str, where: str, params):
    """Lock one ``parent`` row, then read it and its ``child`` rows matching ``child_filter``.

    Returns ``(parent, [children])`` or ``(None, [])``. ``where`` is SQL on alias ``p``. On
    PostgreSQL the read is a second statement sent in the same call as the lock: each
    statement takes its own snapshot, so the read sees every row committed before the lock
    was granted (a read in the locking statement itself would see rows as they were when it
    began to wait). SQLite's writers are serialised by ``BEGIN IMMEDIATE`` instead.
    """
    check_in_transaction()
    qn = connection.ops.quote_name
    p_cols, c_cols = (
        _columns(parent, "p", connection.vendor),
        _columns(child, "c", connection.vendor),
    )
    select = ", ".join(sql for _, sql, *_ in p_cols + c_cols)
    table = qn(parent._meta.db_table)
    sql = (
        f"SELECT {select} FROM {table} p "
        f"LEFT JOIN {qn(child._meta.db_table)} c ON c.{qn(fk)} = p.{qn(parent._meta.pk.column)}"
        f" AND {child_filter} WHERE {where}"
    )
    sql, read_params, prepared = _prepared(sql, list(params))
    if connection.features.has_select_for_update:
        lock = f"SELECT 1 FROM {table} p WHERE {where} FOR UPDATE"
        sql, read_params = f"{lock};\n{sql}", [*params, *read_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, read_params)
        rows = cursor.fetchall()
    prepared()
    if not rows:
        return None, []
    found = _build(parent, p_cols, rows[0][: len(p_cols)])
    children = [_build(child, c_cols, r[len(p_cols) :]) for r in rows if r[len(p_cols)] is not None]
    return found, children
