import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import UserFactory
from server import compiled
from server.compiled import compiled_instance, compiled_sql

pytestmark = pytest.mark.django_db


def test_the_values_take_the_placeholders_places_and_the_rest_stays():
    alice = UserFactory()
    sql, params = compiled_sql(
        ("test-user",), lambda pk: User.objects.filter(pk=pk).exclude(email="nobody@example.com"), alice.pk
    )
    assert alice.pk in params and "nobody@example.com" in params
    assert [user.pk for user in User.objects.raw(sql, params)] == [alice.pk]


def test_the_sql_is_compiled_once_and_reused_with_new_values():
    alice, bob = UserFactory(), UserFactory()
    built = []

    def build(first_id, second_id):
        built.append((first_id, second_id))
        return User.objects.filter(pk__in=[first_id, second_id]).order_by("pk")

    first = compiled_sql(("test-two-ids",), build, alice.pk, alice.pk)
    second = compiled_sql(("test-two-ids",), build, alice.pk, bob.pk)
    assert len(built) == 1
    assert first[0] is second[0]
    assert first[1] == (alice.pk, alice.pk) and second[1] == (alice.pk, bob.pk)
    with connection.cursor() as cursor:
        cursor.execute(*second)
        assert [row[0] for row in cursor.fetchall()] == [alice.pk, bob.pk]


def test_an_int_turned_into_text_is_caught():
    """An int placeholder compared with a text column becomes text, which is noticed."""
    with pytest.raises(ValueError, match="does not use value"):
        compiled_sql(("test-email-int",), lambda pk: User.objects.filter(email=pk), 7)


def test_a_text_changed_on_its_way_is_caught():
    """A LIKE pattern carries the value inside another text: it cannot be reused."""
    with pytest.raises(ValueError, match="does not use value"):
        compiled_sql(("test-email-like",), lambda text: User.objects.filter(email__contains=text), "a@")


def test_dates_and_texts_take_their_places_as_ints_do():
    import datetime

    alice, bob = UserFactory(), UserFactory()
    User.objects.filter(pk=bob.pk).update(date_joined=datetime.datetime(2020, 5, 1, tzinfo=datetime.UTC))

    def build(email, day):
        return User.objects.filter(email=email, date_joined__date__gte=day).values_list("pk", flat=True)

    for email, day, expected in [
        (alice.email, datetime.date(2021, 1, 1), [alice.pk]),
        (bob.email, datetime.date(2021, 1, 1), []),
        (bob.email, datetime.date(2020, 1, 1), [bob.pk]),
    ]:
        sql, params = compiled_sql(("test-email-date",), build, email, day)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert [row[0] for row in cursor.fetchall()] == expected
    assert sum(key == ("test-email-date",) for _, key in compiled._compiled) == 1


def test_a_value_the_query_does_not_use_is_refused():
    with pytest.raises(ValueError, match="does not use value"):
        compiled_sql(("test-unused",), lambda pk, other: User.objects.filter(pk=pk), 1, 2)
    assert not any(key == ("test-unused",) for _, key in compiled._compiled)


def test_a_migrate_or_flush_forgets_what_was_compiled():
    """A flush recreates the permissions under new ids, which compiled SQL may carry as
    constants: post_migrate empties the cache, as it does the permission ids' own."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    compiled_sql(("test-forget",), lambda pk: User.objects.filter(pk=pk), 1)
    assert any(key == ("test-forget",) for _, key in compiled._compiled)
    post_migrate.send(sender=apps.get_app_config("accounts"), app_config=apps.get_app_config("accounts"))
    assert not any(key == ("test-forget",) for _, key in compiled._compiled)


def test_a_compiled_instance_is_the_row_the_orm_reads_or_none():
    alice = UserFactory()
    for pk in (alice.pk, alice.pk + 1000, alice.pk):
        got = compiled_instance(("test-instance",), User, lambda p: User.objects.filter(pk=p), pk)
        expected = User.objects.filter(pk=pk).first()
        assert got == expected
        if expected is not None:
            assert got._state.db == "default" and not got._state.adding
            for field in User._meta.concrete_fields:
                assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    if connection.vendor == "postgresql":
        assert sum(key == ("test-instance",) for _, key in compiled._compiled) == 1
