"""server.fields.iso_datetime against DRF's DateTimeField, which the schema declares."""

import datetime
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from server.fields import iso_datetime

ZONES = [
    datetime.UTC,
    zoneinfo.ZoneInfo("UTC"),
    zoneinfo.ZoneInfo("Europe/Berlin"),
    zoneinfo.ZoneInfo("America/St_Johns"),
    datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
]


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime.datetime(1970, 1, 2),
        max_value=datetime.datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    )
)
def test_iso_datetime_answers_what_drf_answers(value):
    """Whole seconds and microseconds, UTC as the database gives it (datetime.UTC) and in
    other zones: the same text as DRF's field, "Z" for UTC."""
    assert iso_datetime(value) == serializers.DateTimeField().to_representation(value)


def test_a_database_moment_is_written_in_utc_with_a_z():
    moment = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
    assert iso_datetime(moment) == "2026-03-04T05:06:07Z"
    assert iso_datetime(moment.replace(microsecond=120)) == "2026-03-04T05:06:07.000120Z"
    assert iso_datetime(None) is None
