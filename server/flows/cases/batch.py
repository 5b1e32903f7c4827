"""Write many rows in as few round trips as the database allows.

On PostgreSQL the statements of one change go to the server in one call; on
SQLite (which takes one statement per call) they run one after another. Values
are prepared by the model fields themselves, so they land exactly as the ORM
would write them. Everything here runs inside the caller's ``transaction.atomic``
block and refuses to run outside one: a batch is one step's writes, never a commit.
"""

from __future__ import annotations

import functools

from django.db import DEFAULT_DB_ALIAS, connections, models


def _db():
    """The default database's wrapper itself: ``django.db.connection`` is a proxy that looks
    it up again (thread-locally) on every attribute, dozens of times per step here."""
    return connections[DEFAULT_DB_ALIAS]


class OutsideTransaction(RuntimeError):
    """A step's write ran outside its atomic block: it would commit piecemeal."""


def check_in_transaction() -> None:
    if not _db().in_atomic_block:
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
        db, meta = _db(), objs[0]._meta
        fields = [f for f in meta.concrete_fields if not isinstance(f, models.AutoField)]
        qn = db.ops.quote_name
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
        params = [f.get_db_prep_save(f.pre_save(o, True), db) for o in objs for f in fields]
        self.statements.append((sql, params))

    def delete(self, model, **equal) -> None:
        """Delete the rows of ``model`` whose fields equal the values given; a list value
        matches any of its items."""
        db, meta = _db(), model._meta
        qn, clauses, params = db.ops.quote_name, [], []
        for name, value in equal.items():
            field = meta.get_field(name)
            values = value if isinstance(value, list | tuple | set) else [value]
            if not values:
                return
            prep = [field.get_db_prep_value(v, db) for v in values]
            if len(prep) == 1:
                clauses.append(f"{qn(field.column)} = %s")
            else:
                clauses.append(f"{qn(field.column)} IN ({', '.join(['%s'] * len(prep))})")
            params += prep
        self.statements.append(
            (f"DELETE FROM {qn(meta.db_table)} WHERE {' AND '.join(clauses)}", params)
        )

    def update(self, obj: models.Model, names) -> None:
        db, meta = _db(), obj._meta
        fields = [meta.get_field(n) for n in sorted(names)]
        qn = db.ops.quote_name
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"
        params = [f.get_db_prep_save(f.pre_save(obj, False), db) for f in fields]
        params.append(meta.pk.get_db_prep_value(obj.pk, db))
        self.statements.append((sql, params))

    def add(self, sql: str, params: list) -> None:
        """A statement of the caller's own, run in its place among the others: an
        ``INSERT … SELECT`` can reach rows this batch inserted, whose ids only the database
        knows (the batch never asks for them back)."""
        self.statements.append((sql, list(params)))

    def run(self, *, last: bool = False) -> None:
        """Run the statements, in one call on PostgreSQL. ``last``: nothing else runs in the
        transaction after them, so its COMMIT may go in the same call (the backend decides,
        :meth:`server.db.postgresql.base.DatabaseWrapper.execute_last`)."""
        check_in_transaction()
        if not self.statements:
            return
        db = _db()
        with db.cursor() as cursor:
            if db.vendor == "postgresql":
                sql = ";\n".join(s for s, _ in self.statements)
                params = [p for _, params in self.statements for p in params]
                execute_last = getattr(db, "execute_last", None)
                if last and execute_last:
                    execute_last(cursor, sql, params)
                else:
                    cursor.execute(sql, params)
            else:
                for sql, params in self.statements:
                    cursor.execute(sql, params)


@functools.cache
def _columns(model, alias: str, vendor: str):
    """The model's concrete fields with their select expressions and the ORM's converters."""
    db = _db()
    out = []
    for field in model._meta.concrete_fields:
        col = field.get_col(alias)
        converters = db.ops.get_db_converters(col) + col.get_db_converters(db)
        out.append((field, f"{alias}.{db.ops.quote_name(field.column)}", col, converters))
    return out


def _build(db, model, columns, values):
    converted = []
    for (_, _, col, converters), value in zip(columns, values, strict=True):
        for converter in converters:
            value = converter(value, col, db)
        converted.append(value)
    return model.from_db(db.alias, [f.attname for f, *_ in columns], converted)


def lock_case(instance_model, task_model, *, instance_id=None, task_id=None):
    """Lock one case (by its id or one of its tasks' ids), then read it and its open tasks
    as they are once the lock is granted. Returns ``(instance, [open tasks])`` or
    ``(None, [])``.

    The tasks must be read by a statement that begins after the lock is granted: in
    read-committed mode a statement that waited for a lock returns the locked row as the
    previous holder committed it, but every other row as it was when the statement began.
    On PostgreSQL the function ``propflow_lock_case`` (migration 0008) locks, then reads,
    in one call and with plans kept per connection; SQLite's writers are serialised by
    ``BEGIN IMMEDIATE``, so one join is current there.
    """
    check_in_transaction()
    db = _db()
    task_key = None if task_id is None else task_model._meta.pk.get_db_prep_value(task_id, db)
    if db.vendor == "postgresql":
        i_alias, t_alias = "(r.instance)", "(r.task)"
        source, params = "propflow_lock_case(%s, %s) r", [instance_id, task_key]
    else:
        i_alias, t_alias = "i", "t"
        source = _joined_case(db, instance_model, task_model, by_task=task_id is not None)
        params = [instance_id if task_id is None else task_key]
    i_cols = _columns(instance_model, i_alias, db.vendor)
    t_cols = _columns(task_model, t_alias, db.vendor)
    select = ", ".join(sql for _, sql, *_ in i_cols + t_cols)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM {source}", params)
        rows = cursor.fetchall()
    if not rows or rows[0][0] is None:
        return None, []
    found = _build(db, instance_model, i_cols, rows[0][: len(i_cols)])
    tasks = [
        _build(db, task_model, t_cols, r[len(i_cols) :]) for r in rows if r[len(i_cols)] is not None
    ]
    return found, tasks


def _joined_case(db, instance_model, task_model, *, by_task: bool) -> str:
    """The case and its open tasks as one join (aliases ``i`` and ``t``), for SQLite."""
    qn = db.ops.quote_name
    i_table, t_table = qn(instance_model._meta.db_table), qn(task_model._meta.db_table)
    where = f"i.id = (SELECT instance_id FROM {t_table} WHERE id = %s)" if by_task else "i.id = %s"
    return (
        f"{i_table} i LEFT JOIN {t_table} t ON t.instance_id = i.id AND t.status = 'open' "
        f"WHERE {where}"
    )
