"""propflow_lock_case(): a step's lock and read, with plans PostgreSQL keeps per connection.

On PostgreSQL the write path calls it instead of sending the two statements itself (see
server/flows/batch.py, lock_case): a function's statements are planned once per server
connection and each takes its own snapshot, with no session state a pooler could lose
(server-side PREPARE has that problem). SQLite has no functions and needs none.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION propflow_lock_case(case_id bigint, task_id uuid)
RETURNS TABLE (instance flows_processinstance, task flows_humantask)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    target bigint := case_id;
BEGIN
    IF target IS NULL THEN
        SELECT t.instance_id INTO target FROM flows_humantask t WHERE t.id = task_id;
    END IF;
    -- Lock first; the read below is a statement of its own, with a snapshot taken after
    -- the lock is granted, so it sees every row the previous holder committed.
    PERFORM 1 FROM flows_processinstance p WHERE p.id = target FOR UPDATE;
    RETURN QUERY
        SELECT p, c FROM flows_processinstance p
        LEFT JOIN flows_humantask c ON c.instance_id = p.id AND c.status = 'open'
        WHERE p.id = target;
END $$;
"""
DROP = "DROP FUNCTION IF EXISTS propflow_lock_case(bigint, uuid);"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("flows", "0007_inbox_unclaimed_index")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
