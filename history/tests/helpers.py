"""Reading the change log in tests."""

from history.models import Event


def mark() -> int:
    """The newest event's id: events_after(mark()) are those written after this point."""
    last = Event.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def events_after(after: int, **filters) -> list[Event]:
    return list(Event.objects.filter(id__gt=after, **filters).order_by("id"))


def summary(events) -> list[tuple]:
    """(object_type, object_id, action) of each event, in order."""
    return [(e.object_type, e.object_id, e.action) for e in events]
