"""The PostgreSQL backend that sends BEGIN with a transaction's first statement keeps every
meaning of Django's transactions: rollback, savepoints, on_commit, server-side cursors."""

import psycopg2.extensions
import pytest
from django.contrib.auth.models import Group
from django.db import ProgrammingError, connection, transaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _deferred_backend():
    if not hasattr(connection, "_start_transaction_under_autocommit"):
        pytest.skip("PROPFLOW_PG_DEFERRED_BEGIN=0: Django's stock backend is in use")


def server_status() -> int:
    connection.ensure_connection()
    return connection.connection.info.transaction_status


def test_an_exception_rolls_the_whole_block_back():
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="a")
        assert server_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        raise RuntimeError
    assert not Group.objects.filter(name="a").exists()
    assert server_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_nested_block_is_a_savepoint_and_on_commit_waits_for_the_outer_commit():
    ran = []
    with transaction.atomic(durable=True):
        Group.objects.create(name="kept")
        with pytest.raises(ValueError), transaction.atomic():
            Group.objects.create(name="undone")
            raise ValueError
        transaction.on_commit(lambda: ran.append(server_status()))
        assert ran == []
    assert ran == [psycopg2.extensions.TRANSACTION_STATUS_IDLE]
    assert list(Group.objects.order_by("name").values_list("name", flat=True)) == ["kept"]


def test_a_block_that_runs_no_statement_commits_without_a_round_trip():
    with transaction.atomic():
        pass
    assert connection.connection.begin_pending is False
    assert server_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_server_side_cursor_works_first_in_a_transaction_and_outside_one():
    Group.objects.bulk_create([Group(name=f"g{i}") for i in range(5)])
    with transaction.atomic():
        inside = [g.name for g in Group.objects.order_by("name").iterator(chunk_size=2)]
    outside = [g.name for g in Group.objects.order_by("name").iterator(chunk_size=2)]
    assert inside == outside == [f"g{i}" for i in range(5)]


def test_outside_a_block_each_statement_commits_on_its_own():
    Group.objects.create(name="autocommitted")
    assert server_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_the_last_write_can_carry_the_commit_and_on_commit_still_follows_it():
    seen = []
    with transaction.atomic(durable=True):
        Group.objects.create(name="first")
        transaction.on_commit(lambda: seen.append(server_status()))
        with connection.cursor() as cursor:
            connection.execute_last(cursor, "INSERT INTO auth_group (name) VALUES (%s)", ["last"])
            assert server_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE  # committed
            with pytest.raises(ProgrammingError, match="already committed"):
                cursor.execute("SELECT 1")
        assert seen == []
    assert seen == [psycopg2.extensions.TRANSACTION_STATUS_IDLE]
    assert Group.objects.filter(name__in=["first", "last"]).count() == 2


def test_inside_a_nested_block_the_last_write_leaves_the_commit_to_the_outer_one():
    with transaction.atomic(durable=True):
        with transaction.atomic(), connection.cursor() as cursor:
            connection.execute_last(cursor, "INSERT INTO auth_group (name) VALUES (%s)", ["x"])
        assert server_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        Group.objects.create(name="after")
    assert Group.objects.filter(name__in=["x", "after"]).count() == 2
